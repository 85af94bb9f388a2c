"""Helpers shared by the distributions: standardising, restricting to a support, and
forwarding scipy's samplers."""
import functools

from ...numpy import numpy_wrapper as anp
from ...numpy.random import _draw as draw


def standardize(x, loc, scale):
    return (x - loc) / scale


def on_support(inside, fun, z, safe_value, outside_value):
    """``fun(z)`` where ``inside``, else ``outside_value``.

    ``fun`` is evaluated at a safe point outside the support, so that no inf or nan
    there leaks into gradients (a where() cotangent of zero times an infinite
    derivative would be nan)."""
    z_safe = anp.where(inside, z, safe_value)
    return anp.where(inside, fun(z_safe), outside_value)


def sampler(distribution):
    """``scipy.stats.<distribution>.rvs``, forwarded. Draws are constants to the
    gradient; under the jit each is drawn anew on every replay, as the draws of
    ``jitgrad.numpy.random`` are. scipy.stats is imported at the first draw only,
    because it is slow to import."""
    def rvs(*args, **kwargs):
        return _scipy_draw(distribution)(*args, **kwargs)
    rvs.__qualname__ = f"{distribution}.rvs"
    rvs.__doc__ = (f"Random draws from scipy.stats.{distribution}.rvs (same arguments); "
                   "not differentiable.")
    return rvs


@functools.lru_cache(maxsize=None)
def _scipy_draw(distribution):
    import scipy.stats
    return draw(getattr(scipy.stats, distribution).rvs)
