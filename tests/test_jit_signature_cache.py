"""The signature served last is recognized without computing its key
(jit/signature_cache.py): every recognized replay must be what looking the key up
would have replayed, so each test changes something between calls and compares the
jitted answers, second and later calls included, with eager's."""
import numpy
import pytest
from numpy.testing import assert_allclose

import jitgrad.numpy as np
from jitgrad import grad, jit
from jitgrad.jit.signature_cache import Signatures, fits_function

pytestmark = pytest.mark.eager_only  # compares jit=True with eager itself


def logistic(w, X, y):
    p = 1 / (1 + np.exp(-(X @ w)))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def data(samples, features, seed):
    rng = numpy.random.RandomState(seed)
    return (0.1 * rng.randn(features), rng.randn(samples, features),
            (rng.rand(samples) > 0.5).astype(float))


def test_recognized_replays_with_new_values_match_eager():
    jitted, eager = jit(grad(logistic), trace_after=0), grad(logistic)
    for seed in range(6):
        args = data(20, 3, seed)
        assert_allclose(jitted(*args), eager(*args), rtol=1e-12)
    assert jitted._cache.recent is not None  # the calls after the second were recognized
    assert jitted.stats["traces"] == 1


@pytest.mark.parametrize("other", [
    lambda w, X, y: (w, X[:-1], y[:-1]),  # other shapes
    lambda w, X, y: (w.astype(numpy.float32), X, y),  # another dtype
    lambda w, X, y: (w, numpy.asfortranarray(X), y),  # another layout, same key
    lambda w, X, y: (w, X[:, ::-1], y[::-1]),  # strided views, same key
], ids=["shapes", "dtype", "layout", "strided"])
def test_arguments_unlike_the_last_signature_are_not_taken_for_it(other):
    jitted, eager = jit(grad(logistic), trace_after=0), grad(logistic)
    for seed in range(4):
        args = data(12, 3, seed)
        for call in (args, other(*args), args, other(*args)):
            assert_allclose(jitted(*call), eager(*call), rtol=1e-6)


def test_python_floats_and_arrays_are_told_apart():
    f = jit(lambda x, s: np.sum(x * s), trace_after=0)
    for value in (1.5, 2.5, 3.5):
        assert f(numpy.arange(3.0), value) == pytest.approx(3.0 * value)
    assert_allclose(f(numpy.arange(3.0), numpy.full(3, 2.0)), 6.0)
    with pytest.raises(TypeError):
        f(numpy.arange(3.0))  # a missing argument fails as Python's call does
    with pytest.raises(TypeError):
        f(numpy.arange(3.0), 1.0, 2.0)


def test_clearing_the_cache_forgets_the_recognized_signature():
    data_ = numpy.ones(3)
    f = jit(lambda x: np.sum(data_ * x), trace_after=0)
    for _ in range(3):
        assert f(numpy.ones(3)) == 3.0
    data_[:] = 2.0  # the plans' snapshot is the old data (README footgun 1) ...
    assert f(numpy.ones(3)) == 3.0
    f.clear_cache()  # ... until they are cleared: the next call traces anew
    assert f(numpy.ones(3)) == 6.0
    assert f(numpy.ones(3)) == 6.0


@pytest.mark.filterwarnings("ignore:jit.*has been traced")
def test_a_signature_that_falls_back_is_not_replayed_afterwards():
    def repeat_sum(x):
        total = 0.0
        for _ in range(int(np.sum(x))):  # a new path for each integer part of sum(x)
            total = total + np.sum(np.sin(x))
        return total

    f = jit(repeat_sum, trace_after=0)
    with pytest.warns(UserWarning, match="runs eagerly"):
        for value in [1.0] * 4 + [1.0 + k for k in range(60)]:
            x = numpy.full(2, value / 2)
            assert f(x) == pytest.approx(repeat_sum(x), rel=1e-12)
    assert f.stats["fallbacks"] == 1
    hits = f.stats["hits"]
    for _ in range(3):  # a path it has a plan for, recognized before the fallback
        x = numpy.full(2, 0.5)
        assert f(x) == pytest.approx(repeat_sum(x), rel=1e-12)
    assert f.stats["hits"] == hits  # ran eagerly, as the fallback said


def test_any_change_of_the_entries_forgets_the_recent_one():
    for change in (lambda s: s.__setitem__("b", 2), lambda s: s.__delitem__("a"),
                   lambda s: s.popitem(last=False), lambda s: s.pop("a"),
                   lambda s: s.clear()):
        signatures = Signatures(a=1)
        signatures.recent = "entry"
        change(signatures)
        assert signatures.recent is None


def test_fits_compares_types_shapes_and_dtypes():
    fits = fits_function((((2,), numpy.dtype(float)), float))
    assert fits(numpy.zeros(2), 1.0)
    for wrong in [(numpy.zeros(3), 1.0), (numpy.zeros(2, numpy.float32), 1.0),
                  (numpy.zeros(2), 1), (numpy.zeros(2), numpy.float64(1.0)),
                  (numpy.zeros(2),), (numpy.zeros(2), 1.0, 1.0), ([0.0, 0.0], 1.0)]:
        assert not fits(*wrong)
    assert fits_function(())() and not fits_function(())(1.0)


def test_a_recognized_call_whose_guard_fails_takes_its_other_path():
    """The recognized call replays the first plan directly (jitted.__call__): a guard
    failing there finds the signature's other path, new values on every call."""
    def f(x, s):
        if s > 0.0:
            return np.sum(np.tanh(x) * s)
        return np.sum(x - s)
    jitted = jit(f, trace_after=0)
    rng = numpy.random.RandomState(3)
    for s in [1.0, 2.0, -1.0, 3.0, -2.0, -3.0, 4.0, 0.5]:
        x = rng.randn(5)
        assert jitted(x, s) == pytest.approx(f(x, s), rel=1e-12)
    assert jitted.stats["traces"] == 2
    assert all(plan.fused for entry in jitted._cache.values() for plan in entry)
