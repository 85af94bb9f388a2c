"""The normal distribution, as scipy.stats.norm."""
import numpy as _np

from ...numpy import numpy_wrapper as anp
from .. import special
from ._support import minus_log_scale, sampler, standardize

_LOG_SQRT_2PI = float(0.5 * _np.log(2 * _np.pi))  # a Python float: float32 stays float32


def logpdf(x, loc=0.0, scale=1.0):
    z = standardize(x, loc, scale)
    return minus_log_scale(-0.5 * z * z - _LOG_SQRT_2PI, scale)


def pdf(x, loc=0.0, scale=1.0):
    return anp.exp(logpdf(x, loc, scale))


def cdf(x, loc=0.0, scale=1.0):
    return special.ndtr(standardize(x, loc, scale))


def logcdf(x, loc=0.0, scale=1.0):
    return special.log_ndtr(standardize(x, loc, scale))


def sf(x, loc=0.0, scale=1.0):
    return special.ndtr(-standardize(x, loc, scale))


def logsf(x, loc=0.0, scale=1.0):
    return special.log_ndtr(-standardize(x, loc, scale))


def ppf(q, loc=0.0, scale=1.0):
    return loc + scale * special.ndtri(q)


def isf(q, loc=0.0, scale=1.0):
    return loc - scale * special.ndtri(q)


rvs = sampler("norm")
