"""Which regions become kernels when no size is set: those whose predicted NumPy time
exceeds their kernel's (kernels/cost.py). Every case's replays against eager."""
import numpy
import pytest

import jitgrad.numpy as np
from jitgrad import grad, jit
from jitgrad.kernels import cost

pytestmark = pytest.mark.eager_only  # these tests set jit= and fusion themselves


@pytest.fixture(autouse=True)
def cost_model_and_private_cache(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("JITGRAD_FUSE", "1")
    monkeypatch.delenv("JITGRAD_FUSE_MIN_SIZE", raising=False)  # the cost model decides
    monkeypatch.setenv("JITGRAD_WHOLE_PLAN", "0")  # the fused kernels, not whole plans
    monkeypatch.setenv("JITGRAD_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def the_plan(jitted):
    (plan,) = [p for entry in jitted._cache.values() for p in entry]
    return plan


def replays_match(jitted, eager, make_args, exact):
    for k in range(3):
        args = make_args(k)
        got, want = jitted(*args), eager(*args)
        for a, b in zip(got if isinstance(got, tuple) else (got,),
                        want if isinstance(want, tuple) else (want,)):
            if exact:  # the same NumPy calls: the same bits
                assert numpy.asarray(a).dtype == numpy.asarray(b).dtype
                numpy.testing.assert_array_equal(a, b)
            else:  # vmath's transcendentals are within a few ulp of NumPy's
                numpy.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


def trig_chain(x):
    return np.sum(np.sin(x) * np.cos(x * 0.5) + np.sin(x) * 0.25)


def arithmetic(x, y):
    return x * y + x


def args(n, count=1):
    return lambda k: tuple(numpy.random.RandomState(k + 10 * j).randn(n) for j in range(count))


def test_a_small_region_of_transcendentals_keeps_eagers_bits():
    # vmath's sin/cos would pay from a few hundred elements on (NumPy's take ~10 ns an
    # element here, vmath's ~1.5), but a small program replays eager's bits: below
    # INEXACT_MIN_ELEMENTS only exact steps fuse.
    jitted = jit(trig_chain)
    replays_match(jitted, trig_chain, args(300), exact=True)
    assert the_plan(jitted).n_kernels == 0
    numpy_ns, kernel_ns = cost.step_costs("vmath.sin({0})")
    assert numpy_ns > 3 * kernel_ns  # what it would have gained


def test_a_region_of_transcendentals_from_the_exact_size_on_is_fused():
    jitted = jit(trig_chain)
    replays_match(jitted, trig_chain, args(cost.INEXACT_MIN_ELEMENTS), exact=False)
    plan = the_plan(jitted)
    assert plan.n_kernels == 1
    assert "vmath.sin" in plan.kernels[0].source
    assert "1 fused kernels" in jitted.explain(*args(cost.INEXACT_MIN_ELEMENTS)(0))


def test_its_gradient_is_fused_too():
    jitted = grad(trig_chain, jit=True)
    replays_match(jitted, grad(trig_chain), args(cost.INEXACT_MIN_ELEMENTS), exact=False)
    assert the_plan(jitted).n_kernels >= 1


def test_a_small_gradient_of_transcendentals_replays_eagers_bits():
    jitted = grad(trig_chain, jit=True)
    replays_match(jitted, grad(trig_chain), args(500), exact=True)


def test_a_small_region_of_arithmetic_stays_numpy_calls():
    # Two passes of NumPy's at 1000 elements cost less than one kernel call.
    jitted = jit(arithmetic)
    replays_match(jitted, arithmetic, args(1000, 2), exact=True)
    assert the_plan(jitted).n_kernels == 0
    assert "0 fused kernels" in jitted.explain(*args(1000, 2)(0))


def test_a_large_region_of_arithmetic_is_fused():
    jitted = jit(arithmetic)
    replays_match(jitted, arithmetic, args(cost.ALWAYS_ELEMENTS, 2), exact=True)
    assert the_plan(jitted).n_kernels == 1


def test_a_set_size_fuses_every_region_at_least_that_large(monkeypatch):
    monkeypatch.setenv("JITGRAD_FUSE_MIN_SIZE", "8")
    jitted = jit(arithmetic)
    replays_match(jitted, arithmetic, args(1000, 2), exact=True)
    assert the_plan(jitted).n_kernels == 1


def test_tiny_arrays_never_join_a_kernel():
    jitted = jit(trig_chain)
    replays_match(jitted, trig_chain, args(cost.MIN_ELEMENTS - 1), exact=True)
    assert the_plan(jitted).n_kernels == 0


def test_the_model_prefers_kernels_for_transcendentals_and_numpy_for_arithmetic():
    sin_numpy, sin_kernel = cost.step_costs("vmath.sin({0})")
    add_numpy, add_kernel = cost.step_costs("({0} + {1})")
    assert sin_numpy > 4 * sin_kernel and add_kernel < add_numpy
    # a user's body calling a function the tables do not know: no gain assumed
    assert cost.step_costs("math.erf({0})") == (cost.UNKNOWN_ELEMENT, cost.UNKNOWN_ELEMENT)


def test_a_small_region_over_a_transposed_view_keeps_eagers_bits():
    """NumPy's results follow their operands' layout: -x.T is F-ordered, and its sum
    over axis 0 adds each contiguous column pairwise; a kernel adds row after row.
    Found where autograd's gmm example (Newton-CG) parted from eager after 84 steps."""
    def f(x):
        y = -np.transpose(x) * 2.0 + 1.0
        return np.sum(y * y, axis=0)

    jitted = jit(f)
    replays_match(jitted, f, lambda k: (numpy.random.RandomState(k).randn(2, 999),), exact=True)
    assert the_plan(jitted).n_kernels == 0
