"""Rules of the primitives that reshape, reorder, pad and slice one array.

All of these are linear, so each JVP applies the primitive itself to the tangent
("same"), except where a constant part (``pad``'s fill) must be left out. Each
VJP is the adjoint map: the inverse permutation, a sum over copies, or an
``untake`` of the cotangent into zeros at the positions that were read.
Assembling several arrays (concatenate, stack, split) lives in ``assembly``.
"""
import numpy as _np

from ..kernels import indexing
from ..trace import def_replay, defjvp, defvjp, getval, primitive, vspace
from ..trace.rules import def_shifted_read
from ..trace.core import concrete_value
from . import fast_paths, numpy_wrapper as anp
from .array_likes import array_likes
from .indexing import getitem, space_of, untake
from .numpy_jvps import broadcast
from .numpy_vjps import metadata, unbroadcast


def _memory_order(order, x):
    """'C' or 'F': the order 'A'/'K' mean for ``x``, so a reshape can be undone."""
    if order in ("C", "F", None):
        return order or "C"
    flags = _np.asarray(getval(x)).flags
    return "F" if flags.f_contiguous and not flags.c_contiguous else "C"


def _undo_reshape(ans, x, *args, order="C", **kwargs):
    shape = anp.shape(x)
    if args and isinstance(args[-1], str):
        order = args[-1]  # order passed positionally: reshape(x, shape, 'F'), ravel(x, 'F')
    order = _memory_order(order, x)
    return lambda g: anp.reshape(g, shape, order=order)


for _fun in (anp.reshape, anp.ravel):
    defvjp(_fun, _undo_reshape)
    defjvp(_fun, "same")
for _fun in (anp.squeeze, anp.expand_dims, anp.ascontiguousarray, anp.asfortranarray,
             anp.atleast_1d, anp.atleast_2d, anp.atleast_3d):
    defvjp(_fun, lambda ans, x, *args, **kwargs: lambda g, shape=anp.shape(x):
           anp.reshape(g, shape))
    defjvp(_fun, "same")


# Axis permutations: the VJP applies the inverse permutation.
def _transpose_vjp(ans, x, axes=None):
    if axes is None:
        return lambda g: anp.transpose(g)
    inverse = tuple(_np.argsort([a % anp.ndim(x) for a in axes]))
    return lambda g: anp.transpose(g, inverse)


for _fun in (anp.transpose, anp.permute_dims):
    defvjp(_fun, _transpose_vjp)
    defjvp(_fun, "same")
defvjp(anp.matrix_transpose, lambda ans, x: lambda g: anp.matrix_transpose(g))
defjvp(anp.matrix_transpose, "same")
defvjp(anp.moveaxis, lambda ans, x, source, destination: lambda g:
       anp.moveaxis(g, destination, source))
defjvp(anp.moveaxis, "same")
defvjp(anp.swapaxes, lambda ans, x, axis1, axis2: lambda g: anp.swapaxes(g, axis1, axis2))
defjvp(anp.swapaxes, "same")


def _rollaxis_vjp(ans, x, axis, start=0):
    ndim = anp.ndim(x)
    axis, start = axis % ndim, start + ndim if start < 0 else start
    if axis < start:
        start -= 1  # rollaxis places the axis before the one that was at ``start``
    order = [a for a in range(ndim) if a != axis]
    order.insert(start, axis)
    inverse = tuple(_np.argsort(order))
    return lambda g: anp.transpose(g, inverse)


defvjp(anp.rollaxis, _rollaxis_vjp)
defjvp(anp.rollaxis, "same")

# Reversals and rotations are undone by themselves or the opposite rotation.
defvjp(anp.flip, lambda ans, m, axis=None: lambda g: anp.flip(g, axis))
defjvp(anp.flip, "same")
defvjp(anp.fliplr, lambda ans, m: lambda g: anp.fliplr(g))
defjvp(anp.fliplr, "same")
defvjp(anp.flipud, lambda ans, m: lambda g: anp.flipud(g))
defjvp(anp.flipud, "same")
defvjp(anp.rot90, lambda ans, m, k=1, axes=(0, 1): lambda g: anp.rot90(g, -k, axes))
defjvp(anp.rot90, "same")
anp.roll = roll = primitive(fast_paths.roll, array_likes)  # np.roll's answers, faster
defvjp(anp.roll, lambda ans, a, shift, axis=None: lambda g:
       anp.roll(g, tuple(-_np.asarray(shift)) if _np.ndim(shift) else -shift, axis))
defjvp(anp.roll, "same")
def_replay(anp.roll, indexing.roll)  # one shift along one axis: one compiled loop


def _one_shift_along_one_axis(args, kwargs):
    shift = args[1] if len(args) > 1 else kwargs.get("shift")
    axis = args[2] if len(args) > 2 else kwargs.get("axis")
    integers = (int, _np.integer)
    if isinstance(shift, integers) and isinstance(axis, integers) and \
            not isinstance(shift, (bool, _np.bool_)) and not isinstance(axis, (bool, _np.bool_)):
        return int(shift), int(axis)
    return None


def_shifted_read(anp.roll, _one_shift_along_one_axis)

defvjp(anp.broadcast_to, lambda ans, x, shape, **kwargs: lambda g:
       unbroadcast(g, (anp.shape(x), anp.ndim(x), anp.result_type(x), anp.iscomplexobj(x))))
defjvp(anp.broadcast_to, "same")

# Copies and casts: the cotangent passes through (cast back to the input's dtype).
defvjp(anp.copy, lambda ans, a, *args, **kwargs: lambda g: g)
defjvp(anp.copy, "same")
def _astype_vjp(ans, x, dtype, **kwargs):
    x_dtype = anp.result_type(getval(x))
    real = not _np.issubdtype(x_dtype, _np.complexfloating)
    return lambda g: anp.astype(anp.real(g) if real and anp.iscomplexobj(g) else g, x_dtype)


defvjp(anp.astype, _astype_vjp)
defjvp(anp.astype, "same")


# Copies of elements: each output element is one input element (or a constant);
# the VJP adds the cotangent of every copy back into its source.
def _repeat_vjp(ans, a, repeats, axis=None):
    shape, dtype = anp.shape(a), anp.result_type(a)
    if axis is None:
        n = int(_np.prod(shape))
    else:
        axis = axis % len(shape)
        n = shape[axis]
    if _np.ndim(repeats) == 0 or _np.size(repeats) == 1:
        r = int(_np.ravel(repeats)[0])
        if axis is None:
            return lambda g: anp.reshape(anp.sum(anp.reshape(g, (n, r)), axis=1), shape)
        split = shape[:axis] + (n, r) + shape[axis + 1:]
        return lambda g: anp.sum(anp.reshape(g, split), axis=axis + 1)
    owners = _np.repeat(_np.arange(n), repeats)
    if axis is None:
        vs = space_of((n,), dtype)
        return lambda g: anp.reshape(untake(g, owners, vs), shape)
    source_shape = (n,) + shape[:axis] + shape[axis + 1:]
    vs = space_of(source_shape, dtype)
    return lambda g: anp.moveaxis(untake(anp.moveaxis(g, axis, 0), owners, vs), 0, axis)


defvjp(anp.repeat, _repeat_vjp)
defjvp(anp.repeat, "same")


def _tile_vjp(ans, A, reps):
    shape = anp.shape(A)
    reps = (int(reps),) if _np.ndim(reps) == 0 else tuple(reps)
    ndim = max(len(shape), len(reps))
    padded_shape = (1,) * (ndim - len(shape)) + shape
    padded_reps = (1,) * (ndim - len(reps)) + reps
    # Along each axis the output is ``rep`` blocks of the input: split it so.
    split = tuple(size for pair in zip(padded_reps, padded_shape) for size in pair)
    copy_axes = tuple(range(0, 2 * ndim, 2))
    return lambda g: anp.reshape(anp.sum(anp.reshape(g, split), axis=copy_axes), shape)


defvjp(anp.tile, _tile_vjp)
defjvp(anp.tile, "same")

_PAD_COPY_MODES = ("constant", "empty", "edge", "wrap", "reflect", "symmetric")


def _check_pad_mode(mode, kwargs):
    if mode not in _PAD_COPY_MODES or kwargs.get("reflect_type", "even") != "even":
        raise NotImplementedError(
            f"np.pad(..., mode={mode!r}{', reflect_type=odd' if mode in _PAD_COPY_MODES else ''})"
            " has no derivative rule in jitgrad; differentiable modes are "
            f"{', '.join(_PAD_COPY_MODES)} (with reflect_type='even').")


def _pad_vjp(ans, array, pad_width, mode="constant", **kwargs):
    _check_pad_mode(mode, kwargs)
    shape, dtype = anp.shape(array), anp.result_type(array)
    size = int(_np.prod(shape))
    # Pad the flat positions of the input the same way: each output element
    # then names the input element it copies, or -1 for a constant.
    copy_kwargs = {k: v for k, v in kwargs.items() if k == "reflect_type"}
    sources = _np.arange(size).reshape(shape)
    if mode in ("constant", "empty"):
        sources = _np.pad(sources, pad_width, mode="constant", constant_values=-1)
    else:
        sources = _np.pad(sources, pad_width, mode=mode, **copy_kwargs)
    copied = sources >= 0
    positions = sources[copied]
    vs = space_of((size,), dtype)
    return lambda g: anp.reshape(untake(getitem(g, copied), positions, vs), shape)


def _pad_jvp(g, ans, array, pad_width, mode="constant", **kwargs):
    _check_pad_mode(mode, kwargs)
    if mode in ("constant", "empty"):
        return anp.pad(g, pad_width, mode="constant")  # the fill is constant
    return anp.pad(g, pad_width, mode=mode, **kwargs)


defvjp(anp.pad, _pad_vjp)
defjvp(anp.pad, _pad_jvp)


# Diagonals.
def diagonal_index(n_rows, n_cols, offset):
    """Row and column indices of diagonal ``offset`` of an (n_rows, n_cols) matrix."""
    start_row, start_col = max(-offset, 0), max(offset, 0)
    length = max(0, min(n_rows - start_row, n_cols - start_col))
    return (_np.arange(length) + start_row, _np.arange(length) + start_col)


def _on_diagonal(d, matrix_shape, offset, axis1, axis2, dtype):
    """Zeros with ``d``'s last axis written along diagonal ``offset`` of matrices of
    ``matrix_shape`` spanning ``axis1`` and ``axis2`` (d's other axes fill the rest)."""
    rows, cols = diagonal_index(*matrix_shape, offset)
    vs = space_of(anp.shape(d)[:-1] + tuple(matrix_shape), dtype)
    return anp.moveaxis(untake(d, (Ellipsis, rows, cols), vs), (-2, -1), (axis1, axis2))


def _diagonal_vjp(ans, a, offset=0, axis1=0, axis2=1):
    shape, dtype = anp.shape(a), anp.result_type(a)
    axis1, axis2 = axis1 % len(shape), axis2 % len(shape)
    return lambda g: _on_diagonal(g, (shape[axis1], shape[axis2]), offset, axis1, axis2,
                                  dtype)


defvjp(anp.diagonal, _diagonal_vjp)
defjvp(anp.diagonal, "same")


def make_diagonal(D, offset=0, axis1=0, axis2=1):
    """The array whose ``diagonal(offset, axis1, axis2)`` is ``D``, zero elsewhere:
    ``D``'s last axis runs along the diagonal of square matrices spanning ``axis1``
    and ``axis2`` of the result, its other axes fill the result's other axes in
    order. Built from ``untake`` and ``moveaxis``, so differentiable in both modes."""
    D = asarray(D)
    ndim = anp.ndim(D) + 1
    if ndim < 2:
        raise ValueError("make_diagonal needs D with at least one axis (the diagonal); "
                         "got a scalar. Pass D as an array, e.g. np.atleast_1d(D).")
    first, second = axis1 % ndim, axis2 % ndim
    if first == second:
        raise ValueError(f"make_diagonal: axis1={axis1} and axis2={axis2} name the same axis "
                         f"of the {ndim}-d result; pass two different axes.")
    size = anp.shape(D)[-1] + abs(offset)
    return _on_diagonal(D, (size, size), offset, first, second, anp.result_type(D))


def _trace_vjp(ans, a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    shape = anp.shape(a)
    length = diagonal_index(shape[axis1], shape[axis2], offset)[0].size
    diagonal_vjp = _diagonal_vjp(None, a, offset, axis1, axis2)
    return lambda g: diagonal_vjp(anp.broadcast_to(anp.expand_dims(g, -1),
                                                   anp.shape(g) + (length,)))


defvjp(anp.trace, _trace_vjp)
defjvp(anp.trace, "same")


def _diag_vjp(ans, v, k=0):
    if anp.ndim(v) == 1:
        return lambda g: anp.diagonal(g, k)
    return _diagonal_vjp(None, v, k)


defvjp(anp.diag, _diag_vjp)
defjvp(anp.diag, "same")
defvjp(anp.tril, lambda ans, m, k=0: lambda g: anp.tril(g, k))
defjvp(anp.tril, "same")
defvjp(anp.triu, lambda ans, m, k=0: lambda g: anp.triu(g, k))
defjvp(anp.triu, "same")

# Finite differences and evenly spaced samples: linear maps too.
_ABSENT = object()  # stands for an omitted prepend= / append= of diff


def _along(axis, ndim, index):
    """An index selecting ``index`` (a slice) along ``axis`` of an ndim-d array."""
    return (slice(None),) * axis + (index,) + (slice(None),) * (ndim - axis - 1)


def _pad_along(x, axis, before, after):
    widths = [(0, 0)] * anp.ndim(x)
    widths[axis] = (before, after)
    return anp.pad(x, widths)


def _diff_extra(value, axis):
    """How many entries prepend= or append= adds along the axis (a scalar adds one)."""
    if value is _ABSENT:
        return 0
    return 1 if _np.ndim(value) == 0 else _np.shape(value)[axis]


def _diff_parts(a, axis, prepend, append):
    axis = axis % anp.ndim(a)
    return axis, _diff_extra(prepend, axis), _diff_extra(append, axis)


# diff(a, n) takes the first difference n times; prepend= and append= are constants
# (a primitive traces positional arguments only). One difference d[i] = x[i+1] - x[i]
# transposes to x[j] = g[j-1] - g[j], the negated difference of g with a zero added
# at each end.
def _diff_vjp(ans, a, n=1, axis=-1, prepend=_ABSENT, append=_ABSENT):
    shape = anp.shape(a)
    axis, before, after = _diff_parts(a, axis, prepend, append)
    length = shape[axis] + before + after
    lengths = [max(length - k, 0) for k in range(n)]  # along the axis, before each step

    def vjp(g):
        for size in reversed(lengths):
            if size > 0:  # a difference of nothing is nothing
                g = -anp.diff(_pad_along(g, axis, 1, 1), axis=axis)
        if before or after:
            g = g[_along(axis, len(shape), slice(before, before + shape[axis]))]
        return g
    return vjp


def _diff_jvp(g, ans, a, n=1, axis=-1, prepend=_ABSENT, append=_ABSENT):
    axis, before, after = _diff_parts(a, axis, prepend, append)
    if before or after:
        g = _pad_along(g, axis, before, after)  # the constant ends have no tangent
    return anp.diff(g, n, axis)


defvjp(anp.diff, _diff_vjp)
defjvp(anp.diff, _diff_jvp)


# gradient: along each axis, output i is a combination of at most three inputs in the
# window starting at clip(i - 1, 0, n - 3) (a centred difference inside, one-sided ones
# of edge_order 1 or 2 at the ends). The weights are read off NumPy itself, by applying
# np.gradient to three probes (x[j] = 1 where j % 3 == r): the three inputs of a window
# fall in different probes, so every weight appears alone. That covers scalar spacings,
# coordinate arrays and both edge orders with NumPy's own formulas, at O(n) cost.
def _gradient_axes(ndim, axis):
    if axis is None:
        return list(range(ndim))
    return [a % ndim for a in ((axis,) if _np.ndim(axis) == 0 else axis)]


def _gradient_weights(n, spacing, edge_order, dtype):
    """(n, width) weights: output i is sum_m w[i, m] x[start(i) + m]."""
    width = min(n, 3)
    probes = (_np.arange(n)[:, None] % 3 == _np.arange(3)).astype(float)
    response = _np.gradient(probes, *spacing, axis=0, edge_order=edge_order)
    start = _np.clip(_np.arange(n) - 1, 0, n - width)
    columns = (start[:, None] + _np.arange(width)) % 3
    return _np.take_along_axis(response, columns, axis=1).astype(dtype)


def _gradient_transpose(g, w, axis):
    """The transpose of one axis' difference map (weights ``w``) applied to ``g``."""
    n, width = w.shape
    ndim = anp.ndim(g)

    def rows(lo, hi):
        return g[_along(axis, ndim, slice(lo, hi))]

    def along_axis(v):
        return _np.reshape(v, (-1,) + (1,) * (ndim - 1 - axis))

    # Output 0 reads the first window and output n-1 the last; a centred output i reads
    # i-1, i, i+1, so g[i] times its m-th weight goes back to place i-1+m.
    total = (_pad_along(rows(0, 1) * along_axis(w[0]), axis, 0, n - width)
             + _pad_along(rows(n - 1, n) * along_axis(w[-1]), axis, n - width, 0))
    if n > 2:
        inner = rows(1, n - 1)
        for m in range(3):
            total = total + _pad_along(inner * along_axis(w[1:-1, m]), axis, m, 2 - m)
    return total


def _gradient_vjp(ans, f, *varargs, axis=None, edge_order=1):
    shape = anp.shape(f)
    axes = _gradient_axes(len(shape), axis)
    # Spacings are constants here (differentiating with respect to them is refused);
    # under the jit concrete_value guards them, so a new spacing traces again.
    values = [concrete_value(v) for v in varargs]
    spacings = [tuple(values)] * len(axes) if len(values) <= 1 else [(v,) for v in values]
    first = ans if len(axes) == 1 else ans[0]
    real = _np.empty(0, anp.result_type(first)).real.dtype
    weights = [_gradient_weights(shape[ax], spacing, edge_order, real)
               for ax, spacing in zip(axes, spacings)]

    def vjp(g):
        gs = [g] if len(axes) == 1 else list(g)
        parts = [_gradient_transpose(g_k, w, ax) for g_k, w, ax in zip(gs, weights, axes)]
        total = parts[0]
        for part in parts[1:]:
            total = total + part
        return total
    return vjp


defvjp(anp.gradient, _gradient_vjp)
defjvp(anp.gradient, "same")


# linspace(start, stop) = start * (1 - t) + stop * t for fixed t: linear in each end.
def _linspace_weights(argnum, num, endpoint):
    """d samples / d end (one weight per sample) and d step / d end, or None for the
    step of a single sample, which is NaN whatever the ends (a constant)."""
    ends = (1.0, 0.0) if argnum == 0 else (0.0, 1.0)
    weights, step = _np.linspace(*ends, num, endpoint=endpoint, retstep=True)
    return weights, None if _np.isnan(step) else step


def _linspace_vjp(argnum):
    def vjp_maker(ans, start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0,
                  **kwargs):
        meta = metadata((start, stop)[argnum])
        weights, step = _linspace_weights(argnum, num, endpoint)
        samples = ans[0] if retstep else ans
        axis = axis % anp.ndim(samples)
        weights = _np.reshape(weights, (-1,) + (1,) * (anp.ndim(samples) - 1 - axis))

        def vjp(g):
            g_samples, g_step = g if retstep else (g, None)
            total = anp.sum(g_samples * weights, axis=axis)
            if retstep and step is not None:
                total = total + g_step * step
            return unbroadcast(total, meta)
        return vjp
    return vjp_maker


def _linspace_jvp(argnum):
    def jvp(g, ans, start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0,
            **kwargs):
        samples = ans[0] if retstep else ans
        ends = [_np.zeros(anp.shape(start), anp.result_type(samples)),
                _np.zeros(anp.shape(stop), anp.result_type(samples))]
        ends[argnum] = g
        tangent = broadcast(anp.linspace(*ends, num, endpoint, False, dtype, axis, **kwargs),
                            samples)
        if not retstep:
            return tangent
        step = _linspace_weights(argnum, num, endpoint)[1]
        if step is None:
            return tangent, vspace(ans[1]).zeros()
        return tangent, broadcast(g * step, ans[1])
    return jvp


defvjp(anp.linspace, _linspace_vjp(0), _linspace_vjp(1))
defjvp(anp.linspace, _linspace_jvp(0), _linspace_jvp(1))

# Assembly moved to ``assembly`` and ``constructors``; still importable from here.
from .assembly import concatenate, concatenate_args, stack  # noqa: E402,F401
from .constructors import array, asarray  # noqa: E402,F401
