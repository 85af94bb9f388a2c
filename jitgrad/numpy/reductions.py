"""Rules of the reductions: sums, means, products, extrema, moments and running ones.

A VJP spreads the output's cotangent back over the reduced axes and weights it; a JVP
weights the input's tangent and reduces it the same way. ``axis`` may be None, an int
(negative too) or a tuple, with ``keepdims`` either way. Gradients keep the input's
dtype even when ``dtype=`` widened the result.
"""
import math

import numpy as _np

from ..trace import defjvp, defvjp
from ..trace.rules import def_reduction
from . import numpy_wrapper as anp
from .numpy_vjps import metadata, reduced_axes, replace_zero, spread_to_shape, unbroadcast

_PYTHON_SCALARS = (int, float, complex)


def _unsupported(name, what, fix):
    raise NotImplementedError(
        f"jitgrad cannot differentiate np.{name} with {what}; {fix}.")


def _count(shape, axis):
    """How many elements are reduced into each output element."""
    return int(math.prod(shape[a] for a in reduced_axes(shape, axis)))


def _spread(g, shape, axis):
    """``g``, with or without the reduced axes kept, broadcast back to ``shape``."""
    return spread_to_shape(g, shape, axis)


def _to_dtype(g, dtype):
    """The cotangent ``g`` in the argument's dtype (``dtype=`` or float64 weights may widen it)."""
    g_dtype = anp.result_type(g)
    if g_dtype == dtype or dtype.kind not in "fc":
        return g
    if g_dtype.kind == "c" and dtype.kind != "c":
        g = anp.real(g)
    if isinstance(g, _PYTHON_SCALARS):
        return dtype.type(g)
    return g if anp.result_type(g) == dtype else anp.astype(g, dtype)


def _real_part(x):
    return anp.real(x) if anp.iscomplexobj(x) else x


def _conj(x):
    return anp.conj(x) if anp.iscomplexobj(x) else x


# sum: a constant initial= adds nothing to a derivative; where= masks it.
def _sum_vjp(ans, x, axis=None, dtype=None, out=None, keepdims=False, initial=None,
             where=True):
    shape, x_dtype = anp.shape(x), anp.result_type(x)

    def vjp(g):
        g = _spread(g, shape, axis)
        if where is not True:
            g = anp.where(where, g, 0)
        return _to_dtype(g, x_dtype)
    return vjp


def _sum_jvp(g, ans, x, axis=None, dtype=None, out=None, keepdims=False, initial=None,
             where=True):
    return anp.sum(g, axis=axis, dtype=dtype, keepdims=keepdims, where=where)


defvjp(anp.sum, _sum_vjp)
defjvp(anp.sum, _sum_jvp)
def_reduction(anp.sum, "sum")


def _mean_vjp(ans, x, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    shape, x_dtype = anp.shape(x), anp.result_type(x)
    if where is True:
        count = _count(shape, axis)
        return lambda g: _to_dtype(_spread(g, shape, axis) / count, x_dtype)
    mask = anp.broadcast_to(where, shape)
    count = anp.sum(mask, axis=axis, keepdims=True)
    return lambda g: _to_dtype(anp.where(mask, _spread(g, shape, axis), 0) / count, x_dtype)


defvjp(anp.mean, _mean_vjp)
defjvp(anp.mean, "same")
def_reduction(anp.mean, "mean")


# var and std: d var = 2/(N - ddof) * sum(conj(x - mean) dx); the mean's own variation
# drops out because the centred values sum to zero.
def _moment_parts(name, x, axis, ddof, kwargs):
    """The centred input (conjugated, for complex x) and the divisor N - ddof."""
    for key in ("where", "mean"):
        if key in kwargs:
            _unsupported(name, f"{key}=", f"write it out, e.g. np.mean(np.abs(x - m)**2, axis)")
    ddof = kwargs.get("correction", ddof)
    centred = x - anp.mean(x, axis=axis, keepdims=True)
    return _conj(centred), _count(anp.shape(x), axis) - ddof


def _var_vjp(ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kwargs):
    centred, dof = _moment_parts("var", x, axis, ddof, kwargs)
    shape = anp.shape(x)
    return lambda g: _spread(g, shape, axis) * centred * (2.0 / dof)


def _var_jvp(g, ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kwargs):
    centred, dof = _moment_parts("var", x, axis, ddof, kwargs)
    return (2.0 / dof) * anp.sum(_real_part(centred * g), axis=axis, keepdims=keepdims)


# std = sqrt(var). Where every value is equal std is 0, like a norm at zero, and its
# gradient is the smallest subgradient, 0 (the centred values are 0 there; divide by 1).
def _std_vjp(ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kwargs):
    centred, dof = _moment_parts("std", x, axis, ddof, kwargs)
    shape = anp.shape(x)
    return lambda g: _spread(g / (dof * replace_zero(ans, 1.0)), shape, axis) * centred


def _std_jvp(g, ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kwargs):
    centred, dof = _moment_parts("std", x, axis, ddof, kwargs)
    total = anp.sum(_real_part(centred * g), axis=axis, keepdims=keepdims)
    return total / (dof * replace_zero(ans, 1.0))


defvjp(anp.var, _var_vjp)
defjvp(anp.var, _var_jvp)
defvjp(anp.std, _std_vjp)
defjvp(anp.std, _std_jvp)


def _prod_of_others(ans, x, axis, initial):
    """For each element of x, the product of all the other elements reduced with it.

    ans / x where x is not 0. Where x is 0 that is 0 / 0, and the product of the others
    is the product of the non-zero values if x is the only zero of its slice, else 0.
    Written with ans (not a constant), so second derivatives with one zero are right too.
    """
    shape = anp.shape(x)
    zero = x == 0
    n_zeros = anp.sum(zero, axis=axis, keepdims=True)
    safe = anp.where(zero, 1, x)
    nonzero_prod = anp.prod(safe, axis=axis, keepdims=True)
    if initial is not None:
        nonzero_prod = nonzero_prod * initial
    at_zero = anp.where(n_zeros == 1, nonzero_prod, 0)
    return anp.where(zero, at_zero, _spread(ans, shape, axis) / safe)


def _prod_vjp(ans, x, axis=None, dtype=None, out=None, keepdims=False, initial=None,
              where=True):
    if where is not True:
        _unsupported("prod", "where=", "multiply by np.where(mask, x, 1) first")
    shape, x_dtype = anp.shape(x), anp.result_type(x)
    return lambda g: _to_dtype(
        _spread(g, shape, axis) * _prod_of_others(ans, x, axis, initial), x_dtype)


def _prod_jvp(g, ans, x, axis=None, dtype=None, out=None, keepdims=False, initial=None,
              where=True):
    if where is not True:
        _unsupported("prod", "where=", "multiply by np.where(mask, x, 1) first")
    return anp.sum(g * _prod_of_others(ans, x, axis, initial), axis=axis, keepdims=keepdims)


defvjp(anp.prod, _prod_vjp)
defjvp(anp.prod, _prod_jvp)


def _extremum_weights(extremum, x, axis):
    """1/k at each of the k elements equal to the extremum of their slice, else 0.

    Ties share the gradient evenly (autograd's choice). With initial= winning no element
    is hit and the weights are 0.
    """
    hit = x == _spread(extremum, anp.shape(x), axis)
    weights = hit / anp.maximum(anp.sum(hit, axis=axis, keepdims=True), 1)
    dtype = anp.result_type(x, 1.0)
    if anp.result_type(weights) == dtype:
        return weights
    return anp.astype(weights, dtype)


def _extremum_rules(name):
    def check(kwargs):
        if kwargs.get("where", True) is not True:
            _unsupported(name, "where=", "use np.where(mask, x, -np.inf) (or np.inf) first")

    def vjp(ans, x, axis=None, out=None, keepdims=False, **kwargs):
        check(kwargs)
        shape = anp.shape(x)
        # A call, not `*`: NumPy writes `a * temporary` into a big temporary (its
        # elision of temporaries), which would keep the weights' layout here and not
        # in a jitted replay, whose operands are named: sums over it would then add in
        # another order (convnet's bias gradient, 1e-15).
        return lambda g: anp.multiply(_spread(g, shape, axis), _extremum_weights(ans, x, axis))

    def jvp(g, ans, x, axis=None, out=None, keepdims=False, **kwargs):
        check(kwargs)
        return anp.sum(g * _extremum_weights(ans, x, axis), axis=axis, keepdims=keepdims)
    return vjp, jvp


for _fun in (anp.max, anp.min, anp.amax, anp.amin):
    _vjp, _jvp = _extremum_rules(_fun.__name__)
    defvjp(_fun, _vjp)
    defjvp(_fun, _jvp)


def _ptp_weights(x, axis):
    largest = anp.max(x, axis=axis, keepdims=True)
    smallest = anp.min(x, axis=axis, keepdims=True)
    return _extremum_weights(largest, x, axis) - _extremum_weights(smallest, x, axis)


defvjp(anp.ptp, lambda ans, x, axis=None, out=None, keepdims=False: lambda g:
       anp.multiply(_spread(g, anp.shape(x), axis), _ptp_weights(x, axis)))
defjvp(anp.ptp, lambda g, ans, x, axis=None, out=None, keepdims=False:
       anp.sum(g * _ptp_weights(x, axis), axis=axis, keepdims=keepdims))


# Running sums and products. axis=None runs over the flattened input.
def _flip(x, axis):
    return x[(slice(None),) * axis + (slice(None, None, -1),)]


def _reverse_cumsum(g, axis):
    return _flip(anp.cumsum(_flip(g, axis), axis=axis), axis)


def _running_axis(x, axis):
    """The input as the running functions see it (flat for axis=None) and the axis.
    NumPy runs over a 0-d input as over a 1-element array, for axis 0 or -1 too."""
    if axis is None or anp.ndim(x) == 0:
        return anp.ravel(x), 0
    return x, axis % anp.ndim(x)


def _cumsum_vjp(ans, x, axis=None, dtype=None, out=None):
    shape, x_dtype = anp.shape(x), anp.result_type(x)
    _, ax = _running_axis(x, axis)
    return lambda g: _to_dtype(anp.reshape(_reverse_cumsum(g, ax), shape), x_dtype)


defvjp(anp.cumsum, _cumsum_vjp)
defjvp(anp.cumsum, "same")


def _cumprod_parts(x, ax):
    """Masks of the zeros and of each slice's first zero, x with zeros as 1, and the
    running product with the first zero as 1 (from the first zero on, that is the running
    product of all the other elements; after a second zero it is 0)."""
    zero = x == 0
    first_zero = anp.logical_and(zero, anp.cumsum(zero, axis=ax) == 1)
    safe = anp.where(zero, 1, x)
    without_first_zero = anp.cumprod(anp.where(first_zero, 1, x), axis=ax)
    return zero, first_zero, safe, without_first_zero


# d ans[k] / d x[i] (i <= k) is ans[k] / x[i] where x[i] != 0; at a slice's first zero it
# is the running product without it; at later zeros it is 0.
def _cumprod_vjp(ans, x, axis=None, dtype=None, out=None):
    shape, x_dtype = anp.shape(x), anp.result_type(x)
    x, ax = _running_axis(x, axis)

    def vjp(g):
        zero, first_zero, safe, without_first_zero = _cumprod_parts(x, ax)
        nonzero = _reverse_cumsum(g * ans, ax) / safe
        at_first_zero = _reverse_cumsum(g * without_first_zero, ax)
        result = anp.where(zero, anp.where(first_zero, at_first_zero, 0), nonzero)
        return _to_dtype(anp.reshape(result, shape), x_dtype)
    return vjp


def _cumprod_jvp(g, ans, x, axis=None, dtype=None, out=None):
    x, ax = _running_axis(x, axis)
    g = anp.ravel(g) if axis is None else g
    zero, first_zero, safe, without_first_zero = _cumprod_parts(x, ax)
    return (ans * anp.cumsum(anp.where(zero, 0, g / safe), axis=ax)
            + without_first_zero * anp.cumsum(anp.where(first_zero, g, 0), axis=ax))


defvjp(anp.cumprod, _cumprod_vjp)
defjvp(anp.cumprod, _cumprod_jvp)


# average(a, axis, weights) = sum(w a) / sum(w): linear in a; in w, (a - average) / sum(w).
def _broadcastable_weights(a, axis, weights):
    """``weights`` shaped to broadcast against ``a`` (NumPy also takes 1-D weights
    along a single ``axis``)."""
    if anp.ndim(weights) == anp.ndim(a):
        return weights
    shape = [1] * anp.ndim(a)
    shape[axis % anp.ndim(a)] = -1
    return anp.reshape(weights, shape)


def _average_vjp_a(ans, a, axis=None, weights=None, returned=False, *, keepdims=False):
    shape, a_dtype = anp.shape(a), anp.result_type(a)
    if weights is None:
        count = _count(shape, axis)
        return lambda g: _to_dtype(_spread(g, shape, axis) / count, a_dtype)
    w = _broadcastable_weights(a, axis, weights)
    share = w / anp.sum(w, axis=axis, keepdims=True)
    return lambda g: _to_dtype(_spread(g, shape, axis) * share, a_dtype)


def _average_vjp_w(ans, a, axis=None, weights=None, returned=False, *, keepdims=False):
    shape = anp.shape(a)
    w = _broadcastable_weights(a, axis, weights)
    w_meta, w_shape = metadata(w), anp.shape(weights)
    slope = (a - _spread(ans, shape, axis)) / anp.sum(w, axis=axis, keepdims=True)
    return lambda g: anp.reshape(unbroadcast(_spread(g, shape, axis) * slope, w_meta), w_shape)


def _average_jvp_w(g, ans, a, axis=None, weights=None, returned=False, *, keepdims=False):
    shape = anp.shape(a)
    w = _broadcastable_weights(a, axis, weights)
    g = _broadcastable_weights(a, axis, g)
    slope = (a - _spread(ans, shape, axis)) / anp.sum(w, axis=axis, keepdims=True)
    return anp.sum(g * slope, axis=axis, keepdims=keepdims)


_average = anp.average
defvjp(_average, _average_vjp_a, None, _average_vjp_w)
defjvp(_average, "same", None, _average_jvp_w)


def average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    """``numpy.average``, differentiable in ``a`` and ``weights``.

    A function rather than the primitive itself so that ``weights=`` given by keyword
    (the usual spelling) is traced too: a primitive sees traced positional arguments only.
    """
    avg = _average(a, axis, weights, keepdims=keepdims)
    if not returned:
        return avg
    if weights is None:
        total = _np.asarray(_count(anp.shape(a), axis), dtype=anp.result_type(avg))
    else:
        w = anp.broadcast_to(_broadcastable_weights(a, axis, weights), anp.shape(a))
        total = anp.sum(w, axis=axis, keepdims=keepdims)
    return avg, anp.broadcast_to(total, anp.shape(avg))
