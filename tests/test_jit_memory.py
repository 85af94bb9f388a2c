"""The first call of a jitted gradient (its trace) holds about what eager holds: the
graph keeps the shapes and dtypes of values that vary with the inputs, not the values
(issue 11, item 3: at most 3x eager's peak memory)."""
import tracemalloc

import numpy
import pytest
from numpy.testing import assert_allclose

import jitgrad.numpy as np
from jitgrad import grad

pytestmark = pytest.mark.eager_only  # compares jit=True with eager itself


def loop_loss(x):
    for _ in range(60):
        x = 0.9 * x + 0.1 * np.sin(x)
    return np.sum(x ** 2)


def _peak(call):
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_trace_holds_about_what_eager_holds(monkeypatch):
    # Unfused, as a first call is by default (Numba's import would count here too).
    monkeypatch.setenv("JITGRAD_FUSE_AFTER", "1e9")
    x = numpy.random.randn(20000)
    eager_peak = _peak(lambda: grad(loop_loss)(x))
    jitted = grad(loop_loss, jit=True)
    traced_peak = _peak(lambda: jitted(x))
    assert jitted.stats["traces"] == 1
    assert traced_peak <= 3.0 * eager_peak, (traced_peak, eager_peak)
    for y in numpy.random.randn(2, 20000):  # the plan built from stand-ins replays right
        assert_allclose(jitted(y), grad(loop_loss)(y), rtol=1e-12)
