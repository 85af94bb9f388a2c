"""Loop rolling (jitgrad/jit/rolling.py): a traced Python loop's repeated blocks run
as one loop in the plan. Every case compares jitted replays (calls after the trace,
with new values) against eager, bitwise where no kernel reorders arithmetic, and
checks that the loop was in fact rolled, so a test cannot pass by not rolling."""
import os
import sys

import numpy
import pytest

import jitgrad.numpy as np
import jitgrad.numpy.random as npr
from jitgrad import grad, jit, value_and_grad
from jitgrad.jit import rolling

EXAMPLES = os.path.join(os.path.dirname(__file__), os.pardir, "examples")


@pytest.fixture(autouse=True)
def _small_loops_roll(monkeypatch):
    """Loops of a few nodes roll too (by default only those of 24 nodes and more)."""
    monkeypatch.setattr(rolling, "MIN_ROLLED_NODES", 8)
    monkeypatch.delenv("JITGRAD_ROLL", raising=False)
    # Plans replay step by step here, compared bit for bit with eager: a whole plan
    # (never a rolled one) computes transcendentals with kernels.vmath, a few ulp apart.
    monkeypatch.setenv("JITGRAD_WHOLE_PLAN", "0")


def plans(jitted):
    return [plan for entry in jitted._cache.values() if isinstance(entry, list)
            for plan in entry]


def the_plan(jitted):
    (plan,) = plans(jitted)
    return plan


def assert_same(a, b, exact=True):
    for x, y in zip(numpy.atleast_1d(a) if not isinstance(a, tuple) else a,
                    numpy.atleast_1d(b) if not isinstance(b, tuple) else b):
        if exact:
            numpy.testing.assert_array_equal(x, y)
        else:
            numpy.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-300)


def replays_match(jitted, eager, make_args, calls=3, exact=True):
    for k in range(calls):
        args = make_args(k)
        assert_same(jitted(*args), eager(*args), exact)


# -- carried state and invariants ---------------------------------------------------
def recurrence(n):
    def f(x, W, b):
        for _ in range(n):
            x = np.dot(W, x) * 0.5 + x * b - 0.25  # x carried; W, b invariant
        return np.sum(x * x)
    return f


def recurrence_args(k):
    rs = numpy.random.RandomState(k)
    return rs.randn(6), rs.randn(6, 6) * 0.3, rs.randn(6)


@pytest.mark.parametrize("n", [1, 2, 3, 12])
def test_a_carried_state_with_invariants_replays_as_eager(n):
    jitted = jit(recurrence(n))
    replays_match(jitted, recurrence(n), recurrence_args)
    rolled = the_plan(jitted).rolled
    assert rolled == ([] if n == 1 else [n]), the_plan(jitted).source


@pytest.mark.parametrize("n", [1, 2, 3, 12])
def test_gradients_through_loops_replay_as_eager(n):
    jitted = grad(recurrence(n), argnum=(0, 1, 2), jit=True)
    replays_match(jitted, grad(recurrence(n), argnum=(0, 1, 2)), recurrence_args)
    plan = the_plan(jitted)
    assert plan.rolled or n < 3
    if n >= 12:
        # The forward loop, and the backward pass's reversed loop reading its values.
        assert len(plan.rolled) >= 2 and min(plan.rolled) >= n - 2, plan.source
        assert "[None] * " in plan.source  # the forward loop's values kept for the backward


def test_rolling_off_gives_straight_line_plans_with_the_same_answers(monkeypatch):
    monkeypatch.setenv("JITGRAD_ROLL", "0")
    jitted = grad(recurrence(12), argnum=(0, 1, 2), jit=True)
    replays_match(jitted, grad(recurrence(12), argnum=(0, 1, 2)), recurrence_args)
    assert the_plan(jitted).rolled == [] and "for " not in the_plan(jitted).source


def test_a_first_value_also_read_on_every_turn_stays_alive():
    def f(x0, W):
        y = x0 * 2.0
        x = y
        for _ in range(6):
            x = np.dot(W, x) * 0.5 - y  # y: the first state, and an invariant
        return x

    def args(k):
        rs = numpy.random.RandomState(k)
        return rs.randn(4), rs.randn(4, 4)
    jitted = jit(f)
    replays_match(jitted, f, args)
    assert the_plan(jitted).rolled, the_plan(jitted).source


def test_kept_states_of_every_turn_are_returned_fresh():
    def trajectory(x, W):
        states = []
        for _ in range(6):
            x = np.dot(W, x) * 0.5 - x * 0.25
            states.append(x)
        return states  # each turn's value, not only the last

    def args(k):
        rs = numpy.random.RandomState(k)
        return rs.randn(5), rs.randn(5, 5)
    jitted = jit(trajectory)
    for k in range(3):
        got, want = jitted(*args(k)), trajectory(*args(k))
        assert len(got) == len(want)
        for a, b in zip(got, want):
            numpy.testing.assert_array_equal(a, b)
    assert the_plan(jitted).rolled == [6]


# -- guards inside the block --------------------------------------------------------
def branching(x, W):
    for _ in range(6):
        x = np.dot(W, x) * 0.5 + 0.1
        if np.sum(x) > 0:  # looked at on every turn: a guard per turn
            x = x * 0.75 - 1.0
        else:
            x = x + 2.0
    return x


def test_a_guard_in_the_block_is_checked_on_every_turn():
    W = numpy.eye(4)
    jitted = jit(branching)
    first = numpy.full(4, 1000.0)  # stays positive: every turn takes the first branch
    assert_same(jitted(first, W), branching(first, W))
    assert_same(jitted(first * 2.0, W), branching(first * 2.0, W))
    plan = the_plan(jitted)
    assert plan.rolled == [6] and plan.n_guards == 6, plan.source
    traces = jitted.stats["traces"]
    # Positive at first, the state turns negative at a later turn: not a stale answer.
    later = numpy.full(4, 30.0)
    assert_same(jitted(later, W), branching(later, W))
    assert jitted.stats["traces"] == traces + 1 and jitted.stats["guard_misses"] >= 1
    assert_same(jitted(later, W), branching(later, W))
    assert_same(jitted(first * 3.0, W), branching(first * 3.0, W))


def int_steered(x, W):
    for _ in range(5):
        x = np.dot(W, x) * 0.5
        shift = int(np.floor(np.sum(x)))  # a guard whose value differs from turn to turn
        x = x + 0 * shift - 0.5
    return x


def test_guards_seeing_another_value_on_each_turn_are_checked_per_turn():
    W = numpy.eye(3) * 1.5
    x = numpy.array([4.0, 2.0, 1.0])  # the turns see 5, 2, 0, -1, -2
    jitted = jit(int_steered)
    assert_same(jitted(x, W), int_steered(x, W))
    assert_same(jitted(x * 1.0001, W), int_steered(x * 1.0001, W))  # the same values
    assert the_plan(jitted).rolled == [5] and jitted.stats["hits"] == 1
    misses = jitted.stats["guard_misses"]
    # Only the third turn sees another value (1): caught there, traced anew.
    assert_same(jitted(x * 1.01, W), int_steered(x * 1.01, W))
    assert jitted.stats["guard_misses"] == misses + 1
    assert_same(jitted(x, W), int_steered(x, W))


# -- shapes of loops ------------------------------------------------------------------
def nested(x, W):
    for _ in range(4):
        for _ in range(5):
            x = np.dot(W, x) * 0.5 + x * 0.25
        x = x - np.mean(x)
    return np.sum(x ** 2)


def last_differs(x, W):
    n = 7
    for i in range(n):
        x = np.dot(W, x) * 0.5 + x * 0.25
        if i == n - 1:
            x = x * 2.0 + np.sum(x)  # the last turn does more
    return np.sum(x * x)


@pytest.mark.parametrize("f", [nested, last_differs])
def test_nested_loops_and_a_different_last_turn_replay_as_eager(f):
    def args(k):
        rs = numpy.random.RandomState(k)
        return rs.randn(4), rs.randn(4, 4) * 0.5
    jitted = jit(f)
    replays_match(jitted, f, args)
    assert the_plan(jitted).rolled, the_plan(jitted).source
    jitted_grad = grad(f, argnum=(0, 1), jit=True)
    replays_match(jitted_grad, grad(f, argnum=(0, 1)), args)
    assert len(the_plan(jitted_grad).rolled) >= 2, the_plan(jitted_grad).source


def test_random_draws_in_the_block_are_drawn_anew_in_order():
    def noisy(x, W):
        for _ in range(6):
            x = np.dot(W, x) * 0.5 + npr.randn(3) * 0.1
        return x
    rs = numpy.random.RandomState(1)
    W = rs.randn(3, 3)
    jitted = jit(noisy)
    for k in range(3):
        x = rs.randn(3)
        numpy.random.seed(k)
        got = jitted(x, W)
        numpy.random.seed(k)
        assert_same(got, noisy(x, W))
    assert the_plan(jitted).rolled == [6]


def test_arrays_fused_in_the_block_replay_as_eager(monkeypatch):
    monkeypatch.setenv("JITGRAD_FUSE", "1")  # about fusion: on even in a JITGRAD_FUSE=0 run
    monkeypatch.setenv("JITGRAD_FUSE_MIN_SIZE", "100")
    def fused(x, y):
        for _ in range(10):
            x = np.tanh(x * 0.5 + y) * 0.9 + x * 0.1
        return np.sum(x * x)

    def args(k):
        rs = numpy.random.RandomState(k)
        return rs.randn(300), rs.randn(300)
    jitted = grad(fused, argnum=(0, 1), jit=True)
    replays_match(jitted, grad(fused, argnum=(0, 1)), args, exact=False)
    plan = the_plan(jitted)
    assert len(plan.rolled) >= 2 and plan.n_kernels >= 2, plan.source
    # Kernels are found once per block: as many as for a loop of 3 turns.
    assert plan.n_kernels <= 8, plan.source


def test_a_rolled_plan_fused_later_replays_as_eager(monkeypatch):
    monkeypatch.setenv("JITGRAD_FUSE", "1")
    monkeypatch.setenv("JITGRAD_FUSE_AFTER", "1e9")  # built unfused, fused below
    monkeypatch.setenv("JITGRAD_FUSE_MIN_SIZE", "100")

    def f(x, y):
        for _ in range(8):
            x = np.tanh(x * 0.5 + y) * 0.9 + x * 0.1
        return np.sum(x * x)

    def args(k):
        rs = numpy.random.RandomState(k)
        return rs.randn(300), rs.randn(300)
    jitted, eager = grad(f, argnum=(0, 1), jit=True), grad(f, argnum=(0, 1))
    replays_match(jitted, eager, args, exact=False)
    plan = the_plan(jitted)
    assert plan.n_kernels == 0 and len(plan.rolled) >= 2
    plan.fuse()
    assert plan.n_kernels >= 2
    replays_match(jitted, eager, lambda k: args(k + 5), exact=False)


# -- what plans show --------------------------------------------------------------
def test_explain_reports_the_rolled_loops(capsys):
    jitted = grad(recurrence(12), argnum=(0, 1, 2), jit=True)
    text = jitted.explain(*recurrence_args(0))
    rolled = the_plan(jitted).rolled
    assert len(rolled) >= 2
    assert f"rolled: {len(rolled)} loops, {' + '.join(map(str, rolled))} repetitions" in text


def test_plans_call_primitives_by_name():
    jitted = jit(recurrence(1))
    jitted(*recurrence_args(0))
    source = the_plan(jitted).source
    assert "= dot(" in source and "= multiply(" in source, source


# -- the fluid simulation: flat in the number of steps -------------------------------
def fluidsim_loss(steps):
    sys.path.insert(0, EXAMPLES)
    try:
        import fluidsim
    finally:
        sys.path.remove(EXAMPLES)

    def loss(velocity, density, target):
        return fluidsim.loss(velocity, density, target, steps)
    return fluidsim, loss


def fluidsim_args(fluidsim, size, k):
    rs = numpy.random.RandomState(k)
    return (0.5 * rs.randn(2, size, size), fluidsim.blob(size, 0.5, 0.5, 0.1),
            fluidsim.ring(size, 0.25, 0.05))


def test_fluidsim_replays_as_the_straight_line_plan(monkeypatch):
    fluidsim, loss = fluidsim_loss(4)
    rolled = value_and_grad(loss, jit=True)
    for k in range(3):
        args = fluidsim_args(fluidsim, 12, k)
        value, gradient = rolled(*args)
        want_value, want_gradient = value_and_grad(loss)(*args)
        assert value == pytest.approx(want_value, rel=1e-12)
        numpy.testing.assert_allclose(gradient, want_gradient, rtol=1e-9, atol=1e-14)
    assert len(the_plan(rolled).rolled) >= 4


def test_fluidsim_plan_source_is_flat_in_the_number_of_steps(monkeypatch):
    monkeypatch.setenv("JITGRAD_FUSE", "0")  # the plan's own source, quickly
    sizes = {}
    for steps in (10, 100):
        fluidsim, loss = fluidsim_loss(steps)
        jitted = value_and_grad(loss, jit=True)
        args = fluidsim_args(fluidsim, 8, 0)
        value, _ = jitted(*args)
        assert value == pytest.approx(value_and_grad(loss)(*args)[0], rel=1e-12)
        sizes[steps] = len(the_plan(jitted).source)
    assert sizes[100] <= 1.5 * sizes[10], sizes


# -- per-turn values from outside: a Python int counting along the turns -------------
def rnn_like(params, text):
    W, U = params
    hidden = np.zeros(W.shape[0])
    total = 0.0
    for t in range(len(text) - 1):
        hidden = np.tanh(np.dot(W, hidden) + np.dot(U, text[t]))  # text[t]: t counts
        total = total + np.sum(np.dot(hidden, U) * text[t + 1])
    return total


def rnn_args(k):
    rs = numpy.random.RandomState(k)
    return (rs.randn(5, 5) * 0.4, rs.randn(5, 3)), rs.randn(9, 3)


def test_an_index_counting_along_the_turns_rolls_and_replays_as_eager():
    jitted = jit(rnn_like)
    replays_match(jitted, rnn_like, lambda k: rnn_args(k))
    plan = the_plan(jitted)
    assert plan.rolled and max(plan.rolled) >= 6, plan.source
    assert "_r0" in plan.source and " * _r" in plan.source
    jitted_grad = grad(rnn_like, jit=True)
    for k in range(3):
        for a, b in zip(jitted_grad(*rnn_args(k)), grad(rnn_like)(*rnn_args(k))):
            numpy.testing.assert_allclose(a, b, rtol=1e-12)
    assert len(the_plan(jitted_grad).rolled) >= 2, the_plan(jitted_grad).source


# -- random loops: carried states, invariants and kept values drawn at random --------
BODY_OPS = [
    lambda a, b: np.tanh(a * b),
    lambda a, b: a + b * 0.5,
    lambda a, b: a - b,
    lambda a, b: np.sin(a) * b,
    lambda a, b: a * 0.9,
    lambda a, b: np.cos(b) + np.sum(a) * 0.1,
]


def random_loop(seed):
    """A loop of ``turns`` turns over ``n_states`` carried arrays and ``n_invariants``
    invariant ones, its body a random chain of BODY_OPS; some turns' values are kept."""
    rs = numpy.random.RandomState(seed)
    n_states, n_invariants = rs.randint(1, 4), rs.randint(0, 3)
    turns = rs.randint(1, 9)
    body = [(rs.randint(len(BODY_OPS)), rs.randint(100), rs.randint(100))
            for _ in range(rs.randint(3, 9))]
    keep = rs.randint(0, 3)  # 0: only the end; 1: one value of every turn; 2: every other turn

    def f(*args):
        states, invariants = list(args[:n_states]), list(args[n_states:])
        kept = []
        for t in range(turns):
            values = states + invariants
            for op, i, j in body:
                values.append(BODY_OPS[op](values[i % len(values)], values[j % len(values)]))
            states = [values[-1 - k] for k in range(n_states)]
            if keep == 1 or (keep == 2 and t % 2 == 0):
                kept.append(values[len(values) // 2])
        return sum(np.sum(s * s) for s in states + kept)
    return f, n_states + n_invariants


@pytest.mark.parametrize("seed", range(24))
def test_random_loops_replay_as_eager(seed):
    f, n_args = random_loop(seed)

    def args(k):
        rs = numpy.random.RandomState(100 + k)
        return tuple(rs.randn(7) for _ in range(n_args))
    replays_match(jit(f), f, args)
    replays_match(grad(f, argnum=tuple(range(n_args)), jit=True),
                  grad(f, argnum=tuple(range(n_args))), args)


# -- products by a matrix from outside the loop ----------------------------------
def recurrent_loss(params, xs):
    Wx, Wh = params
    h = np.zeros((xs.shape[1], Wh.shape[0]))
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ Wx + h @ Wh)
    return np.sum(h ** 2)


def recurrent_args(k, batch, hidden):
    rs = numpy.random.RandomState(k)
    return ((rs.randn(8, hidden) / 3, rs.randn(hidden, hidden) / hidden ** 0.5),
            rs.randn(6, batch, 8))


@pytest.mark.parametrize("batch, hidden, copied", [(32, 128, True), (4, 16, False)])
def test_a_transposed_matrix_the_block_multiplies_by_is_copied_once(batch, hidden, copied):
    # The backward loop's g @ Wh.T takes a C-ordered copy of Wh.T, made before the loop
    # (OpenBLAS is slow with a transposed factor), where the product has 4096 elements
    # or more: rounding may differ from eager's there, never below.
    jitted = grad(recurrent_loss, jit=True)
    for k in range(4):
        args = recurrent_args(k, batch, hidden)
        for got, expected in zip(jitted(*args), grad(recurrent_loss)(*args)):
            if copied:  # the jit's contract: 1e-12 relative, normwise
                error = numpy.linalg.norm(got - expected) / numpy.linalg.norm(expected)
                assert error <= 1e-12, error
            else:
                numpy.testing.assert_array_equal(got, expected)
    source = the_plan(jitted).source
    assert (source.count("= _c_order(") == 1) == copied, source
    if copied:  # made before the loop, read by a product inside it
        lines = source.splitlines()
        (made,) = [line for line in lines if "_c_order(" in line]
        name = made.split(" = ")[0].strip()
        depth = lambda line: len(line) - len(line.lstrip())
        readers = [line for line in lines if "matmul(" in line and f", {name})" in line]
        assert readers and all(depth(line) > depth(made) for line in readers), source
