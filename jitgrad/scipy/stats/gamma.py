"""The gamma distribution, as scipy.stats.gamma. The cdf family is differentiable in
``x``, ``loc`` and ``scale`` only."""
from ...numpy import numpy_wrapper as anp
from .. import special
from ._support import minus_log_scale, on_support, sampler, standardize


def logpdf(x, a, loc=0.0, scale=1.0):
    z = standardize(x, loc, scale)
    density = lambda z: special.xlogy(a - 1, z) - z - special.gammaln(a)
    return minus_log_scale(on_support(z >= 0, density, z, 1.0, -anp.inf), scale)


def pdf(x, a, loc=0.0, scale=1.0):
    return anp.exp(logpdf(x, a, loc, scale))


def cdf(x, a, loc=0.0, scale=1.0):
    z = standardize(x, loc, scale)
    return on_support(z > 0, lambda z: special.gammainc(a, z), z, 1.0, 0.0)


def logcdf(x, a, loc=0.0, scale=1.0):
    return anp.log(cdf(x, a, loc, scale))


def sf(x, a, loc=0.0, scale=1.0):
    z = standardize(x, loc, scale)
    return on_support(z > 0, lambda z: special.gammaincc(a, z), z, 1.0, 1.0)


def logsf(x, a, loc=0.0, scale=1.0):
    return anp.log(sf(x, a, loc, scale))


def ppf(q, a, loc=0.0, scale=1.0):
    return loc + scale * special.gammaincinv(a, q)


rvs = sampler("gamma")
