"""Errors inside a jitted function: a plan cannot replay a try/except around a traced
computation, so where a NumPy routine raises (while tracing or on a replay) the call
runs eagerly, and the error meets the Python it would meet eagerly."""
import warnings

import numpy
import pytest
from numpy.testing import assert_allclose

import jitgrad.numpy as np
from jitgrad import grad, jit, value_and_grad

pytestmark = pytest.mark.eager_only  # compares jit=True with eager itself


def gp_like(theta):
    """A covariance with a jitter fallback, the Gaussian-process idiom."""
    K = numpy.eye(3) * theta[0] + 0.1 * numpy.ones((3, 3))
    try:
        L = np.linalg.cholesky(K)
    except np.linalg.LinAlgError:
        L = np.linalg.cholesky(K + 2.0 * numpy.eye(3))
    return np.sum(L) * theta[1]


GOOD = [numpy.array([1.0 + k, 2.0 - 0.1 * k]) for k in range(3)]
BAD = [numpy.array([-1.0 - 0.1 * k, 0.5 + k]) for k in range(3)]


@pytest.mark.parametrize("order", ["traced on a good call", "traced on a bad call"])
def test_a_caught_linalg_error_takes_eagers_except_branch(order):
    calls = GOOD + BAD + GOOD if order == "traced on a good call" else BAD + GOOD + BAD
    jitted = jit(value_and_grad(gp_like), trace_after=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for theta in calls:
            value, gradient = jitted(theta)
            eager_value, eager_gradient = value_and_grad(gp_like)(theta)
            assert_allclose(value, eager_value, rtol=1e-12)
            assert_allclose(gradient, eager_gradient, rtol=1e-12)


def test_an_uncaught_error_reaches_the_caller_and_later_calls_still_trace():
    def f(x):
        return np.sum(np.linalg.cholesky(x))
    jitted = jit(grad(f), trace_after=0)
    with pytest.raises(np.linalg.LinAlgError):
        jitted(-numpy.eye(2))  # raised while tracing: eager's error, nothing cached
    for k in range(3):  # then traced and replayed, with new values
        x = numpy.eye(2) * (2.0 + k)
        assert_allclose(jitted(x), grad(f)(x), rtol=1e-12)
    assert jitted.stats["hits"] >= 1
    with pytest.raises(np.linalg.LinAlgError):
        jitted(-numpy.eye(2))  # raised by a replay: eager's error again


def test_a_refusal_swallowed_by_except_exception_leaves_no_plan():
    """``np.sin(x, out=buf)`` cannot be recorded (the jit refuses it); a function that
    catches every exception must not be left with a plan missing that step."""
    def f(x):
        buf = numpy.zeros(2)
        try:
            np.sin(x, out=buf)
        except Exception:
            pass
        return np.sum(x * 2.0) + np.sum(buf)

    jitted = jit(f, trace_after=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in range(3):
            x = numpy.array([0.3, 0.7]) + k
            assert_allclose(jitted(x), f(x), rtol=1e-12)
    assert jitted.stats["hits"] == 0


def test_a_function_that_raises_on_every_call_gives_no_retrace_warning():
    def f(x):
        raise ValueError("bad input")

    jitted = jit(f, trace_after=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for k in range(15):
            with pytest.raises(ValueError, match="bad input"):
                jitted(numpy.ones(2) * k)
