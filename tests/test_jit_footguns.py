"""Every behaviour that differs under ``jit=True``, one test each, split as tinygrad
does: what changes an answer *silently*, and what the jit refuses *loudly* (it runs
the function eagerly with one warning naming the reason, so the answer is eager's).
Most severe first. The README's "The jit's contract" section lists the same.

Silent
  S1 (high) Arrays captured from the enclosing scope (closures, globals) are
     constants of the trace: changing them in place between calls is not seen. Pass
     data that changes as arguments. (Rebinding a global, or an attribute the code
     reads off a captured object, is seen: test_jit_attribute_reads.py. A captured
     ``numpy.random.Generator`` is such a constant: its draws are baked.)
  S2 (medium) Python side effects (print, appending to a list, counters) happen
     only while tracing, not on replays.
  S3 (low) Arguments, and arrays read from globals and closures while the function
     is traced, are traced values, as under ``grad``: ``isinstance(x, float)``
     and ``isinstance(i, int)`` are False for them (``jitgrad.builtins.isinstance``
     sees through), ``str(x)`` prints ``Traced<...>``, and arithmetic on a Python
     float follows NumPy (1/0 is inf, with a warning) rather than Python
     (ZeroDivisionError), and on a Python int NumPy's int64 (wrapping past 2**63).
     Results computed from Python floats come back as ``numpy.float64``.

Loud (eager, with one warning)
  L1 Drawing from ``numpy.random`` directly (not ``jitgrad.numpy.random``).
  L2 An argument compared by identity (an object with attributes, a RandomState):
     its state could change unseen. Register its class with ``jitgrad.tree.register``.
  L3 Writing into an argument array in place; returning a generator.
  L4 A plain NumPy array made inside the function (or a class attribute, or over
     64 MiB) indexed by indices the jit traces (``table[np.floor(x * n).astype(int)]``)
     whose values change on three calls in a row: NumPy needs the indices' numbers, so
     each call would be a new path. Pass the array as an argument, or let the
     function read it from a global or closure variable or an object's own attribute:
     those are boxed while it is traced (jit/captured_arrays.py), so the gather is
     traced, and one plan serves every call.

Slow, never wrong
  W1 Python code that needs a traced value's number (``float(x)``, ``range(i)``, a
     slice bound, ``if x > 0``) guards it: each new value or branch traces again.
  W2 Inside an enclosing grad/jvp/jit a jitted function runs eagerly, so that the
     enclosing transformation sees (and differentiates) everything it does.
"""
import numpy
import pytest

import jitgrad.numpy as np
from jitgrad import grad, jit

pytestmark = pytest.mark.eager_only


def test_s1_captured_arrays_are_constants():
    data = numpy.ones(3)
    f = jit(lambda x: np.sum(x * data))
    assert f(1.0) == 3.0
    data[:] = 2.0  # in place: not seen
    assert f(1.0) == 3.0
    fresh = jit(lambda x, data: np.sum(x * data))  # pass it instead
    assert fresh(1.0, data) == 6.0


def test_s1_a_captured_generator_object_is_baked():
    rng = numpy.random.default_rng(0)
    baked = jit(lambda x: x + rng.standard_normal())
    assert baked(0.0) == baked(0.0)


def test_s2_side_effects_happen_only_while_tracing():
    calls = []

    def f(x):
        calls.append(1)
        return x * 2.0
    jitted = jit(f)
    for _ in range(3):
        jitted(1.0)
    assert len(calls) == 1


def test_s3_arguments_are_traced_values():
    from jitgrad.builtins import isinstance as traced_isinstance
    seen = []

    def f(x, i):
        seen.append((isinstance(x, float), traced_isinstance(x, float),
                     isinstance(i, int), traced_isinstance(i, int)))
        return x * i
    jit(f)(1.0, 2)
    assert seen == [(False, True, False, True)]
    with numpy.errstate(divide="ignore"):
        assert jit(lambda x: 1.0 / x)(0.0) == numpy.inf  # eager: ZeroDivisionError


def test_l1_raw_numpy_random_runs_eagerly_but_jitgrad_random_is_replayed():
    raw = jit(lambda x: x + numpy.random.randn())
    with pytest.warns(UserWarning, match="numpy.random directly"):
        first = raw(0.0)
    assert raw(0.0) != first  # eager: a new draw each call
    replayed = jit(lambda x: x + np.random.randn())
    assert replayed(0.0) != replayed(0.0) and replayed.stats["hits"] == 1


def test_l2_objects_compared_by_identity_run_eagerly():
    class Settings:
        scale = 2.0
    settings = Settings()
    jitted = jit(lambda x, s: x * s.scale)
    with pytest.warns(UserWarning, match="compared by identity"):
        assert jitted(1.0, settings) == 2.0
    settings.scale = 5.0
    assert jitted(1.0, settings) == 5.0


def test_l3_writing_into_an_argument_runs_eagerly():
    def bump(x, counts):
        counts += 1
        return x * counts
    counts = numpy.zeros(2)
    with pytest.warns(UserWarning, match="writes into one of its argument"):
        jit(bump)(1.0, counts)
    assert counts.tolist() == [1.0, 1.0]


def test_l4_plain_array_indexed_by_changing_traced_indices_runs_eagerly():
    def look_up(x):
        table = numpy.linspace(0.0, 1.0, 50)  # made by plain NumPy inside
        return np.sum(table[np.floor(x * 49).astype(int)] * x)
    jitted = jit(look_up)
    rng = numpy.random.default_rng(1)
    with pytest.warns(UserWarning, match="pass it as an argument"):
        for _ in range(6):
            x = rng.random(20)
            assert jitted(x) == look_up(x)
    assert jitted.stats["fallbacks"] == 1 and jitted.stats["traces"] == 3
    table = numpy.linspace(0.0, 1.0, 50)
    passed = jit(lambda x, t: np.sum(t[np.floor(x * 49).astype(int)] * x))
    captured = jit(lambda x: np.sum(table[np.floor(x * 49).astype(int)] * x))
    for _ in range(4):
        x = rng.random(20)
        assert passed(x, table) == look_up(x)
        assert captured(x) == look_up(x)
    for traced in (passed, captured):
        assert traced.stats["traces"] == 1 and traced.stats["fallbacks"] == 0
        assert traced.stats["hits"] == 3


def test_l4_indices_taken_in_turn_keep_their_plans():
    def look_up(x):
        table = numpy.linspace(0.0, 1.0, 50)
        return np.sum(table[np.floor(x * 49).astype(int)] * x)
    jitted = jit(look_up)
    xs = [numpy.linspace(0.1, 0.9, 5), numpy.linspace(0.2, 0.3, 5)]
    for x in xs * 3:
        assert jitted(x) == numpy.sum(numpy.linspace(0.0, 1.0, 50)[
            numpy.floor(x * 49).astype(int)] * x)
    assert jitted.stats["traces"] == 2 and jitted.stats["hits"] == 4
    assert jitted.stats["fallbacks"] == 0


def test_w1_values_python_needs_are_guarded_per_value():
    jitted = jit(lambda x: x * float(x))
    for x in (1.0, 2.0, 3.0, 2.0):
        assert jitted(x) == x * x
    assert jitted.stats["traces"] == 3 and jitted.stats["hits"] == 1
    counted = jit(lambda x, n: np.sum(x[:n]))
    for n in (1, 2, 1):
        assert counted(numpy.arange(3.0), n) == sum(range(n))
    assert counted.stats["traces"] == 2


def test_w1_integers_used_as_numbers_trace_once():
    table = numpy.arange(3.0)
    schedule = jit(lambda x, t, i: x * 0.9 ** i + t[i % 3])  # a traced gather: no guard
    for i in range(6):
        assert schedule(2.0, table, i) == pytest.approx(2.0 * 0.9 ** i + i % 3)
    assert schedule.stats["traces"] == 1
    captured_lookup = jit(lambda x, i: x + table[i % 3])  # boxed while traced
    plain_lookup = jit(lambda x, i: x + numpy.arange(3.0)[i % 3])  # NumPy asks for i % 3
    for i in range(6):
        assert captured_lookup(2.0, i) == 2.0 + i % 3
        assert plain_lookup(2.0, i) == 2.0 + i % 3
    assert captured_lookup.stats["traces"] == 1
    assert plain_lookup.stats["traces"] == 3


def test_w2_jitted_function_inside_grad_runs_eagerly():
    inner = jit(lambda x: np.sin(x))
    assert grad(lambda x: inner(x) * 2.0)(0.0) == pytest.approx(2.0)
    assert inner.stats["passthrough"] == 1 and inner.stats["traces"] == 0
