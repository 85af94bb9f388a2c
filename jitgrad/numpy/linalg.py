"""``jitgrad.numpy.linalg``: numpy.linalg, traced, with derivative rules.

Every function of numpy.linalg is reachable; these differentiate, in both modes and
on stacks of matrices (..., M, N) wherever NumPy accepts them: inv pinv det slogdet
solve cholesky eigh eigvalsh eig eigvals svd svdvals qr norm vector_norm
matrix_norm matrix_power multi_dot, and the array-API products (matmul tensordot
outer cross vecdot diagonal trace matrix_transpose).

Conventions (the derivative of exactly what NumPy computes):
- eigh and eigvalsh read one triangle of their input (UPLO) and ignore the imaginary
  part of its diagonal, so their gradients live in that triangle (as autograd's):
  d/dA of sum(eigvalsh(A)**2) at a symmetric A is 4*tril(A, -1) + 2*diag(diag(A)).
  Paired with a symmetric perturbation this equals the symmetric gradient.
- cholesky's gradient is the symmetric (Hermitian) one, as autograd's and
  scipy.linalg.cholesky's: its derivatives are those of cholesky((A + A^H) / 2), the
  same function on symmetric A, so a gradient step keeps a covariance symmetric.
- Eigenvector and singular-vector derivatives assume distinct eigenvalues
  (singular values); they are exact for functions that do not depend on the
  arbitrary sign or phase of each vector.
- norm at a zero vector or matrix has gradient 0 (the smallest subgradient); ties
  in max/min-type norms (inf, 1 for matrices...) split the gradient evenly.
- Complex inputs follow autograd's convention (see jitgrad.numpy.complex).
Decompositions return NumPy's named tuples (EighResult, SVDResult...), traced:
unpack them, index them or use their fields.
"""
import functools
import operator

import numpy as _np
import numpy.linalg as _linalg

from ..trace import defjvp, defvjp, getval, isbox, notrace_primitive
from ..trace.containers import container_take
from . import numpy_wrapper as anp
from .linalg_util import (H, T, col, conj, diag, eye_like, like_result, matrix_scale, mm,
                          svd, trace_of_product)
from .numpy_vjps import match_complex, metadata, unbroadcast
from .numpy_wrapper import wrap, wrap_namespace

__all__ = wrap_namespace(_linalg.__dict__, globals())


# Named-tuple results (EighResult, SVDResult, ...) are traced containers like every
# namedtuple (trace/containers.py).


# autograd's private name for the stacked matrix product; its tests (and some users)
# call np.linalg._dot(T(x), x).
_dot = mm


# ---- inv, det, slogdet, solve, pinv ----
inv, det, slogdet, solve, pinv = map(
    wrap, (_linalg.inv, _linalg.det, _linalg.slogdet, _linalg.solve, _linalg.pinv))

defvjp(inv, lambda ans, a: lambda g: -mm(mm(T(ans), g), T(ans)))
defjvp(inv, lambda g, ans, a: -mm(mm(ans, g), ans))

# det and slogdet are holomorphic in A: d log det = tr(A^-1 dA).
defvjp(det, lambda ans, a: lambda g: matrix_scale(g * ans) * T(inv(a)))
defjvp(det, lambda g, ans, a: ans * trace_of_product(inv(a), g))


def _slogdet_vjp(ans, a):
    sign, _ = ans
    a_inv_T = T(inv(a))

    def vjp(g):
        g_sign, g_logabsdet = g
        coefficient = g_logabsdet
        if anp.iscomplexobj(a):
            # sign = det/|det| turns with the phase: d sign = i sign Im tr(A^-1 dA).
            coefficient = coefficient + 1j * anp.imag(sign * g_sign)
        return matrix_scale(coefficient) * a_inv_T
    return vjp


def _slogdet_jvp(g, ans, a):
    sign, _ = ans
    t = trace_of_product(inv(a), g)
    if anp.iscomplexobj(a):
        return like_result(ans, sign * 1j * anp.imag(t), anp.real(t))
    return like_result(ans, anp.zeros_like(sign), t)


defvjp(slogdet, _slogdet_vjp)
defjvp(slogdet, _slogdet_jvp)


def _as_columns(x, b):
    """(x as a stack of columns, the map back): NumPy 2 reads solve's b as a vector
    (and returns vectors) only when b.ndim == 1."""
    if anp.ndim(b) == 1:
        return col(x), lambda y: anp.squeeze(y, -1)
    return x, lambda y: y


def _solve_vjp(argnum):
    def vjp_maker(ans, a, b):
        target = (a, b)[argnum]
        target_meta = metadata(target)
        x, unshape = _as_columns(ans, b)

        def vjp(g):
            gb = solve(T(a), _as_columns(g, b)[0])
            result = -mm(gb, T(x)) if argnum == 0 else unshape(gb)
            return match_complex(target, unbroadcast(result, target_meta))
        return vjp
    return vjp_maker


def _solve_jvp_a(g, ans, a, b):
    x, unshape = _as_columns(ans, b)
    return -unshape(solve(a, mm(g, x)))


defvjp(solve, _solve_vjp(0), _solve_vjp(1))
defjvp(solve, _solve_jvp_a, "same")


def _pinv_projectors(ans, a):
    m, n = anp.shape(a)[-2:]
    return eye_like(m, a) - mm(a, ans), eye_like(n, a) - mm(ans, a)


def _pinv_vjp(ans, a, *args, **kwargs):
    """d A+ = -A+ dA A+ + A+ A+^H dA^H P + Q dA^H A+^H A+ at constant rank, with P, Q
    the projectors onto the complements of range(A) and range(A^H). The last two
    terms are linear in conj(dA), so their transposes are conjugated."""
    P, Q = _pinv_projectors(ans, a)
    return lambda g: match_complex(a, -mm(mm(T(ans), g), T(ans)) + conj(
        mm(mm(mm(P, T(g)), ans), H(ans)) + mm(mm(mm(H(ans), ans), T(g)), Q)))


def _pinv_jvp(g, ans, a, *args, **kwargs):
    P, Q = _pinv_projectors(ans, a)
    return (-mm(mm(ans, g), ans) + mm(mm(mm(ans, H(ans)), H(g)), P)
            + mm(mm(mm(Q, H(g)), H(ans)), ans))


defvjp(pinv, _pinv_vjp)
defjvp(pinv, _pinv_jvp)

from . import linalg_decompositions, linalg_norms  # noqa: E402,F401  (their rules)
from .linalg_norms import norm  # noqa: E402

matrix_rank = notrace_primitive(_linalg.matrix_rank)  # an integer: nothing to differentiate


# ---- compositions: traced by the rules of what they are made of ----
def _traced_version_of(numpy_fun):
    """Run ``numpy_fun`` itself on plain arrays and the decorated composition on traced
    ones (NumPy's exact values where nothing is traced)."""
    def decorate(composition):
        @functools.wraps(numpy_fun)
        def fun(*args, **kwargs):
            flat = [x for arg in args for x in (arg if isinstance(arg, (list, tuple))
                                                 else [arg])]
            if any(isbox(x) for x in flat):
                return composition(*args, **kwargs)
            return numpy_fun(*args, **kwargs)
        return fun
    return decorate


@_traced_version_of(_linalg.matrix_power)
def matrix_power(a, n):
    n = operator.index(n)
    if n == 0:
        return _np.broadcast_to(_np.eye(anp.shape(a)[-1], dtype=anp.result_type(a)),
                                anp.shape(a)).copy()
    if n < 0:
        a, n = inv(a), -n
    result, power = None, a
    while n:  # binary powering, as NumPy does
        if n & 1:
            result = power if result is None else mm(result, power)
        n >>= 1
        if n:
            power = mm(power, power)
    return result


def _chain_order(shapes):
    """Cheapest parenthesization of a matrix chain: split[i][j] for product i..j."""
    dims = [shapes[0][0]] + [shape[1] for shape in shapes]
    count = len(shapes)
    cost = [[0] * count for _ in range(count)]
    split = [[0] * count for _ in range(count)]
    for length in range(1, count):
        for i in range(count - length):
            j = i + length
            cost[i][j] = float("inf")
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


@_traced_version_of(_linalg.multi_dot)
def multi_dot(arrays, *, out=None):
    arrays = list(arrays)
    if len(arrays) < 2:
        raise ValueError("multi_dot expects at least two arrays.")
    first_vector, last_vector = anp.ndim(arrays[0]) == 1, anp.ndim(arrays[-1]) == 1
    if first_vector:
        arrays[0] = anp.reshape(arrays[0], (1, -1))
    if last_vector:
        arrays[-1] = anp.reshape(arrays[-1], (-1, 1))
    split = _chain_order([anp.shape(x) for x in arrays])

    def product(i, j):
        if i == j:
            return arrays[i]
        return anp.dot(product(i, split[i][j]), product(split[i][j] + 1, j))

    result = product(0, len(arrays) - 1)
    shape = anp.shape(result)
    return anp.reshape(result, shape[first_vector:len(shape) - last_vector])


@_traced_version_of(_linalg.cond)
def cond(x, p=None):
    if p in (None, 2, -2):
        s = svd(x, compute_uv=False)
        largest, smallest = s[..., 0], s[..., -1]
        return smallest / largest if p == -2 else largest / smallest
    return norm(x, p, axis=(-2, -1)) * norm(inv(x), p, axis=(-2, -1))


@_traced_version_of(_linalg.lstsq)
def lstsq(a, b, rcond=None):
    """x = pinv(a) b with NumPy's cutoff, so its gradient is the pseudo-inverse's
    (constant rank)."""
    m, n = anp.shape(a)[-2:]
    if rcond is None:
        rcond = _np.finfo(_np.empty(0, anp.result_type(a)).real.dtype).eps * max(m, n)
    s = svd(a, compute_uv=False)
    rank = int(anp.sum(s > rcond * s[0]))
    x = mm(pinv(a, rcond), b)
    if rank < n or m <= n:
        residuals = _np.empty((0,), _np.empty(0, anp.result_type(x)).real.dtype)
    else:
        r = b - mm(a, x)
        residuals = anp.sum(anp.real(r * conj(r)), axis=0)
        residuals = anp.reshape(residuals, (1,)) if anp.ndim(b) == 1 else residuals
    return x, residuals, rank, s


@_traced_version_of(_linalg.tensorinv)
def tensorinv(a, ind=2):
    shape = anp.shape(a)
    rows = int(_np.prod(shape[:ind]))
    return anp.reshape(inv(anp.reshape(a, (rows, -1))), shape[ind:] + shape[:ind])


@_traced_version_of(_linalg.tensorsolve)
def tensorsolve(a, b, axes=None):
    if axes is not None:
        order = [k for k in range(anp.ndim(a)) if k not in axes] + list(axes)
        a = anp.transpose(a, order)
    unknown_shape = anp.shape(a)[-(anp.ndim(a) - anp.ndim(b)):]
    size = int(_np.prod(unknown_shape))
    return anp.reshape(solve(anp.reshape(a, (size, size)), anp.ravel(b)), unknown_shape)


# The array-API spellings in numpy.linalg, as the traced top-level products.
@_traced_version_of(_linalg.matmul)
def matmul(x1, x2):
    return anp.matmul(x1, x2)


@_traced_version_of(_linalg.tensordot)
def tensordot(x1, x2, /, *, axes=2):
    return anp.tensordot(x1, x2, axes)


@_traced_version_of(_linalg.outer)
def outer(x1, x2):
    return anp.outer(x1, x2)


@_traced_version_of(_linalg.cross)
def cross(x1, x2, /, *, axis=-1):
    return anp.cross(x1, x2, axis=axis)


@_traced_version_of(_linalg.vecdot)
def vecdot(x1, x2, /, *, axis=-1):
    return anp.sum(conj(x1) * x2, axis=axis)


@_traced_version_of(_linalg.matrix_transpose)
def matrix_transpose(x, /):
    return T(x)


@_traced_version_of(_linalg.diagonal)
def diagonal(x, /, *, offset=0):
    x = x[..., :, offset:] if offset >= 0 else x[..., -offset:, :]
    k = min(anp.shape(x)[-2:])
    return diag(x[..., :k, :k])


@_traced_version_of(_linalg.trace)
def trace(x, /, *, offset=0, dtype=None):
    result = anp.sum(diagonal(x, offset=offset), axis=-1)
    return result if dtype is None else anp.astype(result, dtype)
