"""Draws from generator objects under the jit (``jitgrad.numpy.random.RandomState`` and
``default_rng``): drawn anew from the same object on every replay, as eager draws, so
the gradient and the generator's position match eager's call after call. (Before, a
plan kept the first call's numbers: black-box variational inference went wrong.)"""
import warnings

import numpy
import pytest

import jitgrad.numpy as np
import jitgrad.numpy.random as npr
from jitgrad import explain, grad

pytestmark = pytest.mark.eager_only  # each test jits (and compares with eager) itself


def _closure_objective(rng):
    draw = rng.randn if hasattr(rng, "randn") else (lambda *shape: rng.standard_normal(shape))

    def objective(params, t):  # autograd's black_box_svi: samples from a closure's rs
        mean, log_std = params[:3], params[3:]
        samples = draw(5, 3) * np.exp(log_std) + mean
        return -np.mean(np.sum(np.sin(samples) - samples ** 2, axis=1)) - np.sum(log_std)
    return objective


@pytest.mark.parametrize("make", [lambda: npr.RandomState(0), lambda: npr.default_rng(0)],
                         ids=["RandomState", "default_rng"])
def test_replays_draw_anew_from_the_same_generator(make, monkeypatch):
    monkeypatch.setenv("JITGRAD_FUSE", "0")  # fused sin may differ from NumPy's by an ulp
    rng_jit, rng_eager = make(), make()
    jitted = grad(_closure_objective(rng_jit), jit=True)
    eager = grad(_closure_objective(rng_eager))
    params = numpy.zeros(6)
    for t in range(6):  # a few steps of gradient descent, as an optimizer takes them
        g = jitted(params, t)
        assert numpy.array_equal(g, eager(params, t))
        assert rng_jit.random() == rng_eager.random()  # both generators moved alike
        params = params - 0.1 * g
    assert jitted.stats["hits"] >= 3


def test_a_draw_made_of_another_draw_is_recorded_once():
    rng = npr.RandomState(1)  # RandomState.randn calls self.standard_normal

    def f(x):
        return np.sum(rng.randn(4) * x)
    jitted = grad(f, jit=True)
    for _ in range(3):
        jitted(numpy.ones(4))
    assert explain(jitted, numpy.ones(4)).split("plan:")[0].count("[random]") == 1


@pytest.mark.parametrize("make", [lambda: npr.RandomState(3), lambda: npr.default_rng(3)],
                         ids=["RandomState", "default_rng"])
def test_a_generator_made_and_seeded_inside_the_function_draws_the_same_each_call(make):
    def f(x):
        rng = make()
        sample = rng.randn(3) if hasattr(rng, "randn") else rng.standard_normal(3)
        return np.sum((sample * x) ** 2)

    jitted, eager = grad(f, jit=True), grad(f)
    for t in range(5):
        x = numpy.full(3, 0.5 + t)
        assert numpy.array_equal(jitted(x), eager(x))


def test_the_generators_are_numpys():
    assert isinstance(npr.RandomState(0), numpy.random.RandomState)
    assert isinstance(npr.default_rng(0), numpy.random.Generator)
    assert numpy.array_equal(npr.RandomState(7).randn(5), numpy.random.RandomState(7).randn(5))
    assert numpy.array_equal(npr.default_rng(7).normal(size=5),
                             numpy.random.default_rng(7).normal(size=5))
    generator = npr.default_rng(7)
    assert npr.default_rng(generator) is generator


def _seeded(w, n):
    npr.seed(7)  # common random numbers: the same draws on every call
    return np.sum(w * npr.randn(3)) + np.sum(npr.uniform(size=n))


def _state_restored(w, n):
    npr.set_state(numpy.random.RandomState(1).get_state())
    return np.sum(w * npr.normal(0.0, 1.0, size=3)) * np.sum(npr.normal(size=(n, 2)))


def _rng_from_int_argument(w, seed):
    return np.sum(w * npr.default_rng(seed).normal(size=3))


def _state_saved_and_restored(w, n):
    state = npr.get_state()  # the same noise twice: replays run eagerly (a warning)
    x = npr.randn(3)
    npr.set_state(state)
    return np.sum(w * x * npr.randn(3)) + n


@pytest.mark.parametrize("f", [_seeded, _state_restored, _rng_from_int_argument,
                               _state_saved_and_restored])
def test_seeding_and_state_functions_inside_a_jitted_function(f):
    """seed, set_state, default_rng(seed of an int argument), size= of an int argument:
    the same draws as eager on every replay, and the global generator left where eager
    leaves it."""
    jitted = grad(f, jit=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for call in range(4):
            w, n = numpy.array([0.5, -1.0, 2.0]) + call, 3 + call % 2
            numpy.random.seed(call)
            expected, expected_next = grad(f)(w, n), numpy.random.rand()
            numpy.random.seed(call)
            got, got_next = jitted(w, n), numpy.random.rand()
            numpy.testing.assert_allclose(got, expected, rtol=1e-12)
            assert got_next == expected_next
    assert bool(caught) == (f is _state_saved_and_restored), [str(w.message) for w in caught]
