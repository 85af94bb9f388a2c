"""The chi-squared distribution, as scipy.stats.chi2: a gamma distribution with shape
``df / 2`` and scale 2. The cdf family is not differentiable in ``df``."""
from . import gamma as _gamma
from ._support import sampler


def logpdf(x, df, loc=0.0, scale=1.0):
    return _gamma.logpdf(x, df / 2, loc, 2 * scale)


def pdf(x, df, loc=0.0, scale=1.0):
    return _gamma.pdf(x, df / 2, loc, 2 * scale)


def cdf(x, df, loc=0.0, scale=1.0):
    return _gamma.cdf(x, df / 2, loc, 2 * scale)


def logcdf(x, df, loc=0.0, scale=1.0):
    return _gamma.logcdf(x, df / 2, loc, 2 * scale)


def sf(x, df, loc=0.0, scale=1.0):
    return _gamma.sf(x, df / 2, loc, 2 * scale)


def logsf(x, df, loc=0.0, scale=1.0):
    return _gamma.logsf(x, df / 2, loc, 2 * scale)


def ppf(q, df, loc=0.0, scale=1.0):
    return _gamma.ppf(q, df / 2, loc, 2 * scale)


rvs = sampler("chi2")
