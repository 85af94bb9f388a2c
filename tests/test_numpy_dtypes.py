"""Dtypes: float32 in gives float32 values and gradients (in both modes), float64 stays
float64, integers promote as NumPy promotes them. float32 gradients are compared with
float64 ones at a loose tolerance rather than by finite differences."""
import numpy as onp
import pytest

import jitgrad.numpy as np
from jitgrad import elementwise_grad, grad, make_jvp

from test_numpy_elementwise import BINARY, UNARY, name
from test_numpy_reductions import REDUCTIONS, RUNNING

RTOL, ATOL = 2e-3, 1e-5


def assert_float32_like_float64(fun, *args64):
    """``fun`` on float32 inputs: float32 value, gradients and tangent, close to float64."""
    args32 = tuple(onp.asarray(a, onp.float32) for a in args64)
    argnums = tuple(range(len(args64)))
    value32 = fun(*args32)
    assert value32.dtype == onp.float32
    loss = lambda *args: np.sum(fun(*args))
    grads32, grads64 = grad(loss, argnums)(*args32), grad(loss, argnums)(*args64)
    for g32, g64 in zip(grads32, grads64):
        assert g32.dtype == onp.float32
        assert onp.allclose(g32, g64, rtol=RTOL, atol=ATOL)
    tangent32 = make_jvp(lambda x: fun(x, *args32[1:]))(args32[0])(onp.ones_like(args32[0]))[1]
    tangent64 = make_jvp(lambda x: fun(x, *args64[1:]))(args64[0])(onp.ones_like(args64[0]))[1]
    assert tangent32.dtype == onp.float32
    assert onp.allclose(tangent32, tangent64, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("fun, domain", UNARY, ids=[name(f) for f, _ in UNARY])
def test_unary_float32(fun, domain):
    assert_float32_like_float64(fun, domain((2, 3)))


# float_power computes in float64 by definition: tested on its own below.
BINARY_SAME_DTYPE = [row for row in BINARY if row[0] is not np.float_power]


@pytest.mark.parametrize("fun, domain_x, domain_y", BINARY_SAME_DTYPE,
                         ids=[name(f) for f, _, _ in BINARY_SAME_DTYPE])
def test_binary_float32(fun, domain_x, domain_y):
    assert_float32_like_float64(fun, domain_x((2, 3)), domain_y((3,)))


def test_float_power_computes_in_float64_but_gradient_keeps_float32():
    x = onp.array([1.5, 2.0], onp.float32)
    assert np.float_power(x, 2).dtype == onp.float64
    g = elementwise_grad(lambda x: np.float_power(x, 2))(x)
    assert g.dtype == onp.float32 and onp.allclose(g, 2 * x)


@pytest.mark.parametrize("fun", REDUCTIONS + RUNNING, ids=name)
def test_reduction_float32(fun):
    assert_float32_like_float64(lambda x: fun(x, axis=1), onp.random.randn(2, 3) + 0.5)


def test_average_and_moments_float32():
    x, w = onp.random.randn(3, 4), onp.random.rand(4) + 0.5
    assert_float32_like_float64(lambda x, w: np.average(x, axis=1, weights=w), x, w)
    assert_float32_like_float64(lambda x: np.var(x, axis=0, ddof=1), x)
    assert_float32_like_float64(lambda x: np.std(x, keepdims=True), x)


def test_float32_with_python_and_float64_constants():
    x = onp.array([0.5, -1.5, 2.0], onp.float32)
    # Python scalars are weak: the whole computation stays float32.
    f = lambda x: 2.0 ** x + 1.0 / (x * x + 1.0) + np.maximum(x, 0.0) + np.clip(x, -1.0, 1.0)
    assert f(x).dtype == onp.float32
    assert elementwise_grad(f)(x).dtype == onp.float32
    assert make_jvp(f)(x)(onp.ones(3, onp.float32))[1].dtype == onp.float32
    # A float64 operand promotes the value, but x's gradient stays in x's space.
    y = onp.array([1.0, 2.0, 3.0])
    assert (x * y).dtype == onp.float64
    gx, gy = grad(lambda x, y: np.sum(x * y + x / y), (0, 1))(x, y)
    assert gx.dtype == onp.float32 and gy.dtype == onp.float64
    # A Python float input has a float64 gradient even through float32 arithmetic.
    assert grad(lambda a: np.sum(a * x))(2.0).dtype == onp.float64


def test_sum_with_wider_dtype_keeps_float32_gradient():
    x = onp.ones(3, onp.float32)
    assert np.sum(x, dtype=onp.float64).dtype == onp.float64
    assert grad(lambda x: np.sum(x, dtype=onp.float64))(x).dtype == onp.float32
    assert grad(lambda x: np.mean(x, dtype=onp.float64))(x).dtype == onp.float32


def test_float64_stays_float64():
    for fun, domain in UNARY:
        assert elementwise_grad(fun)(domain((3,))).dtype == onp.float64


def test_integers_promote_like_numpy():
    i = onp.array([1, 2, 3])
    x = onp.array([0.5, 1.5, 2.5], onp.float32)
    assert np.exp(i).dtype == onp.exp(i).dtype == onp.float64
    assert (x * i).dtype == onp.float64  # float32 with int64 is float64 in NumPy
    assert (x * i.astype(onp.int8)).dtype == onp.float32
    assert grad(lambda x: np.sum(x * i))(x).dtype == onp.float32
    assert onp.array_equal(grad(lambda x: np.sum(x ** i))(x), i * x ** (i - 1))
    assert onp.array_equal(grad(lambda x: np.sum(x * i))(x.astype(float)), i)


@pytest.mark.parametrize("fun", [np.exp, np.sin, np.sqrt, np.square, np.reciprocal],
                         ids=name)
def test_complex64_stays_complex64(fun):
    z = (onp.random.rand(3) + 0.5 + 1j * onp.random.rand(3)).astype(onp.complex64)
    assert fun(z).dtype == onp.complex64
    g = grad(lambda z: np.sum(np.abs(fun(z)) ** 2))(z)
    assert g.dtype == onp.complex64


@pytest.mark.parametrize("product", [
    lambda y, c: np.dot(y, c), lambda y, c: np.tensordot(y, c, 1),
    lambda y, c: np.einsum("i,i", y, c), lambda y, c: np.inner(y, c),
    lambda y, c: np.sum(np.outer(y, c)), lambda y, c: np.vdot(y, c)],
    ids=["dot", "tensordot", "einsum", "inner", "outer", "vdot"])
def test_products_with_float64_operands_keep_a_float32_gradient(product):
    """The gradient has its argument's dtype, products included (their rules widened
    it to the float64 operand's)."""
    y32, c64 = onp.array([1.0, -2.0, 0.5], onp.float32), onp.array([0.25, 3.0, -1.0])
    g = grad(product)(y32, c64)
    assert g.dtype == onp.float32
    onp.testing.assert_allclose(g, grad(product)(y32.astype(onp.float64), c64), rtol=1e-6)


def _special_and_norms():
    import jitgrad.scipy.special as sps
    import jitgrad.scipy.stats as stats
    rng = onp.random.RandomState(3)
    unit = lambda shape: rng.uniform(-0.8, 0.8, shape)  # noqa: E731
    positive = lambda shape: rng.uniform(0.5, 3.0, shape)  # noqa: E731
    return [
        (sps.erf, unit), (sps.erfc, unit), (sps.erfinv, unit), (sps.digamma, positive),
        (sps.psi, positive), (stats.norm.cdf, unit), (stats.norm.logcdf, unit),
        (lambda x: np.linalg.norm(x[0], ord=np.inf), unit),
        (lambda x: np.linalg.norm(x, ord=1), unit), (lambda x: np.linalg.norm(x, ord=np.inf), unit),
    ]


@pytest.mark.parametrize("case", range(10))
def test_special_functions_and_max_norms_keep_float32(case):
    """Module constants that were NumPy float64 scalars (sqrt(pi), log(2 pi)), a float64
    polygamma and integer tie counts made float32 gradients or tangents float64."""
    fun, domain = _special_and_norms()[case]
    x = domain((3, 4))
    assert_float32_like_float64(lambda x: np.asarray(fun(x)), x)
