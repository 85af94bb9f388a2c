"""Draws from generator objects under the jit (``jitgrad.numpy.random.RandomState`` and
``default_rng``): drawn anew from the same object on every replay, as eager draws, so
the gradient and the generator's position match eager's call after call. (Before, a
plan kept the first call's numbers: black-box variational inference went wrong.)"""
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
