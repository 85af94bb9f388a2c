"""Python ints are traced under the jit, as floats are: an iteration counter used in
arithmetic traces once in all, a minibatch index once per batch of a plain array (once
in all for data read from a global or closure variable: boxed), and uses that need
the number (range, slices, axes, dict keys, if) are guarded. Replays match eager."""
import numpy
import pytest
from numpy.testing import assert_allclose

import jitgrad.numpy as np
from jitgrad import grad, jit
from jitgrad.misc.optimizers import adam

pytestmark = pytest.mark.eager_only  # compares jit=True with jit=False itself

DATA = numpy.random.RandomState(0).randn(12, 3)


def objective(w, i):
    """autograd's optimizer idiom: minibatch i % 4, and a decaying weight."""
    batch = DATA[(i % 4) * 3:(i % 4 + 1) * 3]
    return np.sum((np.dot(batch, w) - 1.0) ** 2) * 0.99 ** i


class _Held:
    data = DATA


HELD = _Held()


def objective_off_an_object(w, i):
    """The same, its data a class attribute: a plain array while traced."""
    batch = HELD.data[(i % 4) * 3:(i % 4 + 1) * 3]
    return np.sum((np.dot(batch, w) - 1.0) ** 2) * 0.99 ** i


def test_minibatch_index_traces_once_per_batch_of_a_plain_array():
    jitted = grad(objective_off_an_object, jit=True)
    w = numpy.ones(3)
    for i in range(20):
        assert_allclose(jitted(w, i), grad(objective_off_an_object, jit=False)(w, i),
                        rtol=1e-12)
    assert jitted.stats["traces"] == 4


def test_minibatch_index_of_captured_data_traces_once():
    # DATA, a global, is boxed while traced (jit/captured_arrays.py): the plan slices it
    jitted = grad(objective, jit=True)
    w = numpy.ones(3)
    for i in range(20):
        assert_allclose(jitted(w, i), grad(objective, jit=False)(w, i), rtol=1e-12)
    assert jitted.stats["traces"] == 1


def test_a_counter_used_in_arithmetic_traces_once():
    f = lambda x, i: np.sum(x * (i + 1) ** 2) / (i + 2)
    jitted = grad(f, jit=True)
    for i in range(10):
        assert_allclose(jitted(numpy.ones(2), i), grad(f, jit=False)(numpy.ones(2), i))
    assert jitted.stats["traces"] == 1


def test_indexing_a_traced_array_with_a_traced_int_is_a_gather():
    f = lambda A, t: np.sum(A[t] ** 2) + np.sum(A[t, 1:])
    jitted = grad(f, jit=True)
    A = numpy.random.randn(6, 3)
    for t in [0, 3, 5, 1, -1]:
        assert_allclose(jitted(A, t), grad(f, jit=False)(A, t), rtol=1e-12)
    assert jitted.stats["traces"] == 1


@pytest.mark.parametrize("name, f, values, traces", [
    ("range", lambda x, n: sum(x * k for k in range(n)), [1, 2, 1, 3], 3),
    ("axis keyword", lambda x, n: np.sum(np.sum(x * x, axis=n)), [0, 1, 0], 2),
    ("dict key", lambda x, n: x * {0: 2.0, 1: 3.0}[n], [0, 1, 0, 1], 2),
    ("if", lambda x, n: x * 2.0 if n > 2 else x * 3.0, [1, 5, 2, 7], 2),
    ("reshape", lambda x, n: np.sum(np.reshape(x, (n, -1))[0]), [1, 2, 1], 2),
    ("sequence repeat", lambda x, n: np.sum(x * np.array([1.0, 2.0] * n)[:2]) * len((0,) * n)
     + len(n * "ab"), [1, 2, 1], 2),
])
def test_uses_that_need_the_number_are_guarded(name, f, values, traces):
    x = numpy.arange(4.0).reshape(2, 2) if name in ("axis keyword", "reshape") else 1.5
    jitted = jit(f)
    for n in values:
        assert_allclose(jitted(x, n), f(x, n), rtol=1e-12)
    assert jitted.stats["traces"] == traces


def test_a_gradient_rule_building_an_index_from_a_traced_axis():
    """cumsum's gradient flips along its axis with (slice(None),) * axis: the traced
    int repeats the tuple (it raised TypeError in multiply, and the call ran eagerly)."""
    f = lambda x, a: np.sum(np.cumsum(x, axis=a) ** 2 * numpy.arange(1.0, 7.0).reshape(2, 3))
    jitted = grad(f, jit=True)
    for k, a in enumerate([0, 1, 1, 0, 1, -1]):
        x = numpy.random.RandomState(k).rand(2, 3)
        assert_allclose(jitted(x, a), grad(f, jit=False)(x, a), rtol=1e-12)
    assert jitted.stats["fallbacks"] == 0


def test_static_argnums_keeps_ints_in_the_signature():
    jitted = jit(lambda x, n: x * n, static_argnums=1)
    for n in (1, 2, 1):
        assert jitted(2.0, n) == 2.0 * n
    assert jitted.stats["traces"] == 2


def test_bools_stay_static():
    jitted = jit(lambda x, flag: x * 2.0 if flag else x)
    assert jitted(1.0, True) == 2.0 and jitted(1.0, False) == 1.0
    assert jitted.stats["traces"] == 2 and jitted.stats["guard_misses"] == 0


def test_adam_with_a_jitted_gradient_matches_eager():
    w0 = numpy.zeros(3)
    eager = adam(grad(objective, jit=False), w0, num_iters=40, step_size=0.05)
    jitted_grad = grad(objective, jit=True)
    jitted = adam(jitted_grad, w0, num_iters=40, step_size=0.05)
    assert_allclose(jitted, eager, rtol=1e-10)
    assert jitted_grad.stats["traces"] == 1


def data_objective(w, X, i):
    """The minibatch idiom with the data passed in (traced): a slice at traced bounds."""
    k = i % 7
    return np.sum(np.tanh(np.dot(X[k * 3:(k + 1) * 3], w)) ** 2)


@pytest.mark.parametrize("argnum", [0, 1])
def test_a_slice_of_a_traced_array_at_traced_bounds_traces_once_per_length(argnum):
    X, w = numpy.random.randn(20, 4), numpy.random.randn(4)
    jitted = grad(data_objective, argnum, jit=True)
    for i in range(30):  # batches 0-5 have 3 rows, batch 6 (rows 18-19) has 2
        X = X + 0.01
        assert_allclose(jitted(w, X, i), grad(data_objective, argnum)(w, X, i), rtol=1e-12)
    assert jitted.stats["traces"] == 2 and jitted.stats["fallbacks"] == 0


@pytest.mark.parametrize("name, index", [
    ("negative start", lambda i: (slice(None), slice(i - 3, i))),
    ("stop past the end", lambda i: (i % 2, slice(i, i + 4))),
    ("traced step", lambda i: (slice(None), slice(None, None, i % 3 + 1))),
    ("start only", lambda i: (1, slice(i, None))),
    ("a traced row too", lambda i: (i % 2, slice(i % 4, None))),
])
def test_traced_slice_bounds_follow_numpy_on_every_replay(name, index):
    f = lambda x, i: np.sum(np.sin(x[index(i)]) ** 2)
    x = numpy.linspace(0.5, 2.0, 10).reshape(2, 5)
    values = [3, 5, 1, 7, 2, 0, 9, 4, 3, 5, 8]
    jitted = grad(f, jit=True)
    for i in values:
        assert_allclose(jitted(x, i), grad(f)(x, i), rtol=1e-12, err_msg=f"{name}, i={i}")
    # One trace per shape the slice gives (NumPy's own slicing of a plain array).
    shapes = {numpy.zeros((2, 5))[index(i)].shape for i in values}
    assert jitted.stats["traces"] == len(shapes) and jitted.stats["fallbacks"] == 0


def test_a_view_at_traced_bounds_sees_later_writes_into_its_base():
    def f(x, i):
        A = x * 2.0
        view = A[i:i + 2]
        A[0] = 7.0  # NumPy's view sees this when i == 0
        return np.sum(view * view)
    jitted = grad(f, jit=True)
    x = numpy.arange(1.0, 6.0)
    for i in [0, 1, 2, 0, 3, 1]:
        assert_allclose(jitted(x, i), grad(f)(x, i), rtol=1e-12)
    assert jitted.stats["traces"] == 1


def test_an_int_to_a_negative_traced_int_power_is_a_float_as_in_python():
    """``10 ** -p`` of an int argument p: Python gives a float where NumPy's int64 **
    raises; the exponent's sign is guarded, so one trace serves every negative p."""
    def f(w, p):
        return 10 ** -p * np.sum(w ** 2) + 2 ** p * np.sum(w)

    jitted = grad(f, jit=True)
    for p in (1, 2, 3, 4, -2, -3, 5):
        w = numpy.array([0.5, -1.5]) * p
        assert_allclose(jitted(w, p), grad(f)(w, p), rtol=1e-15)
    assert jitted.stats["fallbacks"] == 0 and jitted.stats["hits"] >= 3
    assert jitted.stats["traces"] <= 2  # one path per sign of the exponent


def test_a_class_attribute_sliced_at_a_traced_int_says_to_pass_it():
    """autograd's minibatch idiom over more batches than the paths kept: the fallback's
    warning names the cause and the fix, and the fix traces once for every batch, as
    does data read from a global or closure variable (boxed while traced)."""
    data = numpy.random.RandomState(1).randn(40 * 4, 3)

    class Held:  # a class attribute: left plain
        pass
    Held.data = data
    held = Held()

    def off_an_object(w, i):
        return np.sum(np.tanh(held.data[(i % 40) * 4:(i % 40 + 1) * 4] @ w))

    def captured(w, i):
        return np.sum(np.tanh(data[(i % 40) * 4:(i % 40 + 1) * 4] @ w))

    def passed(w, i, X):
        return np.sum(np.tanh(X[(i % 40) * 4:(i % 40 + 1) * 4] @ w))

    jitted = grad(off_an_object, jit=True)
    fixed, boxed = grad(passed, jit=True), grad(captured, jit=True)
    with pytest.warns(UserWarning, match="Pass that array as an argument"):
        for i in range(80):
            w = numpy.full(3, 0.01 * i)
            assert_allclose(jitted(w, i), grad(off_an_object)(w, i), rtol=1e-12)
            assert_allclose(fixed(w, i, data), grad(passed)(w, i, data), rtol=1e-12)
            assert_allclose(boxed(w, i), grad(captured)(w, i), rtol=1e-12)
    assert fixed.stats["traces"] == 1 and boxed.stats["traces"] == 1


@pytest.mark.parametrize("f", [
    lambda x, n: x * float(n * n - 1),
    lambda x, n: x * float((n + 1) // 3 - n % 7 + (-n) * 2),
    lambda x, n: x * float(n ** 3 > 2 ** 100),
    lambda x, n: x * (n / 3),
], ids=["square", "mixed", "power-compare", "true-divide"])
def test_python_ints_compute_without_bound_as_in_python(f):
    """Traced ints were int64 under the jit: n * n wrapped to 0 at n = 2**40, and
    2**63 - 1 + 1 came back negative (eager: Python's unbounded ints)."""
    jitted = jit(f)
    for n in [3, 2 ** 40, 2 ** 63 - 1, 2 ** 70, -(2 ** 64), 5]:
        assert jitted(1.5, n) == f(1.5, n), n
    assert jit(lambda n: n + 1)(2 ** 63 - 1) == 2 ** 63
