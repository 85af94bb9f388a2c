"""Products: values against NumPy, gradients in both modes to second order, real and
complex operands, broadcasting and batched shapes."""
import numpy as onp
import pytest

import jitgrad.numpy as np
from jitgrad import grad, value_and_grad
from jitgrad.test_util import check_grads

R = onp.random.randn


def crandn(*shape):
    return R(*shape) + 1j * R(*shape)


PRODUCTS = [
    # (name, function, operand shapes)
    ("dot_mm", np.dot, [(2, 3), (3, 4)]),
    ("dot_mv", np.dot, [(2, 3), (3,)]),
    ("dot_vN", np.dot, [(3,), (2, 3, 4)]),
    ("dot_scalar", np.dot, [(), (2, 3)]),
    ("matmul_batched", np.matmul, [(2, 1, 3, 4), (3, 4, 2)]),
    ("matmul_vm", np.matmul, [(3,), (2, 3, 4)]),
    ("matmul_mv", np.matmul, [(2, 4, 3), (3,)]),
    ("vdot", np.vdot, [(3,), (3,)]),
    ("vdot_flat", np.vdot, [(2, 3), (6,)]),
    ("inner", np.inner, [(2, 3), (4, 3)]),
    ("inner_vv", np.inner, [(3,), (3,)]),
    ("inner_scalar", np.inner, [(), (2, 3)]),
    ("outer", np.outer, [(3,), (2, 2)]),
    ("kron", np.kron, [(2, 3), (2, 2)]),
    ("kron_ndim", np.kron, [(3,), (2, 2)]),
    ("kron_scalar", np.kron, [(), (2,)]),
    ("tensordot", np.tensordot, [(2, 3, 4), (3, 4, 2)]),
    ("tensordot_axes", lambda a, b: np.tensordot(a, b, ([0], [2])), [(2, 3), (3, 4, 2)]),
    ("tensordot_int", lambda a, b: np.tensordot(a, b, 1), [(2, 3), (3, 4)]),
    ("cross", np.cross, [(3,), (3,)]),
    ("cross_broadcast", np.cross, [(4, 3), (1, 3)]),
    ("cross_axes", lambda a, b: np.cross(a, b, axisa=0, axisb=1, axisc=0), [(3, 2), (2, 3)]),
    ("cross_axis", lambda a, b: np.cross(a, b, axis=0), [(3, 2), (3, 2)]),
    ("vecdot", np.vecdot, [(2, 3), (3,)]),
    ("matvec", np.matvec, [(2, 3, 4), (4,)]),
    ("vecmat", np.vecmat, [(4,), (2, 4, 3)]),
]


@pytest.mark.parametrize("name,fun,shapes", PRODUCTS, ids=[p[0] for p in PRODUCTS])
def test_product_real(name, fun, shapes):
    args = [R(*s) for s in shapes]
    # The traced forward value is NumPy's.
    value, _ = value_and_grad(lambda a: np.sum(fun(a, args[1])))(args[0])
    onp.testing.assert_allclose(value, onp.sum(fun(*args)))
    check_grads(fun, (0, 1), modes=["fwd", "rev"], order=2)(*args)


@pytest.mark.parametrize("name,fun,shapes", PRODUCTS, ids=[p[0] for p in PRODUCTS])
def test_product_complex(name, fun, shapes):
    args = [crandn(*s) for s in shapes]
    check_grads(fun, (0, 1), modes=["fwd", "rev"], order=2)(*args)
    # A real operand with a complex one: the real operand's cotangent stays real.
    check_grads(fun, (0, 1), modes=["fwd", "rev"], order=1)(R(*shapes[0]), args[1])


def test_product_values_match_numpy():
    a, b = R(2, 3), R(3, 4)
    for ours, theirs in [(np.dot, onp.dot), (np.inner, lambda a, b: onp.inner(a, b.T)),
                         (np.kron, onp.kron), (np.outer, onp.outer)]:
        if ours is np.inner:
            onp.testing.assert_allclose(ours(a, b.T), theirs(a, b))
        else:
            onp.testing.assert_allclose(ours(a, b), theirs(a, b))
    onp.testing.assert_allclose(np.vdot(a + 1j, a), onp.vdot(a + 1j, a))


def test_real_operand_gets_real_gradient():
    a, z = R(3), crandn(3)
    g = grad(lambda a: np.real(np.dot(a, z)))(a)
    assert g.dtype == onp.float64
    onp.testing.assert_allclose(g, z.real)


def test_float32_products_stay_float32():
    a, b = R(2, 3).astype(onp.float32), R(3, 4).astype(onp.float32)
    for fun in (np.dot, np.matmul, lambda a, b: np.einsum("ij,jk->ik", a, b)):
        assert fun(a, b).dtype == onp.float32
        ga = grad(lambda a: np.sum(fun(a, b)))(a)
        assert ga.dtype == onp.float32


EINSUMS = [
    ("ij,jk->ik", [(3, 4), (4, 2)]),
    ("ij,jk", [(3, 4), (4, 2)]),            # implicit output
    ("ii->i", [(3, 3)]),                    # diagonal
    ("ii", [(3, 3)]),                       # trace
    ("iij->j", [(2, 2, 3)]),
    ("iji->j", [(2, 3, 2)]),
    ("ij->", [(2, 3)]),
    ("ij->i", [(2, 3)]),
    ("ji", [(2, 3)]),                       # implicit transpose
    ("Ba", [(2, 3)]),                       # implicit order: uppercase sorts first
    ("i,i", [(3,), (3,)]),
    ("i,j->ij", [(3,), (2,)]),
    ("ij,ij->ij", [(1, 3), (4, 3)]),        # size-1 broadcasting of a label
    ("...ij,...jk->...ik", [(2, 3, 4), (4, 2)]),
    ("i...->...", [(2, 3, 4)]),
    ("...a", [(2, 3, 4)]),                  # implicit output with ellipsis
    ("a...,...->...a", [(2, 1, 3), (4, 1)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    (",ij->ij", [(), (2, 3)]),
    ("ii,i->i", [(3, 3), (3,)]),
    ("bii->bi", [(2, 3, 3)]),
]


@pytest.mark.parametrize("spec,shapes", EINSUMS, ids=[e[0] for e in EINSUMS])
def test_einsum(spec, shapes):
    args = [R(*s) for s in shapes]
    onp.testing.assert_allclose(np.einsum(spec, *args), onp.einsum(spec, *args))
    fun = lambda *a: np.einsum(spec, *a)  # noqa: E731
    check_grads(fun, tuple(range(len(args))), modes=["fwd", "rev"], order=2)(*args)


def test_einsum_complex():
    z, w = crandn(3, 3), crandn(3)
    fun = lambda z, w: np.einsum("ij,j->i", z, w)  # noqa: E731
    check_grads(fun, (0, 1), modes=["fwd", "rev"], order=2)(z, w)
    check_grads(fun, (0, 1), modes=["fwd", "rev"], order=1)(z, R(3))


def test_einsum_interleaved_form():
    a, b = R(2, 3), R(3)
    onp.testing.assert_allclose(np.einsum(a, [0, 1], b, [1], [0]), a @ b)
    check_grads(lambda a, b: np.einsum(a, [0, 1], b, [1], [0]), (0, 1))(a, b)
    check_grads(lambda a: np.einsum(a, [Ellipsis, 1, 1]))(R(2, 3, 3))


def test_einsum_with_a_planned_path():
    a, b, c = R(2, 3), R(3, 4), R(4, 2)
    path = np.einsum_path("ij,jk,kl->il", a, b, c)[0]
    fun = lambda a, b, c: np.einsum("ij,jk,kl->il", a, b, c, optimize=path)  # noqa: E731
    check_grads(fun, (0, 1, 2), modes=["fwd", "rev"], order=2)(a, b, c)
    grad(lambda a: np.sum(np.einsum("ij,jk,kl->il", a, b, c,
                                    optimize=np.einsum_path("ij,jk,kl->il", a, b, c)[0])))(a)


def test_einsum_diagonal_gradient_is_on_the_diagonal():
    g = grad(lambda a: np.sum(np.einsum("ii->i", a) ** 2))(R(3, 3) + 0)
    assert onp.count_nonzero(g - onp.diag(onp.diag(g))) == 0
    onp.testing.assert_allclose(grad(lambda a: np.einsum("ii", a))(R(3, 3)), onp.eye(3))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_cross_2_vectors_say_what_to_do():
    with pytest.raises(NotImplementedError, match="3-vectors"):
        grad(lambda a: np.sum(np.cross(a, onp.ones(2))))(R(2))


def test_polyval_is_differentiable_in_coefficients_and_points():
    """polyval evaluated by Horner's rule in traced steps: NumPy's values, and gradients
    in both arguments, both modes, second order (it had no rule)."""
    p, x = onp.array([1.0, -2.0, 3.0, 0.5]), onp.array([[0.5, 2.0], [-1.5, 0.25]])
    onp.testing.assert_allclose(np.polyval(p, x), onp.polyval(p, x), rtol=1e-15)
    check_grads(np.polyval, modes=["fwd", "rev"], order=2)(p, x)
    check_grads(lambda c: np.polyval(list(c), 1.5), modes=["fwd", "rev"], order=2)(p)
