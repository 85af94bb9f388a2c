"""The jit's contract: same answers as eager, never stale, re-tracing visible."""
import math
import operator
import threading
import warnings

import numpy
import pytest

import jitgrad
import jitgrad.numpy as np
from jitgrad import elementwise_grad, explain, grad, hessian, jit, make_jvp, value_and_grad
from jitgrad.extend import defjvp, defvjp, primitive
from jitgrad.jit import JitFunction

# These tests choose jit= themselves and compare against eager.
pytestmark = pytest.mark.eager_only


def logistic_loss(w, X, y):
    p = 1 / (1 + np.exp(-(X @ w)))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def data(n=20, d=3):
    X = numpy.random.randn(n, d)
    y = (numpy.random.rand(n) > 0.5).astype(float)
    return 0.1 * numpy.random.randn(d), X, y


def assert_same(a, b):
    numpy.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_replay_matches_eager_and_hits_the_cache():
    w, X, y = data()
    jitted = grad(logistic_loss, jit=True)
    for _ in range(3):
        assert_same(jitted(w, X, y), grad(logistic_loss)(w, X, y))
    assert jitted.stats["traces"] == 1 and jitted.stats["hits"] == 2


def test_new_values_same_shapes_replay_without_tracing():
    jitted = grad(logistic_loss, jit=True)
    for _ in range(4):
        w, X, y = data()
        assert_same(jitted(w, X, y), grad(logistic_loss)(w, X, y))
    assert jitted.stats["traces"] == 1


def test_shape_change_traces_again():
    jitted = grad(logistic_loss, jit=True)
    for n in (10, 20, 10):
        w, X, y = data(n=n)
        assert_same(jitted(w, X, y), grad(logistic_loss)(w, X, y))
    assert jitted.stats["traces"] == 2 and jitted.stats["hits"] == 1
    assert "argument 1 ('X') changed" in jitted.last_miss or jitted.stats["hits"] == 1


def taylor_sine(x):
    ans = currterm = x
    i = 0
    while np.abs(currterm) > 0.001:
        currterm = -currterm * x ** 2 / ((2 * i + 3) * (2 * i + 2))
        ans = ans + currterm
        i += 1
    return ans


def test_while_loop_trip_count_depends_on_input_in_any_order():
    jitted = grad(taylor_sine, jit=True)
    for x in [0.1, 3.0, 0.1, 1.0, 3.0, 2.0, 0.5]:
        assert jitted(x) == pytest.approx(grad(taylor_sine)(x), rel=1e-12)
        assert jitted(x) == pytest.approx(math.cos(x), abs=1e-3)
    assert jitted.stats["guard_misses"] > 0
    assert jitted.stats["hits"] >= 2


def test_bool_guard_on_if():
    def f(x):
        if np.sum(x) > 0:
            return np.sum(x ** 2)
        return np.sum(np.sin(x))
    jitted = grad(f, jit=True)
    for sign in (1, -1, 1, -1):
        x = sign * numpy.ones(3)
        assert_same(jitted(x), grad(f)(x))
    assert jitted.stats["traces"] == 2 and jitted.stats["hits"] == 2


def test_float_guard():
    def f(x):
        scale = float(np.sum(x))  # Python sees the value: the plan guards it
        return np.sum(x * scale)
    jitted = jit(f)
    for x in (numpy.ones(2), numpy.ones(2), 2 * numpy.ones(2)):
        assert jitted(x) == pytest.approx(f(x))
    assert jitted.stats["traces"] == 2 and jitted.stats["guard_misses"] == 1


@pytest.mark.parametrize("convert", [int, operator.index, lambda v: v.item()],
                         ids=["int", "index", "item"])
def test_int_index_and_item_guards(convert):
    def f(x, k):
        return sum(x ** i for i in range(convert(k)))  # k's value sets the term count
    jitted = jit(f)
    x = 0.5 * numpy.ones(2)
    for k in (numpy.array(2), numpy.array(3), numpy.array(2)):
        assert_same(jitted(x, k), f(x, k))
    assert jitted.stats["traces"] == 2 and jitted.stats["hits"] == 1


def test_len_of_traced_array_is_fixed_by_the_signature():
    f = lambda x: sum(x[i] * i for i in range(len(x)))
    jitted = jit(f)
    for n in (2, 3, 2):
        assert jitted(numpy.ones(n)) == pytest.approx(f(numpy.ones(n)))
    assert jitted.stats["traces"] == 2


def test_guarded_index_into_array():
    def f(x):
        i = int(np.argmax(x))
        return x[i] * 2.0
    jitted = grad(f, jit=True)
    for x in (numpy.array([1.0, 3.0, 2.0]), numpy.array([5.0, 3.0, 2.0]),
              numpy.array([1.0, 3.0, 2.0])):
        assert_same(jitted(x), grad(f)(x))


def test_comparison_results_are_recorded_not_baked():
    def f(x):
        return np.sum(np.where(x > 0, x, 0.1 * x))  # leaky ReLU
    jitted = grad(f, jit=True)
    for x in (numpy.array([1.0, -1.0]), numpy.array([-1.0, 1.0])):
        assert_same(jitted(x), grad(f)(x))
    assert jitted.stats["traces"] == 1


def test_static_argnums_and_argnames():
    def f(x, power, mode="sum"):
        y = x ** power
        return np.sum(y) if mode == "sum" else np.mean(y)
    jitted = jit(f, static_argnums=1, static_argnames="mode")
    x = numpy.arange(3.0)
    assert_same(jitted(x, 2), f(x, 2))
    assert_same(jitted(x, 3), f(x, 3))
    assert_same(jitted(x, 3, mode="mean"), f(x, 3, mode="mean"))
    assert_same(jitted(x, 2), f(x, 2))
    assert jitted.stats["traces"] == 3


def test_unhashable_static_argument_is_a_clear_error():
    with pytest.raises(TypeError, match="static_argnums"):
        jit(lambda x, opts: x, static_argnums=1)(1.0, {"a": [1]})


def test_randomness_matches_eager_draw_for_draw():
    def noisy(w):
        return np.sum((w + np.random.randn(3)) ** 2) + np.random.rand()
    w = numpy.ones(3)
    numpy.random.seed(1)
    eager = [value_and_grad(noisy)(w) for _ in range(4)]
    numpy.random.seed(1)
    jitted_fun = value_and_grad(noisy, jit=True)
    jitted = [jitted_fun(w) for _ in range(4)]
    for (v1, g1), (v2, g2) in zip(eager, jitted):
        assert v1 == pytest.approx(v2, rel=1e-12)
        assert_same(g1, g2)
    assert jitted_fun.stats["hits"] == 3


def test_random_draw_before_failed_guard_is_not_repeated():
    def f(x):
        noise = np.random.randn()
        if x > 0:
            return x * noise
        return x - noise
    jitted = jit(f)
    numpy.random.seed(3)
    eager = [f(v) for v in (1.0, -1.0, 1.0, -1.0)]
    numpy.random.seed(3)
    assert [jitted(v) for v in (1.0, -1.0, 1.0, -1.0)] == pytest.approx(eager)


def test_closures_and_containers():
    scale = numpy.array([1.0, 2.0])

    def loss(params, batch):
        pred = batch["x"] @ params["W"] + params["b"][0]
        return np.sum(scale * pred ** 2)
    params = {"W": numpy.random.randn(3, 2), "b": [numpy.zeros(2)]}
    batch = {"x": numpy.random.randn(5, 3)}
    jitted = grad(loss, jit=True)
    for _ in range(2):
        got, want = jitted(params, batch), grad(loss)(params, batch)
        assert_same(got["W"], want["W"])
        assert_same(got["b"][0], want["b"][0])


def test_jit_of_jit_and_nested_grad_under_jit():
    f = lambda x: np.sum(np.tanh(x) ** 3)
    x = numpy.random.randn(4)
    assert_same(jit(jit(f))(x), f(x))
    assert_same(jit(hessian(f))(x), hessian(f)(x))
    second = elementwise_grad(elementwise_grad(np.tanh))
    assert_same(jit(second)(x), second(x))
    fwd = jit(lambda x, v: make_jvp(f)(x)(v))
    assert_same(fwd(x, numpy.ones(4))[1], make_jvp(f)(x)(numpy.ones(4))[1])


def test_jitted_function_inside_grad_differentiates_through():
    inner = jit(lambda x: np.sin(x) * x)
    outer = lambda x: np.sum(inner(x) ** 2)
    x = numpy.random.randn(3)
    assert_same(grad(outer)(x), grad(lambda x: np.sum((np.sin(x) * x) ** 2))(x))
    y = 1.3
    closes_over_traced = lambda y: jit(lambda x: x * y ** 2)(2.0)
    assert grad(closes_over_traced)(y) == pytest.approx(4 * y)


def test_user_primitive_is_an_opaque_step():
    @primitive
    def cube(x):
        return x ** 3
    defvjp(cube, lambda ans, x: lambda g: 3 * x ** 2 * g)
    defjvp(cube, lambda g, ans, x: 3 * x ** 2 * g)
    f = lambda x: np.sum(cube(np.sin(x)))
    x = numpy.random.randn(3)
    jitted = grad(f, jit=True)
    for _ in range(2):
        assert_same(jitted(x), grad(f)(x))
    assert "cube" in jitted.explain(x)


def test_checkpoint_under_jit():
    inner = jitgrad.checkpoint(lambda x: np.tanh(np.sin(x)))
    f = lambda x: np.sum(inner(x) ** 2)
    x = numpy.random.randn(3)
    assert_same(grad(f, jit=True)(x), grad(f)(x))


def test_fallback_warns_once_and_stays_correct():
    state = {"bias": numpy.zeros(2)}

    def f(x):
        y = x + state["bias"]
        state["bias"] += 1.0  # modifies an array it used: the trace can't be trusted
        return np.sum(y)
    jitted = jit(f)
    with pytest.warns(UserWarning, match="runs eagerly"):
        first = jitted(numpy.ones(2))
    assert first == pytest.approx(2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert jitted(numpy.ones(2)) == pytest.approx(4.0)
    assert jitted.stats["fallbacks"] == 1


def test_retrace_warning_names_the_argument():
    jitted = jit(lambda x, n: np.sum(x) * n)
    with pytest.warns(UserWarning, match=r"argument 0 \('x'\) changed"):
        for n in range(12):
            jitted(numpy.ones(n + 1), n)


def repeat_squares(x):
    y = x
    for _ in range(int(x[0])):  # a guard: each new count is a new path
        y = y * 0.5
    return np.sum(y)


@pytest.mark.parametrize("wrap", [jit, lambda f: grad(f, jit=True)])
@pytest.mark.parametrize("change", ["shape", "path"])
def test_jit_warnings_point_at_the_users_call(wrap, change):
    jitted = wrap(repeat_squares)
    # many shapes: a retrace warning; a new path on every call: an eager fallback's
    with pytest.warns(UserWarning, match="traced") as caught:
        for n in range(40):
            jitted(numpy.full(n + 1 if change == "shape" else 2, 1.0 + n % 12))
    ours = [w for w in caught if str(w.message).startswith("jit:")]
    assert ours and {w.filename for w in ours} == {__file__}


def test_warnings_through_scipy_point_at_the_users_call_and_guards_at_their_line():
    # scipy.optimize calls the jitted gradient: the warning names the user's minimize
    # call, not scipy's file, and the failed guard the line whose Python needed it.
    from scipy.optimize import minimize
    def f(x):
        table = numpy.linspace(0.0, 1.0, 100)  # (plain NumPy's, made inside: not boxed)
        index = np.floor(np.abs(x) * 1000).astype(int) % 100
        return np.sum(x ** 2) + np.sum(table[index] * x)  # (a guard on index's numbers)
    guard_line = f.__code__.co_firstlineno + 3
    with pytest.warns(UserWarning, match="runs eagerly") as caught:
        minimize(value_and_grad(f, jit=True), numpy.array([0.3, 1.7, 2.2]), jac=True,
                 method="L-BFGS-B", options={"maxiter": 20})
    ours = [w for w in caught if str(w.message).startswith("jit:")]
    assert ours and {w.filename for w in ours} == {__file__}
    assert f"(at test_jit.py:{guard_line}) failed" in str(ours[0].message)


def test_explain_shows_graph_guards_and_plan(capsys):
    def f(x):
        if np.sum(x) > 0:
            return np.sum(np.sin(x) ** 2)
        return 0.0
    text = jitgrad.explain(grad(f), numpy.ones(3))
    assert "graph:" in text and "plan:" in text and "guard bool" in text
    assert "sin(" in text and "def plan(" in text
    assert capsys.readouterr().out.strip() == text.strip()


def test_passes_fold_merge_and_drop(monkeypatch):
    monkeypatch.setenv("JITGRAD_FUSE", "0")  # count the plan's NumPy calls, unfused
    const = numpy.arange(3.0)

    def f(x):
        folded = np.exp(const) * 2.0          # no input: computed once, at trace time
        a, b = np.sin(x), np.sin(x)            # the same expression twice
        unused = np.cos(x)                     # dead  # noqa: F841
        return np.sum(a * b * folded)
    jitted = jit(f)
    x = numpy.random.randn(3)
    assert jitted(x) == pytest.approx(f(x))
    source = jitted._cache[next(iter(jitted._cache))][0].source
    calls = [line.split("= ")[1].split("(")[0] for line in source.splitlines()
             if line.startswith("    v")]
    assert calls == ["sin", "multiply", "multiply", "sum"], source  # by their names
    assert jitted(x) == pytest.approx(f(x))


def test_returned_constant_arrays_are_fresh_copies():
    jitted = grad(lambda x: np.sum(x * numpy.array([1.0, 2.0])), jit=True)
    first = jitted(numpy.ones(2))
    first[:] = 99.0  # the caller owns its result
    assert_same(jitted(numpy.ones(2)), numpy.array([1.0, 2.0]))


def test_thread_safe_cache():
    jitted = grad(logistic_loss, jit=True)
    inputs = [data() for _ in range(8)]
    expected = [grad(logistic_loss)(*args) for args in inputs]
    errors = []

    def work(k):
        try:
            for _ in range(20):
                assert_same(jitted(*inputs[k]), expected[k])
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_environment_variable_makes_jit_the_default(monkeypatch):
    monkeypatch.setenv("JITGRAD_JIT", "1")
    assert isinstance(grad(logistic_loss), JitFunction)
    monkeypatch.setenv("JITGRAD_JIT", "0")
    assert not isinstance(grad(logistic_loss), JitFunction)
    assert isinstance(grad(logistic_loss, jit=True), JitFunction)


@pytest.mark.parametrize("f", [
    lambda x: np.mean(x[x > 0]),                       # a mask: the shape changes too
    lambda x: np.sum(x[np.argmax(x)] * x),             # a traced integer index
    lambda x: np.sum(x[np.nonzero(x > 0)] ** 2),       # a traced tuple of index arrays
], ids=["mask", "argmax", "nonzero"])
def test_traced_indices_are_never_baked(f):
    jitted = grad(f, jit=True)
    for x in ([1.0, -1.0, 2.0], [1.0, 1.0, 2.0], [5.0, -3.0, 2.0], [1.0, -1.0, 2.0]):
        x = numpy.array(x)
        assert_same(jitted(x), grad(f)(x))


def test_shapes_that_depend_on_values_are_guarded():
    def f(x):
        positive = np.unique(x[x > 0])
        return np.sum(x) * len(positive) + positive.shape[0]
    jitted = jit(f)
    # The same mask each time, but not the same number of distinct positive values.
    for x in ([1.0, 1.0, -1.0], [1.0, 2.0, -1.0], [1.0, 1.0, -1.0]):
        x = numpy.array(x)
        assert jitted(x) == pytest.approx(f(x))
    assert jitted.stats["traces"] == 2


def advect_1d(d, u):
    """Semi-Lagrangian advection: gathers at indices computed from the velocity."""
    n = d.shape[0]
    pos = np.arange(n) - u
    i0 = np.floor(pos).astype(int)
    t = pos - i0
    i0 = np.clip(i0, 0, n - 2)
    return np.sum(((1 - t) * d[i0] + t * d[i0 + 1]) ** 2)


def test_gathers_at_computed_indices_replay_without_tracing():
    d = numpy.random.rand(8)
    jitted = grad(advect_1d, (0, 1), jit=True)
    for _ in range(3):
        u = 2 * numpy.random.rand(8)
        for got, want in zip(jitted(d, u), grad(advect_1d, (0, 1))(d, u)):
            assert_same(got, want)
    assert jitted.stats["traces"] == 1 and jitted.stats["hits"] == 2


def test_plain_array_indexed_by_traced_values_is_guarded():
    table = numpy.arange(10.0) ** 2

    def f(x):
        return np.sum(x * table[np.argmax(x)])  # NumPy array, traced index
    jitted = grad(f, jit=True)
    for x in ([1.0, 3.0], [4.0, 3.0], [1.0, 3.0]):
        x = numpy.array(x)
        assert_same(jitted(x), grad(f)(x))


def test_iteration_counter_as_array_traces_once():
    X, T = numpy.random.randn(8, 3), numpy.random.randn(8)
    w = numpy.random.randn(3)

    def objective(w, it):
        rows = slice((it % 4) * 2, (it % 4) * 2 + 2)  # minibatch chosen by the counter
        return np.sum((X[rows] @ w - T[rows]) ** 2)
    jitted = grad(objective, jit=True)
    for it in range(12):
        assert_same(jitted(w, numpy.asarray(it)), grad(objective)(w, it))
    # X and T, boxed while traced (captured_arrays.py), are sliced by the plan
    assert jitted.stats["traces"] == 1 and jitted.stats["hits"] == 11


def test_iteration_counter_slicing_plain_numpy_traces_once_per_batch():
    w = numpy.random.randn(3)

    def objective(w, it):
        X = numpy.arange(24.0).reshape(8, 3)  # plain NumPy's, made inside: not boxed
        rows = slice((it % 4) * 2, (it % 4) * 2 + 2)
        return np.sum((X[rows] @ w) ** 2)
    jitted = grad(objective, jit=True)
    for it in range(12):
        assert_same(jitted(w, numpy.asarray(it)), grad(objective)(w, it))
    assert jitted.stats["traces"] == 4


def test_solve_ivp_choosing_its_own_times_runs_eagerly_under_jit():
    from jitgrad.scipy.integrate import solve_ivp

    def final_state(y0):
        return np.sum(solve_ivp(lambda t, y: -y * y, (0.0, 1.0), y0).y[:, -1])
    jitted = jit(grad(final_state))
    with pytest.warns(UserWarning, match="solve_ivp returns scipy"):
        jitted(numpy.array([1.0, 2.0]))
    for y0 in (numpy.array([1.0, 2.0]), numpy.array([3.0, 0.5])):
        assert_same(jitted(y0), grad(final_state)(y0))


@pytest.mark.parametrize("f", [
    lambda x: np.sum(np.sort(x) * np.arange(1.0, 5.0)),
    lambda x: np.sum(np.partition(x, 1)[:2] ** 2),
    lambda x: np.sum(np.select([x < 0, x > 1], [x ** 2, np.sin(x)], default=x)),
    lambda x: np.sum(np.take(numpy.arange(4.0), np.argsort(x)) * x),
], ids=["sort", "partition", "select", "take"])
def test_value_dependent_permutations_and_conditions_are_never_baked(f):
    jitted = grad(f, jit=True)
    for x in ([3.0, -1.0, 0.5, 2.0], [-2.0, 1.5, 0.2, 4.0], [3.0, -1.0, 0.5, 2.0]):
        x = numpy.array(x)
        assert_same(jitted(x), grad(f)(x))


def test_a_failed_guard_leads_straight_to_the_path_that_took_over():
    def f(x):
        s = np.sum(x)
        if s > 1:
            return np.sum(x ** 2)
        if s > 0:
            return np.sum(x ** 3)
        return np.sum(np.sin(x))
    jitted = grad(f, jit=True)
    for k in range(30):  # three paths, taken in turn
        x = numpy.ones(2) * [1.0, 0.2, -1.0][k % 3]
        assert_same(jitted(x), grad(f)(x))
    assert jitted.stats["traces"] == 3
    # After the first round each call misses at most one guard before its own path
    # (trying the cached paths in order would miss two per call here: 57 in all).
    assert jitted.stats["guard_misses"] <= 3 + 30


def test_storing_into_a_plain_numpy_array_is_guarded_under_jit():
    def f(x):
        out = numpy.zeros(3)       # plain NumPy: fine without gradients
        out[0] = x * 2.0
        out[1:] = np.sin(x)
        return out
    jitted = jit(f)
    assert_same(jitted(1.0), f(1.0))
    assert_same(jitted(1.0), f(1.0))  # the same value: a replay
    assert_same(jitted(2.0), f(2.0))  # never the first call's values
    assert_same(jitted(3.0), f(3.0))
    assert jitted.stats["hits"] == 1 and jitted.stats["traces"] == 3


def test_explain_without_the_call_arguments_says_to_pass_them():
    g = grad(lambda x: np.sum(x ** 2), jit=True)
    with pytest.raises(TypeError, match=r"pass them, explain\(f, x, \.\.\.\)"):
        explain(g)
    assert "plan:" in explain(g, np.ones(3))


def test_a_value_tested_twice_the_same_way_is_checked_once_and_still_guarded():
    def f(x):
        y = x * 2 if np.sum(x) > 0 else x
        if np.sum(x) > 0:  # the same test again: one check in the plan
            y = y + 1
        return np.sum(y ** 2)

    g, eager = grad(f, jit=True), grad(f)
    x = numpy.ones(3)
    for _ in range(3):
        assert numpy.array_equal(g(x), eager(x))
    plan = explain(g, x).split("plan:")[1]
    assert plan.count("raise GuardFailed") == 1
    for value in (-1.0, 2.0, -3.0):  # the guard still fails and retraces when it flips
        assert numpy.array_equal(g(value * numpy.ones(3)), eager(value * numpy.ones(3)))


def test_view_steps_called_as_array_methods_replay_as_eager():
    """A plan calls reshape, swapaxes, squeeze, transpose and expand_dims of a step's or
    an input's array as the array's own method (expand_dims as a reshape to the traced
    shape), also inside a rolled loop. Gradients match eager on replays with new values."""
    captured = numpy.arange(6.0).reshape(2, 3)

    def f(x, w):
        h = np.expand_dims(x, -1) * w  # (4, 3, 1) * (1, 1): expand_dims of an input
        for _ in range(6):  # rolled: each turn's views of the turn's arrays
            h = np.tanh(np.swapaxes(np.reshape(h, (4, 1, 3)), 1, 2)) + 0.1
        t = captured @ np.transpose(np.squeeze(h, -1))  # (2, 3) @ (3, 4)
        return np.sum(t ** 2) + np.sum(np.transpose(x, (1, 0)))

    rng = numpy.random.RandomState(7)
    jitted = grad(f, jit=True)
    for _ in range(4):  # eager call, trace, two replays, each on new values
        x, w = rng.randn(4, 3), rng.randn(1, 1)
        numpy.testing.assert_allclose(jitted(x, w), grad(f)(x, w), rtol=1e-12, atol=1e-14)
    assert jitted.stats["hits"] >= 2
    plan = explain(jitted, x, w).split("plan:")[1]
    for method in (".swapaxes(", ".reshape(", ".squeeze(", ".transpose("):
        assert method in plan
    assert "expand_dims(" not in plan and " reshape(" not in plan  # (the VJP's has order=)
