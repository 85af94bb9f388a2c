"""Helpers that VJP and JVP rules (ours and users') are written with.

``unbroadcast`` sums a cotangent back to the shape of a broadcast argument;
``broadcast`` spreads a tangent to the shape of the output.
"""
import math

import numpy as _np

from ..trace import getval
from ..trace import hooks
from . import numpy_wrapper as anp


def metadata(A):
    """``(shape, ndim, dtype, iscomplex)`` of ``A``, traced or not."""
    # Dtypes never depend on values; shapes can, and under the jit anp.shape guards them.
    value = getval(A)
    shape = _np.shape(value) if hooks.observer() is None else anp.shape(A)
    dtype = value.dtype if type(value) is _np.ndarray else _np.result_type(value)
    return shape, len(shape), dtype, dtype.kind == "c"


def unbroadcast(x, target_meta, broadcast_idx=0):
    """Sum ``x`` over the axes along which an argument of ``target_meta`` was broadcast."""
    target_shape, target_ndim, dtype, target_iscomplex = target_meta
    value = getval(x)
    if type(value) is _np.ndarray and value.shape == target_shape and value.dtype == dtype \
            and hooks.observer() is None:  # (under the jit a shape may need its guard)
        return x  # nothing was broadcast (the usual case)
    shape = anp.shape(x)
    lead = len(shape) - target_ndim
    axes = tuple(range(lead)) + tuple(
        lead + i for i, size in enumerate(target_shape) if size == 1 and shape[lead + i] != 1)
    if axes and not target_shape:
        x = anp.sum(x)  # to a scalar argument: NumPy's scalar, as autograd's gradient is
    elif axes:
        x = anp.sum(x, axis=axes, keepdims=True)
        if lead:
            x = anp.reshape(x, target_shape)
    x_dtype = _np.result_type(getval(x))
    if x_dtype.kind == "c" and not target_iscomplex:
        x = anp.real(x)
        x_dtype = _np.result_type(getval(x))
    if dtype.kind in "fc" and x_dtype != dtype:
        # A float32 argument gets a float32 gradient, also when a float64 operand widened it.
        x = _as_dtype(x, dtype)
    return x


def _as_dtype(x, dtype):
    return dtype.type(x) if isinstance(x, (int, float, complex)) else anp.astype(x, dtype)


def unbroadcast_f(target, f):
    target_meta = metadata(target)
    return lambda g: unbroadcast(f(g), target_meta)


def broadcast(x, target):
    """``x`` broadcast to the shape of ``target`` (a tangent of a broadcasting op)."""
    target_shape = anp.shape(target)
    if anp.shape(x) == target_shape:
        return x
    return anp.broadcast_to(x, target_shape)


def match_complex(target, x):
    """``x`` as real when ``target`` is real, as complex when ``target`` is complex, and
    in ``target``'s precision (a float32 argument gets a float32 gradient, as from
    ``unbroadcast``, also when a float64 operand widened it)."""
    if _same_dtype_array(target, x) and hooks.observer() is None:
        return x  # nothing to convert (the usual case; under the jit, looks are recorded)
    target_iscomplex = anp.iscomplexobj(target)
    x_iscomplex = anp.iscomplexobj(x)
    if x_iscomplex and not target_iscomplex:
        x = anp.real(x)
    elif not x_iscomplex and target_iscomplex:
        x = x + 0j
    dtype = _np.result_type(getval(target))
    if dtype.kind in "fc" and dtype != _np.result_type(getval(x)):
        x = _as_dtype(x, dtype)
    return x


def _same_dtype_array(target, x):
    """Whether ``x`` is a plain array of ``target``'s dtype (so already matches it)."""
    value, target = getval(x), getval(target)
    if type(value) is not _np.ndarray:
        return False
    return value.dtype == (target.dtype if type(target) is _np.ndarray
                           else _np.result_type(target))


def replace_zero(x, val):
    return anp.where(x == 0, val, x)


def balanced_eq(x, z, y):
    """1 where ``x == z`` and not ``y == z``, 0.5 where both, else 0: splits ties."""
    return (x == z) / (1.0 + (y == z))


def reduced_axes(shape, axis):
    """The non-negative axes of ``shape`` that a reduction over ``axis`` sums."""
    axes = tuple(range(len(shape))) if axis is None else (
        (axis,) if _np.ndim(axis) == 0 else tuple(axis))
    return tuple(a % len(shape) for a in axes)


def spread_to_shape(g, shape, axis):
    """The cotangent ``g`` of a reduction over ``axis`` broadcast back to ``shape``."""
    if shape == ():
        return g
    if type(g) is _np.ndarray and g.ndim == 0:
        return anp.broadcast_to(g, shape)  # a full reduction's: no axes to put back
    axes = reduced_axes(shape, axis)
    new_shape = tuple(1 if i in axes else size for i, size in enumerate(shape))
    return anp.broadcast_to(anp.reshape(g, new_shape), shape)


def repeat_to_match_shape(g, shape, dtype, axis, keepdims):
    """Spread the cotangent of a reduction over ``axis`` back to ``shape``.

    Returns the spread cotangent and the number of elements reduced into each."""
    if shape == ():
        return g, 1
    count = int(math.prod(shape[a] for a in reduced_axes(shape, axis)))
    return spread_to_shape(g, shape, axis), count
