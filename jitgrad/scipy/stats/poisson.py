"""The Poisson distribution, as scipy.stats.poisson: differentiable in ``mu``."""
from ...numpy import numpy_wrapper as anp
from .. import special
from ._support import on_support, sampler


def logpmf(k, mu, loc=0):
    k = k - loc
    counts = (k >= 0) & (anp.floor(k) == k)
    mass = lambda k: special.xlogy(k, mu) - special.gammaln(k + 1) - mu
    return on_support(counts, mass, k, 0.0, -anp.inf)


def pmf(k, mu, loc=0):
    return anp.exp(logpmf(k, mu, loc))


def cdf(k, mu, loc=0):
    k = anp.floor(k - loc)
    return on_support(k >= 0, lambda k: special.gammaincc(k + 1, mu), k, 0.0, 0.0)


def logcdf(k, mu, loc=0):
    return anp.log(cdf(k, mu, loc))


def sf(k, mu, loc=0):
    k = anp.floor(k - loc)
    return on_support(k >= 0, lambda k: special.gammainc(k + 1, mu), k, 0.0, 1.0)


def logsf(k, mu, loc=0):
    return anp.log(sf(k, mu, loc))


rvs = sampler("poisson")
