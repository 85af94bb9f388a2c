"""``jitgrad.scipy.stats``: densities and distribution functions, differentiable in
their data and parameters, with scipy.stats' names and signatures
(``norm.logpdf(x, loc=0, scale=1)``).

Each is written with jitgrad.numpy and jitgrad.scipy.special primitives, so every
argument is differentiable in both modes and to any order wherever the special
functions are (the cdfs of t, beta, gamma and chi2 are not differentiable in their
shape parameters). Parameters are assumed valid (positive scales and shapes): unlike
scipy, invalid parameters are not turned into nan. A scalar result is a NumPy scalar,
as scipy's (and autograd's, which calls scipy) is.
"""
from . import (beta, chi2, dirichlet, expon, gamma, laplace,  # noqa: F401
               multivariate_normal, norm, poisson, t)
from ._support import scalar_results

for _module in (beta, chi2, dirichlet, expon, gamma, laplace, multivariate_normal, norm,
                poisson, t):
    scalar_results(_module)
