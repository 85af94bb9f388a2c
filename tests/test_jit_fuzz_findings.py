"""What the random-program fuzzer (``tests/test_jit_fuzz.py``) found, one reproducer each.

Each test is the smallest plain jitgrad code showing one root cause: eager's value
against the jitted (or differentiated) one. Open ones are strict xfails: when a fix
makes one pass, pytest reports it; then the marker comes off here and the matching
``KNOWN_BUG_*`` flag in ``tests/fuzz_programs.py`` is set to False, so that the
fuzzer draws the construct again. Fixed ones stay as regression tests, each with a
comment naming its root cause, and with checks of the fix around it.
"""
import math
import warnings

import numpy
import pytest

import jitgrad.numpy as np
from jitgrad import grad, jit, make_jvp
from jitgrad.test_util import check_grads
from jitgrad.tracer import getval

# These compare jit=True with eager themselves.
pytestmark = pytest.mark.eager_only


def finding(reason):
    return pytest.mark.xfail(strict=True, reason=f"fuzzer finding: {reason}")


def assert_identical(expected, got):
    """Bitwise equal, NaNs and the sign of zeros included."""
    expected, got = numpy.asarray(expected), numpy.asarray(got)
    assert expected.shape == got.shape and expected.dtype == got.dtype
    assert numpy.array_equal(expected, got, equal_nan=True), (expected, got)
    assert numpy.array_equal(numpy.signbit(expected), numpy.signbit(got)), (expected, got)


def replayed(f, *args):
    """``jit(f)(*args)`` on a replay (the first call only traces)."""
    jitted = jit(f)
    jitted(*args)
    return jitted(*args)


# Fixed: KNOWN_BUG_SIGNED_ZERO_CONSTANTS: common-subexpression elimination keys
# constants by ==, so x * 0.0 and x * -0.0 are merged (jitgrad/jit/passes.py,
# _constant_key)
def test_zero_and_negative_zero_constants_are_not_the_same_expression():
    def f(x):
        return x * 0.0, x * -0.0
    x = numpy.ones(2)
    for want, got in zip(f(x), replayed(f, x)):
        assert_identical(want, got)  # the replay gives [0, 0] twice


# Fixed: KNOWN_BUG_FLOAT_GUARD_SIGNED_ZERO: a guard compares the value float() saw with
# ==, and 0.0 == -0.0, so a replay at 0.0 follows the path traced at -0.0
# (jitgrad/jit/plan.py, _same)
def test_float_guard_tells_zero_from_negative_zero():
    def f(x):
        if math.copysign(1.0, float(x)) > 0:
            return x + 1.0
        return x - 1.0
    jitted = jit(f)
    jitted(numpy.array(-0.0))
    assert_identical(f(numpy.array(0.0)), jitted(numpy.array(0.0)))  # -1.0, not 1.0


# Fixed: KNOWN_BUG_FLOAT_GUARD_SIGNED_ZERO: the same guard, with the value baked into
# arithmetic (jitgrad/jit/plan.py, _same)
def test_float_baked_into_arithmetic_keeps_the_sign_of_zero():
    def f(x, y):
        return x * float(y)
    jitted = jit(f)
    jitted(numpy.ones(2), numpy.array(-0.0))
    assert_identical(f(numpy.ones(2), numpy.array(0.0)),
                     jitted(numpy.ones(2), numpy.array(0.0)))  # -0.0, not 0.0


# Fixed: KNOWN_BUG_GETVAL_BAKES: getval peels off the jit's box without a guard, so the
# value becomes a constant of the plan (jitgrad/trace/core.py, getval)
def test_getval_is_not_baked_into_the_plan():
    def f(x):
        return x * getval(x)
    jitted = jit(f)
    jitted(numpy.ones(2))
    x = 2.0 * numpy.ones(2)
    assert_identical(f(x), jitted(x))  # [2, 2]: the first call's getval(x) = 1


# Fixed: KNOWN_BUG_FLOAT_GUARD_NAN_SIGN: a guard on a float treated every NaN as the
# same value, so a replay at -NaN followed the path traced at NaN, though Python code
# can tell them apart (jitgrad/jit/identity.py, same_float, now comparing the sign as
# same_array does for arrays)
def test_float_guard_tells_nan_from_negative_nan():
    def f(x, y):
        if math.copysign(1.0, float(np.max(x))) > 0:
            return y + 1.0
        return y - 1.0
    nan, y = numpy.array([numpy.nan]), numpy.zeros(1)
    jitted = jit(f)
    jitted(nan, y)
    assert_identical(f(-nan, y), jitted(-nan, y))  # [1.], the path seen at +NaN


# The same rule keyed constants: x * nan and x * -nan were one expression
# (jitgrad/jit/identity.py, constant_key).
def test_nan_and_negative_nan_constants_are_not_the_same_expression():
    def f(x):
        return x * math.nan, x * -math.nan
    x = numpy.ones(2)
    for want, got in zip(f(x), replayed(f, x)):
        assert numpy.array_equal(numpy.signbit(want), numpy.signbit(got))


# Fixed: KNOWN_BUG_VIEW_SEES_BASE_WRITES: a traced view (a[1:]) did not see later
# writes into its base; only writes through the view reached the base. A base now
# keeps weak references to its views and re-reads them after each write
# (jitgrad/numpy/numpy_boxes.py, ArrayBox._store)
def test_view_sees_writes_into_its_base():
    def f(x):
        a = np.copy(x)
        view = a[1:]
        a[...] += 1.0
        return view * 1.0
    x = numpy.arange(3.0)
    assert_identical(f(x), jit(f)(x))  # [1, 2] under the jit: the old values


# Fixed: KNOWN_BUG_VIEW_SEES_BASE_WRITES: the same under grad: the gradient through
# the view was lost
def test_view_of_written_base_is_differentiated():
    def f(x):
        a = np.zeros(3)
        view = a[1:]
        a[...] = x
        return np.sum(view)
    assert_identical(numpy.array([0.0, 1.0, 1.0]), grad(f)(numpy.arange(3.0)))
    assert_identical(numpy.array([0.0, 1.0, 1.0]), grad(f, jit=True)(numpy.arange(3.0)))


def _views(np, x):
    a = np.copy(x)               # (4, 3)
    row, tail = a[1], a[1:]      # overlapping views
    inner = tail[:, 1:]          # a view of a view
    a[...] += 1.0                # into the base: every view sees it
    row *= 2.0                   # through a view: the base, tail and inner see it
    inner[0] = x[0, :2]          # through the view of a view: row and the base see it
    a[2:] = a[2:] * 3.0
    return a * 1.0, row * 1.0, tail * 1.0, inner * 1.0


def test_views_see_every_write_like_numpy_views():
    x = numpy.arange(12.0).reshape(4, 3)
    want = _views(numpy, x)
    for got in (_views(np, x), replayed(lambda x: _views(np, x), x)):
        for w, g in zip(want, got):
            assert_identical(w, g)

    def loss(x):
        return sum(np.sum(out * numpy.arange(1.0, out.size + 1).reshape(out.shape))
                   for out in _views(np, x))
    assert_identical(grad(loss)(x), grad(loss, jit=True)(x))
    check_grads(loss, modes=["fwd", "rev"], order=2)(x)


def test_a_row_at_a_traced_integer_is_a_view_too():
    # A[t] with t a traced int (an int argument of a jitted function) is a gather, so
    # that new t replay; NumPy's A[t] is a view all the same: found while fixing the
    # views above (the jit gave the old values).
    def reads(x, t):
        a = np.copy(x)
        row = a[t]
        a[...] += 1.0
        return row * 1.0

    def writes(x, t):
        a = np.copy(x)
        row = a[t]
        row *= 2.0
        return a * 1.0
    x = numpy.arange(6.0).reshape(3, 2)
    for f in (reads, writes):
        jitted = jit(f)
        for t in (1, 2, -1, 0):
            assert_identical(f(x, t), jitted(x, t))
        if f is reads:  # reading through it still gathers at t: one trace for all t
            assert jitted.stats["traces"] <= 1


# Fixed: KNOWN_BUG_TAKE_LAYOUT: traced np.take(a, idx, axis=1) was a[:, idx], laid out
# in memory unlike np.take's result, so a sum over it added in another order; it is
# NumPy's take now, with rules (jitgrad/numpy/indexing.py, take)
def test_take_along_a_later_axis_sums_like_numpy():
    def f(x):
        return np.sum(np.take(x, [0, 2, 1, 0], axis=1))
    rng = numpy.random.RandomState(0)
    for _ in range(20):
        x = rng.randn(5, 3)
        assert_identical(f(x), jit(f)(x))  # the last bit differs for some x


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("mode", ["raise", "wrap", "clip"])
def test_take_is_differentiated_like_eager_when_jitted(axis, mode):
    indices = [[0, -1], [2, 2]] if mode == "raise" else [[0, 5], [-4, 2]]

    def loss(x):
        return np.sum(np.sin(np.take(x, indices, axis=axis, mode=mode)) * 3.0)
    x = numpy.random.RandomState(2).randn(3, 4)
    assert_identical(grad(loss)(x), grad(loss, jit=True)(x))
    check_grads(loss, modes=["fwd", "rev"], order=2)(x)


# Fixed: KNOWN_BUG_SCALAR_POWER_ROUNDING: a ** b on NumPy float64 scalars is the
# scalar's own pow in eager and was the np.power ufunc when traced; they differ by an ulp
# in about 5% of cases. Traced ** now computes what the operator computes on the values
# (jitgrad/numpy/elementwise.py, power_operator)
def test_power_of_numpy_scalars_rounds_like_numpy():
    def f(x):
        return np.sum(x) ** 2.5
    rng = numpy.random.RandomState(0)
    for _ in range(50):
        x = numpy.abs(rng.randn(3))
        assert_identical(f(x), jit(f)(x))


# Fixed: KNOWN_BUG_SCALAR_POWER_ROUNDING: the gradient of x ** y at a NumPy float64
# scalar x: eager's rule computes x ** (y - 1) with the scalar's pow (and log(x) with
# math.log, np.float64 being a float), the traced rule did with ufuncs; the scalar
# steps are primitives of their own now (jitgrad/numpy/elementwise.py, _power_dx and
# _log_base)
def test_power_gradient_at_numpy_scalars_rounds_like_eager():
    def f(x):
        return x ** 2.5
    rng = numpy.random.RandomState(0)
    for _ in range(50):
        x = numpy.float64(rng.rand() + 0.5)
        assert_identical(grad(f)(x), grad(f, jit=True)(x))


POWERS = {  # each computes ** on NumPy scalars in a way eager NumPy has its own code for
    "scalar ** scalar": lambda x, y: np.sum(x) ** np.max(y),
    "float64 ** traced": lambda x, y: numpy.float64(1.7) ** np.sum(y),
    "python ** traced": lambda x, y: 1.7 ** np.sum(x),
    "in place": lambda x, y: _in_place_power(np.sum(x), np.min(y)),
    "square root": lambda x, y: np.sum(x) ** 0.5 + np.sum(y) ** 2.0,
    "arrays": lambda x, y: np.sum(x ** np.abs(y)),
}


def _in_place_power(s, t):
    s **= t
    return s


@pytest.mark.filterwarnings("ignore:Output seems independent of input")  # one argument
@pytest.mark.parametrize("name", sorted(POWERS))
def test_powers_of_numpy_scalars_replay_and_differentiate_like_eager(name):
    f = POWERS[name]
    rng = numpy.random.RandomState(3)
    loss = lambda x, y: f(x, y) * 1.5  # noqa: E731
    for _ in range(30):
        x, y = numpy.abs(rng.randn(3)) + 0.1, numpy.abs(rng.randn(3)) + 0.1
        assert_identical(f(x, y), replayed(f, x, y))
        for argnum in (0, 1):
            assert_identical(grad(loss, argnum)(x, y), grad(loss, argnum, jit=True)(x, y))
    for argnum in (0, 1):
        check_grads(loss, argnum, modes=["fwd", "rev"], order=2)(x, y)


def test_traced_python_floats_keep_numpy_semantics_under_power():
    # Python numbers compute ** as NumPy does once traced (documented), not as Python.
    with numpy.errstate(divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert replayed(lambda x: x ** -1.0, 0.0) == numpy.inf


# Fixed: KNOWN_BUG_SORT_BY_ARGSORT: traced np.sort gathered by np.argsort, which orders
# tied 0.0 and -0.0 differently from np.sort; it is NumPy's sort now, differentiated
# through argsort (jitgrad/numpy/sorting.py, _sort_vjp)
def test_sort_orders_signed_zeros_like_numpy():
    x = numpy.array([1.0, -0.0, 0.0, -0.0, 0.0, 0.0, -0.0, -1.0, -1.0])
    assert_identical(numpy.sort(x), jit(np.sort)(x))


# Fixed: KNOWN_BUG_SORT_BY_ARGSORT: the gathered result was C-ordered where np.sort
# keeps a Fortran input's layout, so a sum over it rounded differently
def test_sort_of_fortran_array_sums_like_numpy():
    def f(x):
        return np.sum(np.sort(x, axis=0))
    x = numpy.asfortranarray(numpy.random.RandomState(0).randn(5, 7))
    assert_identical(f(x), jit(f)(x))


@pytest.mark.parametrize("axis", [None, 0, -1])
def test_sort_derivatives_replay_new_values_without_tracing_again(axis):
    weights = numpy.arange(15.0).reshape(5, 3) if axis is not None else numpy.arange(15.0)

    def loss(x):
        return np.sum(np.sort(x, axis=axis) ** 2 * weights)
    jitted = grad(loss, jit=True)
    jvp = jit(lambda x, v: make_jvp(lambda x: np.sort(x, axis=axis))(x)(v))
    rng = numpy.random.RandomState(4)
    for _ in range(3):
        x, v = rng.randn(5, 3), rng.randn(5, 3)
        assert_identical(grad(loss)(x), jitted(x))
        for want, got in zip(make_jvp(lambda x: np.sort(x, axis=axis))(x)(v), jvp(x, v)):
            assert_identical(want, got)
    assert jitted.stats["traces"] == jvp.stats["traces"] == 1
    assert jitted.stats["fallbacks"] == jvp.stats["fallbacks"] == 0
    check_grads(loss, modes=["fwd", "rev"], order=2)(x)


# Fixed: KNOWN_BUG_CONTAINER_PLACEHOLDER_COPIED: the placeholder zeros of a folded
# cotangent tuple are recognised by identity (jitgrad/trace/containers.py), but the
# plan held snapshot copies of them (jitgrad/jit/graph.py, freeze_captured), so the
# replay added them: 0.0 + -0.0 = 0.0. The copies are placeholders too now.
def test_gradient_in_several_arguments_keeps_negative_zeros_on_replay():
    def loss(a, b):
        return np.sum(a) + np.sum(np.maximum(b, 0.0) * -1.0)
    x = numpy.array([-1.0, 2.0])
    want = grad(loss, (0, 1), jit=False)(x, x)  # d/db[0] = 0 * -1 = -0.0
    jitted = grad(loss, (0, 1), jit=True)
    jitted(x, x)
    for w, g in zip(want, jitted(x, x)):
        assert_identical(w, g)


# Fixed: KNOWN_BUG_CONTAINER_PLACEHOLDER_COPIED: the same lost placeholder changed the
# type of a gradient: eager returns a 0-d array for a NumPy-scalar argument, the
# replay gave the NumPy scalar that adding the copied zeros gives. (The same cause made
# jit(grad(lambda xy: np.copysign(*xy))) replay np.float64 for a 0-d array: see
# tests/test_numpy_elementwise.py.)
def test_gradient_in_several_arguments_keeps_its_type_on_replay():
    def loss(a, b):
        return np.sum(a) + np.where(b > 0, b, b) * 0.5
    a, b = numpy.ones(2), numpy.float64(1.0)
    want = grad(loss, (0, 1), jit=False)(a, b)[1]  # array(0.5)
    jitted = grad(loss, (0, 1), jit=True)
    jitted(a, b)
    assert type(jitted(a, b)[1]) is type(want)  # np.float64 on the replay


def test_copysign_gradient_keeps_its_type_on_replay():
    f = lambda xy: np.copysign(xy[0], xy[1])  # noqa: E731
    want = grad(f)((0.7, -1.3))
    for got in (grad(f, jit=True)((0.7, -1.3)), replayed(grad(f), (0.7, -1.3))):
        for w, g in zip(want, got):
            assert type(w) is type(g)
            assert_identical(w, g)


def test_placeholders_of_the_plan_never_reach_the_caller():
    # Entry c gets no cotangent on either path, so the plan adds its own placeholder
    # to the traced one: the result must be a new array on every call, as in eager.
    def loss(a, b, c):
        return np.sum(a) + np.sum(b * b)
    x = numpy.ones(2)
    jitted = grad(loss, (0, 1, 2), jit=True)
    results = [jitted(x, x, x) for _ in range(3)]
    results[1][2][...] = 5.0
    assert results[2][2] is not results[1][2]
    assert_identical(numpy.zeros(2), jitted(x, x, x)[2])


# Fixed: KNOWN_BUG_SNAPSHOT_LAYOUT: an array the plan keeps (captured, or folded) was a
# C-ordered copy of what was traced, so a matmul with a reversed one rounded differently
# on replay. The copy keeps the strides now (jitgrad/jit/graph.py, snapshot).
def test_captured_reversed_array_keeps_its_layout():
    rng = numpy.random.RandomState(0)
    c = numpy.ascontiguousarray(rng.randn(5)[::-1])[::-1]  # negative strides

    def f(x):
        return x.T @ c
    for _ in range(20):
        x = rng.randn(5, 7)
        assert_identical(f(x), replayed(f, x))


CAPTURED_LAYOUTS = {
    "C": lambda a: a,
    "F": numpy.asfortranarray,
    "reversed": lambda a: numpy.ascontiguousarray(a[::-1, ::-1])[::-1, ::-1],
    "reversed F": lambda a: numpy.asfortranarray(a[::-1])[::-1],
    "gaps": lambda a: numpy.repeat(a, 2, axis=1)[:, ::2],
    "wide gaps": lambda a: numpy.repeat(a, 9, axis=1)[:, ::9],
}


@pytest.mark.parametrize("layout", sorted(CAPTURED_LAYOUTS))
def test_captured_arrays_keep_their_layout(layout):
    rng = numpy.random.RandomState(3)
    c = CAPTURED_LAYOUTS[layout](rng.randn(6, 17))

    def f(x):
        return x @ c, np.sum(c * x[:, :1], axis=0), np.sum(c * x[0, 0]), c.T @ x[:, 0]
    jitted = jit(f)
    for _ in range(3):
        x = rng.randn(6, 6)
        for want, got in zip(f(x), jitted(x)):
            assert_identical(want, got)
    assert jitted.stats["traces"] == 1 and jitted.stats["hits"] == 2
    # The gradient's own constants (the cotangent of c @ ..., folded) too.
    loss = lambda x: np.sum((x @ c) ** 2 * c[:1])  # noqa: E731
    eager, jitted = grad(loss), grad(loss, jit=True)
    for _ in range(3):
        x = rng.randn(6, 6)
        assert_identical(eager(x), jitted(x))


@pytest.mark.parametrize("layout", sorted(CAPTURED_LAYOUTS))
def test_a_snapshot_has_the_strides_of_its_array(layout):
    from jitgrad.jit.graph import snapshot
    array = CAPTURED_LAYOUTS[layout](numpy.random.RandomState(0).randn(6, 17))
    copy = snapshot(array)
    assert copy.strides == array.strides and not numpy.shares_memory(copy, array)
    assert_identical(array, copy)


def test_a_snapshot_of_a_sparse_view_of_a_large_array_is_compact():
    from jitgrad.jit.graph import snapshot
    big = numpy.random.RandomState(0).randn(400, 1000)
    column = big[::-1, ::100]  # a span of 3.2 MB for 32 kB of values
    copy = snapshot(column)
    assert copy.base.nbytes == column.nbytes and copy.strides == (-80, 8)
    assert_identical(column, copy)

# Fixed: KNOWN_BUG_COTANGENT_SUM_LAYOUT: eager's backward pass added a node's third
# cotangent in place (np.add(prev, g, out=prev), keeping prev's layout); traced, it is
# x + y, which NumPy lays out from both operands, so with a Fortran-ordered input the
# sums over axes that follow rounded differently. Eager adds in place only where
# prev + g would have prev's layout (jitgrad/trace/vjp.py, _can_add_into).
def test_cotangent_sums_are_laid_out_like_eager():
    rng = numpy.random.RandomState(1)
    a, b = rng.randn(2, 2, 3), rng.randn(1, 2, 3)

    def loss(x0, x1):
        v = np.maximum(x0, x1[..., 1:].max(axis=2))  # (2, 2, 3), laid out like x0
        return np.sum(np.roll(v, 2) * a) + np.sum((v + v).max(axis=0, keepdims=True) * b)
    eager, jitted = grad(loss, 1, jit=False), grad(loss, 1, jit=True)
    for _ in range(50):
        x0, x1 = numpy.asfortranarray(rng.randn(2, 1, 3)), rng.randn(2, 1, 3)
        assert_identical(eager(x0, x1), jitted(x0, x1))


@pytest.mark.parametrize("layouts", ["CCC", "FFF", "FCC", "CFF", "FFC", "CCF"])
def test_three_cotangents_sum_in_the_layout_the_jit_gives(layouts):
    # x's cotangent is the sum of three, each laid out like the array it meets.
    def loss(x, p, q, r):
        return np.sum(x * p) + np.sum(x * q) + np.sum(x * r)
    rng = numpy.random.RandomState(2)
    order = {"C": numpy.ascontiguousarray, "F": numpy.asfortranarray}
    eager, jitted = grad(loss, jit=False), grad(loss, jit=True)
    for _ in range(3):
        x = rng.randn(3, 4)
        weights = [order[layout](rng.randn(3, 4)) for layout in layouts]
        want, got = eager(x, *weights), jitted(x, *weights)
        assert_identical(want, got)
        assert want.flags.c_contiguous == got.flags.c_contiguous
        assert want.flags.f_contiguous == got.flags.f_contiguous
        numpy.testing.assert_allclose(want, weights[0] + weights[1] + weights[2], rtol=1e-15)


# Fixed (found running autograd's examples/convnet.py, not by the fuzzer): max's rule
# multiplied with `*`, and NumPy writes `a * temporary` into a big temporary (elision
# of temporaries, from 256 KiB): eager's cotangent kept the weights' layout, a replay's
# (its operands named) did not, so the bias gradient summed in another order (1e-15).
@pytest.mark.parametrize("reduction", ["max", "min", "ptp"])
def test_extremum_cotangent_layout_does_not_depend_on_elision(reduction):
    n = 2048  # 2048 * 3 * 8 doubles: above NumPy's elision threshold
    rng = numpy.random.RandomState(0)
    conv = rng.randn(n, 8, 3).transpose(0, 2, 1)  # laid out as a convolution returns it
    weights = rng.randn(n, 3, 4)
    pick = getattr(np, reduction)

    def loss(bias, conv, weights):
        return np.sum(pick((conv + bias).reshape(n, 3, 4, 2), axis=3) * weights)
    eager, jitted = grad(loss, jit=False), grad(loss, jit=True)
    for k in range(3):
        bias = rng.randn(1, 3, 1)
        assert_identical(eager(bias, conv + k, weights), jitted(bias, conv + k, weights))


# Fixed: KNOWN_BUG_ARCTAN2_GRAD_UNDERFLOW (eager): the partials of arctan2(y, x) divided
# by x*x + y*y, which underflows to 0 for tiny arguments and was then replaced by 1;
# they divide by hypot(x, y) twice now (jitgrad/numpy/elementwise.py,
# _over_radius_squared)
def test_arctan2_gradient_at_tiny_arguments():
    dy = grad(lambda y: np.arctan2(y, 1e-300))(1e-300)
    assert dy == pytest.approx(0.5e300)  # 1e-300 instead


@pytest.mark.parametrize("scale", [1e-300, 1e-160, 1.0, 1e160, 1e300])
def test_arctan2_gradient_at_any_scale(scale):
    y, x = 0.6 * scale, 0.8 * scale  # d/dy = x / (x*x + y*y) = 0.8 / scale
    dy, dx = grad(np.arctan2, (0, 1))(y, x)
    assert dy == pytest.approx(0.8 / scale) and dx == pytest.approx(-0.6 / scale)
    assert grad(np.arctan2)(0.0, 0.0) == 0.0  # the origin: 0 / 1


# Fixed: KNOWN_BUG_SCALAR_INDEXING: the result of a full reduction is a NumPy scalar,
# which can be indexed (s[()], s[s > 0]); traced, it was an ArrayBox without
# __getitem__, so jit and grad raised TypeError. NumPy scalars have a box class of
# their own now (jitgrad/numpy/numpy_boxes.py, NumpyScalarBox)
def test_indexing_a_reduced_scalar():
    def f(x):
        s = np.sum(x)
        return s[s > 0]
    x = numpy.ones(2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_identical(f(x), jit(f)(x))


SCALAR_INDICES = {
    "mask": lambda s: s[s > 0], "()": lambda s: s[()], "...": lambda s: s[...],
    "None": lambda s: s[None], "None, None": lambda s: s[None, None] * 2.0,
    "false mask": lambda s: s[s < 0],
}


@pytest.mark.parametrize("name", sorted(SCALAR_INDICES))
def test_indexing_a_traced_numpy_scalar_like_numpy(name):
    index = SCALAR_INDICES[name]
    f = lambda x: index(np.sum(x))  # noqa: E731
    loss = lambda x: np.sum(f(x) * 3.0)  # noqa: E731
    for x in (numpy.ones(2), -numpy.ones(2)):
        assert_identical(f(x), replayed(f, x))
        assert type(f(x)) is type(replayed(f, x))
        assert_identical(grad(loss)(x), grad(loss, jit=True)(x))
        check_grads(lambda x: np.sum(f(x) ** 2), modes=["fwd", "rev"], order=2)(x)


def test_a_traced_numpy_scalar_is_no_sequence():
    with pytest.raises(IndexError):
        grad(lambda x: np.sum(x)[0])(numpy.ones(2))
    with pytest.raises(TypeError, match="not iterable"):
        grad(lambda x: sum(np.sum(x)))(numpy.ones(2))


# Fixed: KNOWN_BUG_OLDER_LEVEL_BOX_REBOUND (found by the fuzzer once views saw writes).
# core.primitive recorded a box of an older trace level (the jit's, or an outer grad's)
# by reference, as the operand of a newer level's node; an in-place write rebinds that
# very object (ArrayBox._assign), so the node's operand changed after the fact. Such
# operands are recorded as snapshots now (Box._as_operand), and views of any level are
# re-read after writes into their base again (numpy_boxes.py, ArrayBox._refresh_views).
def test_writing_into_an_array_only_the_jit_traces_keeps_the_gradient():
    def loss(w, data):
        a = np.copy(data)
        a *= w  # the multiply records a, then a is rebound to a * w
        return np.sum(a * numpy.array([0.3, -0.7, 0.5]))
    jitted = grad(loss, jit=True)
    for w, data in [(1.7, [1.0, 2.0, 3.0]), (-0.4, [2.0, -1.0, 0.5]), (3.0, [0.0, 1.0, 4.0])]:
        data = numpy.array(data)
        assert_identical(grad(loss)(w, data), jitted(w, data))  # 0.68, not 0.4, at first
    assert jitted.stats["traces"] == 1
    assert grad(loss)(1.7, numpy.array([1.0, 2.0, 3.0])) == pytest.approx(0.3 - 1.4 + 1.5)


def test_writing_into_an_outer_levels_array_keeps_the_inner_gradient():
    def outer(x):
        def inner(y):
            a = x * 1.0  # a box of the outer level
            a *= y       # the inner multiply records a, then a is rebound to x * y
            return np.sum(a)
        return grad(inner)(2.0)  # sum(x)
    x = numpy.array([1.0, 2.0])
    assert_identical(numpy.ones(2), grad(outer)(x))  # [2, 2] before the fix
    assert_identical(grad(outer)(x), grad(outer, jit=True)(x))


def test_views_of_arrays_only_the_jit_traces_see_writes_under_grad():
    def loss(x):
        a = np.copy(np.floor(x))
        view = a[1:]
        a *= x  # the view sees floor(x) * x, as NumPy's would
        return np.sum(view * numpy.array([0.3, -0.7]))
    jitted = grad(loss, jit=True)
    for x in ([1.5, -0.5, 1.25], [2.5, 3.5, -1.5], [0.25, -2.75, 4.0]):
        x = numpy.array(x)
        assert_identical(grad(loss)(x), jitted(x))  # [0, 0, 0] jitted before the fix
    x = numpy.array([1.5, -0.5, 1.25])
    assert_identical(numpy.array([0.0, -0.3, -0.7]), grad(loss)(x))  # floor(x[1:]) * w


def test_a_view_of_an_outer_levels_array_sees_writes_inside_the_inner_gradient():
    def outer(x):
        def inner(y):
            a = x * 1.0
            view = a[1:]
            a *= y  # rebinds the outer-level view to (x * y)[1:]
            return np.sum(view * view)
        return grad(inner)(1.5)  # 2 * 1.5 * sum(x[1:] ** 2)
    x = numpy.array([0.5, 1.0, -2.0])
    assert_identical(grad(outer)(x), grad(outer, jit=True)(x))
    assert grad(outer)(x) == pytest.approx([0.0, 6.0, -12.0])


def test_a_temporary_view_recorded_by_grad_keeps_its_values():
    # The pattern that made the views' re-reading skip older levels: a[1:] recorded as
    # the multiply's operand, then re-read after a[1:] = ... (a is the jit's only).
    def loss(w, data):
        a = np.copy(data)
        a[1:] = a[1:] * w
        return np.sum(a * numpy.array([0.3, -0.7, 0.5]))
    w, data = 1.7, numpy.array([1.0, 2.0, 3.0])
    assert_identical(grad(loss)(w, data), grad(loss, jit=True)(w, data))
