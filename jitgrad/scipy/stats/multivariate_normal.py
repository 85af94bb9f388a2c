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

from ...numpy import linalg as np_linalg, numpy_wrapper as anp
from ...kernels.blas_threads import limited
from ...trace import (defjvp, defjvp_argnums, defvjp, defvjp_argnums, notrace_primitive,
                      primitive)
from ._support import sampler

_LOG_2PI = float(_np.log(2 * _np.pi))
_lapack_cholesky = limited(_linalg.cholesky)
_lapack_solve_triangular = limited(_linalg.solve_triangular)


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


_NOT_DEFINITE = ("When `allow_singular is False`, the input matrix must be symmetric "
                 "positive definite; pass allow_singular=True for a degenerate distribution.")


def _definite_cholesky(cholesky, S):
    """``cholesky(S)``, refusing a matrix that is not positive definite with scipy's
    message (not LAPACK's "leading minor" one)."""
    try:
        L = cholesky(S)
    except _np.linalg.LinAlgError:
        raise _np.linalg.LinAlgError(_NOT_DEFINITE) from None
    _check_definite(L)
    return L


@notrace_primitive
def _check_definite(L):
    # Cholesky succeeds on some numerically singular matrices; refuse them as scipy does.
    diagonal = _np.diagonal(L) ** 2
    if _np.min(diagonal) <= _cutoff(diagonal):
        raise _np.linalg.LinAlgError(_NOT_DEFINITE)


@notrace_primitive
def _off_support(dev, cov):
    s, u, kept = _eigh(cov)
    residual = _np.linalg.norm(dev @ u[:, ~kept], axis=-1)
    return residual >= 1e3 * _cutoff(s)


def _dimension(mean, cov):
    if mean is not None:
        return anp.size(mean)
    return anp.shape(cov)[0] if anp.ndim(cov) >= 2 else 1


def _square(cov, dim):
    """cov as a (dim, dim) matrix, following scipy's rules for scalars and vectors."""
    if anp.ndim(cov) == 0 or dim == 1:
        return anp.reshape(cov, ()) * _np.eye(dim)
    if anp.ndim(cov) == 1:
        return anp.reshape(cov, (dim, 1)) * _np.eye(dim)
    if anp.shape(cov) != (dim, dim):
        raise ValueError(f"cov must be a ({dim}, {dim}) matrix to match mean, "
                         f"not of shape {anp.shape(cov)}.")
    return cov


def _parameters(mean, cov):
    """mean as a (d,) vector and cov as a symmetric (d, d) matrix, following scipy's
    rules for scalars and vectors."""
    dim = _dimension(mean, cov)
    mean = _np.zeros(dim) if mean is None else anp.reshape(mean, (dim,))
    cov = _square(cov, dim)
    return mean, 0.5 * (cov + anp.transpose(cov)), dim


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
    if not allow_singular:
        dim = _dimension(mean, cov)
        points = _points(x, dim)
        mean = _np.zeros(dim) if mean is None else anp.reshape(mean, (dim,))
        out = _gaussian_logpdf(anp.reshape(points, (-1, dim)), mean, _square(cov, dim))
        return _squeeze(anp.reshape(out, anp.shape(points)[:-1]))
    mean, cov, dim = _parameters(mean, cov)
    dev = _points(x, dim) - mean
    points = anp.reshape(dev, (-1, dim))
    maha = anp.sum(anp.dot(points, _pinvh(cov)) * points, axis=-1)
    log_det, rank = _log_pdet(cov), _rank(cov)
    out = anp.reshape(-0.5 * (rank * _LOG_2PI + log_det + maha), anp.shape(dev)[:-1])
    if rank < dim:
        out = anp.where(_off_support(dev, cov), -anp.inf, out)
    return _squeeze(out)


# The positive definite case is one primitive, as in autograd, whose rules are a few
# matrix products: composed of its dozen steps (Cholesky factor, triangular solve,
# sums, logs) a gradient records and differentiates each, 2-3x slower than autograd
# in second-order code (a Newton method's Hessian-vector products).
@primitive
def _gaussian_logpdf(points, mean, cov):
    """log N(p | mean, S) of each row p of ``points`` (n, d), S = (cov + cov^T) / 2."""
    L = _definite_cholesky(lambda S: _lapack_cholesky(S, lower=True), 0.5 * (cov + cov.T))
    whitened = _lapack_solve_triangular(L, (points - mean).T, lower=True)
    maha = _np.sum(whitened * whitened, axis=0)
    log_det = 2.0 * _np.sum(_np.log(_np.diagonal(L)))
    return -0.5 * (len(mean) * _LOG_2PI + log_det + maha)


def _gaussian_parts(points, mean, cov):
    """S^-1 (p - mean) for each point, as the columns of a (d, n) matrix, and S^-1."""
    S = 0.5 * (cov + anp.transpose(cov))
    # The forward pass's check, again: a jitted gradient that needs no value of the
    # forward pass drops it, yet must refuse an indefinite cov as eager does.
    _definite_cholesky(np_linalg.cholesky, S)
    return np_linalg.solve(S, anp.transpose(points - mean)), np_linalg.inv(S)


def _gaussian_logpdf_vjp(argnums, ans, args, kwargs):
    # d log N = -a.dp + a.dmean + (a dS a - tr(S^-1 dS)) / 2, with a = S^-1 (p - mean).
    A, S_inv = _gaussian_parts(*args)

    def vjp(g):
        cotangents = {0: -anp.transpose(A * g), 1: anp.dot(A, g)}
        if 2 in argnums:
            cotangents[2] = 0.5 * (anp.dot(A * g, anp.transpose(A)) - anp.sum(g) * S_inv)
        return tuple(cotangents[argnum] for argnum in argnums)
    return vjp


def _gaussian_logpdf_jvp(argnums, tangents, ans, args, kwargs):
    A, S_inv = _gaussian_parts(*args)
    out = 0.0
    for argnum, tangent in zip(argnums, tangents):
        if argnum == 0:
            out = out - anp.sum(anp.transpose(A) * tangent, axis=1)
        elif argnum == 1:
            out = out + anp.dot(tangent, A)
        else:
            dS = 0.5 * (tangent + anp.transpose(tangent))
            out = out + 0.5 * (anp.sum(anp.dot(dS, A) * A, axis=0) - anp.sum(S_inv * dS))
    return out


defvjp_argnums(_gaussian_logpdf, _gaussian_logpdf_vjp)
defjvp_argnums(_gaussian_logpdf, _gaussian_logpdf_jvp)


def pdf(x, mean=None, cov=1, allow_singular=False):
    return anp.exp(logpdf(x, mean, cov, allow_singular))


def entropy(mean=None, cov=1):
    mean, cov, dim = _parameters(mean, cov)
    return 0.5 * (_rank(cov) * (_LOG_2PI + 1.0) + _log_pdet(cov))


rvs = sampler("multivariate_normal")
