"""jitgrad.misc.optimizers against a plain-NumPy statement of each update rule.

The references below are written from the textbook equations on flat float64
vectors, independently of the library's loop, and run at test time on seeded
problems (gradients written by hand, so that only the optimizers are under
test): the optimizers must reproduce them to 1e-12, structure and callbacks
included.
"""
import inspect

import numpy
import pytest

from jitgrad.misc import adam, flatten, rmsprop, sgd


def reference_sgd(gradient, x, n, step_size=0.1, mass=0.9, seen=None):
    # v_{t+1} = mass v_t - (1 - mass) g_t ;  x_{t+1} = x_t + step_size v_{t+1}
    v = numpy.zeros_like(x)
    for t in range(n):
        g = gradient(x, t)
        if seen is not None:
            seen.append((x.copy(), t, g.copy()))
        v = mass * v - (1.0 - mass) * g
        x = x + step_size * v
    return x


def reference_rmsprop(gradient, x, n, step_size=0.1, gamma=0.9, eps=1e-8, seen=None):
    # s_{t+1} = gamma s_t + (1 - gamma) g_t^2, s_0 = 1 ;  x -= step_size g_t / (sqrt(s) + eps)
    s = numpy.ones_like(x)
    for t in range(n):
        g = gradient(x, t)
        if seen is not None:
            seen.append((x.copy(), t, g.copy()))
        s = gamma * s + (1.0 - gamma) * numpy.square(g)
        x = x - step_size * g / (numpy.sqrt(s) + eps)
    return x


def reference_adam(gradient, x, n, step_size=0.001, b1=0.9, b2=0.999, eps=1e-8, seen=None):
    # Kingma & Ba, Algorithm 1, with t counted from 1.
    m = numpy.zeros_like(x)
    v = numpy.zeros_like(x)
    for t in range(1, n + 1):
        g = gradient(x, t - 1)
        if seen is not None:
            seen.append((x.copy(), t - 1, g.copy()))
        m = b1 * m + (1.0 - b1) * g
        v = b2 * v + (1.0 - b2) * numpy.square(g)
        m_hat = m / (1.0 - b1 ** t)
        v_hat = v / (1.0 - b2 ** t)
        x = x - step_size * m_hat / (numpy.sqrt(v_hat) + eps)
    return x


PAIRS = [(sgd, reference_sgd), (rmsprop, reference_rmsprop), (adam, reference_adam)]
IDS = ["sgd", "rmsprop", "adam"]
DEFAULT_ITERS = {sgd: 200, rmsprop: 100, adam: 100}


def least_squares(seed, n=6, m=9):
    """A seeded noisy least-squares problem whose gradient depends on the iteration
    (a different row subset each step, as a minibatch would)."""
    rs = numpy.random.RandomState(seed)
    A, b = rs.randn(m, n), rs.randn(m)

    def gradient(x, i):  # of sum((A[rows] x - b[rows])^2) + 0.1 sum(sin(x))
        rows = numpy.arange(i, i + 5) % m
        return 2.0 * A[rows].T @ (A[rows] @ x - b[rows]) + 0.1 * numpy.cos(x)
    return gradient, rs.randn(n)


def assert_same(actual, expected):
    numpy.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("optimizer, reference", PAIRS, ids=IDS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_reference_with_defaults(optimizer, reference, seed):
    gradient, x0 = least_squares(seed)
    result = optimizer(gradient, x0)
    assert_same(result, reference(gradient, x0.copy(), DEFAULT_ITERS[optimizer]))


HYPER = {
    sgd: [dict(step_size=0.01, mass=0.5), dict(step_size=0.05, mass=0.0)],
    rmsprop: [dict(step_size=0.01, gamma=0.5), dict(step_size=0.2, gamma=0.99, eps=1e-3)],
    adam: [dict(step_size=0.05, b1=0.5, b2=0.9), dict(step_size=0.01, eps=1e-2)],
}


@pytest.mark.parametrize("optimizer, reference", PAIRS, ids=IDS)
@pytest.mark.parametrize("which", [0, 1])
def test_matches_reference_with_options(optimizer, reference, which):
    gradient, x0 = least_squares(10 + which)
    options = HYPER[optimizer][which]
    result = optimizer(gradient, x0, None, 37, **options)  # callback, num_iters positional
    assert_same(result, reference(gradient, x0.copy(), 37, **options))


@pytest.mark.parametrize("optimizer, reference", PAIRS, ids=IDS)
def test_structured_start_and_callback_match_reference(optimizer, reference):
    rs = numpy.random.RandomState(7)
    start = {"w": rs.randn(2, 3), "layers": [(rs.randn(3), rs.randn())]}
    target = flatten({"w": rs.randn(2, 3), "layers": [(rs.randn(3), rs.randn())]})[0]

    x0, unflatten = flatten(start)

    def flat_grad(x, i):  # of sum((x - target)^2) (1 + i/10)
        return 2.0 * (x - target) * (1.0 + 0.1 * i)

    def structured_grad(params, i):
        return unflatten(flat_grad(flatten(params)[0], i))

    calls = []

    def callback(x, i, g):
        assert isinstance(x, dict) and isinstance(g, dict)
        calls.append((flatten(x)[0], i, flatten(g)[0]))
    result = optimizer(structured_grad, start, callback=callback, num_iters=25, step_size=0.03)

    seen = []
    expected = reference(flat_grad, x0, 25, step_size=0.03, seen=seen)
    assert isinstance(result["layers"], list) and isinstance(result["layers"][0], tuple)
    assert_same(flatten(result)[0], expected)
    assert [i for _, i, _ in calls] == list(range(25))
    for (x, i, g), (x_ref, i_ref, g_ref) in zip(calls, seen):
        assert_same(x, x_ref)
        assert_same(g, g_ref)


def test_signatures_and_defaults():
    expected = {
        sgd: "(grad, x0, callback=None, num_iters=200, step_size=0.1, mass=0.9)",
        rmsprop: "(grad, x0, callback=None, num_iters=100, step_size=0.1, gamma=0.9, "
                 "eps=1e-08)",
        adam: "(grad, x0, callback=None, num_iters=100, step_size=0.001, b1=0.9, b2=0.999, "
              "eps=1e-08)",
    }
    for optimizer, text in expected.items():
        assert str(inspect.signature(optimizer)) == text
        assert optimizer.__doc__
