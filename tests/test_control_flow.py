"""Plain Python control flow inside differentiated functions: the tape records the
path actually taken, so loops, branches, recursion and closures just work."""
import math

import numpy
import pytest

import jitgrad.numpy as np
from jitgrad import deriv, elementwise_grad, grad, hessian
from jitgrad.test_util import check_grads

BOTH = ["fwd", "rev"]


def taylor_sine(x):
    """sin(x) summed term by term until the term is negligible: the trip count
    depends on the value of x."""
    term, total, n = x, x, 0
    while np.abs(term) > 1e-15:
        term = -term * x ** 2 / ((2 * n + 3) * (2 * n + 2))
        total = total + term
        n += 1
    return total


def count_taylor_terms(x):
    term, n = x, 0
    while abs(term) > 1e-15:
        term = -term * x ** 2 / ((2 * n + 3) * (2 * n + 2))
        n += 1
    return n


@pytest.mark.parametrize("x", [0.3, 1.5, 3.0, -4.0])
def test_while_loop_with_value_dependent_trip_count(x):
    assert taylor_sine(x) == pytest.approx(math.sin(x), abs=1e-12)
    assert grad(taylor_sine)(x) == pytest.approx(math.cos(x), abs=1e-10)
    assert grad(grad(taylor_sine))(x) == pytest.approx(-math.sin(x), abs=1e-9)
    assert deriv(taylor_sine)(x) == pytest.approx(math.cos(x), abs=1e-10)
    check_grads(taylor_sine, modes=BOTH, order=2)(x)


def test_trip_count_really_varies():
    assert count_taylor_terms(0.3) < count_taylor_terms(3.0)


def newton_sqrt(a):
    """A while-loop on a convergence test: gradient through every iteration."""
    x = 1.0 + 0.0 * a
    while np.abs(x * x - a) > 1e-14 * a:
        x = 0.5 * (x + a / x)
    return x


def test_newton_iteration_while_loop_gradient():
    for a in (0.5, 2.0, 10.0):
        assert newton_sqrt(a) == pytest.approx(math.sqrt(a))
        assert grad(newton_sqrt)(a) == pytest.approx(0.5 / math.sqrt(a), rel=1e-8)


def for_loop_power(x, n=5):
    result = 1.0
    for _ in range(n):
        result = result * x
    return result


def test_for_loop():
    assert grad(for_loop_power)(1.3) == pytest.approx(5 * 1.3 ** 4)
    x = numpy.random.randn(3)
    numpy.testing.assert_allclose(elementwise_grad(for_loop_power)(x), 5 * x ** 4)
    check_grads(for_loop_power, modes=BOTH, order=2)(x)


def rnn(weights, x):
    """A small recurrent network: a for-loop over time steps."""
    state = np.zeros(2)
    for t in range(x.shape[0]):
        state = np.tanh(weights @ state + x[t])
    return np.sum(state ** 2)


def test_for_loop_over_time_steps_against_numerical_gradient():
    weights = numpy.random.randn(2, 2) * 0.5
    x = numpy.random.randn(4, 2)
    check_grads(rnn, 0, modes=BOTH, order=2)(weights, x)
    check_grads(rnn, 1, modes=BOTH, order=1)(weights, x)


def piecewise(x):
    if x > 1.0:
        return x ** 3
    elif x > -1.0:
        return np.sin(x)
    return -x * 2.0


@pytest.mark.parametrize("x, expected", [(2.0, 12.0), (0.5, math.cos(0.5)), (-3.0, -2.0)])
def test_if_branches(x, expected):
    assert grad(piecewise)(x) == pytest.approx(expected)
    assert deriv(piecewise)(x) == pytest.approx(expected)


def test_branch_on_array_values_and_shape():
    def f(x):
        if x.shape[0] > 2 and np.sum(x) > 0:
            return np.sum(x ** 2)
        return np.sum(np.exp(x))
    x = numpy.array([1.0, 2.0, 0.5])
    numpy.testing.assert_allclose(grad(f)(x), 2 * x)
    numpy.testing.assert_allclose(grad(f)(-x), numpy.exp(-x))
    numpy.testing.assert_allclose(grad(f)(x[:2]), numpy.exp(x[:2]))


def factorial_power(x, n):
    """Recursion: x^n / n! built as x/n * (x^(n-1)/(n-1)!)."""
    if n == 0:
        return 1.0 + 0.0 * x
    return x / n * factorial_power(x, n - 1)


def recursive_exp(x, terms=20):
    return sum(factorial_power(x, n) for n in range(terms))


def test_recursion():
    assert grad(factorial_power)(2.0, 4) == pytest.approx(2.0 ** 3 / 6)
    assert grad(recursive_exp)(0.7) == pytest.approx(math.exp(0.7), rel=1e-12)
    check_grads(recursive_exp, modes=BOTH, order=2)(0.7)


def binary_tree_sum(x):
    """Recursion that splits an array in halves until single elements remain."""
    if x.shape[0] == 1:
        return np.sin(x[0])
    half = x.shape[0] // 2
    return binary_tree_sum(x[:half]) * binary_tree_sum(x[half:])


def test_recursion_on_array_halves():
    x = numpy.random.randn(5)
    expected = numpy.array([numpy.cos(x[i]) * numpy.prod(numpy.sin(numpy.delete(x, i)))
                            for i in range(5)])
    numpy.testing.assert_allclose(grad(binary_tree_sum)(x), expected)
    check_grads(binary_tree_sum, modes=BOTH, order=2)(x)


def make_scaled_sin(scale):
    def scaled(x):
        return np.sin(scale * x)
    return scaled


def test_closures():
    assert grad(make_scaled_sin(3.0))(0.2) == pytest.approx(3.0 * math.cos(0.6))

    # a closure over a traced value: differentiate through the captured variable
    def outer(scale):
        return make_scaled_sin(scale)(0.2)
    assert grad(outer)(3.0) == pytest.approx(0.2 * math.cos(0.6))

    # nested grad of a closure capturing the outer argument
    def mixed(y):
        return grad(lambda x: x * y ** 2 * np.sin(x))(1.0)
    assert grad(mixed)(1.5) == pytest.approx(2 * 1.5 * (math.sin(1.0) + math.cos(1.0)))
    check_grads(mixed, modes=BOTH, order=2)(1.5)


def test_closure_over_mutable_accumulator():
    def f(x):
        parts = []
        for k in range(1, 4):
            parts.append(np.sin(k * x))
        return sum(parts)
    x = 0.4
    assert grad(f)(x) == pytest.approx(sum(k * math.cos(k * x) for k in range(1, 4)))


def test_loop_break_and_continue():
    def f(x):
        total = 0.0
        for k in range(10):
            if k % 2:
                continue
            total = total + x ** k
            if total > 50.0:
                break
        return total
    # x = 2: k = 0, 2, 4 give 1 + 4 + 16 = 21; k = 6 makes 85 > 50 and stops.
    assert f(2.0) == 85.0
    assert grad(f)(2.0) == pytest.approx(2 * 2.0 + 4 * 2.0 ** 3 + 6 * 2.0 ** 5)


def test_hessian_through_a_loop():
    def f(x):
        for _ in range(3):
            x = np.sin(x) + x
        return np.sum(x)
    x = numpy.random.randn(2)
    hess = hessian(f)(x)
    assert hess.shape == (2, 2)
    assert hess[0, 1] == 0.0 and hess[1, 0] == 0.0
    numpy.testing.assert_allclose(numpy.diag(hess), elementwise_grad(elementwise_grad(f))(x))
