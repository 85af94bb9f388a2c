"""jitgrad.misc: flatten, the optimizers, fixed_point."""
import numpy
import pytest

import jitgrad.numpy as np
from jitgrad import deriv, grad
from jitgrad.misc import adam, fixed_point, flatten, rmsprop, sgd
from jitgrad.test_util import check_grads
from jitgrad.trace import getval, isbox


def nested_params(scale=0.0):
    return {"w": numpy.full((2, 2), scale), "layers": [(numpy.full(3, scale), scale)]}


TARGET = {"w": numpy.array([[1.0, -2.0], [0.5, 3.0]]),
          "layers": [(numpy.array([0.3, -0.7, 2.0]), -1.5)]}


def quadratic(params, i=0):
    return np.sum((flatten(params)[0] - flatten(TARGET)[0]) ** 2)


def rosenbrock(params, i=0):
    x, y = params["xy"]
    return (1.0 - x) ** 2 + 5.0 * (y - x ** 2) ** 2


OPTIMIZERS = [
    (sgd, dict(num_iters=400, step_size=0.1)),
    (rmsprop, dict(num_iters=600, step_size=0.02)),
    (adam, dict(num_iters=800, step_size=0.05)),
]


@pytest.mark.parametrize("optimizer, options", OPTIMIZERS, ids=["sgd", "rmsprop", "adam"])
def test_optimizer_minimises_quadratic_on_nested_params(optimizer, options):
    start = nested_params()
    result = optimizer(grad(quadratic), start, **options)
    assert result.keys() == TARGET.keys()
    assert isinstance(result["layers"], list) and isinstance(result["layers"][0], tuple)
    assert result["w"].shape == (2, 2)
    numpy.testing.assert_allclose(flatten(result)[0], flatten(TARGET)[0], atol=1e-3)
    assert quadratic(result) < 1e-3 * quadratic(start)


@pytest.mark.parametrize("optimizer, options", [
    (sgd, dict(num_iters=3000, step_size=0.02)),
    (rmsprop, dict(num_iters=3000, step_size=0.005)),
    (adam, dict(num_iters=3000, step_size=0.02)),
], ids=["sgd", "rmsprop", "adam"])
def test_optimizer_minimises_rosenbrock(optimizer, options):
    start = {"xy": (numpy.array(-1.0), numpy.array(1.5))}
    result = optimizer(grad(rosenbrock), start, **options)
    x, y = result["xy"]
    assert rosenbrock(result) < 1e-3 < rosenbrock(start)
    assert abs(x - 1.0) < 0.05 and abs(y - 1.0) < 0.1


@pytest.mark.parametrize("optimizer", [sgd, rmsprop, adam])
def test_callback_gets_structured_iterate_iteration_and_gradient(optimizer):
    calls = []

    def gradient(params, i):
        calls.append(("grad", i))
        return grad(quadratic)(params)

    def callback(params, i, g):
        calls.append(("callback", i))
        assert isinstance(params, dict) and isinstance(g, dict)
        numpy.testing.assert_allclose(flatten(g)[0], flatten(grad(quadratic)(params))[0])
    optimizer(gradient, nested_params(), callback=callback, num_iters=4)
    assert calls == [(kind, i) for i in range(4) for kind in ("grad", "callback")]


def test_sgd_first_step_follows_the_negative_gradient():
    start = nested_params(0.5)
    result = sgd(grad(quadratic), start, num_iters=1, step_size=0.1, mass=0.9)
    expected = flatten(start)[0] - 0.1 * 0.1 * flatten(grad(quadratic)(start))[0]
    numpy.testing.assert_allclose(flatten(result)[0], expected)


def newton_sqrt_step(a):
    return lambda x: 0.5 * (x + a / x)


def distance(x, y):
    return np.max(np.abs(x - y))


def fixed_point_sqrt(a):
    return fixed_point(newton_sqrt_step, a, 10.0, distance, 1e-12)


def test_fixed_point_value_and_gradient_match_sqrt():
    a = numpy.array([0.5, 2.0, 9.0])
    numpy.testing.assert_allclose(fixed_point(newton_sqrt_step, a, numpy.ones(3), distance,
                                              1e-12), numpy.sqrt(a))
    for a in (0.5, 2.0, 9.0):
        assert grad(fixed_point_sqrt)(a) == pytest.approx(1 / (2 * numpy.sqrt(a)), rel=1e-9)
        assert deriv(fixed_point_sqrt)(a) == pytest.approx(1 / (2 * numpy.sqrt(a)), rel=1e-9)
        assert grad(grad(fixed_point_sqrt))(a) == pytest.approx(-0.25 * a ** -1.5, rel=1e-7)


def test_fixed_point_gradient_against_finite_differences():
    h = 1e-6
    numeric = (fixed_point_sqrt(2.0 + h) - fixed_point_sqrt(2.0 - h)) / (2 * h)
    assert grad(fixed_point_sqrt)(2.0) == pytest.approx(numeric, rel=1e-6)
    check_grads(fixed_point_sqrt, modes=["fwd", "rev"], order=2)(2.0)


def test_fixed_point_gradient_does_not_trace_the_iterations():
    steps = []

    def counting_step(a):
        def step(x):
            steps.append(x)
            return 0.5 * (x + a / x)
        return step
    grad(lambda a: fixed_point(counting_step, a, 10.0, distance, 1e-12))(2.0)
    # The forward solve runs on plain values; the backward pass only linearises the
    # step at the fixed point (traced x), it never replays the iterations from x0.
    forward = [x for x in steps if not isbox(x)]
    traced = [x for x in steps if isbox(x)]
    assert len(forward) > 5 and forward[0] == 10.0
    assert traced and all(getval(x) == pytest.approx(numpy.sqrt(2.0)) for x in traced)


def test_fixed_point_curried_step_with_options():
    def damped_newton(a, damping=0.5):
        return lambda x: x - damping * (x - a / x)
    sqrt = lambda a: fixed_point(damped_newton, a, 1.0, distance, 1e-13)
    assert grad(sqrt)(4.0) == pytest.approx(0.25, rel=1e-9)


def test_fixed_point_two_argument_step_and_array_parameters():
    def step(a, x):  # gradient descent on (x^2 - a)^2 / 4 per component
        return x - 0.1 * (x ** 2 - a) * x

    def roots(a):
        return np.sum(fixed_point(step, a, numpy.ones(2), distance, 1e-13) * numpy.array([1.0, 3.0]))
    a = numpy.array([1.5, 2.5])
    numpy.testing.assert_allclose(grad(roots)(a), numpy.array([1.0, 3.0]) / (2 * numpy.sqrt(a)),
                                  rtol=1e-8)
    check_grads(roots, modes=["fwd", "rev"], order=1)(a)


def test_flatten_round_trip_and_gradient_structure():
    value = {"a": (numpy.arange(3.0), [2.0, numpy.eye(2)]), "b": numpy.float64(-1.0)}
    flat, unflatten = flatten(value)
    numpy.testing.assert_array_equal(flat, [0, 1, 2, 2, 1, 0, 0, 1, -1])
    back = unflatten(flat)
    assert back.keys() == value.keys()
    assert isinstance(back["a"], tuple) and isinstance(back["a"][1], list)
    numpy.testing.assert_array_equal(back["a"][1][1], numpy.eye(2))
    assert numpy.ndim(back["a"][1][0]) == 0 and back["b"] == -1.0
    gradient = grad(lambda v: np.sum(np.sin(flatten(v)[0])))(value)
    numpy.testing.assert_allclose(flatten(gradient)[0], numpy.cos(flat))
    assert isinstance(gradient["a"][1], list)


def test_flatten_orders_dict_entries_by_key_as_autograd():
    from jitgrad.misc import flatten
    value = {"b": numpy.array([1.0]), "a": numpy.array([0.0, 2.0])}
    vector, unflatten = flatten(value)
    numpy.testing.assert_array_equal(vector, [0.0, 2.0, 1.0])
    rebuilt = unflatten(vector)
    assert list(rebuilt) == ["b", "a"]
    numpy.testing.assert_array_equal(rebuilt["a"], [0.0, 2.0])
