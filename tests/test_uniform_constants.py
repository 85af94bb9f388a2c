"""Constant arrays of equal entries folded to NumPy scalars (jit/passes.py): the same
bits, shapes and dtypes as eager, and kernels that read a literal instead of an array."""
import re

import numpy
import pytest

import jitgrad.numpy as np
from jitgrad import grad, jit

pytestmark = pytest.mark.eager_only  # these tests set jit= and fusion themselves


@pytest.fixture(autouse=True)
def private_cache(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("JITGRAD_FUSE", "1")
    monkeypatch.delenv("JITGRAD_FUSE_MIN_SIZE", raising=False)
    monkeypatch.setenv("JITGRAD_WHOLE_PLAN", "0")  # the plan's own steps, not one function
    monkeypatch.setenv("JITGRAD_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def assert_same_bits(got, want):
    got, want = numpy.asarray(got), numpy.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got, want)
    assert numpy.array_equal(got.view(f"u{got.itemsize}"), want.view(f"u{want.itemsize}"))


def replays_match(fun, make_args, jitted=None, calls=3):
    """``fun`` jitted against eager over ``calls`` calls with new values; the jit."""
    jitted = jitted or jit(fun)
    for k in range(calls):
        args = make_args(k)
        assert_same_bits(jitted(*args), fun(*args))
    return jitted


def step_line(text, name):
    """The graph's line of the first step called ``name``."""
    return next(line for line in text.splitlines() if line.startswith("%") and f"= {name}(" in line)


def reads_array(text, name, array):
    """Whether the first step called ``name`` reads a constant array ``array`` (e.g.
    ``float64[30]``): written in its line, or a constant node of the graph (an array
    read from a closure: boxed while traced, jit/captured_arrays.py)."""
    line = step_line(text, name)
    if f"<array {array}>" in line:
        return True
    constants = {found for found in re.findall(r"^(%\d+) = const (.+)$", text, re.M)
                 if found[1] == array}
    operands = set(re.findall(r"%\d+", line.split("=", 1)[1]))
    return any(node in operands for node, _ in constants)


@pytest.mark.parametrize("dtype", [numpy.float64, numpy.float32])
def test_an_array_of_equal_entries_becomes_a_scalar_of_its_dtype(dtype):
    scale = numpy.full((40, 3), -0.1, dtype)  # captured: a constant of the plan

    def f(x):
        return (x * scale - x) / (scale + x * x)
    jitted = replays_match(f, lambda k: (numpy.random.RandomState(k).randn(40, 3).astype(dtype),))
    graph = jitted.explain(numpy.ones((40, 3), dtype)).split("plan:")[0]
    # NumPy's scalar of the constant's dtype (a Python float would be weak in NumPy's
    # promotion, unlike the array it replaces)
    name = numpy.dtype(dtype).name
    assert f"multiply(%0, np.{name}(-0.1))" in graph and f"add(np.{name}(-0.1), " in graph
    assert "<array" not in graph


def test_a_float64_constant_with_float32_operands_is_not_folded():
    # The result is float64 (the constant's dtype wins): the other operand's dtype is
    # not the result's, so the constant stays an array.
    scale = numpy.full(30, 0.1)
    f = lambda x: x * scale + x  # noqa: E731
    jitted = replays_match(
        f, lambda k: (numpy.random.RandomState(k).randn(30).astype(numpy.float32),))
    assert reads_array(jitted.explain(numpy.ones(30, numpy.float32)), "multiply",
                       "float64[30]")


def test_a_constant_giving_the_result_its_shape_is_not_folded():
    ones = numpy.ones((5, 30))  # x * ones is (5, 30): a scalar would leave it (30,)
    f = lambda x: np.sum(x * ones, axis=0) * x  # noqa: E731
    jitted = replays_match(f, lambda k: (numpy.random.RandomState(k).randn(30),))
    assert reads_array(jitted.explain(numpy.ones(30)), "multiply", "float64[5, 30]")


@pytest.mark.filterwarnings("ignore:divide by zero")
def test_zeros_of_both_signs_are_not_equal_entries():
    signed = numpy.zeros(30)
    signed[::2] = -0.0  # 1 / (x * signed) is inf or -inf by the sign of each zero
    f = lambda x: 1.0 / (x * signed) + x  # noqa: E731
    jitted = replays_match(f, lambda k: (numpy.random.RandomState(k).rand(30) + 1.0,))
    assert reads_array(jitted.explain(numpy.ones(30)), "multiply", "float64[30]")


def test_the_seed_of_a_mean_is_folded_in_the_gradient():
    # mean's VJP broadcasts 1/n over the input's shape: multiply(<array>, %...) before.
    def loss(w, x):
        return np.mean(np.tanh(np.dot(x, w)) * x[:, :3])
    jitted = grad(loss, jit=True)
    make_args = lambda k: (numpy.random.RandomState(k).randn(4, 3),  # noqa: E731
                           numpy.random.RandomState(k + 10).randn(50, 4))
    for k in range(3):
        assert_same_bits(jitted(*make_args(k)), grad(loss)(*make_args(k)))
    text = jitted.explain(*make_args(0))
    graph = text.split("plan:")[0]
    assert "np.float64(0.006666666666666667)" in graph, graph  # 1 / 150
    assert "<array float64[50, 3]>" not in graph


def test_a_folded_constant_is_a_literal_of_the_kernel():
    scale = numpy.full(20000, 0.25)

    def f(x):
        return np.sum(np.tanh(x) * scale + x * scale)
    jitted = jit(f)
    for k in range(3):
        x = numpy.random.RandomState(k).randn(20000)
        numpy.testing.assert_allclose(jitted(x), f(x), rtol=1e-13)
    (plan,) = [p for entry in jitted._cache.values() for p in entry]
    (kernel,) = plan.kernels
    assert len(kernel.region.inputs) == 1  # x only: 0.25 is in the source
    assert "0.25" in kernel.source


def test_the_folded_plan_replays_with_fusion_off(monkeypatch):
    monkeypatch.setenv("JITGRAD_FUSE", "0")
    scale = numpy.full((8, 8), 3.0, numpy.float32)
    f = lambda x: np.sum((x - scale) * (scale * x))  # noqa: E731
    make_args = lambda k: (  # noqa: E731
        numpy.random.RandomState(k).randn(8, 8).astype(numpy.float32),)
    replays_match(grad(f), make_args, jitted=grad(f, jit=True))
