"""Rules of the primitives that move, reshape and assemble arrays."""
import numpy as _np

from ..trace import defjvp, defjvp_argnums, defvjp, defvjp_argnum, getval, isbox, primitive
from . import numpy_wrapper as anp
from .numpy_vjps import unbroadcast


def _reshape_vjp(ans, x, *args, **kwargs):
    shape = anp.shape(x)
    return lambda g: anp.reshape(g, shape)


defvjp(anp.reshape, _reshape_vjp)
defjvp(anp.reshape, "same")
defvjp(anp.ravel, _reshape_vjp)
defjvp(anp.ravel, "same")
defvjp(anp.squeeze, _reshape_vjp)
defjvp(anp.squeeze, "same")
defvjp(anp.expand_dims, _reshape_vjp)
defjvp(anp.expand_dims, "same")


def _transpose_vjp(ans, x, axes=None):
    inverse = None if axes is None else tuple(_np.argsort(axes))
    return lambda g: anp.transpose(g, inverse)


defvjp(anp.transpose, _transpose_vjp)
defjvp(anp.transpose, "same")
defvjp(anp.broadcast_to, lambda ans, x, shape, **kwargs: lambda g:
       unbroadcast(g, (anp.shape(x), anp.ndim(x), anp.result_type(x), anp.iscomplexobj(x))))
defjvp(anp.broadcast_to, "same")


@primitive
def concatenate_args(axis, *arrays):
    return _np.concatenate(arrays, axis)


def _concatenate_vjp(argnum, ans, args, kwargs):
    axis, arrays = args[0], args[1:]
    axis = axis % _np.ndim(ans)
    stops = _np.cumsum([_np.shape(a)[axis] for a in arrays])
    start = stops[argnum - 1] - _np.shape(arrays[argnum - 1])[axis]
    index = (slice(None),) * axis + (slice(int(start), int(stops[argnum - 1])),)
    return lambda g: g[index]


def _concatenate_jvp(argnums, gs, ans, args, kwargs):
    tangents = [anp.zeros_like(a) for a in args[1:]]
    for argnum, g in zip(argnums, gs):
        tangents[argnum - 1] = g
    return concatenate_args(args[0], *tangents)


defvjp_argnum(concatenate_args, _concatenate_vjp)
defjvp_argnums(concatenate_args, _concatenate_jvp)


def concatenate(arrays, axis=0):
    if axis is None:
        return concatenate_args(0, *[anp.ravel(a) for a in arrays])
    return concatenate_args(axis, *arrays)


def stack(arrays, axis=0):
    arrays = list(arrays)
    if not arrays:
        raise ValueError("need at least one array to stack")
    ndim = anp.ndim(arrays[0]) + 1
    axis = axis % ndim
    return concatenate_args(axis, *[anp.expand_dims(a, axis) for a in arrays])


def _contains_box(obj):
    if isbox(obj):
        return True
    return isinstance(obj, (list, tuple)) and any(_contains_box(o) for o in obj)


def array(A, *args, **kwargs):
    """``numpy.array`` that also assembles (nested) lists of traced values."""
    if isinstance(A, (list, tuple)) and _contains_box(A):
        result = stack([array(a) for a in A])
        dtype = kwargs.get("dtype", args[0] if args else None)
        return result if dtype is None else anp.astype(result, dtype)
    if isbox(A):
        return A
    return _np.array(A, *args, **kwargs)


def asarray(A, *args, **kwargs):
    if isbox(A) or (isinstance(A, (list, tuple)) and _contains_box(A)):
        return array(A, *args, **kwargs)
    return _np.asarray(A, *args, **kwargs)


defvjp(anp.astype, lambda ans, x, dtype, **kwargs:
       lambda g: anp.astype(g, anp.result_type(getval(x))))
defjvp(anp.astype, "same")
