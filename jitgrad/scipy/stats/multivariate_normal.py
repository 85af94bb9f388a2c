"""The multivariate normal distribution, as scipy.stats.multivariate_normal,
differentiable in ``x``, ``mean`` and ``cov``.

``cov`` is used through its symmetric part, so its gradient is symmetric. A
positive definite ``cov`` goes through a Cholesky factor; with
``allow_singular=True`` the pseudo-inverse and pseudo-determinant are used, as scipy
does, with derivatives for perturbations that keep the rank (e.g. ``cov = B B^T``
differentiated in B), and points off the support get -inf.
"""
import numpy as _np
import scipy.linalg as _linalg

from ...numpy import numpy_wrapper as anp
from ...trace import defjvp, defvjp, notrace_primitive, primitive
from .. import linalg
from ._support import sampler

_LOG_2PI = _np.log(2 * _np.pi)


def _cutoff(spectrum):
    # scipy.stats' threshold for a numerically zero eigenvalue.
    return 1e6 * _np.finfo(float).eps * _np.max(_np.abs(spectrum))


def _eigh(cov):
    s, u = _linalg.eigh(cov)
    return s, u, s > _cutoff(s)


@primitive
def _pinvh(cov):
    """The pseudo-inverse of a symmetric positive semidefinite matrix."""
    s, u, kept = _eigh(cov)
    return (u[:, kept] / s[kept]) @ u[:, kept].T


def _pinvh_vjp(ans, cov):
    # Constant-rank derivative: dP = -P dC P + P^2 dC Q + Q dC P^2, Q = I - C P.
    def vjp(g):
        Q = _np.eye(anp.shape(cov)[0]) - anp.dot(cov, ans)
        P2 = anp.dot(ans, ans)
        return (-anp.dot(anp.dot(ans, g), ans) + anp.dot(anp.dot(P2, g), anp.transpose(Q))
                + anp.dot(anp.dot(Q, g), P2))
    return vjp


def _pinvh_jvp(g, ans, cov):
    Q = _np.eye(anp.shape(cov)[0]) - anp.dot(cov, ans)
    P2 = anp.dot(ans, ans)
    return (-anp.dot(anp.dot(ans, g), ans) + anp.dot(anp.dot(P2, g), Q)
            + anp.dot(anp.dot(anp.transpose(Q), g), P2))


defvjp(_pinvh, _pinvh_vjp)
defjvp(_pinvh, _pinvh_jvp)


@primitive
def _log_pdet(cov):
    """The log of the product of the nonzero eigenvalues."""
    s, _, kept = _eigh(cov)
    return _np.sum(_np.log(s[kept]))


defvjp(_log_pdet, lambda ans, cov: lambda g: g * anp.transpose(_pinvh(cov)))
defjvp(_log_pdet, lambda g, ans, cov: anp.sum(_pinvh(cov) * g))


@notrace_primitive
def _rank(cov):
    return int(_np.sum(_eigh(cov)[2]))


@notrace_primitive
def _check_definite(L):
    # Cholesky succeeds on some numerically singular matrices; refuse them as scipy does.
    diagonal = _np.diagonal(L) ** 2
    if _np.min(diagonal) <= _cutoff(diagonal):
        raise _np.linalg.LinAlgError(
            "When `allow_singular is False`, the input matrix must be symmetric positive "
            "definite; pass allow_singular=True for a degenerate distribution.")


@notrace_primitive
def _off_support(dev, cov):
    s, u, kept = _eigh(cov)
    residual = _np.linalg.norm(dev @ u[:, ~kept], axis=-1)
    return residual >= 1e3 * _cutoff(s)


def _parameters(mean, cov):
    """mean as a (d,) vector and cov as a symmetric (d, d) matrix, following scipy's
    rules for scalars and vectors."""
    if mean is not None:
        dim = anp.size(mean)
    elif anp.ndim(cov) >= 2:
        dim = anp.shape(cov)[0]
    else:
        dim = 1
    mean = _np.zeros(dim) if mean is None else anp.reshape(mean, (dim,))
    if anp.ndim(cov) == 0 or dim == 1:
        cov = anp.reshape(cov, ()) * _np.eye(dim)
    elif anp.ndim(cov) == 1:
        cov = anp.reshape(cov, (dim, 1)) * _np.eye(dim)
    elif anp.shape(cov) != (dim, dim):
        raise ValueError(f"cov must be a ({dim}, {dim}) matrix to match mean, "
                         f"not of shape {anp.shape(cov)}.")
    else:
        cov = 0.5 * (cov + anp.transpose(cov))
    return mean, cov, dim


def _points(x, dim):
    """x as (..., d) points: a scalar or a vector is one point, or in one dimension
    a vector of points."""
    if anp.ndim(x) == 0:
        x = anp.reshape(x, (1,))
    if anp.ndim(x) == 1:
        x = anp.reshape(x, (-1, 1) if dim == 1 else (1, dim))
    return x


def _squeeze(out):
    return anp.squeeze(out) if anp.ndim(out) else out


def logpdf(x, mean=None, cov=1, allow_singular=False):
    mean, cov, dim = _parameters(mean, cov)
    dev = _points(x, dim) - mean
    points = anp.reshape(dev, (-1, dim))
    if allow_singular:
        maha = anp.sum(anp.dot(points, _pinvh(cov)) * points, axis=-1)
        log_det, rank = _log_pdet(cov), _rank(cov)
    else:
        L = linalg.cholesky(cov, lower=True)
        _check_definite(L)
        whitened = linalg.solve_triangular(L, anp.transpose(points), lower=True)
        maha = anp.sum(whitened * whitened, axis=0)
        log_det, rank = 2.0 * anp.sum(anp.log(anp.sum(L * _np.eye(dim), axis=1))), dim
    out = anp.reshape(-0.5 * (rank * _LOG_2PI + log_det + maha), anp.shape(dev)[:-1])
    if allow_singular and rank < dim:
        out = anp.where(_off_support(dev, cov), -anp.inf, out)
    return _squeeze(out)


def pdf(x, mean=None, cov=1, allow_singular=False):
    return anp.exp(logpdf(x, mean, cov, allow_singular))


def entropy(mean=None, cov=1):
    mean, cov, dim = _parameters(mean, cov)
    return 0.5 * (_rank(cov) * (_LOG_2PI + 1.0) + _log_pdet(cov))


rvs = sampler("multivariate_normal")
