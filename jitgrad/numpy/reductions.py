"""Rules of the reductions."""
from ..trace import defjvp, defvjp
from . import numpy_wrapper as anp
from .numpy_vjps import repeat_to_match_shape


def _sum_vjp(ans, x, axis=None, keepdims=False, dtype=None, **kwargs):
    shape, x_dtype = anp.shape(x), anp.result_type(x)
    return lambda g: repeat_to_match_shape(g, shape, x_dtype, axis, keepdims)[0]


def _mean_vjp(ans, x, axis=None, keepdims=False, dtype=None, **kwargs):
    shape, x_dtype = anp.shape(x), anp.result_type(x)

    def vjp(g):
        g_repeated, count = repeat_to_match_shape(g, shape, x_dtype, axis, keepdims)
        return g_repeated / count
    return vjp


defvjp(anp.sum, _sum_vjp)
defjvp(anp.sum, "same")
defvjp(anp.mean, _mean_vjp)
defjvp(anp.mean, "same")
