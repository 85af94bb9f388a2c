"""The jit's contract: a jitted call gives what eager gives, on the first call and on
every replay, or runs eagerly with one warning; never a stale or different answer.

Each case is a row of issue 10's table, checked on replays (second and third calls,
with new values) against eager on the same inputs.
"""
import math
import re
import warnings
from collections import OrderedDict, namedtuple

import numpy
import pytest
from numpy.testing import assert_allclose

import jitgrad.numpy as np
import jitgrad.tree
from jitgrad import grad, grad_and_aux, jit
from jitgrad.jit import jitted as jitted_module
from jitgrad.tracer import getval

pytestmark = pytest.mark.eager_only  # each test compares jit=True with eager itself
Pair = namedtuple("Pair", "doubled same")


def assert_same_bits(got, want):
    got, want = numpy.asarray(got), numpy.asarray(want)
    assert got.shape == want.shape
    assert numpy.array_equal(got, want, equal_nan=True), (got, want)
    assert numpy.array_equal(numpy.signbit(got), numpy.signbit(want)), (got, want)


def test_getval_in_user_code_is_recomputed_on_replay():
    jitted = grad(lambda x: np.sum(x * getval(x)), jit=True)
    for shift in (0.0, 10.0, -5.0):
        x = numpy.arange(3.0) + shift
        assert_allclose(jitted(x), x)


@pytest.mark.parametrize("make", [lambda x: OrderedDict(a=x * 2.0, b=x),
                                  lambda x: Pair(x * 2.0, x),
                                  lambda x: [Pair(x, x + 1.0), {"k": OrderedDict(z=x * x)}]],
                         ids=["OrderedDict", "namedtuple", "nested"])
def test_container_outputs_are_rebuilt_from_each_replay(make):
    jitted = jit(make)
    for x in (1.0, 2.0, -3.0):
        got, want = jitted(x), make(x)
        assert type(got) is type(want)
        assert repr(jitgrad.tree.tree_map(lambda leaf: "leaf", got)) == repr(
            jitgrad.tree.tree_map(lambda leaf: "leaf", want))
        for got_leaf, want_leaf in zip(jitgrad.tree.leaves(got), jitgrad.tree.leaves(want)):
            assert_same_bits(got_leaf, want_leaf)


def test_signed_zero_constants_are_not_merged():
    f = lambda x: np.arctan2(x * 0.0, -1.0) - np.arctan2(x * -0.0, -1.0)
    jitted = jit(f)
    for x in (1.0, 2.0, 3.0):
        assert_same_bits(jitted(x), f(x))


@pytest.mark.parametrize("product", [
    lambda A, B: np.dot(A, B.T), lambda A, B: A @ np.transpose(B),
    lambda A, B: np.matmul(np.swapaxes(B, 0, 1), A)])
def test_merged_repeats_never_make_a_product_of_an_array_with_itself(product, monkeypatch):
    """``A`` and ``B`` computed alike are merged into one step, but a product of an
    array with its own transpose is NumPy's syrk, which rounds otherwise than eager's
    gemm of two arrays: that merge is undone (a GP kernel's gradient was 2e-16 off)."""
    monkeypatch.setenv("JITGRAD_FUSE_AFTER", "1e9")  # the unfused plan, step by step
    rng = numpy.random.RandomState(1)
    X, y = 4 * rng.rand(60, 2), rng.randn(60)

    def loss(p, X):
        A, B = X / np.exp(p), X / np.exp(p)
        P = product(A, B)
        return np.sum(np.sqrt(P + 1.0) * y[:P.shape[0], None])
    jitted = grad(loss, jit=True)
    for k in range(8):
        p = numpy.array([0.3, 0.5]) + 0.1 * k
        assert_same_bits(jitted(p, X), grad(loss)(p, X))


def test_guards_tell_signed_zeros_apart():
    f = lambda x: x + math.copysign(1.0, float(x))
    jitted = jit(f)
    for x in (0.0, -0.0, 0.0, -0.0, numpy.nan, numpy.nan):
        assert_same_bits(jitted(x), f(x))
    assert jitted.stats["traces"] == 3


def test_an_object_argument_whose_arrays_change_is_never_stale():
    class Model:
        pass
    model = Model()
    model.w = numpy.array([1.0])
    f = lambda s, m: np.sum(s * m.w ** 2)
    jitted = grad(f, jit=True)
    with pytest.warns(UserWarning, match="compared by identity"):
        assert jitted(3.0, model) == grad(f)(3.0, model)
    model.w = numpy.array([5.0])
    assert jitted(3.0, model) == grad(f)(3.0, model) == 25.0


@pytest.mark.parametrize("other", [
    numpy.array(["2020-01-01", "2020-01-03", "2020-01-04"], dtype="datetime64[D]"),
    numpy.array([2, 5, 7], dtype="timedelta64[s]"),
    numpy.array(["ab", "c", "def"]),
], ids=["datetime64", "timedelta64", "str"])
def test_an_array_of_non_numbers_makes_the_call_run_eagerly(other):
    def f(x, other):
        if other.dtype.kind in "mM":
            return np.sum(x * ((other - other[0]) / numpy.timedelta64(1, "s")))
        return np.sum(x * numpy.array([len(s) for s in other], dtype=float))
    jitted = grad(f, jit=True)
    with pytest.warns(UserWarning, match=re.escape(f"argument 1 is an array of {other.dtype} values")):
        assert_allclose(jitted(numpy.ones(3), other), grad(f)(numpy.ones(3), other))
    for k in range(2, 4):  # later calls with new values
        x, shifted = k * numpy.ones(3), other[::-1].copy()
        assert_allclose(jitted(x, shifted), grad(f)(x, shifted))


def test_a_memmap_argument_is_an_array_read_at_every_call(tmp_path):
    data = numpy.memmap(tmp_path / "X.dat", dtype=float, mode="w+", shape=(5, 3))
    data[:] = numpy.arange(15.0).reshape(5, 3) / 10
    f = lambda w, X: np.sum(np.tanh(X @ w) * X[:, 0])  # noqa: E731
    jitted = grad(f, jit=True)
    for k in range(5):  # the file's data changes between calls, the memmap stays
        data += 0.1
        assert_allclose(jitted(numpy.ones(3), data), grad(f)(numpy.ones(3), data), rtol=1e-12)
    assert jitted.stats["fallbacks"] == 0


def test_a_registered_class_is_traced_through_its_leaves():
    class Model:
        def __init__(self, w, scale):
            self.w, self.scale = w, scale
    jitgrad.tree.register(Model, lambda m: ((m.w,), m.scale),
                          lambda scale, parts: Model(parts[0], scale))
    f = lambda s, m: np.sum(s * m.w ** 2) * m.scale
    jitted = grad(f, jit=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no eager fallback
        for w in (1.0, 5.0, -2.0):
            model = Model(numpy.array([w, 2.0 * w]), 3.0)
            assert jitted(3.0, model) == pytest.approx(grad(f)(3.0, model))
    assert jitted.stats["traces"] == 1
    assert jitted(3.0, Model(numpy.array([1.0, 1.0]), 4.0)) == pytest.approx(8.0)
    assert jitted.stats["traces"] == 2  # the static part is part of the signature


def test_a_function_writing_into_its_argument_runs_eagerly():
    def f(x, buf):
        buf[0] += 1
        return np.sum(x * buf)
    eager_buf, jit_buf = numpy.zeros(1), numpy.zeros(1)
    jitted = jit(f)
    with pytest.warns(UserWarning, match="writes into one of its argument arrays"):
        results = [jitted(numpy.ones(1), jit_buf) for _ in range(3)]
    assert results == [f(numpy.ones(1), eager_buf) for _ in range(3)] == [1.0, 2.0, 3.0]
    assert jit_buf[0] == eager_buf[0] == 3.0


def test_a_generator_runs_eagerly():
    def gen(x):
        for i in range(3):
            yield x * i
    jitted = jit(gen)
    with pytest.warns(UserWarning, match="generator"):
        assert list(jitted(1.0)) == [0.0, 1.0, 2.0]
    assert list(jitted(2.0)) == [0.0, 2.0, 4.0]


def test_grad_and_aux_returns_plain_containers():
    gradient, aux = grad_and_aux(lambda x: (np.sum(x ** 2), Pair(x * 2.0, x)))(numpy.ones(2))
    assert type(aux) is Pair and type(aux.doubled) is numpy.ndarray
    gradient, aux = grad_and_aux(lambda x: (np.sum(x ** 2), OrderedDict(a=x)))(numpy.ones(2))
    assert type(aux) is OrderedDict and type(aux["a"]) is numpy.ndarray


def test_namedtuple_arguments_differentiate_and_jit():
    f = lambda p: np.sum(p.doubled ** 2) + p.same * 3.0
    jitted = grad(f, jit=True)
    for k in range(3):
        p = Pair(numpy.ones(2) * k, 0.5 + k)
        got, want = jitted(p), grad(f)(p)
        assert type(got) is Pair
        assert_allclose(got.doubled, want.doubled)
        assert got.same == want.same == 3.0


def test_a_check_returning_none_is_replayed():
    from jitgrad.scipy.stats import multivariate_normal as mvn
    f = lambda s: mvn.logpdf(np.ones(2), np.zeros(2), s * np.eye(2))
    jitted = grad(f, jit=True)
    for s in (2.0, 3.0):
        assert jitted(s) == pytest.approx(grad(f, jit=False)(s))
    assert jitted.stats["traces"] == 1 and jitted.stats["fallbacks"] == 0
    with pytest.raises(numpy.linalg.LinAlgError):  # the check runs on the replay too
        jitted(-1.0)


def test_an_output_object_holding_traced_values_runs_eagerly():
    class Affine:
        def __init__(self, w):
            self.w = w
    jitted = jit(lambda w: Affine(w * 2.0))
    with pytest.warns(UserWarning, match="returns a Affine object"):
        assert_allclose(jitted(numpy.ones(2)).w, [2.0, 2.0])
    assert_allclose(jitted(3.0 * numpy.ones(2)).w, [6.0, 6.0])


def test_a_new_path_on_most_calls_runs_eagerly():
    f = lambda x: x * int(x * 1e6)  # int() guards the number: a new one each call
    jitted = jit(f)
    rng = numpy.random.RandomState(1)
    with pytest.warns(UserWarning, match="took a new path on most calls"):
        for _ in range(40):
            x = rng.rand()
            assert_allclose(jitted(x), f(x))
    assert jitted.stats["traces"] <= jitted_module.MAX_NEW_PATHS + 1


def test_paths_taken_in_turn_keep_their_plans():
    f = lambda x, i: np.sum(x[i % 3:]) * 2.0
    jitted = jit(f)
    for i in range(30):
        assert jitted(numpy.arange(4.0), i) == f(numpy.arange(4.0), i)
    assert jitted.stats["traces"] == 3 and jitted.stats["fallbacks"] == 0


@pytest.mark.parametrize("order", ["sorted", "reversed", "mixed"])
def test_keyword_arguments_in_any_order_replay_their_own_values(order):
    """Keyword leaves are traced and replayed in one order (sorted names), whatever
    order a call passes them in: a trace of ``f(x, shift=..., scale=...)`` swapped them
    on replay."""
    def loss(w, x, scale=1.0, shift=0.0, n=1):
        return np.sum((w * x * scale - shift) ** 2) * n

    jitted = grad(loss, jit=True)
    for call in range(5):
        w, x = numpy.array([0.5, -1.0]) + call, numpy.array([1.5, 2.0])
        kwargs = {"scale": 3.0 + call, "shift": 1.0 - 2 * call, "n": 2 + call % 2}
        names = {"sorted": sorted(kwargs), "reversed": sorted(kwargs)[::-1],
                 "mixed": ["shift", "n", "scale"] if call % 2 else ["n", "scale", "shift"]}
        ordered = {name: kwargs[name] for name in names[order]}
        assert_allclose(jitted(w, x, **ordered), grad(loss)(w, x, **kwargs), rtol=1e-13)
    assert jitted.stats["hits"] >= 2


def _smallest_real_root(c):
    r = np.roots(c)
    return -1.0 if r.dtype.kind == "c" else np.min(r)


def _spectrum_norm(a):
    w = np.linalg.eigvals(a)
    return np.sum(np.real(w * np.conj(w))) + (1.0 if np.iscomplexobj(w) else 0.0)


_ROTATION, _SYMMETRIC = numpy.array([[0.0, -1.0], [1.0, 0.0]]), numpy.array([[2.0, 1.0],
                                                                            [1.0, 2.0]])


@pytest.mark.parametrize("f, make, args", [
    (_smallest_real_root, lambda f: jit(f),
     [[1.0, -3.0, 2.0], [1.0, -5.0, 6.0], [1.0, 0.0, 1.0], [1.0, -7.0, 12.0]]),
    (_spectrum_norm, lambda f: grad(f, jit=True),
     [_SYMMETRIC, _SYMMETRIC * 2, _ROTATION, _ROTATION * 3, _SYMMETRIC * 3])],
    ids=["roots", "eigvals"])
def test_results_whose_dtype_depends_on_values_are_guarded(f, make, args):
    """roots and eigvals give real results or complex ones by value: a replay whose
    result would change dtype traces again instead of returning the traced dtype."""
    jitted, eager = make(f), make(f).fun
    for a in map(numpy.array, args):
        got, expected = jitted(a), eager(a)
        assert_allclose(got, expected, rtol=1e-12)
        assert numpy.asarray(got).dtype == numpy.asarray(expected).dtype


def test_more_shapes_in_turn_than_the_signature_bound_grow_it(monkeypatch):
    """Shapes used in a cycle longer than the bound on signatures (bucketed sequence
    lengths): the dropped ones come back, so the bound grows instead of every call
    tracing anew; replays match eager throughout."""
    monkeypatch.setattr(jitted_module, "MAX_SIGNATURES", 8)
    monkeypatch.setattr(jitted_module, "MAX_SIGNATURES_GROWN", 32)
    monkeypatch.setattr(jitted_module, "RETURNS_BEFORE_GROWING", 2)

    def loss(x):
        return np.sum(np.tanh(x) ** 2 + np.sin(x) * x)
    jitted, eager = grad(loss, jit=True), grad(loss)
    shapes = range(3, 15)  # 12 in turn, over a bound of 8
    for epoch in range(4):
        traces_before = jitted.stats["traces"]
        for n in shapes:
            x = numpy.linspace(-1.0, 1.0, n) * (epoch + 1)
            for _ in range(2):
                assert_allclose(jitted(x), eager(x), rtol=1e-13)
    assert jitted.stats["traces"] == traces_before  # the last epoch only replays


@pytest.mark.parametrize("f", [
    lambda z: np.abs(z[1] * z[2]),
    lambda z: np.abs(np.linalg.det(np.outer(z, z[::-1]) + 3 * numpy.eye(4))),
    lambda z: np.real(z[0] * z[1] * (2.0 + 1.0j) * z[2]),
], ids=["product", "det", "python-complex"])
def test_complex_scalar_products_replay_eagers_bits(f):
    """NumPy's scalar * of complex numbers rounds unlike np.multiply (a fused multiply-
    add in its loop) in about 40% of products: a rule's g * y on complex scalars is
    replayed as that same scalar product, not as the ufunc."""
    jitted = grad(f, jit=True)
    rng = numpy.random.RandomState(0)
    for _ in range(8):
        z = rng.randn(4) + 1j * rng.randn(4)
        assert jitted(z).tobytes() == grad(f)(z).tobytes()
