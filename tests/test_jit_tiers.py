"""The jit's tiers: a signature's first calls (and a new path's first sightings) run
eagerly, the next one traces, later ones replay; a plan fuses once fusing has been
paid for. Each replay is compared with eager on new values."""
import warnings

import numpy
import pytest
from numpy.testing import assert_allclose

import jitgrad.numpy as np
from jitgrad import grad, jit
from jitgrad.jit import jitted as jitted_module
from jitgrad.misc.optimizers import adam

pytestmark = pytest.mark.eager_only  # compares jit=True with eager itself


def loss(w, x):
    return np.sum(np.tanh(w * x) ** 2) + np.sum(w ** 3)


def test_the_first_call_runs_eagerly_the_second_traces_later_ones_replay():
    jitted = grad(loss, jit=True)
    jitted.trace_after = 1
    x = numpy.linspace(-1.0, 1.0, 5)
    for k, w in enumerate(numpy.random.randn(5, 5)):
        assert_allclose(jitted(w, x), grad(loss)(w, x), rtol=1e-12)
        expected = {"eager_calls": 1, "traces": int(k >= 1), "hits": max(0, k - 1)}
        assert {key: jitted.stats[key] for key in expected} == expected


def test_by_default_a_new_signature_traces_once_its_eager_calls_paid(monkeypatch):
    """Rent or buy (jit/trace_cost.py): the signature runs eagerly for as many calls as
    its trace is estimated to cost (here pinned to 7: the estimate is timed), then
    traces once; every call gives eager's answer."""
    monkeypatch.delenv("JITGRAD_TRACE_AFTER", raising=False)
    estimates = []

    def seven_calls(seconds, steps):
        estimates.append((seconds, steps))
        return 7
    monkeypatch.setattr(jitted_module, "calls_paying_for_trace", seven_calls)
    jitted = grad(loss, jit=True)
    x = numpy.linspace(-1.0, 1.0, 5)
    for k in range(12):
        w = numpy.random.randn(5)
        assert_allclose(jitted(w, x), grad(loss)(w, x), rtol=1e-12)
        assert jitted.stats["traces"] == int(k >= 7)
    assert jitted.stats["eager_calls"] == 7 and jitted.stats["hits"] == 4
    seconds, steps = estimates[-1]
    assert seconds > 0 and steps >= 8  # forward and backward primitive calls, counted


def test_a_small_function_waits_longer_than_a_large_one():
    from jitgrad.jit.trace_cost import calls_paying_for_trace
    # (eager seconds, primitive calls) measured: logistic regression 100x10, fluidsim
    small, large = calls_paying_for_trace(0.33e-3, 21), calls_paying_for_trace(0.47, 15264)
    assert small >= 5 and large <= 2
    assert calls_paying_for_trace(0.33e-3, 210) > small  # more steps to record, longer


def test_by_default_a_large_function_traces_once_two_calls_timed_it(monkeypatch):
    """Its trace costs about one eager call: nothing to wait for but a second, warm,
    eager call (the first is cold). (Arithmetic only: eager's bits at any size.)"""
    monkeypatch.delenv("JITGRAD_TRACE_AFTER", raising=False)

    def large(w, x):
        return np.sum((w * x - 0.5) ** 2) + np.sum(w ** 3)
    jitted = grad(large, jit=True)
    x = numpy.linspace(-1.0, 1.0, 10 ** 6)
    for k in range(4):
        w = numpy.random.randn(10 ** 6)
        assert_allclose(jitted(w, x), grad(large)(w, x), rtol=1e-12)
    assert jitted.stats["eager_calls"] == 2 and jitted.stats["traces"] == 1
    assert jitted.stats["hits"] == 1


@pytest.mark.parametrize("how", ["environment", "argument"])
def test_trace_after_given_is_kept_as_given(how, monkeypatch):
    if how == "environment":
        monkeypatch.setenv("JITGRAD_TRACE_AFTER", "1")
        jitted = grad(loss, jit=True)
    else:
        monkeypatch.delenv("JITGRAD_TRACE_AFTER", raising=False)
        jitted = jit(grad(loss), trace_after=1)
    x = numpy.linspace(-1.0, 1.0, 5)
    for w in numpy.random.randn(4, 5):
        assert_allclose(jitted(w, x), grad(loss)(w, x), rtol=1e-12)
    assert jitted.stats["eager_calls"] == 1 and jitted.stats["traces"] == 1


def test_shapes_called_a_few_times_each_stop_being_traced(monkeypatch):
    """Data growing by a point per round, three calls per size: once four traces served
    fewer than 8 calls each, a new shape runs eagerly 8 times before it traces (a trace
    costs 6-8 eager calls: tracing each shape made such a program 2-3x slower)."""
    monkeypatch.setenv("JITGRAD_TRACE_AFTER", "1")
    jitted = grad(loss, jit=True)
    for n in range(3, 15):
        for _ in range(3):
            w, x = numpy.random.randn(n), numpy.random.randn(n)
            assert_allclose(jitted(w, x), grad(loss)(w, x), rtol=1e-12)
    assert jitted.stats["traces"] == 4
    for k in range(12):  # a shape that comes often still traces, after 8 eager calls
        w, x = numpy.random.randn(20), numpy.random.randn(20)
        assert_allclose(jitted(w, x), grad(loss)(w, x), rtol=1e-12)
    assert jitted.stats["traces"] == 5 and jitted.stats["hits"] == 4 * 1 + 3


def test_a_function_called_once_never_traces():
    jitted = jit(loss, trace_after=1)
    assert_allclose(jitted(numpy.ones(3), numpy.ones(3)), loss(numpy.ones(3), numpy.ones(3)))
    assert jitted.stats["traces"] == 0 and jitted.stats["eager_calls"] == 1


def test_trace_after_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("JITGRAD_TRACE_AFTER", "2")
    jitted = grad(loss, jit=True)
    assert jitted.trace_after == 2
    x = numpy.ones(4)
    for w in numpy.random.randn(4, 4):
        assert_allclose(jitted(w, x), grad(loss)(w, x), rtol=1e-12)
    assert jitted.stats["eager_calls"] == 2 and jitted.stats["traces"] == 1
    assert jitted.stats["hits"] == 1
    monkeypatch.setenv("JITGRAD_TRACE_AFTER", "not a number")
    assert jit(loss).trace_after == jitted_module.DEFAULT_TRACE_AFTER_CALLS


def test_operators_rebuilt_in_a_loop_share_their_first_calls():
    # An ODE right side building jacobian(f) per evaluation: the second object traces.
    traces = eager_calls = 0
    for k in range(4):
        jitted = grad(loss, jit=True)
        jitted.trace_after = 1
        w = numpy.random.randn(3)
        assert_allclose(jitted(w, numpy.ones(3)), grad(loss)(w, numpy.ones(3)), rtol=1e-12)
        traces += jitted.stats["traces"]
        eager_calls += jitted.stats["eager_calls"]
    assert eager_calls == 1 and traces == 1


def branchy(x):
    s = np.sum(x)
    if s > 1:
        return np.sum(x ** 2)
    return np.sum(np.sin(x))


def test_a_new_path_runs_eagerly_when_first_seen_and_traces_when_seen_again():
    # trace_after given: no judgement of what traces cost (see the tests below)
    jitted = jit(grad(branchy), trace_after=1)
    signs = [1.0, 1.0, -1.0, 1.0, -1.0, -1.0, 1.0, -1.0]
    for sign in signs:
        x = sign * numpy.random.rand(3) + sign  # sum > 1 when positive, < 0 when not
        assert_allclose(jitted(x), grad(branchy)(x), rtol=1e-12)
    # Calls: eager (first), trace, replay, eager (new path), replay, trace, replays.
    assert jitted.stats["eager_calls"] == 2 and jitted.stats["traces"] == 2
    assert jitted.stats["hits"] == 4


def test_a_path_never_taken_twice_is_never_traced():
    f = lambda x: x * int(x * 1e6)  # int() guards the number: a new one each call
    jitted = jit(f, trace_after=1)
    rng = numpy.random.RandomState(1)
    # (either judgement may end it: new paths on most calls, or replays thrown away)
    with pytest.warns(UserWarning, match="runs eagerly for these argument types"):
        for _ in range(jitted_module.MAX_NEW_PATHS + 5):
            x = rng.rand()
            assert_allclose(jitted(x), f(x))
    assert jitted.stats["traces"] == 1 and jitted.stats["fallbacks"] == 1


class _Held:
    """Data in a class attribute: a plain array while traced (arrays bound to globals,
    closures and objects' own attributes are boxed, jit/captured_arrays.py, and
    sliced by the plan)."""
    data = numpy.random.RandomState(0).randn(60, 3)


HELD = _Held()


def minibatch_objective(w, i):
    """autograd's optimizer idiom over 20 minibatches of a plain array: NumPy asks for
    the slice's bounds, so each batch is a path of its own."""
    k = i % 20
    batch = HELD.data[k * 3:(k + 1) * 3]
    return np.sum((np.dot(batch, w) - 1.0) ** 2) * 0.99 ** i


def no_waste_fallback(monkeypatch):
    """Failed replays never make the signature eager: what they waste is timed, and on
    a loaded machine that noise, not the policy under test, would decide."""
    monkeypatch.setattr(jitted_module, "MAX_WASTED_FRACTION", float("inf"))
    monkeypatch.setattr(jitted_module, "MAX_WASTED_FRACTION_NEW_PATHS", float("inf"))


@pytest.mark.parametrize("trace_after", [0, 1])
def test_more_minibatches_than_the_old_eight_paths_keep_their_plans(trace_after, monkeypatch):
    no_waste_fallback(monkeypatch)
    jitted = grad(minibatch_objective, jit=True)
    jitted.trace_after = trace_after
    w = numpy.ones(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "traced 11 times" names the slice bound
        for i in range(100):
            w = w - 0.01 * numpy.asarray(jitted(w, i))
            assert_allclose(jitted(w, i), grad(minibatch_objective)(w, i), rtol=1e-12)
    assert jitted.stats["traces"] == 20 and jitted.stats["fallbacks"] == 0
    assert jitted.stats["eager_calls"] == 20 * trace_after
    assert jitted.stats["hits"] >= 200 - 20 - 20 * trace_after


def test_adam_over_many_minibatches_matches_eager(monkeypatch):
    no_waste_fallback(monkeypatch)
    w0 = numpy.zeros(3)
    eager = adam(grad(minibatch_objective), w0, num_iters=60, step_size=0.05)
    jitted_grad = grad(minibatch_objective, jit=True)
    jitted_grad.trace_after = 1
    assert_allclose(adam(jitted_grad, w0, num_iters=60, step_size=0.05), eager, rtol=1e-10)
    assert jitted_grad.stats["fallbacks"] == 0 and jitted_grad.stats["hits"] >= 20


class _Plan:
    def __init__(self, n_steps, replay_seconds):
        self.n_steps, self.replay_seconds = n_steps, replay_seconds


@pytest.mark.parametrize("eager_seconds, replay_seconds, saved, due", [
    (None, 0.5, 0.0, False),   # not yet replayed for as long as fusing costs
    (None, 1.5, 0.0, True),    # eager's time unknown: replays as long as the cost
    (0.01, 1.5, 1.0, False),   # the jit has not saved twice the cost over eager
    (0.01, 1.5, 2.5, True),    # it has: fusing now still leaves it ahead of eager
    (0.01, 12.0, 0.0, True),   # fusion is the gain (nothing saved unfused): a tenth
])
def test_fusion_waits_until_it_has_been_paid_for(eager_seconds, replay_seconds, saved, due,
                                                 monkeypatch):
    monkeypatch.setattr(jitted_module, "_numba_start_seconds", lambda: 0.0)  # started
    jitted = jit(loss)
    jitted._fuse_after = 1.0
    entry = jitted_module._Paths()
    entry.eager_seconds = eager_seconds
    ledger = jitted_module._Ledger()
    ledger.saved = saved
    plan = _Plan(n_steps=40, replay_seconds=replay_seconds)
    assert jitted._fusion_due(entry, plan, ledger) is due
    assert ledger.cost == pytest.approx(1.0 + 40 / jitted_module.FUSION_STEPS_PER_SECOND)


def test_the_first_fusion_in_a_process_counts_numbas_start(monkeypatch):
    import sys
    jitted = jit(loss)
    jitted._fuse_after = 1.0
    costs = []
    for imported in (False, True):
        if imported:
            monkeypatch.setitem(sys.modules, "numba", sys.modules.get("numba", object()))
        else:
            monkeypatch.delitem(sys.modules, "numba", raising=False)
        ledger = jitted_module._Ledger()
        jitted._fusion_due(jitted_module._Paths(), _Plan(40, 0.0), ledger)
        costs.append(ledger.cost)
    assert costs[0] == pytest.approx(costs[1] + jitted_module.NUMBA_START_SECONDS)


def test_a_bigger_plan_waits_longer_before_fusing(monkeypatch):
    monkeypatch.setattr(jitted_module, "_numba_start_seconds", lambda: 0.0)
    jitted = jit(loss)
    jitted._fuse_after = 1.0
    entry = jitted_module._Paths()
    small, big = _Plan(40, 2.0), _Plan(20000, 2.0)
    assert jitted._fusion_due(entry, small, jitted_module._Ledger())
    assert not jitted._fusion_due(entry, big, jitted_module._Ledger())


def test_plans_fuse_after_their_replays_have_paid_and_still_match_eager(monkeypatch):
    monkeypatch.setenv("JITGRAD_FUSE_AFTER", "1e-9")
    monkeypatch.setenv("JITGRAD_TRACE_AFTER", "1")
    f = lambda x: np.sum((x * 2.0 + 1.0) * (x - 3.0) / (x * x + 1.0))
    jitted = grad(f, jit=True)
    for x in numpy.random.randn(6, 5000):
        assert_allclose(jitted(x), grad(f)(x), rtol=1e-12)
    (plan,) = list(jitted._cache.values())[0]
    assert plan.fused and jitted.stats["eager_calls"] == 1 and jitted.stats["traces"] == 1


def test_explain_traces_a_signature_the_tiers_would_run_eagerly(capsys):
    jitted = grad(loss, jit=True)
    jitted.trace_after = 1
    w, x = numpy.random.randn(3), numpy.ones(3)
    text = jitted.explain(w, x)
    assert "graph:" in text and "plan:" in text and jitted.stats["traces"] == 1
    for w in numpy.random.randn(2, 3):  # replays of the plan explain traced
        assert_allclose(jitted(w, x), grad(loss)(w, x), rtol=1e-12)
    assert jitted.stats["hits"] == 2 and jitted.stats["eager_calls"] == 0


def test_a_copy_keeps_a_given_trace_after_and_reads_the_environment_otherwise(monkeypatch):
    import copy
    import pickle
    given = jit(numpy.sin, trace_after=3)
    monkeypatch.setenv("JITGRAD_TRACE_AFTER", "2")
    assert pickle.loads(pickle.dumps(given)).trace_after == 3
    assert copy.deepcopy(given).trace_after == 3
    from_environment = jit(numpy.cos)
    monkeypatch.setenv("JITGRAD_TRACE_AFTER", "5")
    assert pickle.loads(pickle.dumps(from_environment)).trace_after == 5


class _QuickPlan(_Plan):
    fused = False

    def __call__(self, leaves):
        return sum(leaves)


def test_a_replay_is_credited_at_most_its_own_time_against_eager():
    # The eager call timed is a signature's first (warm-up included): crediting each
    # replay with all of its difference would fuse plans that never earn it back.
    jitted = jit(loss)
    jitted._fuse_after = 1e9
    entry = jitted_module._Paths()
    entry.eager_seconds = 10.0
    plan = _QuickPlan(n_steps=10, replay_seconds=0.0)
    for _ in range(5):
        assert jitted._replay_unfused(entry, plan, [1.0, 2.0]) == 3.0
    ledger = jitted_module._ledger(plan)
    assert 0.0 < ledger.saved <= plan.replay_seconds < 1.0


U = numpy.random.RandomState(5).randn(4, 3)


def fixed_point_loss(W, x):
    """A layer iterated until it converges: the iteration count (a path) depends on
    the values, and a new one comes on most calls."""
    z, change = np.zeros(4), 1.0
    while change > 1e-10:
        new = np.tanh(np.dot(W, z) + np.dot(U, x))
        change = np.max(np.abs(new - z))
        z = new
    return np.sum(z ** 2)


def test_paths_that_do_not_pay_their_traces_are_traced_later(monkeypatch):
    """Once a signature's two traces served fewer than 8 calls each, a new path (not
    one named by an index Python needed) runs eagerly 8 times before it traces: every
    iteration count of a convergence loop was traced at its second sighting (9 traces
    in 25 calls, 2x eager's time)."""
    monkeypatch.setenv("JITGRAD_TRACE_AFTER", "1")
    no_waste_fallback(monkeypatch)
    rng = numpy.random.RandomState(17)
    W = 0.3 * rng.randn(4, 4)
    jitted = grad(fixed_point_loss, jit=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(25):
            x = rng.randn(3)
            assert_allclose(jitted(W, x), grad(fixed_point_loss)(W, x), rtol=1e-12)
            W = W - 0.05 * grad(fixed_point_loss)(W, x)
    assert jitted.stats["traces"] <= 4
    (entry,) = jitted._cache.values()
    # 8 sightings at least (what a trace costs in eager calls may ask for more)
    assert 8 <= jitted._sightings_before_trace(entry, index_guard=False) <= \
        jitted_module.MAX_PATH_SIGHTINGS
    assert jitted._sightings_before_trace(entry, index_guard=True) == 1


@pytest.mark.parametrize("setting", [None, "1"])
def test_minibatch_paths_wait_for_their_trace_to_pay_by_default(setting, monkeypatch):
    """A path named by an index Python needed (minibatch i of a plain array) is traced
    at its second sighting where trace_after is set; by default it waits, as other
    paths do, until its sightings would have paid for its trace (k - 1 epochs)."""
    if setting is None:
        monkeypatch.delenv("JITGRAD_TRACE_AFTER", raising=False)
    else:
        monkeypatch.setenv("JITGRAD_TRACE_AFTER", setting)
    no_waste_fallback(monkeypatch)
    jitted = grad(minibatch_objective, jit=True)
    w = numpy.ones(3)
    for i in range(50):  # 20 minibatches: each seen two or three times
        assert_allclose(jitted(w, i), grad(minibatch_objective)(w, i), rtol=1e-12)
    (entry,) = jitted._cache.values()
    entry.trace_seconds, entry.eager_seconds = 0.010, 0.001  # a trace: 10 eager calls
    expected = 9 if setting is None else 1
    assert jitted._sightings_before_trace(entry, index_guard=True) == expected


def taylor_sin(x):
    """autograd's examples/sinusoid.py: a series summed until a term is small, so
    the iteration count (a path) changes with x."""
    term, total = x, x
    for i in range(1000):
        term = -term * x ** 2 / ((2 * i + 3) * (2 * i + 2))
        total = total + term
        if np.abs(term) < 0.2:
            break
    return total


def test_a_new_path_waits_until_its_calls_would_have_paid_its_trace(monkeypatch):
    """Tracing this scalar loop costs many eager calls, and nearly every x takes a new
    iteration count: once the first trace's cost is known, a new path runs eagerly
    until its sightings would have paid for tracing it (three traces in 100 calls
    made them 1.5x slower than eager)."""
    monkeypatch.setenv("JITGRAD_TRACE_AFTER", "1")
    jitted = grad(taylor_sin, jit=True)
    xs = numpy.linspace(-10.0, 10.0, 60)
    for k, x in enumerate(list(xs) + list(xs[:10])):  # the first ten paths come again
        assert jitted(x) == grad(taylor_sin)(x)
        if k == 1:  # traced: what a trace costs is known
            (entry,) = jitted._cache.values()
            assert entry.trace_seconds / entry.eager_seconds > 3  # (the case in point)
            assert jitted._sightings_before_trace(entry, index_guard=False) > 1
    # (the waste judgement may end it eagerly later: its replays fail at a guard)
    assert jitted.stats["traces"] <= 2


def test_replays_thrown_away_past_half_of_eagers_time_run_the_signature_eagerly(
        monkeypatch):
    monkeypatch.setenv("JITGRAD_TRACE_AFTER", "1")
    monkeypatch.setattr(jitted_module, "MAX_WASTED_FRACTION", 0.0)  # any waste counts
    monkeypatch.setattr(jitted_module, "MAX_WASTED_FRACTION_NEW_PATHS", 0.0)

    def f(x, n):
        total = 0.0
        for k in range(int(n)):  # a path per count; the plans fail late
            total = total + np.sum(np.sin(x) * k)
        return total
    jitted = jit(f)
    x = numpy.linspace(0.0, 1.0, 4)
    with pytest.warns(UserWarning, match="the work they threw away cost more than a quarter"):
        for n in [3.0, 3.0, 4.0, 4.0, 5.0, 5.0, 6.0, 6.0, 7.0, 7.0, 8.0, 8.0, 9.0]:
            assert jitted(x, n) == pytest.approx(f(x, n), rel=1e-12)
    assert jitted.stats["fallbacks"] == 1
    for n in (3.0, 10.0):  # eagerly from now on, as eager
        assert jitted(x, n) == pytest.approx(f(x, n), rel=1e-12)
