"""The express call (jit/express.py): a signature's common call in one generated
function, once its plan is compiled whole. Jitted replays (second and later calls, new
values) against eager, through every way out of it: another signature, a failed
guard, plans changing order, a transformation open, inputs the kernel was not compiled
for, a wrong number of arguments."""
import numpy
import pytest

pytest.importorskip("numba")
import jitgrad.numpy as np  # noqa: E402
from jitgrad import grad, jit  # noqa: E402

# (These tests set jit= and the settings themselves: whole plans at the first call.)
pytestmark = [pytest.mark.eager_only, pytest.mark.usefixtures("whole_plans_at_once")]
rng = numpy.random.default_rng(31)


def logistic(w, X, y):
    p = 1 / (1 + np.exp(-(X @ w)))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def data(features, samples=30):
    X = rng.standard_normal((samples, features))
    y = (rng.random(samples) > 0.5).astype(float)
    return 0.1 * rng.standard_normal(features), X, y


def assert_close(got, expected):
    """Within 1e-12 of the largest entry (the kernels' exp is a few ulp from NumPy's)."""
    got, expected = numpy.asarray(got), numpy.asarray(expected)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    assert numpy.max(numpy.abs(got - expected)) <= 1e-12 * numpy.max(numpy.abs(expected))


def express_of(jitted):
    entry = jitted._cache.recent
    return None if entry is None else entry.express


def test_replays_express_against_eager():
    eager, jitted = grad(logistic), grad(logistic, jit=True)
    for call in range(8):
        args = data(5)
        assert_close(jitted(*args), eager(*args))
        if call >= 3:  # traced at the first, recognized from the third: express from the fourth
            assert express_of(jitted) is not None
    assert jitted.stats["traces"] == 1
    assert jitted.stats["hits"] == 7


def test_another_signature_is_not_replayed_by_express():
    eager, jitted = grad(logistic), grad(logistic, jit=True)
    for call in range(8):
        args = data(5 if call % 2 else 7)
        assert_close(jitted(*args), eager(*args))
    for call in range(4):  # the same signature again and again, then the other
        args = data(7)
        assert_close(jitted(*args), eager(*args))
    args = data(5, samples=31)  # a shape differing in another argument
    assert_close(jitted(*args), eager(*args))
    assert jitted.stats["traces"] == 3


def branchy(x, y):
    if np.sum(x) > 0:  # a guard: each branch is a path, compiled whole
        return np.sum(np.tanh(x) * y)
    return np.sum(x * y * y)


def test_failed_guards_take_the_other_path():
    eager, jitted = grad(branchy), grad(branchy, jit=True)
    y = rng.standard_normal(6)
    signs = [1, 1, 1, -1, -1, 1, -1, 1, 1, -1, -1, -1]
    for sign in signs:
        x = sign * numpy.abs(rng.standard_normal(6))
        assert_close(jitted(x, y), eager(x, y))
    assert jitted.stats["guard_misses"] > 0
    assert len(jitted._cache.recent) == 2


def test_the_express_function_replays_the_first_plan():
    eager, jitted = grad(branchy), grad(branchy, jit=True)
    y = rng.standard_normal(6)
    for _ in range(4):
        jitted(numpy.abs(rng.standard_normal(6)), y)
    entry = jitted._cache.recent
    assert entry.express is not None
    x = -numpy.abs(rng.standard_normal(6))
    jitted(x, y)  # a new path, traced: its plan goes first
    assert entry.express is None
    for _ in range(4):
        jitted(-numpy.abs(rng.standard_normal(6)), y)
    misses = jitted.stats["guard_misses"]
    for _ in range(4):  # replayed by the express function of the new first plan
        x = -numpy.abs(rng.standard_normal(6))
        assert_close(jitted(x, y), eager(x, y))
    assert entry.express is not None
    assert jitted.stats["guard_misses"] == misses


def test_inside_a_transformation_the_function_is_differentiated():
    f = jit(lambda x, c: np.sum(np.tanh(x) * c))
    x, c = rng.standard_normal(4), rng.standard_normal(4)
    for _ in range(4):
        f(x, c)
    assert express_of(f) is not None
    outer = grad(lambda c: f(x, c) * 2.0)
    assert_close(outer(c), 2.0 * numpy.tanh(x))


class Scaled:
    """A factor read through a property: a read the jit does not check (README)."""
    def __init__(self, factor):
        self._factor = factor

    @property
    def factor(self):
        return self._factor


def test_inside_a_transformation_a_traced_value_read_unseen_is_differentiated():
    scaled = Scaled(2.0)
    f = jit(lambda x: np.sum(np.tanh(x)) * scaled.factor)
    x = rng.standard_normal(5)
    for _ in range(4):
        f(x)
    assert express_of(f) is not None

    def through_the_object(k):
        scaled._factor = k
        return f(x)
    for k in (3.0, -1.5):
        assert_close(grad(through_the_object)(k), numpy.sum(numpy.tanh(x)))


def test_inputs_the_kernel_was_not_compiled_for():
    eager, jitted = grad(logistic), grad(logistic, jit=True)
    for _ in range(4):
        args = data(5)
        jitted(*args)
    assert express_of(jitted).__name__ == "express"  # arrays tested by the kernel
    for _ in range(3):
        w, X, y = data(5)
        X.setflags(write=False)  # read-only: another Numba type
        assert_close(jitted(w, X, y), eager(w, X, y))
        wide = numpy.asfortranarray(X)  # same shape, not C-contiguous
        assert_close(jitted(w, wide, y), eager(w, wide, y))
        w2, X2, y2 = data(5)
        assert_close(jitted(w2, X2, y2), eager(w2, X2, y2))
        # Refused once by Numba's dispatcher (~40 us): from then on the express
        # function tests the arrays in Python, sending such ones the general way.
        assert express_of(jitted).__name__ == "careful_express"
    for _ in range(3):  # the careful function runs as the object's own call (its front)
        w, X, y = data(5)
        assert_close(jitted(w, X, y), eager(w, X, y))
        wide = numpy.asfortranarray(X)
        assert_close(jitted(w, wide, y), eager(w, wide, y))
    w, X, y = data(5)
    assert_close(jitted(w, X, y), eager(w, X, y))
    assert jitted._front is express_of(jitted) and jitted._front.careful
    assert type(jitted).__dict__["__call__"].__func__ is jitted._fronts[jitted._front][0]


def test_wrong_number_of_arguments_raises_as_eager():
    jitted = grad(logistic, jit=True)
    args = data(5)
    for _ in range(4):
        jitted(*args)
    assert express_of(jitted) is not None
    with pytest.raises(TypeError, match="argument"):
        jitted(*args[:2])
    with pytest.raises(TypeError, match="argument"):
        jitted(*args, args[0])
    assert_close(jitted(*args), grad(logistic)(*args))


DATA = rng.standard_normal((12, 3))


def ignores_iteration(w, i):
    """autograd's optimizers call grad(objective)(params, i): many ignore i."""
    return np.sum(np.tanh(np.dot(DATA, w) - 1.0) ** 2)


def uses_iteration(w, i):
    k = i % 4
    return np.sum((np.dot(DATA[k * 3:(k + 1) * 3], w) - 1.0) ** 2) * 0.99 ** i


def test_an_iteration_number_nothing_reads_leaves_the_plan_whole():
    eager, jitted = grad(ignores_iteration), grad(ignores_iteration, jit=True)
    for i in list(range(6)) + [2 ** 70, -5]:  # (never passed to the kernel: any int)
        w = rng.standard_normal(3)
        assert_close(jitted(w, i), eager(w, i))
    assert express_of(jitted) is not None
    assert jitted.stats["traces"] == 1


def test_an_iteration_number_read_is_recognized_and_replayed():
    eager, jitted = grad(uses_iteration), grad(uses_iteration, jit=True)
    for i in list(range(10)) + [2 ** 70 + 1, 2 ** 70 + 2]:
        w = rng.standard_normal(3)
        assert_close(jitted(w, i), eager(w, i))
    assert jitted._cache.recent is not None  # an int is part of the recognized signature
    assert jitted.stats["hits"] > 0


# The front (express.py's front_function): from the second express hit on (here; from
# FRONT_AFTER_HITS calls by default), the jitted object's own __call__ runs the express
# function's test and replay itself.

@pytest.fixture(autouse=True)
def fronts_at_once(monkeypatch):
    import importlib
    monkeypatch.setattr(importlib.import_module("jitgrad.jit.jitted"), "FRONT_AFTER_HITS", 1)


def front_of(jitted):
    call = type(jitted).__dict__.get("__call__")
    return call.__func__ if isinstance(call, staticmethod) else None


def test_the_front_replays_against_eager():
    eager, jitted = grad(logistic), grad(logistic, jit=True)
    for call in range(8):
        args = data(5)
        assert_close(jitted(*args), eager(*args))
    assert front_of(jitted) is not None and front_of(jitted).__name__ == "jitted_call"
    assert isinstance(jitted, type(jit(logistic))) and repr(jitted) == repr(grad(
        logistic, jit=True))
    assert jitted.stats["hits"] == 7 and jitted.stats["traces"] == 1
    assert front_of(jit(logistic)) is None  # (another object: its class untouched)


def scaled_loss(w, X, a0=1.0):
    """A parameter named as the front's first (positional-only there)."""
    return a0 * np.sum(np.tanh(X @ w) ** 2)


def test_keyword_arguments_go_the_general_way():
    eager, jitted = grad(scaled_loss), grad(scaled_loss, jit=True)
    w, X, _ = data(4)
    for _ in range(5):
        assert_close(jitted(w, X), eager(w, X))
    assert front_of(jitted) is not None
    for k in (2.0, -0.5, 3.0):
        assert_close(jitted(w, X, a0=k), eager(w, X, a0=k))
        assert_close(jitted(w, X=X, a0=k), eager(w, X=X, a0=k))
        assert_close(jitted(w, X), eager(w, X))
    with pytest.raises(TypeError, match="argument"):
        jitted(w, X, bogus=1.0)


def test_a_cleared_cache_is_traced_again_through_the_front():
    eager, jitted = grad(logistic), grad(logistic, jit=True)
    for _ in range(5):
        args = data(5)
        assert_close(jitted(*args), eager(*args))
    assert front_of(jitted) is not None
    jitted.clear_cache()
    for _ in range(4):
        args = data(5)
        assert_close(jitted(*args), eager(*args))
    assert jitted.stats["traces"] == 2


def test_a_front_serves_its_signature_until_it_leaves_the_cache():
    """Another signature served last does not stop a front (its test and the compiled
    function's recognize its own signature's calls); the signature dropped from the
    cache (least recently used, past the bound) does: its calls are traced again."""
    eager, jitted = grad(logistic), grad(logistic, jit=True)
    jitted._max_signatures = 2
    for _ in range(5):
        jitted(*data(5))
    entry = jitted._cache.recent
    assert jitted._front is entry.express
    jitted(*data(6))
    jitted(*data(6))
    assert jitted._cache.recent is not entry and jitted._front is entry.express
    served = entry.served()
    args = data(5)
    assert_close(jitted(*args), eager(*args))
    assert entry.served() == served + 1 and sum(t.n for t in entry.tallies) == 1
    for features in (6, 7):  # 5, the least recently used, dropped
        for _ in range(3):
            args = data(features)
            assert_close(jitted(*args), eager(*args))
    assert all(paths is not entry for paths in jitted._cache.values())
    traces = jitted.stats["traces"]
    for _ in range(3):
        args = data(5)
        assert_close(jitted(*args), eager(*args))
    assert entry.served() == served + 1 and jitted.stats["traces"] == traces + 1


SCALE = 2.0


def scaled_by_global(w, X, y):
    return SCALE * logistic(w, X, y)


def test_a_rebound_global_is_read_through_the_front():
    global SCALE
    eager, jitted = grad(scaled_by_global), grad(scaled_by_global, jit=True)
    try:
        for value in (2.0, 3.0, -1.0, 2.0):
            SCALE = value
            for _ in range(5):
                args = data(5)
                assert_close(jitted(*args), eager(*args))
            assert front_of(jitted) is not None
    finally:
        SCALE = 2.0


def test_alternating_signatures_switch_fronts():
    eager, jitted = grad(logistic), grad(logistic, jit=True)
    for call in range(24):  # two calls of one signature, two of the other, ...
        args = data(5 if call // 2 % 2 else 7)
        assert_close(jitted(*args), eager(*args))
    assert front_of(jitted) is not None
    assert len(jitted._fronts) == 2


def served_by_its_front():
    """A jitted logistic loss served by its front, and a function of a scalar ``s``
    calling a given loss on scaled weights (differentiated: a transformation open)."""
    jitted = jit(logistic)
    w, X, y = data(5)
    for _ in range(5):
        jitted(w, X, y)
    assert front_of(jitted) is not None

    def through(s, call):
        return call(w * s, X, y) ** 2
    return jitted, through


def test_signatures_cycling_past_the_fronts_kept():
    import importlib
    jitted_module = importlib.import_module("jitgrad.jit.jitted")
    eager, jitted = grad(logistic), grad(logistic, jit=True)
    features = range(3, 3 + jitted_module.MAX_FRONTS + 2)
    for _ in range(8):
        for f in features:  # two calls of each signature in turn
            for _ in range(2):
                args = data(f)
                assert_close(jitted(*args), eager(*args))
    assert jitted._fronts_made == jitted_module.MAX_FRONTS_MADE  # (then no more made)


def test_a_transformation_open_runs_past_the_front():
    jitted, through = served_by_its_front()
    for s in (0.5, 2.0, -1.0):
        assert_close(grad(through)(s, jitted), grad(through)(s, logistic))


def test_a_copy_of_a_jitted_object_with_a_front():
    import copy
    import pickle

    jitted = grad(logistic, jit=True)
    for _ in range(5):
        jitted(*data(5))
    assert front_of(jitted) is not None
    for made in (copy.deepcopy(jitted), copy.copy(jitted), pickle.loads(pickle.dumps(
            jitted))):
        assert front_of(made) is None  # a new object: traced anew, its own front later
        for _ in range(5):
            args = data(5)
            assert_close(made(*args), grad(logistic)(*args))
    made = type(jitted)(grad(scaled_loss))  # made from its class: another function's
    assert type(made) is type(jit(logistic)) and front_of(made) is None
    w, X, _ = data(4)
    for _ in range(5):
        assert_close(made(w, X), grad(scaled_loss)(w, X))
        args = data(5)
        assert_close(jitted(*args), grad(logistic)(*args))


def test_a_front_is_made_after_many_calls(monkeypatch):
    import importlib
    monkeypatch.setattr(importlib.import_module("jitgrad.jit.jitted"), "FRONT_AFTER_HITS",
                        20)
    eager, jitted = grad(logistic), grad(logistic, jit=True)
    for call in range(30):
        args = data(5)
        assert_close(jitted(*args), eager(*args))
        assert (front_of(jitted) is not None) == (call >= 20)
    for _ in range(3):  # an object made anew: served by the shared plans, no front yet
        made = grad(logistic, jit=True)
        args = data(5)
        assert_close(made(*args), eager(*args))
        assert front_of(made) is None


def test_a_jitted_object_with_a_front_is_freed():
    import gc
    import weakref
    jitted = grad(logistic, jit=True)
    for _ in range(5):
        jitted(*data(5))
    assert front_of(jitted) is not None
    alive = weakref.ref(jitted)
    del jitted
    gc.collect()
    assert alive() is None


def test_threads_calling_one_jitted_object():
    from concurrent.futures import ThreadPoolExecutor
    eager, jitted = grad(logistic), grad(logistic, jit=True)
    inputs = [data(5 if k % 3 else 7) for k in range(120)]

    def call(args):  # (reading the stats moves the fronts' tallies, made meanwhile)
        return jitted(*args), jitted.stats["hits"]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(call, inputs))
    for args, (result, hits) in zip(inputs, got):
        assert_close(result, eager(*args))
        assert 0 <= hits <= len(inputs)


def test_transformations_open_in_other_threads():
    """The front looks at its thread's trace levels only while some thread has one
    open (core.open_levels): calls inside and outside transformations, in threads at
    once, each get what eager gives."""
    from concurrent.futures import ThreadPoolExecutor
    jitted, through = served_by_its_front()

    def task(k):
        if k % 2:  # a transformation open in this thread: the jitted call runs Python
            return grad(through)(0.5 + k / 40, jitted), grad(through)(0.5 + k / 40,
                                                                       logistic)
        args = data(5)
        return jitted(*args), logistic(*args)

    with ThreadPoolExecutor(4) as pool:
        for got, expected in pool.map(task, range(80)):
            assert_close(got, expected)
    from jitgrad.trace import core
    assert core.open_levels[0] == 0  # every level opened was closed


def test_calls_served_by_fronts_are_counted_once():
    """A front counts its calls in a tally of its own, moved to its object's stats and
    its signature's hits when they are read (``served()`` adds the tallies' calls): as
    exact as the general call's counts, also for two objects sharing one signature's
    plans, and after one of them is gone."""
    import gc
    first, second = jit(logistic), jit(logistic)  # (one function: plans shared)
    args = data(5)
    for _ in range(6):
        first(*args)
        second(*args)
    assert front_of(first) is not None and front_of(second) is not None
    entry = first._cache.recent
    assert entry is second._cache.recent and len(entry.tallies) == 2
    hits = first.stats["hits"], second.stats["hits"], entry.served()
    assert hits[2] == hits[0] + hits[1]
    for _ in range(10):
        first(*args)
    for _ in range(5):
        second(*args)
    assert entry.served() == hits[2] + 15  # (counted in the tallies: not moved yet)
    assert first.stats["hits"] == hits[0] + 10 and second.stats["hits"] == hits[1] + 5
    assert entry.hits == hits[2] + 15  # (moved by reading the stats)
    for _ in range(7):
        first(*args)
    del first
    gc.collect()
    assert entry.hits == entry.served() == hits[2] + 22 and len(entry.tallies) == 1
