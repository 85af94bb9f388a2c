"""The Dirichlet distribution, as scipy.stats.dirichlet, differentiable in ``x`` and
``alpha``.

As in scipy, the components run along the first axis of ``x`` (shape (K,) or
(K, N)), and ``x`` may leave out its last component, which is then 1 - sum(x).
Unlike scipy, ``x`` is not checked to lie on the simplex."""
from ...numpy import numpy_wrapper as anp
from ...numpy import concatenate
from .. import special
from ._support import sampler


def _complete(x, alpha):
    k, k_x = anp.shape(alpha)[0], anp.shape(x)[0]
    if k_x == k - 1:
        last = 1.0 - anp.sum(x, axis=0)
        return concatenate([x, anp.reshape(last, (1,) + anp.shape(last))], axis=0)
    if k_x != k:
        raise ValueError(f"x must have {k} or {k - 1} entries along its first axis to "
                         f"match alpha, not {k_x} (x.shape = {anp.shape(x)}).")
    return x


def logpdf(x, alpha):
    if anp.ndim(alpha) != 1:
        raise ValueError("alpha must be a 1-D vector of concentration parameters.")
    x = _complete(x, alpha)
    alpha_column = anp.reshape(alpha, anp.shape(alpha) + (1,) * (anp.ndim(x) - 1))
    log_beta = anp.sum(special.gammaln(alpha)) - special.gammaln(anp.sum(alpha))
    return anp.sum(special.xlogy(alpha_column - 1, x), axis=0) - log_beta


def pdf(x, alpha):
    return anp.exp(logpdf(x, alpha))


rvs = sampler("dirichlet")
