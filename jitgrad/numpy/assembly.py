"""Assembling arrays from several (concatenate, stack, ...) and splitting one into several.

A primitive only sees the boxes among its top-level arguments, so the NumPy
functions that take a sequence of arrays are rebuilt here on ``concatenate_args``
(each array one argument), and the ones that return several arrays on indexing.
Each takes NumPy's own path when nothing in its arguments is traced.
"""
import numpy as _np

from ..trace.core import concrete_value
from ..trace import defjvp_argnums, defvjp_argnums, getval, isbox, primitive
from . import numpy_wrapper as anp
from .indexing import getitem


def contains_box(obj):
    if isbox(obj):
        return True
    return isinstance(obj, (list, tuple)) and any(contains_box(o) for o in obj)


def _traceable(a):
    """A (nested) list holding traced values, or a traced list, becomes one traced array."""
    if (isinstance(a, (list, tuple)) and contains_box(a)) or (
            isbox(a) and type(getval(a)) in (list, tuple)):
        from .constructors import array
        return array(a)
    return a


def _no_out(name, out):
    if out is not None:
        raise TypeError(f"np.{name}(..., out=...) cannot write into an array while "
                        "differentiating; use the returned value instead.")


@primitive
def concatenate_args(axis, *arrays):
    return _np.concatenate(arrays, axis)


def _concatenate_vjp(argnums, ans, args, kwargs):
    axis, arrays = args[0], args[1:]
    axis = axis % _np.ndim(ans)
    # One pass over the pieces: a stack of a thousand values stays linear.
    stops = _np.cumsum([anp.shape(a)[axis] for a in arrays])
    lead = (slice(None),) * axis

    def piece(g, argnum):
        array = arrays[argnum - 1]
        stop = int(stops[argnum - 1])
        g = getitem(g, lead + (slice(stop - anp.shape(array)[axis], stop),))
        dtype = anp.result_type(array)
        if anp.result_type(g) != dtype and not anp.iscomplexobj(array):
            # An array promoted by concatenation gets its own dtype back.
            g = anp.astype(anp.real(g) if anp.iscomplexobj(g) else g, dtype)
        return g
    return lambda g: tuple(piece(g, argnum) for argnum in argnums)


def _concatenate_jvp(argnums, gs, ans, args, kwargs):
    tangents = [anp.zeros_like(a) for a in args[1:]]
    for argnum, g in zip(argnums, gs):
        tangents[argnum - 1] = g
    return concatenate_args(args[0], *tangents)


defvjp_argnums(concatenate_args, _concatenate_vjp)
defjvp_argnums(concatenate_args, _concatenate_jvp)


def concatenate(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    arrays = [_traceable(a) for a in arrays]
    if not any(isbox(a) for a in arrays):
        return _np.concatenate(arrays, axis, out=out, dtype=dtype, casting=casting)
    _no_out("concatenate", out)
    if axis is None:
        arrays, axis = [anp.ravel(a) for a in arrays], 0
    result = concatenate_args(axis, *arrays)
    return result if dtype is None else anp.astype(result, dtype)


def concat(arrays, /, axis=0, out=None, *, dtype=None, casting="same_kind"):
    return concatenate(arrays, axis, out, dtype=dtype, casting=casting)


def stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    arrays = [_traceable(a) for a in arrays]
    if not any(isbox(a) for a in arrays):
        return _np.stack(arrays, axis, out=out, dtype=dtype, casting=casting)
    shapes = {anp.shape(a) for a in arrays}
    if len(shapes) > 1:
        raise ValueError("all input arrays must have the same shape")
    axis = axis % (anp.ndim(arrays[0]) + 1)
    return concatenate([anp.expand_dims(a, axis) for a in arrays], axis, out, dtype=dtype)


def _atleast(ndim, arys, numpy_fun):
    def one(a):
        a = _traceable(a)
        if not isbox(a):
            return numpy_fun(a)
        shape = anp.shape(a)
        if len(shape) >= ndim:
            return a
        if ndim == 3 and len(shape) == 2:
            return anp.reshape(a, shape + (1,))
        if ndim == 3:
            return anp.reshape(a, (1,) + (shape or (1,)) + (1,))
        return anp.reshape(a, (1,) * (ndim - len(shape)) + shape)
    results = tuple(one(a) for a in arys)
    return results[0] if len(results) == 1 else results


def atleast_1d(*arys):
    return _atleast(1, arys, _np.atleast_1d)


def atleast_2d(*arys):
    return _atleast(2, arys, _np.atleast_2d)


def atleast_3d(*arys):
    return _atleast(3, arys, _np.atleast_3d)


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


def hstack(tup, *, dtype=None, casting="same_kind"):
    arrays = _as_tuple(atleast_1d(*tup))
    if not any(isbox(a) for a in arrays):
        return _np.hstack(arrays, dtype=dtype, casting=casting)
    axis = 0 if anp.ndim(arrays[0]) == 1 else 1
    return concatenate(arrays, axis, dtype=dtype)


def vstack(tup, *, dtype=None, casting="same_kind"):
    arrays = _as_tuple(atleast_2d(*tup))
    if not any(isbox(a) for a in arrays):
        return _np.vstack(arrays, dtype=dtype, casting=casting)
    return concatenate(arrays, 0, dtype=dtype)


row_stack = vstack


def dstack(tup):
    arrays = _as_tuple(atleast_3d(*tup))
    if not any(isbox(a) for a in arrays):
        return _np.dstack(arrays)
    return concatenate(arrays, 2)


def column_stack(tup):
    tup = [_traceable(a) for a in tup]
    if not any(isbox(a) for a in tup):
        return _np.column_stack(tup)
    # 1-d arrays become columns, higher ones are stacked as they are.
    columns = [anp.reshape(a, (-1, 1)) if anp.ndim(a) < 2 else a for a in tup]
    return concatenate(columns, 1)


def append(arr, values, axis=None):
    arr, values = _traceable(arr), _traceable(values)
    if not isbox(arr) and not isbox(values):
        return _np.append(arr, values, axis)
    if axis is None:
        return concatenate([anp.ravel(arr), anp.ravel(values)], 0)
    return concatenate([arr, values], axis)


def block(arrays):
    """``np.block``: nested lists of traced arrays assembled blockwise."""
    if not contains_box(arrays):
        return _np.block(arrays)

    def depth(obj):
        return 1 + depth(obj[0]) if isinstance(obj, list) and obj else 0
    list_depth = depth(arrays)

    def leaves(obj):
        return [leaf for o in obj for leaf in leaves(o)] if isinstance(obj, list) else [obj]
    ndim = max([list_depth] + [anp.ndim(leaf) for leaf in leaves(arrays)])

    def assemble(obj, level):
        if isinstance(obj, list):
            # The innermost lists join along the last axis, outer ones further left.
            return concatenate([assemble(o, level + 1) for o in obj], -(list_depth - level))
        shape = anp.shape(obj)
        return anp.reshape(obj, (1,) * (ndim - len(shape)) + shape)
    return assemble(arrays, 0)


def broadcast_arrays(*args, subok=False):
    args = [_traceable(a) for a in args]
    if not any(isbox(a) for a in args):
        return _np.broadcast_arrays(*args, subok=subok)
    shape = _np.broadcast_shapes(*(anp.shape(a) for a in args))
    return tuple(a if anp.shape(a) == shape else anp.broadcast_to(a, shape) for a in args)


# Splitting: each piece is a slice of the array, so its gradient flows back by indexing.
def _split_points(n, indices_or_sections, equal):
    if _np.ndim(indices_or_sections) == 0:
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError("number sections must be larger than 0.")
        if equal and n % sections:
            raise ValueError("array split does not result in an equal division")
        each, extra = divmod(n, sections)
        sizes = [each + 1] * extra + [each] * (sections - extra)
        return [0] + list(_np.cumsum(sizes))
    return [0] + [int(i) for i in indices_or_sections] + [n]


def _split(ary, indices_or_sections, axis, equal, numpy_fun):
    ary = _traceable(ary)
    indices_or_sections = concrete_value(indices_or_sections)
    if not isbox(ary):
        return numpy_fun(ary, indices_or_sections, axis)
    axis = axis % anp.ndim(ary)
    points = _split_points(anp.shape(ary)[axis], indices_or_sections, equal)
    lead = (slice(None),) * axis
    return [getitem(ary, lead + (slice(int(start), int(stop)),))
            for start, stop in zip(points[:-1], points[1:])]


def split(ary, indices_or_sections, axis=0):
    return _split(ary, indices_or_sections, axis, True, _np.split)


def array_split(ary, indices_or_sections, axis=0):
    return _split(ary, indices_or_sections, axis, False, _np.array_split)


def _split_along(name, axis_of_ndim, min_ndim):
    def split_fun(ary, indices_or_sections):
        ary = _traceable(ary)
        if not isbox(ary):
            return getattr(_np, name)(ary, concrete_value(indices_or_sections))
        ndim = anp.ndim(ary)
        if ndim < min_ndim:
            raise ValueError(f"{name} only works on arrays of {min_ndim} or more dimensions")
        return split(ary, indices_or_sections, axis_of_ndim(ndim))
    split_fun.__name__ = name
    return split_fun


hsplit = _split_along("hsplit", lambda ndim: 1 if ndim > 1 else 0, 1)
vsplit = _split_along("vsplit", lambda ndim: 0, 2)
dsplit = _split_along("dsplit", lambda ndim: 2, 3)


def unstack(x, /, *, axis=0):
    x = _traceable(x)
    if not isbox(x):
        return _np.unstack(x, axis=axis)
    axis = axis % anp.ndim(x)
    lead = (slice(None),) * axis
    return tuple(getitem(x, lead + (i,)) for i in range(anp.shape(x)[axis]))


def select(condlist, choicelist, default=0):
    """``np.select``, differentiable in the choices and the default."""
    condlist = list(condlist)  # traced conditions stay traced: they feed np.where
    choicelist = [_traceable(c) for c in choicelist]
    if not any(isbox(c) for c in choicelist) and not isbox(default):
        return _np.select(condlist, choicelist, default)
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    # The first true condition wins, so later ones are applied first.
    result = default
    for cond, choice in reversed(list(zip(condlist, choicelist))):
        result = anp.where(cond, choice, result)
    shape = _np.broadcast_shapes(*(_np.shape(c) for c in condlist), anp.shape(result))
    return result if anp.shape(result) == shape else anp.broadcast_to(result, shape)
