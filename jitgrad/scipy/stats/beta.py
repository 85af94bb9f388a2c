"""The beta distribution, as scipy.stats.beta. The cdf family is differentiable in
``x``, ``loc`` and ``scale`` only."""
from ...numpy import numpy_wrapper as anp
from .. import special
from ._support import minus_log_scale, on_support, sampler, standardize


def logpdf(x, a, b, loc=0.0, scale=1.0):
    z = standardize(x, loc, scale)
    inside = (z >= 0) & (z <= 1)
    density = lambda z: (special.xlogy(a - 1, z) + special.xlog1py(b - 1, -z)
                         - special.betaln(a, b))
    return minus_log_scale(on_support(inside, density, z, 0.5, -anp.inf), scale)


def pdf(x, a, b, loc=0.0, scale=1.0):
    return anp.exp(logpdf(x, a, b, loc, scale))


def cdf(x, a, b, loc=0.0, scale=1.0):
    z = standardize(x, loc, scale)
    inside = (z > 0) & (z < 1)
    return on_support(inside, lambda z: special.betainc(a, b, z), z, 0.5,
                      anp.where(z <= 0, 0.0, 1.0))


def logcdf(x, a, b, loc=0.0, scale=1.0):
    return anp.log(cdf(x, a, b, loc, scale))


def sf(x, a, b, loc=0.0, scale=1.0):
    z = standardize(x, loc, scale)
    inside = (z > 0) & (z < 1)
    return on_support(inside, lambda z: special.betaincc(a, b, z), z, 0.5,
                      anp.where(z <= 0, 1.0, 0.0))


def logsf(x, a, b, loc=0.0, scale=1.0):
    return anp.log(sf(x, a, b, loc, scale))


def ppf(q, a, b, loc=0.0, scale=1.0):
    return loc + scale * special.betaincinv(a, b, q)


rvs = sampler("beta")
