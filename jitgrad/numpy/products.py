"""Rules of the products: dot, matmul, tensordot."""
import numpy as _np

from ..trace import defjvp, defvjp
from . import numpy_wrapper as anp
from .numpy_vjps import metadata, unbroadcast


def _normalize_tensordot_axes(a_ndim, b_ndim, axes):
    if _np.ndim(axes) == 0:
        axes = int(axes)
        return list(range(a_ndim - axes, a_ndim)), list(range(axes))
    axes_a, axes_b = axes
    axes_a = [axes_a] if _np.ndim(axes_a) == 0 else list(axes_a)
    axes_b = [axes_b] if _np.ndim(axes_b) == 0 else list(axes_b)
    return [a % a_ndim for a in axes_a], [b % b_ndim for b in axes_b]


def _tensordot_vjp_a(ans, a, b, axes=2):
    a_ndim, b_ndim = anp.ndim(a), anp.ndim(b)
    axes_a, axes_b = _normalize_tensordot_axes(a_ndim, b_ndim, axes)
    free_a = [i for i in range(a_ndim) if i not in axes_a]
    free_b = [i for i in range(b_ndim) if i not in axes_b]
    g_free_b = list(range(len(free_a), len(free_a) + len(free_b)))
    # Result axes are free_a then a's contracted axes (in axes_a order).
    order = tuple(_np.argsort(free_a + axes_a))
    return lambda g: anp.transpose(anp.tensordot(g, b, (g_free_b, free_b)), order)


def _tensordot_vjp_b(ans, a, b, axes=2):
    a_ndim, b_ndim = anp.ndim(a), anp.ndim(b)
    axes_a, axes_b = _normalize_tensordot_axes(a_ndim, b_ndim, axes)
    free_a = [i for i in range(a_ndim) if i not in axes_a]
    free_b = [i for i in range(b_ndim) if i not in axes_b]
    g_free_a = list(range(len(free_a)))
    # Result axes are b's contracted axes (matching axes_a's order) then free_b.
    order = tuple(_np.argsort(axes_b + free_b))
    return lambda g: anp.transpose(anp.tensordot(a, g, (free_a, g_free_a)), order)


defvjp(anp.tensordot, _tensordot_vjp_a, _tensordot_vjp_b)
defjvp(anp.tensordot, "same", "same")


def _dot_as_tensordot_axes(a_ndim, b_ndim):
    return [a_ndim - 1], [max(b_ndim - 2, 0)]


def _dot_vjp_a(ans, a, b):
    if anp.ndim(a) == 0 or anp.ndim(b) == 0:
        return lambda g: unbroadcast(g * b, metadata(a))
    return _tensordot_vjp_a(ans, a, b, _dot_as_tensordot_axes(anp.ndim(a), anp.ndim(b)))


def _dot_vjp_b(ans, a, b):
    if anp.ndim(a) == 0 or anp.ndim(b) == 0:
        return lambda g: unbroadcast(g * a, metadata(b))
    return _tensordot_vjp_b(ans, a, b, _dot_as_tensordot_axes(anp.ndim(a), anp.ndim(b)))


defvjp(anp.dot, _dot_vjp_a, _dot_vjp_b)
defjvp(anp.dot, "same", "same")


def _matmul_vjp(argnum):
    def vjp_maker(ans, a, b):
        a_meta, b_meta = metadata(a), metadata(b)
        a_vector, b_vector = anp.ndim(a) == 1, anp.ndim(b) == 1

        def vjp(g):
            # Promote vectors to matrices as matmul does, then reduce back.
            a2 = anp.expand_dims(a, 0) if a_vector else a
            b2 = anp.expand_dims(b, -1) if b_vector else b
            g2 = anp.expand_dims(g, -1) if b_vector else g
            g2 = anp.expand_dims(g2, -2) if a_vector else g2
            if argnum == 0:
                result = anp.matmul(g2, anp.swapaxes(b2, -1, -2))
                result = anp.squeeze(result, -2) if a_vector else result
                return unbroadcast(result, a_meta)
            result = anp.matmul(anp.swapaxes(a2, -1, -2), g2)
            result = anp.squeeze(result, -1) if b_vector else result
            return unbroadcast(result, b_meta)
        return vjp
    return vjp_maker


defvjp(anp.matmul, _matmul_vjp(0), _matmul_vjp(1))
defjvp(anp.matmul, "same", "same")
defvjp(anp.swapaxes, lambda ans, x, axis1, axis2: lambda g: anp.swapaxes(g, axis1, axis2))
defjvp(anp.swapaxes, "same")
