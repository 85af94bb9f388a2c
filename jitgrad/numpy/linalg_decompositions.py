"""Rules of the decompositions: eigh, eigvalsh, cholesky, eig, eigvals, svd, svdvals, qr.

Each is written as a JVP (the derivative of the factors) and its transpose. Complex
inputs follow autograd's convention: for a map linear in dA the VJP is its plain
transpose, and for the parts linear in conj(dA) (Hermitian structure, unit norms)
the VJP is the conjugated transpose; where a derivation is simpler with the true
adjoint, the rule conjugates the cotangent, applies the adjoint and conjugates back.
"""
import numpy.linalg as _linalg

from ..trace import defjvp, defvjp
from ..trace.rules import def_dtype_from_values
from . import numpy_wrapper as anp
from .assembly import concatenate
from .linalg_util import (H, T, col, conj, diag, diag_embed, eig, eigh, inv, inverse_gaps,
                          like_result, mm, qr, real, row, svd, tril, triu)
from .numpy_vjps import match_complex
from .numpy_wrapper import wrap

eigvalsh, cholesky, eigvals = map(wrap, (_linalg.eigvalsh, _linalg.cholesky, _linalg.eigvals))
svdvals = wrap(_linalg.svdvals) if hasattr(_linalg, "svdvals") else None


# ---- Hermitian inputs: eigh, eigvalsh and cholesky read one triangle ----
# (cholesky's derivatives are those of cholesky((A + A^H) / 2), as autograd's.)
def hermitian_part(a, lower):
    """The Hermitian matrix LAPACK sees: one triangle mirrored, the diagonal's real part."""
    strict = tril(a, -1) if lower else triu(a, 1)
    return strict + H(strict) + diag_embed(real(diag(a)))


def hermitian_part_vjp(g, lower):
    both = g + H(g)
    return (tril(both, -1) if lower else triu(both, 1)) + diag_embed(real(diag(g)))


def _eigh_vjp(ans, a, UPLO="L"):
    w, V = ans

    def vjp(g):
        g_w, g_V = g
        inner = diag_embed(g_w) + inverse_gaps(w) * mm(T(V), g_V)
        result = hermitian_part_vjp(mm(mm(conj(V), inner), T(V)), UPLO.upper() == "L")
        return match_complex(a, result)
    return vjp


def _eigh_jvp(g, ans, a, UPLO="L"):
    w, V = ans
    K = mm(mm(H(V), hermitian_part(g, UPLO.upper() == "L")), V)
    return like_result(ans, real(diag(K)), mm(V, inverse_gaps(w) * K))


defvjp(eigh, _eigh_vjp)
defjvp(eigh, _eigh_jvp)


def _eigvalsh_vjp(ans, a, UPLO="L"):
    _, V = eigh(a, UPLO)
    lower = UPLO.upper() == "L"
    return lambda g: match_complex(a, hermitian_part_vjp(mm(conj(V) * row(g), T(V)), lower))


def _eigvalsh_jvp(g, ans, a, UPLO="L"):
    _, V = eigh(a, UPLO)
    return real(diag(mm(mm(H(V), hermitian_part(g, UPLO.upper() == "L")), V)))


defvjp(eigvalsh, _eigvalsh_vjp)
defjvp(eigvalsh, _eigvalsh_jvp)


def _half_lower(x):
    """Strictly lower triangle plus half the real diagonal: L^-1 dL from L^-1 dA L^-H."""
    return tril(x, -1) + 0.5 * diag_embed(real(diag(x)))


def _cholesky_vjp(ans, a, upper=False):
    L = H(ans) if upper else ans
    L_inv = inv(L)

    def vjp(g):
        g_L = H(g) if upper else g
        inner = mm(mm(T(L_inv), _half_lower(mm(T(L), g_L))), conj(L_inv))
        return match_complex(a, 0.5 * (inner + H(inner)))  # autograd's symmetric gradient
    return vjp


def _cholesky_jvp(g, ans, a, upper=False):
    L = H(ans) if upper else ans
    L_inv = inv(L)
    dL = mm(L, _half_lower(mm(mm(L_inv, 0.5 * (g + H(g))), H(L_inv))))
    return H(dL) if upper else dL


defvjp(cholesky, _cholesky_vjp)
defjvp(cholesky, _cholesky_jvp)


# ---- eig, eigvals: holomorphic in A; NumPy scales eigenvectors to unit norm ----
def _unit_norm_vjp(V, g):
    """Transpose of dv -> dv - Re(v^H dv) v per column, which keeps |v| = 1."""
    return g - conj(V) * row(real(anp.sum(V * g, axis=-2)))


def _eig_vjp(ans, a):
    w, V = ans
    V_inv_T = T(inv(V))

    def vjp(g):
        g_w, g_V = g
        inner = diag_embed(g_w) + inverse_gaps(w) * mm(T(V), _unit_norm_vjp(V, g_V))
        return match_complex(a, mm(mm(V_inv_T, inner), T(V)))
    return vjp


def _eig_jvp(g, ans, a):
    w, V = ans
    C = mm(mm(inv(V), g), V)
    dV = mm(V, inverse_gaps(w) * C)
    dV = dV - V * row(real(anp.sum(conj(V) * dV, axis=-2)))
    return like_result(ans, diag(C), dV)


defvjp(eig, _eig_vjp)
defjvp(eig, _eig_jvp)
def_dtype_from_values(eig)  # real eigenvalues come back real, others complex
def_dtype_from_values(eigvals)


def _eigvals_vjp(ans, a):
    _, V = eig(a)
    V_inv_T = T(inv(V))
    return lambda g: match_complex(a, mm(V_inv_T * row(g), T(V)))


def _eigvals_jvp(g, ans, a):
    _, V = eig(a)
    return diag(mm(mm(inv(V), g), V))


defvjp(eigvals, _eigvals_vjp)
defjvp(eigvals, _eigvals_jvp)


# ---- svd: A = U diag(s) V^H ----
def _svd_factors(ans, a, full_matrices, compute_uv):
    """Reduced U, s, V (k = min(m, n) columns) and the extra columns U2, V2 of a full SVD."""
    if not compute_uv:
        U, s, Vh = svd(a, full_matrices=False)
        return U, s, H(Vh), None, None
    U, s, Vh = ans
    m, n = anp.shape(a)[-2:]
    k = min(m, n)
    V, U2, V2 = H(Vh), None, None
    if full_matrices and m > k:
        U, U2 = U[..., :, :k], U[..., :, k:]
    if full_matrices and n > k:
        V, V2 = V[..., :, :k], V[..., :, k:]
    return U, s, V, U2, V2


def _svd_vjp(ans, a, full_matrices=True, compute_uv=True, hermitian=False):
    U, s, V, U2, V2 = _svd_factors(ans, a, full_matrices, compute_uv)
    m, n = anp.shape(a)[-2:]
    k = min(m, n)
    gaps = inverse_gaps(s ** 2)

    def vjp(g):
        # Work with true adjoints (conjugated cotangents), conjugate the result back.
        if compute_uv:
            g_U, g_s, g_Vh = g
            GU, GV = conj(g_U), T(g_Vh)
        else:
            g_s, GU, GV = g, None, None
        if GU is not None and U2 is not None:
            # The extra columns stay orthogonal to U: dU2 = -U dU^H U2.
            GU = GU[..., :, :k] - mm(mm(U2, H(GU[..., :, k:])), U)
        if GV is not None and V2 is not None:
            GV = GV[..., :, :k] - mm(mm(V2, H(GV[..., :, k:])), V)
        P = diag_embed(g_s)
        if GU is not None:
            UGU = mm(H(U), GU)
            J = gaps * UGU
            P = P + (J + H(J)) * row(s)
            if anp.iscomplexobj(UGU):
                # The phase of each pair (u, v), put on u: (U^H dU)_kk = i Im(dP_kk) / s_k.
                P = P + 1j * diag_embed(anp.imag(diag(UGU)) / s)
        if GV is not None:
            K = gaps * mm(H(V), GV)
            P = P + col(s) * (K + H(K))
        result = mm(mm(U, P), H(V))
        if GU is not None and m > k:
            result = result + mm((GU - mm(U, mm(H(U), GU))) / row(s), H(V))
        if GV is not None and n > k:
            result = result + mm(U / row(s), H(GV - mm(V, mm(H(V), GV))))
        return match_complex(a, conj(result))
    return vjp


def _svd_jvp(g, ans, a, full_matrices=True, compute_uv=True, hermitian=False):
    U, s, V, U2, V2 = _svd_factors(ans, a, full_matrices, compute_uv)
    m, n = anp.shape(a)[-2:]
    k = min(m, n)
    dP = mm(mm(H(U), g), V)
    ds = real(diag(dP))
    if not compute_uv:
        return ds
    gaps = inverse_gaps(s ** 2)
    X, Y = dP * row(s), col(s) * dP
    dU = mm(U, gaps * (X + H(X)))
    dV = mm(V, gaps * (Y + H(Y)))
    if anp.iscomplexobj(dP):
        dU = dU + U * row(1j * anp.imag(diag(dP)) / s)
    if m > k:
        dU = dU + (mm(g, V) - mm(U, dP)) / row(s)
    if n > k:
        dV = dV + (mm(H(g), U) - mm(V, H(dP))) / row(s)
    if U2 is not None:
        dU = concatenate([dU, -mm(U, mm(H(dU), U2))], axis=-1)
    if V2 is not None:
        dV = concatenate([dV, -mm(V, mm(H(dV), V2))], axis=-1)
    return like_result(ans, dU, ds, H(dV))


defvjp(svd, _svd_vjp)
defjvp(svd, _svd_jvp)
if svdvals is not None:
    defvjp(svdvals, lambda ans, x: _svd_vjp(ans, x, compute_uv=False))
    defjvp(svdvals, lambda g, ans, x: _svd_jvp(g, ans, x, compute_uv=False))


# ---- qr: A = Q R, R upper triangular with a real diagonal ----
def _qr_core_jvp(Q, R, dA):
    """m >= n: C = Q^H dA R^-1 splits into Q^H dQ (anti-Hermitian) + dR R^-1 (upper)."""
    R_inv = inv(R)
    C = mm(mm(H(Q), dA), R_inv)
    lower = tril(C, -1)
    omega = lower - H(lower)
    if anp.iscomplexobj(C):
        omega = omega + 1j * diag_embed(anp.imag(diag(C)))
    D = C - omega
    return mm(dA, R_inv) - mm(Q, D), mm(D, R)


def _qr_core_adjoint(Q, R, GQ, GR):
    """The true adjoint of _qr_core_jvp (GQ may be None)."""
    M = mm(GR, H(R)) if GQ is None else mm(GR, H(R)) - mm(H(Q), GQ)
    upper = triu(M, 1)
    inner = mm(Q, upper + H(upper) + diag_embed(real(diag(M))))
    return mm(inner if GQ is None else GQ + inner, H(inv(R)))


def _qr_factors(ans, a, mode):
    if mode == "raw":
        raise NotImplementedError("qr(mode='raw') has no gradient: use mode='reduced'.")
    return qr(a) if mode == "r" else ans


def _qr_vjp(ans, a, mode="reduced"):
    Q, R = _qr_factors(ans, a, mode)
    m, n = anp.shape(a)[-2:]

    def vjp(g):
        GQ, GR = (None, conj(g)) if mode == "r" else (conj(g[0]), conj(g[1]))
        Q1, R1 = Q, R
        if mode == "complete" and m > n:
            Q1, Q2, R1, GR = Q[..., :, :n], Q[..., :, n:], R[..., :n, :], GR[..., :n, :]
            GQ = GQ[..., :, :n] - mm(mm(Q2, H(GQ[..., :, n:])), Q1)
        if m >= n:
            result = _qr_core_adjoint(Q1, R1, GQ, GR)
        else:
            # A = [X Y] with X square: X = Q R1, Y = Q R2 so R2 = Q^H Y.
            Y, GR1, GR2 = a[..., :, m:], GR[..., :, :m], GR[..., :, m:]
            GQ = mm(Y, H(GR2)) if GQ is None else GQ + mm(Y, H(GR2))
            result = concatenate([_qr_core_adjoint(Q1, R1[..., :, :m], GQ, GR1),
                                  mm(Q1, GR2)], axis=-1)
        return match_complex(a, conj(result))
    return vjp


def _qr_jvp(g, ans, a, mode="reduced"):
    Q, R = _qr_factors(ans, a, mode)
    m, n = anp.shape(a)[-2:]
    extra = mode == "complete" and m > n
    Q1, R1 = (Q[..., :, :n], R[..., :n, :]) if extra else (Q, R)
    if m >= n:
        dQ, dR = _qr_core_jvp(Q1, R1, g)
    else:
        dQ, dR1 = _qr_core_jvp(Q1, R1[..., :, :m], g[..., :, :m])
        dR2 = mm(H(dQ), a[..., :, m:]) + mm(H(Q1), g[..., :, m:])
        dR = concatenate([dR1, dR2], axis=-1)
    if extra:
        Q2 = Q[..., :, n:]
        dQ = concatenate([dQ, -mm(Q1, mm(H(dQ), Q2))], axis=-1)
        dR = concatenate([dR, anp.zeros_like(R[..., n:, :])], axis=-2)
    return dR if mode == "r" else like_result(ans, dQ, dR)


defvjp(qr, _qr_vjp)
defjvp(qr, _qr_jvp)
