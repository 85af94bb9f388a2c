"""Indexing primitives: ``A[idx]``, its adjoint, and the functional ``A[idx] = v``.

``getitem`` reads; ``untake`` adds a value into zeros at an index (repeated
indices accumulate, like ``np.add.at``): the two are each other's adjoints.
``index_update`` returns a copy of ``A`` with ``v`` written at ``idx``; it never
writes into an array a node may hold, and item assignment on traced arrays
(``ArrayBox.__setitem__``) is built on it.
"""
import numpy as _np

from ..trace.core import concrete_value
from ..trace import defjvp, defjvp_argnums, defvjp, defvjp_argnums, getval, isbox, primitive
from ..trace.rules import def_shape_from_values
from ..trace.vspace import vspace
from . import numpy_wrapper as anp
from .fast_paths import scatter_add
from .numpy_vjps import metadata, unbroadcast


def plain_index(idx):
    """The index with any traced parts (integer boxes, lists of them) unboxed."""
    if isinstance(idx, tuple):
        return tuple(plain_index(i) for i in idx)
    if isinstance(idx, list):
        return [plain_index(i) for i in idx]
    if isinstance(idx, slice) and any(isbox(b) for b in (idx.start, idx.stop, idx.step)):
        return slice(*(concrete_value(b) for b in (idx.start, idx.stop, idx.step)))
    # A traced index is used as a plain value; under the jit it is guarded, so a
    # replay with another index traces again instead of reusing this one.
    return concrete_value(idx)


def is_basic_index(idx):
    """True for indices made of ints, slices, None and Ellipsis (no copies, no repeats)."""
    parts = idx if isinstance(idx, tuple) else (idx,)
    return all(p is None or p is Ellipsis or isinstance(p, slice) or (
        isinstance(p, (int, _np.integer)) and not isinstance(p, (bool, _np.bool_)))
        for p in parts)


def space_of(shape, dtype):
    """The vector space of arrays of ``shape`` and ``dtype``, without allocating one."""
    return vspace(_np.broadcast_to(_np.zeros((), dtype), shape))


@primitive
def getitem(A, idx):
    return A[idx]


@primitive
def untake(x, idx, vs):
    """Zeros of space ``vs`` with ``x`` added at ``idx`` (repeated indices accumulate)."""
    result = vs.zeros()
    if _np.ndim(result) == 0:
        # Every element of a 0-d array's A[idx] (A[mask], A[None]) is A itself.
        return result + (x if _np.ndim(x) == 0 else _np.sum(x))
    if is_basic_index(idx):
        result[idx] = x  # a basic index never repeats a position
    else:
        scatter_add(result, idx, x)
    return result


defvjp(getitem, lambda ans, A, idx: lambda g: untake(g, idx, vspace(A)))
defjvp(getitem, "same")
defvjp(untake, lambda ans, x, idx, vs: lambda g: getitem(g, idx))
defjvp(untake, "same")


def _indexes_with_mask(args):
    """A boolean mask in the index: the result has as many elements as it has Trues."""
    return len(args) > 1 and _has_boolean_part(args[1])


def _has_boolean_part(index):
    if isinstance(index, (tuple, list)):
        return any(_has_boolean_part(i) for i in index)
    return getattr(index, "dtype", None) == _np.bool_


def_shape_from_values(getitem, when=_indexes_with_mask)
def_shape_from_values(untake, when=_indexes_with_mask)


@primitive
def index_update(A, idx, v):
    """A copy of ``A`` with ``v`` assigned at ``idx`` (``A[idx] = v``, functionally)."""
    result = _np.array(A, copy=True)
    result[idx] = v
    return result if isinstance(A, _np.ndarray) else result[()]


def_shape_from_values(index_update, when=_indexes_with_mask)


def _winners(shape, idx):
    """Mask over ``A[idx]``'s elements: True where the element is the one that ends
    up in ``A`` (NumPy keeps the last write at a repeated index), or None if all do."""
    if is_basic_index(idx):
        return None
    targets = _np.arange(int(_np.prod(shape))).reshape(shape)[idx]
    flat = targets.ravel()
    if _np.unique(flat).size == flat.size:
        return None
    last = _np.full(int(_np.prod(shape)), -1)
    last[flat] = _np.arange(flat.size)
    return (last[flat] == _np.arange(flat.size)).reshape(targets.shape)


def _index_update_vjp(argnums, ans, args, kwargs):
    A, idx, v = args
    shape = anp.shape(A)
    v_meta = metadata(v)
    winners = _winners(shape, idx) if 2 in argnums else None

    def v_cotangent(g):
        gv = getitem(g, idx)
        if winners is not None:
            gv = anp.where(winners, gv, 0)
        gv = unbroadcast(gv, v_meta)
        if anp.result_type(gv) != v_meta[2] and not v_meta[3]:
            gv = anp.astype(gv, v_meta[2])
        return gv

    def vjp(g):
        # The cotangent of v reads g before that of A zeroes the written positions.
        gv = v_cotangent(g) if 2 in argnums else None
        return tuple(index_update(g, idx, 0) if argnum == 0 else gv for argnum in argnums)
    return vjp


def _index_update_jvp(argnums, gs, ans, args, kwargs):
    A, idx, v = args
    tangents = dict(zip(argnums, gs))
    gA = tangents.get(0)
    if gA is None:
        gA = anp.zeros_like(ans)
    return index_update(gA, idx, tangents.get(2, 0))


defvjp_argnums(index_update, _index_update_vjp)
defjvp_argnums(index_update, _index_update_jvp)


def along_axis_index(indices, axis, shape):
    """A full index tuple that picks ``indices`` along ``axis`` of an array of ``shape``
    (so ``A[result]`` is ``np.take_along_axis(A, indices, axis)``)."""
    ndim = len(shape)
    axis = axis % ndim
    idx = []
    for dim in range(ndim):
        if dim == axis:
            idx.append(indices)
        else:
            grid_shape = [1] * ndim
            grid_shape[dim] = shape[dim]
            idx.append(_np.arange(shape[dim]).reshape(grid_shape))
    return tuple(idx)


def _take_index(a, indices, axis, mode):
    """The ``getitem`` index equivalent to ``np.take(a, indices, axis, mode=mode)``
    on ``a`` (raveled first when axis is None)."""
    size = anp.size(a) if axis is None else anp.shape(a)[axis]
    indices = _np.asarray(indices)
    if mode == "wrap":
        indices = indices % size
    elif mode == "clip":
        indices = _np.clip(indices, 0, size - 1)
    if axis is None:
        return indices
    return (slice(None),) * (axis % anp.ndim(a)) + (indices,)


def take(a, indices, axis=None, out=None, mode="raise"):
    """``np.take``, differentiable in ``a`` (repeated indices accumulate)."""
    if not isbox(a):
        return _np.take(a, concrete_value(indices), axis=axis, out=out, mode=mode)
    if out is not None:
        raise TypeError("np.take(..., out=...) cannot write into an array while "
                        "differentiating; use the returned value instead.")
    # NumPy's own take, not the equal getitem a[:, idx]: that one lays its result out
    # in memory differently, so a sum over it would add in another order than eager's.
    return anp.take(a, _np.asarray(plain_index(indices)), axis=axis, mode=mode)


def _take_vjp(ans, a, indices, axis=None, mode="raise"):
    idx = _take_index(a, indices, axis, mode)
    if axis is None:
        shape, vs = _np.shape(a), space_of((_np.size(a),), anp.result_type(a))
        return lambda g: anp.reshape(untake(g, idx, vs), shape)
    vs = vspace(a)
    return lambda g: untake(g, idx, vs)


defvjp(anp.take, _take_vjp)
defjvp(anp.take, "same")


def take_along_axis(arr, indices, axis=-1):
    """``np.take_along_axis``, differentiable in ``arr``."""
    indices = plain_index(indices)
    if not isbox(arr):
        return _np.take_along_axis(arr, indices, axis)
    if axis is None:
        return getitem(anp.ravel(arr), indices)
    return getitem(arr, along_axis_index(indices, axis, anp.shape(arr)))


def choose(a, choices, out=None, mode="raise"):
    """``np.choose``, differentiable in the choices (``a`` is an integer index array)."""
    a = concrete_value(a)  # the index array: guarded under the jit
    if not isbox(choices) and not any(isbox(c) for c in choices):
        return _np.choose(a, choices, out=out, mode=mode)
    n = len(choices)
    a = _np.asarray(a)
    if mode == "wrap":
        a = a % n
    elif mode == "clip":
        a = _np.clip(a, 0, n - 1)
    elif _np.any((a < 0) | (a >= n)):
        raise ValueError("invalid entry in choice array")
    # The last choice fills every position no earlier choice claims.
    result = choices[n - 1]
    for k in range(n - 2, -1, -1):
        result = anp.where(a == k, choices[k], result)
    return anp.broadcast_to(result, _np.broadcast_shapes(a.shape, anp.shape(result)))
