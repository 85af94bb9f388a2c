"""The differential operators: values against analytic results, and check_grads of
functions that call each operator (so each operator's output differentiates again)."""
import inspect

import numpy
import pytest

import jitgrad
import jitgrad.numpy as np
from jitgrad import (checkpoint, deriv, elementwise_grad, grad, grad_and_aux, grad_named,
                     hessian, hessian_tensor_product, hessian_vector_product,
                     holomorphic_grad, jacobian, make_ggnvp, make_hvp, make_jvp, make_vjp,
                     multigrad_dict, tensor_jacobian_product, value_and_grad,
                     vector_jacobian_product)
from jitgrad.differential_operators import make_jvp_reversemode
from jitgrad.test_util import check_grads

BOTH = ["fwd", "rev"]
R = numpy.random.RandomState(1)
A = R.randn(3, 3)
B = R.randn(3, 2)
X = R.randn(3)
V = R.randn(3)
W = R.randn(3)


def smooth(x):
    return np.sum(np.tanh(x) * np.sin(x)) + np.sum(x ** 2) * 0.3


def vector_valued(x):
    return np.tanh(A @ x) * np.cos(x)


def two_args(a, b):
    return np.sum(np.sin(a) * np.exp(0.3 * b) + a ** 2 * b)


# Each entry calls one operator inside a function of x that check_grads differentiates
# again, in both modes, to second order.
OPERATOR_CALLS = {
    "grad": lambda x: grad(smooth)(x),
    "grad_argnum_1": lambda x: grad(two_args, 1)(W, x),
    "grad_argnum_tuple": lambda x: grad(two_args, (0, 1))(x, W * x),
    "elementwise_grad": lambda x: elementwise_grad(np.tanh)(x),
    "deriv": lambda x: deriv(np.sin)(x) * x,
    "jacobian": lambda x: jacobian(vector_valued)(x),
    "jacobian_argnum_tuple": lambda x: jacobian(lambda a, b: np.sin(a) * b, (0, 1))(x, W),
    "holomorphic_grad": lambda x: np.real(holomorphic_grad(
        lambda z: np.sum(np.sin(z) * z))(x + 0.7j)),
    "grad_named": lambda x: grad_named(two_args, "b")(W, x),
    "hessian": lambda x: hessian(smooth)(x),
    "make_hvp": lambda x: make_hvp(smooth)(x)[0](V),
    "hessian_tensor_product": lambda x: hessian_tensor_product(smooth)(x, V),
    "hessian_vector_product": lambda x: hessian_vector_product(two_args, 1)(W, x, V),
    "tensor_jacobian_product": lambda x: tensor_jacobian_product(vector_valued)(x, V),
    "vector_jacobian_product": lambda x: vector_jacobian_product(vector_valued)(x, V),
    "make_jvp": lambda x: make_jvp(vector_valued)(x)(V)[1],
    "make_vjp": lambda x: make_vjp(vector_valued)(x)[0](V),
    "make_ggnvp": lambda x: make_ggnvp(vector_valued)(x)(V),
    "value_and_grad": lambda x: value_and_grad(smooth)(x)[1] * value_and_grad(smooth)(x)[0],
    "grad_and_aux": lambda x: np.multiply(*grad_and_aux(lambda x: (smooth(x), np.sum(x)))(x)),
    "multigrad_dict": lambda x: multigrad_dict(two_args)(x, W * x)["b"],
    "checkpoint": lambda x: checkpoint(vector_valued)(x),
    "grad_of_checkpoint": lambda x: grad(lambda x: np.sum(checkpoint(vector_valued)(x) ** 2))(x),
    "make_jvp_reversemode": lambda x: make_jvp_reversemode(vector_valued)(x)(V),
}


@pytest.mark.parametrize("name", sorted(OPERATOR_CALLS))
def test_operator_output_differentiates_again(name):
    check_grads(OPERATOR_CALLS[name], modes=BOTH, order=2)(X)


def test_every_operator_is_covered():
    assert set(jitgrad.differential_operators.__all__) <= {
        name.replace("_argnum_1", "").replace("_argnum_tuple", "").replace("grad_of_", "")
        for name in OPERATOR_CALLS}


# --- values against analytic results ---------------------------------------------------

def test_grad_and_hessian_of_a_quadratic():
    b = R.randn(3)

    def quadratic(x):
        return 0.5 * x @ A @ x + b @ x
    numpy.testing.assert_allclose(grad(quadratic)(X), 0.5 * (A + A.T) @ X + b)
    numpy.testing.assert_allclose(hessian(quadratic)(X), 0.5 * (A + A.T))
    value, gradient = value_and_grad(quadratic)(X)
    assert value == pytest.approx(0.5 * X @ A @ X + b @ X)
    numpy.testing.assert_allclose(gradient, 0.5 * (A + A.T) @ X + b)


def test_argnum_int_and_tuple():
    a, b = R.randn(3), R.randn(3)
    numpy.testing.assert_allclose(grad(two_args)(a, b), numpy.cos(a) * numpy.exp(0.3 * b) + 2 * a * b)
    db = 0.3 * numpy.sin(a) * numpy.exp(0.3 * b) + a ** 2
    numpy.testing.assert_allclose(grad(two_args, 1)(a, b), db)
    both = grad(two_args, (0, 1))(a, b)
    assert isinstance(both, tuple) and len(both) == 2
    numpy.testing.assert_allclose(both[1], db)
    numpy.testing.assert_allclose(both[0], grad(two_args)(a, b))
    numpy.testing.assert_allclose(grad_named(two_args, "b")(a, b), db)
    assert grad(lambda a, b, c: a * b * c, 2)(2.0, 3.0, 5.0) == 6.0
    assert grad(lambda a, b: a * b, -1)(2.0, 3.0) == 2.0


def test_jacobian_values():
    numpy.testing.assert_allclose(jacobian(lambda x: A @ x)(X), A)
    numpy.testing.assert_allclose(jacobian(lambda x: x @ B)(X), B.T)
    matrix = R.randn(2, 3)
    jac = jacobian(lambda m: m ** 2)(matrix)
    assert jac.shape == (2, 3, 2, 3)
    numpy.testing.assert_allclose(jac.reshape(6, 6), numpy.diag(2 * matrix.ravel()))
    jac_a, jac_b = jacobian(lambda a, b: A @ a + b * 2.0, (0, 1))(X, W)
    numpy.testing.assert_allclose(jac_a, A)
    numpy.testing.assert_allclose(jac_b, 2 * numpy.eye(3))


def test_elementwise_grad_and_deriv():
    numpy.testing.assert_allclose(elementwise_grad(np.tanh)(X), 1 - numpy.tanh(X) ** 2)
    numpy.testing.assert_allclose(deriv(np.sin)(X), numpy.cos(X))
    assert deriv(lambda t: t ** 3)(2.0) == pytest.approx(12.0)


def test_holomorphic_grad():
    z = numpy.array([0.3 + 0.4j, -1.0 + 0.2j])
    numpy.testing.assert_allclose(holomorphic_grad(lambda z: np.sum(z ** 3))(z), 3 * z ** 2)
    assert holomorphic_grad(np.sin)(0.5 + 1j) == pytest.approx(numpy.cos(0.5 + 1j))
    with pytest.warns(UserWarning, match="not complex"):
        holomorphic_grad(np.sin)(0.5)


def test_hessian_products():
    hess = hessian(smooth)(X)
    numpy.testing.assert_allclose(hess, hess.T, atol=1e-12)
    hvp, gradient = make_hvp(smooth)(X)
    numpy.testing.assert_allclose(gradient, grad(smooth)(X))
    numpy.testing.assert_allclose(hvp(V), hess @ V)
    numpy.testing.assert_allclose(hessian_tensor_product(smooth)(X, V), hess @ V)
    numpy.testing.assert_allclose(hessian_vector_product(smooth)(X, V), hess @ V)
    matrix, direction = R.randn(2, 2), R.randn(2, 2)
    matrix_fun = lambda m: np.sum(np.sin(m) * m)
    numpy.testing.assert_allclose(hessian_tensor_product(matrix_fun)(matrix, direction),
                                  numpy.tensordot(hessian(matrix_fun)(matrix), direction, 2))


def test_forward_over_reverse_hessian_vector_product():
    gradient, hvp = make_jvp(grad(smooth))(X)(V)
    numpy.testing.assert_allclose(gradient, grad(smooth)(X))
    numpy.testing.assert_allclose(hvp, hessian(smooth)(X) @ V)
    # and reverse over forward
    numpy.testing.assert_allclose(grad(lambda x: make_jvp(smooth)(x)(V)[1])(X),
                                  hessian(smooth)(X) @ V)


def test_jacobian_products():
    jac = jacobian(vector_valued)(X)
    value, jvp = make_jvp(vector_valued)(X)(V)
    numpy.testing.assert_allclose(value, vector_valued(X))
    numpy.testing.assert_allclose(jvp, jac @ V)
    vjp, value = make_vjp(vector_valued)(X)
    numpy.testing.assert_allclose(value, vector_valued(X))
    numpy.testing.assert_allclose(vjp(W), W @ jac)
    numpy.testing.assert_allclose(tensor_jacobian_product(vector_valued)(X, W), W @ jac)
    numpy.testing.assert_allclose(vector_jacobian_product(vector_valued)(X, W), W @ jac)
    numpy.testing.assert_allclose(make_jvp_reversemode(vector_valued)(X)(V), jac @ V)


def test_make_ggnvp():
    jac = jacobian(vector_valued)(X)
    numpy.testing.assert_allclose(make_ggnvp(vector_valued)(X)(V), jac.T @ jac @ V)
    weights = numpy.array([1.0, 2.0, 3.0])
    outer = lambda y: np.sum(weights * y ** 2)
    numpy.testing.assert_allclose(make_ggnvp(vector_valued, outer)(X)(V),
                                  jac.T @ numpy.diag(2 * weights) @ jac @ V)
    # f_argnum picks the argument
    f2 = lambda c, x: vector_valued(x) * c
    numpy.testing.assert_allclose(make_ggnvp(f2, f_argnum=1)(2.0, X)(V), 4 * jac.T @ jac @ V)


def test_grad_and_aux_returns_plain_aux():
    gradient, aux = grad_and_aux(lambda x: (smooth(x), {"value": smooth(x), "x": x}))(X)
    numpy.testing.assert_allclose(gradient, grad(smooth)(X))
    assert type(aux["value"]) is numpy.float64 and type(aux["x"]) is numpy.ndarray
    assert aux["value"] == pytest.approx(smooth(X))


def test_multigrad_dict():
    a, b = R.randn(3), R.randn(3)
    grads = multigrad_dict(two_args)(a, b)
    assert list(grads) == ["a", "b"]
    numpy.testing.assert_allclose(grads["a"], grad(two_args, 0)(a, b))
    numpy.testing.assert_allclose(grads["b"], grad(two_args, 1)(a, b))
    with_default = multigrad_dict(lambda x, scale=2.0: scale * x ** 2)(3.0)
    assert with_default == {"x": pytest.approx(12.0), "scale": pytest.approx(9.0)}


def test_checkpoint_recomputes_on_the_backward_pass():
    calls = []

    def expensive(x):
        calls.append(1)
        return np.sin(x) * x
    checkpointed = checkpoint(expensive)
    numpy.testing.assert_allclose(checkpointed(X), expensive(X))
    calls.clear()
    loss = lambda f: lambda x: np.sum(f(x) ** 2)
    numpy.testing.assert_allclose(grad(loss(checkpointed))(X), grad(loss(expensive))(X))
    calls.clear()
    grad(loss(checkpointed), jit=False)(X)
    assert len(calls) == 2  # once forward, once again for its VJP
    numpy.testing.assert_allclose(deriv(checkpointed)(X), numpy.cos(X) * X + numpy.sin(X))


def tanh_sixth_derivative(x):
    t = numpy.tanh(x)
    return -272 * t + 1232 * t ** 3 - 1680 * t ** 5 + 720 * t ** 7


def test_sixth_derivative_of_tanh_matches_closed_form():
    x = numpy.linspace(-2.0, 2.0, 7)
    closed_form = tanh_sixth_derivative(x)
    reverse, forward, mixed = np.tanh, np.tanh, np.tanh
    for order in range(6):
        reverse = elementwise_grad(reverse)
        forward = deriv(forward)
        mixed = deriv(mixed) if order % 2 else elementwise_grad(mixed)
    numpy.testing.assert_allclose(reverse(x), closed_form, rtol=1e-10, atol=1e-10)
    numpy.testing.assert_allclose(forward(x), closed_form, rtol=1e-10, atol=1e-10)
    numpy.testing.assert_allclose(mixed(x), closed_form, rtol=1e-10, atol=1e-10)
    scalar = np.tanh
    for _ in range(6):
        scalar = grad(scalar)
    assert scalar(0.4) == pytest.approx(tanh_sixth_derivative(0.4), rel=1e-10)


def test_gradient_of_a_constant_function_is_zero_with_a_warning():
    with pytest.warns(UserWarning, match="independent"):
        gradient = grad(lambda x: 3.0)(X)
    numpy.testing.assert_array_equal(gradient, numpy.zeros(3))


# Each entry runs one operator with the given jit= and returns arrays to compare.
JIT_CALLS = {
    "grad": lambda jit: grad(smooth, jit=jit)(X),
    "elementwise_grad": lambda jit: elementwise_grad(np.tanh, jit=jit)(X),
    "deriv": lambda jit: deriv(np.sin, jit=jit)(X),
    "jacobian": lambda jit: jacobian(vector_valued, jit=jit)(X),
    "holomorphic_grad": lambda jit: holomorphic_grad(np.sin, jit=jit)(1j),
    "grad_named": lambda jit: grad_named(two_args, "b", jit=jit)(X, W),
    "hessian": lambda jit: hessian(smooth, jit=jit)(X),
    "make_hvp": lambda jit: make_hvp(smooth, jit=jit)(X)[0](V),
    "hessian_tensor_product": lambda jit: hessian_tensor_product(smooth, jit=jit)(X, V),
    "hessian_vector_product": lambda jit: hessian_vector_product(smooth, jit=jit)(X, V),
    "tensor_jacobian_product": lambda jit: tensor_jacobian_product(vector_valued, jit=jit)(X, V),
    "vector_jacobian_product": lambda jit: vector_jacobian_product(vector_valued, jit=jit)(X, V),
    "make_jvp": lambda jit: make_jvp(vector_valued, jit=jit)(X)(V)[1],
    "make_vjp": lambda jit: make_vjp(vector_valued, jit=jit)(X)[0](V),
    "make_ggnvp": lambda jit: make_ggnvp(vector_valued, jit=jit)(X)(V),
    "value_and_grad": lambda jit: value_and_grad(smooth, jit=jit)(X)[1],
    "grad_and_aux": lambda jit: grad_and_aux(lambda x: (smooth(x), 0.5), jit=jit)(X)[0],
    "multigrad_dict": lambda jit: multigrad_dict(two_args, jit=jit)(X, W)["b"],
    "checkpoint": lambda jit: checkpoint(vector_valued, jit=jit)(X),
    "make_jvp_reversemode": lambda jit: make_jvp_reversemode(vector_valued, jit=jit)(X)(V),
}


def test_jit_table_covers_every_operator():
    assert set(JIT_CALLS) == set(jitgrad.differential_operators.__all__)


@pytest.mark.parametrize("name", sorted(JIT_CALLS))
def test_jit_true_matches_eager(name):
    """jit=True gives eager's answer, on the tracing call and on the replays."""
    eager = JIT_CALLS[name](False)
    for _ in range(3):
        numpy.testing.assert_allclose(JIT_CALLS[name](True), eager, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(JIT_CALLS))
def test_every_operator_takes_a_jit_keyword(name):
    operator = getattr(jitgrad.differential_operators, name)
    parameters = inspect.signature(operator).parameters
    assert "jit" in parameters and parameters["jit"].default is None  # None: JITGRAD_JIT
    assert list(parameters)[0] in ("fun", "f")


def test_jacobian_of_a_function_returning_containers():
    x = numpy.random.randn(3)
    J = jacobian(lambda x: {"square": x ** 2, "pair": (np.sum(x), np.sin(x))})(x)
    numpy.testing.assert_allclose(J["square"], numpy.diag(2 * x))
    numpy.testing.assert_allclose(J["pair"][0], numpy.ones(3))
    numpy.testing.assert_allclose(J["pair"][1], numpy.diag(numpy.cos(x)))
