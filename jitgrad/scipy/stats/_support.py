"""Helpers shared by the distributions: standardising and restricting to a support."""
from ...numpy import numpy_wrapper as anp


def standardize(x, loc, scale):
    return (x - loc) / scale


def on_support(inside, fun, z, safe_value, outside_value):
    """``fun(z)`` where ``inside``, else ``outside_value``.

    ``fun`` is evaluated at a safe point outside the support, so that no inf or nan
    there leaks into gradients (a where() cotangent of zero times an infinite
    derivative would be nan)."""
    z_safe = anp.where(inside, z, safe_value)
    return anp.where(inside, fun(z_safe), outside_value)
