"""Behaviours that change under ``jit=True``, most severe first, one test each.

1. (high) Draws from NumPy's raw generator (``numpy.random``, a ``Generator``) inside
   a jitted function are constants of the trace: every replay returns the first
   draw. Use ``jitgrad.numpy.random``, whose draws are replayed anew.
2. (high) Arrays and values captured from the enclosing scope (closures, globals)
   are constants of the trace: changing them between calls, in place or by
   rebinding, is not seen. Pass data that changes as arguments.
3. (medium) Python side effects (print, appending to a list, counters) happen
   only while tracing, not on replays.
4. (medium) Python ints (and strings, None, other hashables) are part of the
   signature: each new value traces again. Floats and arrays are traced values.
5. (low) Python control flow on traced values re-traces once per path taken, and
   ``float(x)``/``int(x)`` guard the exact value seen: code that feeds ``float(x)``
   into arithmetic traces for every new value (correct, but slow).
6. (low) Inside an enclosing grad/jvp/jit a jitted function runs eagerly, so that
   the enclosing transformation sees (and differentiates) everything it does.
7. (low) Under the jit, arguments are traced values, as they are under ``grad``:
   ``isinstance(x, float)`` is False for them (``jitgrad.builtins.isinstance`` sees
   through), and arithmetic on a Python float argument follows NumPy (1/0 is inf,
   with a warning) rather than Python (ZeroDivisionError).
"""
import numpy
import pytest

import jitgrad.numpy as np
from jitgrad import grad, jit

pytestmark = pytest.mark.eager_only


def test_1_raw_numpy_random_is_baked_but_jitgrad_random_is_replayed():
    raw = jit(lambda x: x + numpy.random.randn())
    replayed = jit(lambda x: x + np.random.randn())
    assert raw(0.0) == raw(0.0)  # the footgun: the same draw every time
    assert replayed(0.0) != replayed(0.0)


def test_2_captured_arrays_are_constants():
    data = numpy.ones(3)
    f = jit(lambda x: np.sum(x * data))
    assert f(1.0) == 3.0
    data[:] = 2.0  # in place: not seen
    assert f(1.0) == 3.0
    fresh = jit(lambda x, data: np.sum(x * data))  # pass it instead
    assert fresh(1.0, data) == 6.0


def test_3_side_effects_happen_only_while_tracing():
    calls = []

    def f(x):
        calls.append(1)
        return x * 2.0
    jitted = jit(f)
    for _ in range(3):
        jitted(1.0)
    assert len(calls) == 1


def test_4_python_ints_are_static():
    jitted = jit(lambda x, n: x * n)
    for n in range(3):
        assert jitted(2.0, n) == 2.0 * n
    assert jitted.stats["traces"] == 3
    floats = jit(lambda x, s: x * s)
    for s in (1.0, 2.0, 3.0):
        assert floats(2.0, s) == 2.0 * s
    assert floats.stats["traces"] == 1


def test_5_float_of_a_traced_value_traces_per_value():
    jitted = jit(lambda x: x * float(x))  # Python needs the number: it is guarded
    for x in (1.0, 2.0, 3.0, 2.0):
        assert jitted(x) == x * x
    assert jitted.stats["traces"] == 3 and jitted.stats["hits"] == 1


def test_6_jitted_function_inside_grad_runs_eagerly():
    inner = jit(lambda x: np.sin(x))
    assert grad(lambda x: inner(x) * 2.0)(0.0) == pytest.approx(2.0)
    assert inner.stats["passthrough"] == 1 and inner.stats["traces"] == 0


def test_7_arguments_are_traced_values():
    from jitgrad.builtins import isinstance as traced_isinstance
    seen = []
    jit(lambda x: seen.append((isinstance(x, float), traced_isinstance(x, float))) or x)(1.0)
    assert seen == [(False, True)]
    with numpy.errstate(divide="ignore"):
        assert jit(lambda x: 1.0 / x)(0.0) == numpy.inf  # eager: ZeroDivisionError
