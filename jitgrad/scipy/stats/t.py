"""Student's t distribution, as scipy.stats.t. The cdf family is not differentiable
in ``df``."""
import numpy as _np

from ...numpy import numpy_wrapper as anp
from .. import special
from ._support import minus_log_scale, sampler, standardize


def logpdf(x, df, loc=0.0, scale=1.0):
    z = standardize(x, loc, scale)
    return minus_log_scale(special.gammaln((df + 1) / 2) - special.gammaln(df / 2)
                           - 0.5 * anp.log(df * _np.pi)
                           - (df + 1) / 2 * special.log1p(z * z / df), scale)


def pdf(x, df, loc=0.0, scale=1.0):
    return anp.exp(logpdf(x, df, loc, scale))


def cdf(x, df, loc=0.0, scale=1.0):
    return special.stdtr(df, standardize(x, loc, scale))


def logcdf(x, df, loc=0.0, scale=1.0):
    return anp.log(cdf(x, df, loc, scale))


def sf(x, df, loc=0.0, scale=1.0):
    return special.stdtr(df, -standardize(x, loc, scale))


def logsf(x, df, loc=0.0, scale=1.0):
    return anp.log(sf(x, df, loc, scale))


def ppf(q, df, loc=0.0, scale=1.0):
    return loc + scale * special.stdtrit(df, q)


rvs = sampler("t")
