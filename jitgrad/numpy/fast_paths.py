"""Faster ways to do what some NumPy routines do, where those are slow here and the
result is the same to the bit: gradients of gathers scatter-add with ``bincount``
instead of ``np.add.at`` (3-6x), and ``roll`` along one axis copies two slices
instead of NumPy's general path (2-4x). Both serve eager runs and jitted replays.
"""
import numpy as _np


def scatter_add(result, index, values):
    """``np.add.at(result, index, values)``: repeated positions accumulate.

    When ``index`` is one integer array per axis of a float64 ``result`` (the
    gradient of ``A[i, j]`` at computed ``i, j``), ``bincount`` sums the values in
    the same order as ``add.at`` does, into the same zeros: the same bits, faster.
    (It sums in float64, so other dtypes keep add.at's own rounding.)"""
    if (isinstance(index, tuple) and len(index) == result.ndim and result.dtype == _np.float64
            and all(type(i) is _np.ndarray and i.dtype.kind in "iu" for i in index)):
        positions = _np.broadcast_arrays(*index)
        flat = _np.ravel_multi_index(positions, result.shape, mode="wrap")  # (-1 is n - 1)
        weights = _np.broadcast_to(values, flat.shape).astype(result.dtype, copy=False)
        sums = _np.bincount(flat.ravel(), weights=weights.ravel(), minlength=result.size)
        result += sums.reshape(result.shape)
        return result
    try:  # NumPy 2.4's add.at reads past values it broadcasts itself along a 2-d index
        target = result[index].shape
    except (IndexError, TypeError, ValueError):
        target = None  # add.at raises its own error below
    if target is not None and _np.shape(values) != target:
        values = _np.broadcast_to(values, target)
    _np.add.at(result, index, values)
    return result


def roll(a, shift, axis=None):
    """``np.roll``; one integer shift along one axis copies two slices."""
    if (type(a) is not _np.ndarray or not isinstance(shift, (int, _np.integer))
            or not isinstance(axis, (int, _np.integer)) or not -a.ndim <= axis < a.ndim):
        return _np.roll(a, shift, axis)
    axis = int(axis) % a.ndim
    n = a.shape[axis]
    if n == 0:
        return a.copy()
    k = int(shift) % n
    out = _np.empty_like(a)
    head = [slice(None)] * a.ndim
    tail = [slice(None)] * a.ndim
    head[axis], tail[axis] = slice(k, None), slice(None, n - k)
    out[tuple(head)] = a[tuple(tail)]
    head[axis], tail[axis] = slice(None, k), slice(n - k, None)
    out[tuple(head)] = a[tuple(tail)]
    return out
