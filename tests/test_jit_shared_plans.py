"""Plans outlive the jitted object: one made anew for the same function (same code,
same closure contents, same globals read) reuses the plans traced before; a different
closure, or a global rebound or changed since, does not."""
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


def test_an_operator_over_captured_data_rebuilt_in_a_loop_traces_once():
    W = numpy.random.randn(4, 4)
    traces = 0
    for k in range(5):
        jac = jacobian(lambda y: layer(y, W), jit=True)
        y = numpy.random.randn(4)
        for _ in range(2):  # (a signature's first call runs eagerly, the second traces)
            assert_allclose(jac(y), jacobian(layer)(y, W), rtol=1e-12)
        traces += jac.stats["traces"]
    assert traces == 1


def test_a_closure_over_new_data_per_step_reads_no_bytes(monkeypatch):
    """grad(lambda w: loss(w, Xb)) made anew per minibatch: no stored key can name the
    new batch, so its bytes are not checksummed (28 us per 100 kB per step)."""
    from jitgrad.jit import function_key as keys
    checksums = []
    real = keys._checksum
    monkeypatch.setattr(keys, "_checksum", lambda a: checksums.append(a) or real(a))
    X, w = numpy.random.randn(40, 3), numpy.ones(3)
    for step in range(4):
        Xb = X[step * 10:(step + 1) * 10]
        f = lambda v: np.sum(np.dot(Xb, v) ** 2)  # noqa: E731
        assert_allclose(jit(grad(f), trace_after=1)(w), grad(f)(w), rtol=1e-12)
    assert checksums == []  # (called once, each ran eagerly: nothing to share)


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


_DATA = numpy.ones(3)
_SCALE = 2.0


def _loss_of_globals(w):
    return np.sum(_SCALE * (_DATA * w) ** 2)


def _loss_through_a_helper(w):
    return _loss_of_globals(w) + np.sum(logsumexp(w))


from jitgrad.scipy.special import logsumexp  # noqa: E402  (a primitive read as a global)


@pytest.mark.parametrize("loss", [_loss_of_globals, _loss_through_a_helper])
def test_a_new_jitted_object_sees_globals_rebound_or_changed_since(loss, monkeypatch):
    """A loss reading module-level data: the plans of a jitted object made before the
    data changed are not handed to one made after (they hold the old data)."""
    w = numpy.array([0.5, -1.0, 2.0])
    datasets = [numpy.ones(3), numpy.array([1.0, 2.0, 3.0]), None, None]
    for k, data in enumerate(datasets):
        if data is not None:
            monkeypatch.setitem(globals(), "_DATA", data)  # rebound
        elif k == 2:
            _DATA[:] = [4.0, 5.0, 6.0]  # changed in place
        else:
            monkeypatch.setitem(globals(), "_SCALE", 3.0)  # a number rebound
        jitted = grad(loss, jit=True)
        for call in range(3):  # the first call, then the trace and a replay
            x = w + call
            assert_allclose(jitted(x), grad(loss)(x), rtol=1e-12, atol=0)


def test_functions_reading_unchanged_globals_still_share_plans():
    w = numpy.array([0.5, -1.0, 2.0])
    traces = 0
    for k in range(4):
        jitted = jit(grad(_loss_through_a_helper), trace_after=0)
        assert_allclose(jitted(w + k), grad(_loss_through_a_helper)(w + k), rtol=1e-12)
        traces += jitted.stats["traces"]
    assert traces == 1


def test_plans_of_a_closure_over_an_array_go_with_the_array():
    """A shared entry keyed by a captured array's identity can never match once the
    array is gone, and its plans hold a copy of it: it is dropped with the array
    (before, up to 128 such entries stayed, each holding its data)."""
    import gc
    before = len(jitted_module._shared_plans)
    for k in range(5):
        data = numpy.full(1000, float(k))
        gradient = grad(lambda w: np.sum(data * w ** 2), jit=True)
        for call in range(3):
            assert_allclose(gradient(numpy.ones(1000) * call), 2.0 * k * call)
        del gradient, data
        gc.collect()
    assert len(jitted_module._shared_plans) <= before + 1  # (the last, dropped at the next)


def test_a_closure_array_dying_while_the_plan_lock_is_held_does_not_deadlock():
    """The finalizer that drops a dead array's entry may run at any allocation, inside
    the shared-plans lock too (it took that lock itself: the test suite hung)."""
    import subprocess
    import sys
    program = """if True:
        import gc, numpy
        import jitgrad.numpy as np
        from jitgrad import grad
        from jitgrad.jit import jitted
        data = numpy.ones(10)
        g = grad(lambda w: np.sum(data * w ** 2), jit=True)
        g(numpy.ones(10))
        del g
        with jitted._shared_lock:
            del data
            gc.collect()
        grad(lambda w: np.sum(w ** 3), jit=True)(numpy.ones(3))  # takes the lock again
        print("done")
    """
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                         timeout=120)
    assert run.stdout.strip() == "done", run.stderr


# -- rebinding between calls of one jitted object ----------------------------------
batch = numpy.ones(3)


def batch_loss(w):
    return np.sum((batch * w - 1.0) ** 2)


def test_a_global_rebound_between_calls_is_read_anew():
    """A training loop assigning the next minibatch to a global: each call computes
    with the batch bound at that call, as eagerly (the plans used to keep the first)."""
    global batch
    rng = numpy.random.RandomState(0)
    batches = [rng.randn(3) for _ in range(4)]
    jitted, w = jit(grad(batch_loss), trace_after=0), numpy.ones(3)
    with pytest.warns(UserWarning, match="reads 'batch', which has been rebound 3 times"):
        for epoch in range(3):
            for b in batches:
                batch = b
                assert_allclose(jitted(w), grad(batch_loss)(w), rtol=1e-12)
    assert jitted.stats["traces"] == 4  # one per batch, replayed in later epochs
    batch = numpy.ones(3)


def test_a_closure_variable_rebound_between_calls_is_read_anew():
    scale = 2.0
    jitted = jit(lambda x: x * scale, trace_after=0)
    with pytest.warns(UserWarning, match="reads 'scale', which has been rebound 3 times"):
        for k in range(4):
            assert jitted(1.5) == 1.5 * scale
            assert jitted(2.5) == 2.5 * scale
            scale = scale + 1.0  # a new float object: the closure cell is rebound
    assert jitted._rebinds == 3  # (the last rebinding is after the last call)


def test_an_array_changed_in_place_stays_the_traced_constant():
    """The footgun kept (README, footgun 1): in place, the binding is the same."""
    data = numpy.ones(2)
    jitted = jit(lambda x: np.sum(data * x), trace_after=0)
    assert jitted(numpy.ones(2)) == 2.0
    data[:] = 3.0
    assert jitted(numpy.ones(2)) == 2.0


def test_a_variable_read_by_a_primitives_body_is_read_live_without_a_new_trace():
    """A primitive's body runs at every replay, seeing its variables as they are then:
    rebinding one is no reason to trace again (autograd's test_const_graph_args)."""
    from jitgrad.extend import primitive
    seen = []

    @primitive
    def tag(value, name):
        seen.append(name)
        return value

    jitted = jit(lambda x: tag(x, "x") * 2.0, trace_after=0)
    for k in range(3):
        seen = []  # rebound: the replay's body appends to the new list
        assert jitted(float(k)) == 2.0 * k
        assert seen == ["x"]
    assert jitted.stats["traces"] == 1


def test_an_operator_rebuilt_at_every_call_reaches_its_trace(monkeypatch):
    """jacobian(layer) made anew on every evaluation of an ODE's right side, layer a
    closure over arrays no stored key names yet, each object called once, at the
    default tiers (a signature's first trace waits for its eager calls to pay for it):
    the objects share one plan cache from the second on, so the eager calls add up and
    the function is traced once, then replayed (each against eager, new values).
    Before, each object had a cache of its own, never traced: 14% slower than eager."""
    monkeypatch.delenv("JITGRAD_TRACE_AFTER", raising=False)
    W, b = numpy.random.randn(5, 5) / 3, numpy.random.randn(5)

    def tanh_layer(y):
        return np.tanh(np.dot(y, W) + b)
    made = []
    for call in range(jitted_module.MAX_CALLS_BEFORE_TRACE + 20):
        y = numpy.random.randn(5)
        jac = jacobian(tanh_layer, jit=True)
        assert_allclose(jac(y), jacobian(tanh_layer)(y), rtol=1e-12, atol=1e-15)
        made.append(jac)
    assert sum(jac.stats["traces"] for jac in made) == 1
    assert sum(jac.stats["hits"] for jac in made) >= 20
    assert all(jac._cache is made[1]._cache for jac in made[1:])


def test_an_unseen_key_matches_only_the_arrays_it_was_made_with():
    """The key of arrays no stored key names is their identity: a weak reference to
    each tells an array that took a dead one's identity apart (no shared plans)."""
    key = ("a key naming arrays by identity",)
    a = numpy.ones(3)
    first = jitted_module._share_unseen(key, [a])
    assert jitted_module._share_unseen(key, [a]) is first
    assert jitted_module._share_unseen(key, [numpy.ones(3)]) is not first
    second = jitted_module._share_unseen(key, [a])  # (the latest made under the key)
    del a
    assert jitted_module._share_unseen(key, [numpy.ones(3)]) is not second
