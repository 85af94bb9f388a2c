"""Complex numbers: angle and real_if_close, and complex inputs through products,
linalg and fft, checked against autograd's convention (the gradient of a real f(z)
is df/dx - i df/dy) and with holomorphic_grad."""
import numpy as onp
import pytest

import jitgrad.numpy as np
from jitgrad import grad, holomorphic_grad
from jitgrad.test_util import check_grads

R = onp.random.randn


def crandn(*shape):
    return R(*shape) + 1j * R(*shape)


def numerical_gradient(f, z, eps=1e-6):
    """df/dx - i df/dy by central differences, elementwise."""
    g = onp.zeros_like(z)
    for idx in onp.ndindex(z.shape):
        for unit, weight in ((1.0, 1.0), (1j, -1j)):
            dz = onp.zeros_like(z)
            dz[idx] = unit * eps
            g[idx] += weight * (f(z + dz) - f(z - dz)) / (2 * eps)
    return g


@pytest.mark.parametrize("deg", [False, True])
def test_angle(deg):
    z = crandn(2, 3)
    onp.testing.assert_allclose(np.angle(z, deg), onp.angle(z, deg))
    check_grads(lambda z: np.angle(z, deg), modes=["fwd", "rev"], order=2)(z)
    g = grad(lambda z: np.sum(np.angle(z, deg)))(z)
    onp.testing.assert_allclose(g, numerical_gradient(lambda z: onp.sum(onp.angle(z, deg)), z),
                                rtol=1e-6)


def test_angle_of_reals_and_zero_has_zero_gradient():
    x = onp.array([-2.0, 0.0, 3.0])
    assert onp.all(grad(lambda x: np.sum(np.angle(x)))(x) == 0)
    assert grad(lambda z: np.angle(z))(0j) == 0


@pytest.mark.parametrize("imag_scale,expect_real", [(1e-20, True), (1.0, False)])
def test_real_if_close(imag_scale, expect_real):
    z = R(3) + 1j * imag_scale * R(3)
    out = np.real_if_close(z)
    assert onp.iscomplexobj(out) != expect_real
    if not expect_real:  # (numerical differences would leave the real branch)
        check_grads(np.real_if_close, modes=["fwd", "rev"], order=2)(z)
    g = grad(lambda z: np.sum(np.real(np.real_if_close(z)) ** 2))(z)
    onp.testing.assert_allclose(g, 2 * z.real)


L, F = np.linalg, np.fft
REAL_OF_COMPLEX = [
    ("abs_dot", lambda z, w: np.abs(np.dot(z, w)) ** 2, [(3,), (3,)]),
    ("einsum_trace", lambda z, w: np.real(np.einsum("ij,ji", z, w)), [(3, 3), (3, 3)]),
    ("logabsdet", lambda z, w: L.slogdet(z + w + 4 * onp.eye(3))[1], [(3, 3), (3, 3)]),
    ("fro_of_inv", lambda z, w: L.norm(L.inv(z + 4 * onp.eye(3)) @ w), [(3, 3), (3, 2)]),
    ("fft_power", lambda z, w: np.sum(np.abs(F.fft(z * w)) ** 2), [(4,), (4,)]),
    ("nuclear", lambda z, w: L.norm(z @ w, "nuc"), [(3, 2), (2, 4)]),
]


@pytest.mark.parametrize("name,f,shapes", REAL_OF_COMPLEX, ids=[c[0] for c in REAL_OF_COMPLEX])
def test_real_function_of_complex_matches_convention(name, f, shapes):
    z, w = [crandn(*shape) for shape in shapes]
    g = grad(f)(z, w)
    onp.testing.assert_allclose(g, numerical_gradient(lambda z: f(z, w), z),
                                rtol=1e-5, atol=1e-7)


HOLOMORPHIC = [
    # d/dz_ij of sum(z @ z) = sum_k z_jk + sum_k z_ki
    ("matmul", lambda z: np.sum(z @ z), (3, 3),
     lambda z: z.sum(0)[:, None] + z.sum(1)[None, :]),
    ("det", lambda z: L.det(z), (3, 3), lambda z: onp.linalg.det(z) * onp.linalg.inv(z).T),
    ("fft_square", lambda z: np.sum(F.fft(z) ** 2), (5,),
     lambda z: 2 * onp.fft.fft(onp.fft.fft(z))),
]


@pytest.mark.parametrize("name,f,shape,derivative", HOLOMORPHIC, ids=[h[0] for h in HOLOMORPHIC])
def test_holomorphic_grad(name, f, shape, derivative):
    z = crandn(*shape)
    onp.testing.assert_allclose(holomorphic_grad(f)(z), derivative(z), rtol=1e-8)


@pytest.mark.parametrize("make", [onp.complex128, complex], ids=["numpy", "python"])
def test_products_of_complex_scalars(make):
    """Two complex scalars multiply with the scalar * (elementwise.scalar_multiply), as
    eager code computes them: first and second derivatives, both modes."""
    z, w = make(0.3 - 1.2j), make(-0.7 + 0.4j)
    f = lambda z, w: np.real(z * w * np.conj(z)) + np.imag(w * z)  # noqa: E731
    check_grads(f, modes=["fwd", "rev"], order=2)(z, w)
    check_grads(f, argnum=1, modes=["fwd", "rev"], order=2)(z, w)
    assert holomorphic_grad(lambda z: z * w)(z) == w
