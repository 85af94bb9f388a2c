"""Plans outlive the jitted object: one made anew for the same function (same code,
same closure contents) reuses the plans traced before; a different closure does not."""
import numpy
import pytest
from numpy.testing import assert_allclose

import jitgrad.numpy as np
from jitgrad import grad, jacobian, jit
from jitgrad.jit import jitted as jitted_module

pytestmark = pytest.mark.eager_only  # compares jit=True with eager itself


def layer(y, W):
    return np.tanh(np.dot(W, y))


def test_an_operator_rebuilt_in_a_loop_traces_once():
    W, y = numpy.random.randn(4, 4), numpy.random.randn(4)
    traces = 0
    for k in range(5):
        jac = jacobian(layer, jit=True)
        assert_allclose(jac(y + k, W), jacobian(layer)(y + k, W), rtol=1e-12)
        traces += jac.stats["traces"]
    assert traces == 1


def test_closures_over_different_arrays_do_not_share_plans():
    results = []
    for scale in (numpy.array([1.0, 2.0]), numpy.array([3.0, 4.0])):
        f = grad(lambda x: np.sum(scale * x ** 2), jit=True)
        results.append(f(numpy.ones(2)))
    assert_allclose(results, [[2.0, 4.0], [6.0, 8.0]])


def test_a_captured_array_changed_in_place_gives_a_new_function():
    data = numpy.ones(2)
    make = lambda: grad(lambda x: np.sum(data * x ** 2), jit=True)
    assert_allclose(make()(numpy.ones(2)), [2.0, 2.0])
    data[:] = 5.0  # the old jitted object keeps its constant (footgun S1); a new one sees it
    assert_allclose(make()(numpy.ones(2)), [10.0, 10.0])


def test_closures_over_objects_keep_plans_of_their_own():
    class Holder:
        value = 2.0
    holder = Holder()
    first = jit(lambda x: x * holder.value)
    assert first(1.0) == 2.0
    holder.value = 3.0
    assert jit(lambda x: x * holder.value)(1.0) == 3.0


def test_shared_plans_are_bounded(monkeypatch):
    monkeypatch.setattr(jitted_module, "MAX_SHARED_FUNCTIONS", 3)
    for k in range(6):
        jit(lambda x, k=k: x * k)(1.0)
    assert len(jitted_module._shared_plans) <= 3
