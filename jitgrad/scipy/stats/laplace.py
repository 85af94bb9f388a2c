"""The Laplace distribution, as scipy.stats.laplace.

The two halves of the cdf are written with exp(-|z|), finite on both sides, so that
the branch not taken never produces an infinite derivative."""
import numpy as _np

from ...numpy import numpy_wrapper as anp
from .. import special
from ._support import minus_log_scale, sampler, standardize


def logpdf(x, loc=0.0, scale=1.0):
    z = standardize(x, loc, scale)
    return minus_log_scale(-anp.abs(z) - _np.log(2.0), scale)


def pdf(x, loc=0.0, scale=1.0):
    return anp.exp(logpdf(x, loc, scale))


def cdf(x, loc=0.0, scale=1.0):
    z = standardize(x, loc, scale)
    tail = 0.5 * anp.exp(-anp.abs(z))
    return anp.where(z < 0, tail, 1.0 - tail)


def logcdf(x, loc=0.0, scale=1.0):
    z = standardize(x, loc, scale)
    return anp.where(z < 0, -anp.abs(z) - _np.log(2.0),
                     special.log1p(-0.5 * anp.exp(-anp.abs(z))))


def sf(x, loc=0.0, scale=1.0):
    return cdf(-x, -loc, scale)


def logsf(x, loc=0.0, scale=1.0):
    return logcdf(-x, -loc, scale)


def ppf(q, loc=0.0, scale=1.0):
    centred = q - 0.5
    return loc - scale * anp.sign(centred) * special.log1p(-2.0 * anp.abs(centred))


rvs = sampler("laplace")
