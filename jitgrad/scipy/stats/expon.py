"""The exponential distribution, as scipy.stats.expon."""
from ...numpy import numpy_wrapper as anp
from .. import special
from ._support import minus_log_scale, on_support, sampler, standardize


def logpdf(x, loc=0.0, scale=1.0):
    z = standardize(x, loc, scale)
    return minus_log_scale(on_support(z >= 0, lambda z: -z, z, 1.0, -anp.inf), scale)


def pdf(x, loc=0.0, scale=1.0):
    return anp.exp(logpdf(x, loc, scale))


def cdf(x, loc=0.0, scale=1.0):
    z = standardize(x, loc, scale)
    return on_support(z > 0, lambda z: -special.expm1(-z), z, 1.0, 0.0)


def logcdf(x, loc=0.0, scale=1.0):
    z = standardize(x, loc, scale)
    return on_support(z > 0, lambda z: anp.log(-special.expm1(-z)), z, 1.0, -anp.inf)


def sf(x, loc=0.0, scale=1.0):
    return anp.exp(logsf(x, loc, scale))


def logsf(x, loc=0.0, scale=1.0):
    z = standardize(x, loc, scale)
    return on_support(z > 0, lambda z: -z, z, 1.0, 0.0)


def ppf(q, loc=0.0, scale=1.0):
    return loc - scale * special.log1p(-q)


rvs = sampler("expon")
