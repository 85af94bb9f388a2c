"""``jitgrad.scipy.linalg``: scipy.linalg traced, with rules for triangular solves,
Cholesky factors, matrix functions (sqrtm, expm, logm), Sylvester equations,
banded solves, block_diag, inv and det.

Matrices may carry leading batch axes, as in scipy. Functions that read one
triangle of their input (solve_triangular, cholesky) send cotangents to that
triangle only, except cholesky, whose gradient is the symmetric one (for a
symmetric input both triangles move together). The matrix functions' derivatives
are Fréchet derivatives computed with the same function on the block matrix
``[[A, E], [0, A]]``, whose upper-right block is the derivative at A along E.
"""
import types

import numpy as _np
import scipy.linalg as _linalg

from ..kernels import blas_threads
from ..numpy import numpy_wrapper as anp
from ..numpy.numpy_wrapper import wrap_namespace
from ..numpy import concatenate
from ..trace import defjvp, defjvp_argnums, defvjp, defvjp_argnum, primitive

__all__ = wrap_namespace(_linalg.__dict__, globals())

# The routines the primitives below call, each on one BLAS thread for small problems.
_lapack = types.SimpleNamespace(**{
    name: blas_threads.limited(getattr(_linalg, name)) for name in (
        "solve_triangular", "cholesky", "solve_sylvester", "sqrtm", "expm", "logm", "inv",
        "det", "solve_banded")})


def _T(x):
    return anp.swapaxes(x, -1, -2)


def _triangle_mask(n, lower, unit_diagonal=False):
    mask = _np.tril(_np.ones((n, n))) if lower else _np.triu(_np.ones((n, n)))
    return mask - _np.eye(n) if unit_diagonal else mask


_TRANS = {0: 0, "N": 0, 1: 1, "T": 1, 2: 2, "C": 2}


# solve_triangular: x = op(A)^-1 b, op(A) = A, A^T or A^H by ``trans``.
@primitive
def _solve_triangular(a, b, trans, lower, unit_diagonal):
    return _lapack.solve_triangular(a, b, trans=trans, lower=lower,
                                    unit_diagonal=unit_diagonal)


def _check_real_trans(trans, a):
    if trans == 2 and anp.iscomplexobj(a):
        raise NotImplementedError(
            "jitgrad.scipy.linalg.solve_triangular: gradients with trans='C' of a complex "
            "matrix are not implemented; pass trans='T' and conjugate a yourself.")


def _as_matrix(x, vector):
    return anp.expand_dims(x, -1) if vector else x


def _solve_triangular_vjp(argnum):
    def vjp_maker(ans, a, b, trans, lower, unit_diagonal):
        _check_real_trans(trans, a)
        back_trans = 0 if trans else 1
        vector = anp.ndim(b) == 1
        mask = _triangle_mask(anp.shape(a)[-1], lower, unit_diagonal)

        def vjp_b(g):
            return _solve_triangular(a, g, back_trans, lower, unit_diagonal)
        if argnum == 1:
            return vjp_b

        def vjp_a(g):
            gb, x = _as_matrix(vjp_b(g), vector), _as_matrix(ans, vector)
            grad_op = -anp.matmul(gb, _T(x))
            return (_T(grad_op) if trans else grad_op) * mask
        return vjp_a
    return vjp_maker


def _solve_triangular_jvp_a(g, ans, a, b, trans, lower, unit_diagonal):
    _check_real_trans(trans, a)
    vector = anp.ndim(b) == 1
    da = g * _triangle_mask(anp.shape(a)[-1], lower, unit_diagonal)
    d_op = _T(da) if trans else da
    rhs = -anp.matmul(d_op, _as_matrix(ans, vector))
    out = _solve_triangular(a, rhs, trans, lower, unit_diagonal)
    return out[..., 0] if vector else out


defvjp(_solve_triangular, _solve_triangular_vjp(0), _solve_triangular_vjp(1))
defjvp(_solve_triangular, _solve_triangular_jvp_a, "same")


def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
                     check_finite=True):
    """Solve ``op(a) x = b`` for triangular ``a``, as scipy.linalg.solve_triangular."""
    if trans not in _TRANS:
        raise ValueError(f"trans must be 0, 1, 2, 'N', 'T' or 'C', not {trans!r}")
    return _solve_triangular(a, b, _TRANS[trans], lower, unit_diagonal)


# Cholesky: A = L L^T. With X = L^-1 dL lower triangular, L^-1 dA L^-T = X + X^T, so
# dL = L phi(L^-1 dA L^-T) where phi keeps the lower triangle and halves the diagonal.
@primitive
def _cholesky(a, lower):
    return _lapack.cholesky(a, lower=lower)


def _phi(x):
    n = anp.shape(x)[-1]
    return x * (_np.tril(_np.ones((n, n))) - 0.5 * _np.eye(n))


def _cholesky_vjp(ans, a, lower):
    L = ans if lower else _T(ans)

    def vjp(g):
        gL = g if lower else _T(g)
        P = _phi(anp.matmul(_T(L), gL))
        Y = _solve_triangular(L, P, 1, True, False)              # L^-T P
        S = _T(_solve_triangular(L, _T(Y), 1, True, False))      # L^-T P L^-1
        return 0.5 * (S + _T(S))
    return vjp


def _cholesky_jvp(g, ans, a, lower):
    L = ans if lower else _T(ans)
    dA = 0.5 * (g + _T(g))
    Z = _solve_triangular(L, dA, 0, True, False)                 # L^-1 dA
    C = _T(_solve_triangular(L, _T(Z), 0, True, False))          # L^-1 dA L^-T
    dL = anp.matmul(L, _phi(C))
    return dL if lower else _T(dL)


defvjp(_cholesky, _cholesky_vjp)
defjvp(_cholesky, _cholesky_jvp)


def cholesky(a, lower=False, overwrite_a=False, check_finite=True):
    """Cholesky factor of a symmetric positive definite matrix (upper by default, as
    scipy). Its gradient is the symmetric one."""
    return _cholesky(a, lower)


def cho_factor(a, lower=False, overwrite_a=False, check_finite=True):
    """``(c, lower)`` for cho_solve. The unused triangle of c holds zeros (scipy leaves
    arbitrary values there)."""
    return _cholesky(a, lower), lower


def cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    """Solve ``A x = b`` given ``cho_factor(A)``, as scipy.linalg.cho_solve."""
    c, lower = c_and_lower
    if lower:
        return _solve_triangular(c, _solve_triangular(c, b, 0, True, False), 1, True, False)
    return _solve_triangular(c, _solve_triangular(c, b, 1, False, False), 0, False, False)


# Sylvester equations: A X + X B = Q.
@primitive
def solve_sylvester(a, b, q):
    return _lapack.solve_sylvester(a, b, q)


def _sylvester_vjp(argnum):
    def vjp_maker(ans, a, b, q):
        def vjp(g):
            gq = solve_sylvester(_T(a), _T(b), g)
            if argnum == 2:
                return gq
            return -anp.matmul(gq, _T(ans)) if argnum == 0 else -anp.matmul(_T(ans), gq)
        return vjp
    return vjp_maker


defvjp(solve_sylvester, _sylvester_vjp(0), _sylvester_vjp(1), _sylvester_vjp(2))
defjvp(solve_sylvester,
       lambda g, ans, a, b, q: solve_sylvester(a, b, -anp.matmul(g, ans)),
       lambda g, ans, a, b, q: solve_sylvester(a, b, -anp.matmul(ans, g)),
       "same")


# sqrtm: X X = A, so X dX + dX X = dA, a Sylvester equation.
@primitive
def sqrtm(A, *args, **kwargs):
    return _lapack.sqrtm(A, *args, **kwargs)


defvjp(sqrtm, lambda ans, A, *args, **kwargs: lambda g:
       solve_sylvester(_T(ans), _T(ans), g))
defjvp(sqrtm, lambda g, ans, A, *args, **kwargs: solve_sylvester(ans, ans, g))


def _frechet(fun, A, E):
    """Derivative of the matrix function ``fun`` at A along E, from the block matrix
    [[A, E], [0, A]]."""
    n = anp.shape(A)[-1]
    zeros = _np.zeros(anp.shape(A), anp.result_type(A, E))
    block = concatenate([concatenate([A, E], axis=-1),
                         concatenate([zeros, A], axis=-1)], axis=-2)
    return fun(block)[..., :n, n:]


@primitive
def expm(A):
    return _lapack.expm(A)


@primitive
def logm(A, *args, **kwargs):
    return _lapack.logm(A, *args, **kwargs)


# A matrix function's Fréchet derivative satisfies <G, L(A, E)> = <L(A^T, G), E>.
defvjp(expm, lambda ans, A: lambda g: _frechet(expm, _T(A), g))
defjvp(expm, lambda g, ans, A: _frechet(expm, A, g))
defvjp(logm, lambda ans, A, *args, **kwargs: lambda g: _frechet(logm, _T(A), g))
defjvp(logm, lambda g, ans, A, *args, **kwargs: _frechet(logm, A, g))


# block_diag: each argument is one block (1-D arrays are rows, scalars 1x1 blocks).
@primitive
def block_diag(*arrs):
    return _linalg.block_diag(*arrs)


def _block_windows(arrs):
    windows, row, col = [], 0, 0
    for arr in arrs:
        rows, cols = _np.atleast_2d(_np.zeros(anp.shape(arr))).shape
        windows.append((slice(row, row + rows), slice(col, col + cols)))
        row, col = row + rows, col + cols
    return windows


def _block_diag_vjp(argnum, ans, args, kwargs):
    window, shape = _block_windows(args)[argnum], anp.shape(args[argnum])
    return lambda g: anp.reshape(g[window], shape)


def _block_diag_jvp(argnums, gs, ans, args, kwargs):
    tangents = [anp.zeros_like(a) for a in args]
    for argnum, g in zip(argnums, gs):
        tangents[argnum] = g
    return block_diag(*tangents)


defvjp_argnum(block_diag, _block_diag_vjp)
defjvp_argnums(block_diag, _block_diag_jvp)


# inv and det. The overwrite flags are dropped: the rules need the input afterwards.
@primitive
def _inv(a, **kwargs):
    return _lapack.inv(a, **kwargs)


defvjp(_inv, lambda ans, a, **kwargs: lambda g:
       -anp.matmul(anp.matmul(_T(ans), g), _T(ans)))
defjvp(_inv, lambda g, ans, a, **kwargs: -anp.matmul(anp.matmul(ans, g), ans))


def inv(a, overwrite_a=False, check_finite=True, **kwargs):
    """Matrix inverse, as scipy.linalg.inv."""
    return _inv(a, **kwargs)


@primitive
def _det(a):
    return _lapack.det(a)


def _expand_scalar(x):
    return anp.expand_dims(anp.expand_dims(x, -1), -1)


defvjp(_det, lambda ans, a: lambda g: _expand_scalar(g * ans) * _T(_inv(a)))
defjvp(_det, lambda g, ans, a: ans * anp.sum(_T(_inv(a)) * g, axis=(-2, -1)))


def det(a, overwrite_a=False, check_finite=True):
    """Determinant, as scipy.linalg.det."""
    return _det(a)


# solve_banded: x = A^-1 b for A stored by diagonals, ab[u + i - j, j] = A[i, j].
# Row r of ab holds the diagonal A[i, i + u - r]; the rules below work on those
# rows through index arrays, so they cost O(n (l + u)) like the solve itself.
@primitive
def _solve_banded(l_and_u, ab, b):
    return _lapack.solve_banded(l_and_u, ab, b)


def solve_banded(l_and_u, ab, b, overwrite_ab=False, overwrite_b=False, check_finite=True):
    """scipy.linalg.solve_banded, differentiable in ``ab`` and ``b`` (the overwrite
    flags are ignored: the inputs are needed for the derivative)."""
    return _solve_banded(tuple(l_and_u), ab, b)


def _shifted(n, offsets):
    """Index ``m + offsets[r]`` for rows r and columns m < n, clipped into [0, n),
    with the mask of the entries that were inside."""
    index = _np.arange(n) + _np.asarray(offsets)[:, None]
    return _np.clip(index, 0, n - 1), (index >= 0) & (index < n)


def _with_axes_of(mask_or_rows, x):
    """Broadcast a (rows, n) array against ``x[index]``, which may have a trailing axis."""
    return anp.reshape(mask_or_rows, anp.shape(mask_or_rows) + (1,) * (anp.ndim(x) - 1))


def _banded_transpose(l_and_u, ab):
    """The (u, l)-banded storage of A^T: its row r is ab's row l + u - r, moved along by r - l."""
    lower, upper = l_and_u
    rows = lower + upper + 1
    index, inside = _shifted(anp.shape(ab)[-1], _np.arange(rows) - lower)
    return anp.where(inside, ab[::-1][_np.arange(rows)[:, None], index], 0)


def _banded_matvec(l_and_u, ab, x):
    """A x, summing each stored diagonal times the matching entries of x."""
    rows = anp.shape(ab)[0]
    index, inside = _shifted(anp.shape(ab)[-1], l_and_u[1] - _np.arange(rows))
    terms = _with_axes_of(ab[_np.arange(rows)[:, None], index], x) * x[index]
    return anp.sum(anp.where(_with_axes_of(inside, x), terms, 0), axis=0)


def _solve_banded_vjp(argnum):
    def vjp_maker(ans, l_and_u, ab, b):
        transposed = (l_and_u[1], l_and_u[0]), _banded_transpose(l_and_u, ab)

        def vjp(g):
            w = _solve_banded(*transposed, g)  # A^-T g
            if argnum == 2:
                return w
            # dA = -w x^T, read at the stored entries: ab[r, j] is A[j + r - u, j].
            rows, n = anp.shape(ab)
            index, inside = _shifted(n, _np.arange(rows) - l_and_u[1])
            outer = anp.where(_with_axes_of(inside, ans), w[index] * ans, 0)
            return -anp.sum(anp.reshape(outer, (rows, n, -1)), axis=-1)
        return vjp
    return vjp_maker


def _solve_banded_jvp_ab(g, ans, l_and_u, ab, b):
    return _solve_banded(l_and_u, ab, -_banded_matvec(l_and_u, g, ans))  # A^-1 (-dA x)


defvjp(_solve_banded, None, _solve_banded_vjp(1), _solve_banded_vjp(2))
defjvp(_solve_banded, None, _solve_banded_jvp_ab, "same")
