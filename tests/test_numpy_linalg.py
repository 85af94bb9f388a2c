"""jitgrad.numpy.linalg: gradients in both modes (second order) on well-conditioned
random matrices, stacked, real and complex; values and result types against NumPy;
the conventions (one-triangle inputs, zero-norm subgradients) pinned."""
import numpy as onp
import pytest

import jitgrad.numpy as np
from jitgrad import grad, value_and_grad
from jitgrad.test_util import check_grads

L = np.linalg
R = onp.random.randn


def crandn(*shape):
    return R(*shape) + 1j * R(*shape)


def H(x):
    return np.conj(np.swapaxes(x, -1, -2))


def well_conditioned(rand):
    return lambda *shape: rand(*shape) + 3 * onp.eye(shape[-1])


def positive_definite(rand):
    def make(*shape):
        X = rand(*shape)
        return X @ onp.conj(onp.swapaxes(X, -1, -2)) + shape[-1] * onp.eye(shape[-1])
    return make


def hermitian_part(a):
    return 0.5 * (a + np.conj(np.swapaxes(a, -1, -2)))


def plain(rand):
    return rand


def real_spectrum(rand):
    """P diag(1, 2, ...) P^-1: eig returns real eigenvalues (a real dtype for real P)."""
    def make(*shape):
        P = rand(*shape) + 2 * onp.eye(shape[-1])
        return (P * onp.arange(1.0, shape[-1] + 1)) @ onp.linalg.inv(P)
    return make


def first_columns(Q, k):
    return Q[..., :, :k]


def complement_projector(Q, k):
    """Gauge-free view of the extra columns of a complete Q or full U: Q2 Q2^H."""
    Q2 = Q[..., :, k:]
    return Q2 @ H(Q2)


# (name, function, (matrix maker, shape) per argument). Eigen- and singular-vector
# outputs enter through functions that do not depend on each vector's sign or phase.
CASES = [
    ("inv", L.inv, [(well_conditioned, (2, 3, 3))]),
    ("det", L.det, [(well_conditioned, (2, 3, 3))]),
    ("slogdet", L.slogdet, [(well_conditioned, (2, 3, 3))]),
    ("slogdet_logabsdet", lambda a: L.slogdet(a).logabsdet, [(well_conditioned, (3, 3))]),
    ("solve_vector", L.solve, [(well_conditioned, (3, 3)), (plain, (3,))]),
    ("solve_stacked_vector", L.solve, [(well_conditioned, (2, 3, 3)), (plain, (3,))]),
    ("solve_matrix", L.solve, [(well_conditioned, (2, 3, 3)), (plain, (2, 3, 2))]),
    ("solve_broadcast", L.solve, [(well_conditioned, (2, 3, 3)), (plain, (3, 2))]),
    ("pinv_tall", L.pinv, [(plain, (2, 4, 3))]),
    ("pinv_wide", L.pinv, [(plain, (3, 5))]),
    # cholesky's derivatives are those of cholesky of the Hermitian part (as autograd's):
    # checked along Hermitian perturbations, where they are NumPy's.
    ("cholesky", lambda a: L.cholesky(hermitian_part(a)), [(positive_definite, (2, 3, 3))]),
    ("cholesky_upper", lambda a: L.cholesky(hermitian_part(a), upper=True),
     [(positive_definite, (3, 3))]),
    ("eigh_values", lambda a: L.eigh(a).eigenvalues, [(positive_definite, (2, 3, 3))]),
    ("eigh_vectors", lambda a: np.abs(L.eigh(a)[1]) ** 2, [(positive_definite, (2, 3, 3))]),
    ("eigh_upper", lambda a: np.abs(L.eigh(a, UPLO="U")[1]) ** 2,
     [(positive_definite, (3, 3))]),
    ("eigvalsh", L.eigvalsh, [(positive_definite, (2, 3, 3))]),
    ("eigvalsh_upper", lambda a: L.eigvalsh(a, UPLO="U"), [(positive_definite, (3, 3))]),
    ("eig_values", lambda a: L.eig(a)[0], [(plain, (2, 3, 3))]),
    ("eig_vectors", lambda a: np.abs(L.eig(a).eigenvectors) ** 2, [(plain, (2, 3, 3))]),
    ("eigvals", L.eigvals, [(plain, (3, 3))]),
    ("eig_real_spectrum", lambda a: (lambda r: (r[0], np.abs(r[1]) ** 2))(L.eig(a)),
     [(real_spectrum, (2, 3, 3))]),
    ("svd_values", lambda a: L.svd(a, compute_uv=False), [(plain, (2, 4, 3))]),
    ("svdvals", L.svdvals, [(plain, (3, 4))]),
    ("svd_reconstruct_tall",
     lambda a: (lambda r: (r.U * r.S[..., None, :]) @ r.Vh)(L.svd(a, full_matrices=False)),
     [(plain, (2, 4, 3))]),
    ("svd_vectors_wide", lambda a: (lambda r: (np.abs(r.U) ** 2, np.abs(r.Vh) ** 2))(
        L.svd(a, full_matrices=False)), [(plain, (3, 4))]),
    ("svd_full_tall", lambda a: (lambda r: (
        np.abs(first_columns(r.U, 3)) ** 2, complement_projector(r.U, 3), r.S))(L.svd(a)),
     [(plain, (5, 3))]),
    ("svd_full_wide", lambda a: (lambda r: (
        np.abs(r.Vh[..., :3, :]) ** 2, complement_projector(H(r.Vh), 3)))(L.svd(a)),
     [(plain, (2, 3, 5))]),
    ("qr_tall", L.qr, [(plain, (2, 4, 3))]),
    ("qr_square", L.qr, [(plain, (3, 3))]),
    ("qr_wide", L.qr, [(plain, (2, 3, 4))]),
    ("qr_r", lambda a: L.qr(a, mode="r"), [(plain, (4, 3))]),
    ("qr_complete_tall", lambda a: (lambda r: (
        r.R, first_columns(r.Q, 3), complement_projector(r.Q, 3)))(L.qr(a, mode="complete")),
     [(plain, (2, 5, 3))]),
    ("qr_complete_wide", lambda a: L.qr(a, mode="complete"), [(plain, (3, 4))]),
    ("matrix_power_3", lambda a: L.matrix_power(a, 3), [(plain, (2, 3, 3))]),
    ("matrix_power_-2", lambda a: L.matrix_power(a, -2), [(well_conditioned, (3, 3))]),
    ("multi_dot", lambda a, b, c: L.multi_dot([a, b, c]),
     [(plain, (3,)), (plain, (3, 4)), (plain, (4, 2))]),
    ("multi_dot_4", lambda a, b, c, d: L.multi_dot([a, b, c, d]),
     [(plain, (5, 3)), (plain, (3, 4)), (plain, (4, 2)), (plain, (2,))]),
    ("cond", L.cond, [(well_conditioned, (2, 3, 3))]),
    ("cond_-2", lambda a: L.cond(a, -2), [(well_conditioned, (3, 3))]),
    ("cond_fro", lambda a: L.cond(a, "fro"), [(well_conditioned, (3, 3))]),
    ("cond_1", lambda a: L.cond(a, 1), [(well_conditioned, (3, 3))]),
    ("lstsq", lambda a, b: L.lstsq(a, b)[:2], [(plain, (5, 3)), (plain, (5,))]),
    ("lstsq_matrix", lambda a, b: L.lstsq(a, b)[0::3], [(plain, (5, 3)), (plain, (5, 2))]),
    ("lstsq_wide", lambda a, b: L.lstsq(a, b)[0], [(plain, (3, 5)), (plain, (3,))]),
    ("tensorinv", lambda a: L.tensorinv(a, ind=1), [(plain, (6, 2, 3))]),
    ("tensorsolve", L.tensorsolve, [(plain, (6, 2, 3)), (plain, (6,))]),
    ("tensorsolve_axes", lambda a, b: L.tensorsolve(a, b, axes=(0,)),
     [(plain, (2, 6, 3)), (plain, (6,))]),
    ("api_matmul", L.matmul, [(plain, (2, 3)), (plain, (3, 2))]),
    ("api_vecdot", L.vecdot, [(plain, (2, 3)), (plain, (3,))]),
    ("api_diagonal", lambda x: L.diagonal(x, offset=1), [(plain, (2, 3, 4))]),
    ("api_diagonal_below", lambda x: L.diagonal(x, offset=-1), [(plain, (2, 3, 4))]),
    ("api_trace", lambda x: L.trace(x, offset=1), [(plain, (2, 3, 4))]),
    ("api_matrix_transpose", L.matrix_transpose, [(plain, (2, 3, 4))]),
    ("api_outer", L.outer, [(plain, (2,)), (plain, (3,))]),
    ("api_cross", L.cross, [(plain, (2, 3)), (plain, (3,))]),
    ("api_tensordot", lambda a, b: L.tensordot(a, b, axes=1), [(plain, (2, 3)), (plain, (3, 2))]),
]


@pytest.mark.parametrize("rand", [R, crandn], ids=["real", "complex"])
@pytest.mark.parametrize("name,fun,arg_specs", CASES, ids=[c[0] for c in CASES])
def test_linalg_gradients(name, fun, arg_specs, rand):
    args = [make(rand)(*shape) for make, shape in arg_specs]
    check_grads(fun, tuple(range(len(args))), modes=["fwd", "rev"], order=2)(*args)


def test_complex_rhs_with_real_matrix():
    a, b = well_conditioned(R)(3, 3), crandn(3)
    check_grads(L.solve, (0, 1), modes=["fwd", "rev"], order=1)(a, b)


VECTOR_ORDS = [None, 1, 2, onp.inf, -onp.inf, 3, 0.5, 0]
MATRIX_ORDS = [None, "fro", "nuc", 1, -1, 2, -2, onp.inf, -onp.inf]
# (name, function name in linalg, keyword arguments, shape)
NORMS = (
    [(f"vector_{o}", "norm", dict(ord=o), (4,)) for o in VECTOR_ORDS]
    + [(f"vector_{o}_axis", "norm", dict(ord=o, axis=1, keepdims=True), (2, 4, 3))
       for o in VECTOR_ORDS]
    + [(f"matrix_{o}", "norm", dict(ord=o), (3, 4)) for o in MATRIX_ORDS]
    + [(f"matrix_{o}_axes", "norm", dict(ord=o, axis=(2, 0)), (3, 2, 4)) for o in MATRIX_ORDS]
    + [(f"matrix_{o}_keepdims", "norm", dict(ord=o, axis=(-1, -2), keepdims=True), (2, 3, 4))
       for o in MATRIX_ORDS]
    + [("whole_array", "norm", {}, (2, 3, 4)),
       ("whole_array_keepdims", "norm", dict(keepdims=True), (2, 3, 4)),
       ("vector_norm", "vector_norm", dict(ord=3, axis=(0, 2)), (2, 4, 3)),
       ("vector_norm_all", "vector_norm", {}, (2, 3)),
       ("matrix_norm_nuc", "matrix_norm", dict(ord="nuc"), (2, 3, 4)),
       ("matrix_norm_inf", "matrix_norm", dict(ord=onp.inf, keepdims=True), (2, 3, 4))]
)


@pytest.mark.parametrize("rand", [R, crandn], ids=["real", "complex"])
@pytest.mark.parametrize("name,fun_name,kwargs,shape", NORMS, ids=[n[0] for n in NORMS])
def test_norm_gradients(name, fun_name, kwargs, shape, rand):
    x = rand(*shape)
    fun = lambda x: getattr(L, fun_name)(x, **kwargs)  # noqa: E731
    expected = getattr(onp.linalg, fun_name)(x, **kwargs)
    value, _ = value_and_grad(lambda x: np.sum(fun(x)))(x)
    onp.testing.assert_allclose(value, onp.sum(expected))
    check_grads(fun, modes=["fwd", "rev"], order=2)(x)


@pytest.mark.parametrize("ord", [None, 1, 2, onp.inf, -onp.inf, 3])
def test_norm_of_zero_vector_has_zero_gradient(ord):
    assert onp.all(grad(lambda x: L.norm(x, ord))(onp.zeros(3)) == 0)


@pytest.mark.parametrize("ord", MATRIX_ORDS)
def test_norm_of_zero_matrix_has_zero_gradient(ord):
    g = grad(lambda x: L.norm(x, ord))(onp.zeros((3, 2)))
    assert onp.all(g == 0) and g.shape == (3, 2)


def test_norm_ties_split_evenly():
    g = grad(lambda x: L.norm(x, onp.inf))(onp.array([1.0, -3.0, 3.0]))
    onp.testing.assert_allclose(g, [0.0, -0.5, 0.5])


def test_values_match_numpy():
    A = positive_definite(R)(2, 3, 3)
    for name in ["inv", "det", "cholesky", "eigvalsh", "pinv"]:
        value, _ = value_and_grad(lambda a: np.sum(getattr(L, name)(a)))(A)
        onp.testing.assert_allclose(value, onp.sum(getattr(onp.linalg, name)(A)))
    onp.testing.assert_allclose(L.matrix_power(A[0], 3), onp.linalg.matrix_power(A[0], 3))
    vectors = [R(3), R(3, 4), R(4)]
    onp.testing.assert_allclose(L.multi_dot(vectors), onp.linalg.multi_dot(vectors))
    # Traced compositions give NumPy's values too.
    value, _ = value_and_grad(lambda a: L.multi_dot([vectors[0], a, vectors[2]]))(vectors[1])
    onp.testing.assert_allclose(value, onp.linalg.multi_dot(vectors))
    value, _ = value_and_grad(lambda a: np.sum(L.matrix_power(a, -3)))(A[0])
    onp.testing.assert_allclose(value, onp.sum(onp.linalg.matrix_power(A[0], -3)))
    a, b = R(5, 3), R(5, 2)
    for i in (0, 1, 3):
        value, _ = value_and_grad(lambda a: np.sum(L.lstsq(a, b)[i]))(a)
        onp.testing.assert_allclose(value, onp.sum(onp.linalg.lstsq(a, b)[i]))
    ranks = []
    grad(lambda a: ranks.append(L.lstsq(a, b)[2]) or np.sum(L.lstsq(a, b)[0]))(a)
    assert ranks == [3]
    value, _ = value_and_grad(lambda a: L.cond(a))(A[0])
    onp.testing.assert_allclose(value, onp.linalg.cond(A[0]))
    x = R(6, 2, 3)
    value, _ = value_and_grad(lambda x: np.sum(L.tensorinv(x, ind=1)))(x)
    onp.testing.assert_allclose(value, onp.sum(onp.linalg.tensorinv(x, ind=1)))


def test_decompositions_return_named_tuples_when_traced():
    A = positive_definite(R)(3, 3)

    def f(a):
        result = L.eigh(a)
        traced_types.append(type(result).__name__)
        w, V = result
        assert result.eigenvalues is not None and len(result) == 2
        return np.sum(w ** 2) + np.sum(result.eigenvectors[0] ** 2) * 0
    traced_types = []
    value, _ = value_and_grad(f)(A)
    onp.testing.assert_allclose(value, onp.sum(onp.linalg.eigvalsh(A) ** 2))
    assert traced_types == ["NamedTupleBox"]
    assert type(L.eigh(A)).__name__ == "EighResult"
    assert type(L.svd(A)).__name__ == "SVDResult"


def test_one_triangle_convention():
    """eigh reads the lower triangle, so its gradient lives there (as in autograd);
    against a symmetric perturbation it equals the symmetric gradient 2A."""
    A = positive_definite(R)(3, 3)
    g = grad(lambda a: np.sum(L.eigvalsh(a) ** 2))(A)
    onp.testing.assert_allclose(g, 4 * onp.tril(A, -1) + 2 * onp.diag(onp.diag(A)))
    g_upper = grad(lambda a: np.sum(L.eigh(a, UPLO="U")[0] ** 2))(A)
    onp.testing.assert_allclose(g_upper, 4 * onp.triu(A, 1) + 2 * onp.diag(onp.diag(A)))
    S = R(3, 3)
    S = S + S.T
    onp.testing.assert_allclose(onp.sum(g * S), onp.sum(2 * A * S))
    onp.testing.assert_allclose(onp.sum(g_upper * S), onp.sum(2 * A * S))


def test_cholesky_gradient_is_symmetric_as_autograds():
    """cholesky's gradient is the symmetric one (autograd 1.9.1 gives these numbers for
    this matrix), and against a symmetric perturbation it is the triangle's."""
    A = onp.array([[4.0, 1.0], [1.0, 3.0]])
    for upper in (False, True):
        g = grad(lambda a: np.sum(L.cholesky(a, upper=upper)))(A)
        onp.testing.assert_allclose(g, [[0.20634446, 0.17462216], [0.17462216, 0.30151134]],
                                    rtol=1e-7)
    step = 1e-6 * onp.array([[1.0, 2.0], [2.0, -1.0]])  # symmetric
    numeric = (onp.sum(onp.linalg.cholesky(A + step)) - onp.sum(onp.linalg.cholesky(A - step))) / 2
    onp.testing.assert_allclose(onp.sum(g * step), numeric, rtol=1e-6)


@pytest.mark.parametrize("name", ["inv", "det", "cholesky", "eigvalsh", "pinv", "norm"])
def test_float32_stays_float32(name):
    A = positive_definite(R)(3, 3).astype(onp.float32)
    fun = getattr(L, name)
    assert fun(A).dtype == onp.float32
    assert grad(lambda a: np.sum(fun(a)))(A).dtype == onp.float32


def test_raw_qr_says_what_to_do():
    with pytest.raises(NotImplementedError, match="mode='reduced'"):
        grad(lambda a: np.sum(L.qr(a, mode="raw")[0]))(R(3, 3))
