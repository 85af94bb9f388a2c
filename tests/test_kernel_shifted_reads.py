"""Rolled values read in place by fused kernels (``rules.def_shifted_read``): a kernel
reads ``x`` at shifted positions instead of ``np.roll(x)``'s copy, and the plan makes no
copy that only kernels read. Replays must equal eager to the bit (a roll only moves
entries; no transcendental below, so no vmath ulp)."""
import re

import numpy
import pytest

import jitgrad.numpy as np
from jitgrad import explain, grad, jit

pytestmark = pytest.mark.eager_only  # each test jits (and compares with eager) itself


@pytest.fixture(autouse=True)
def fused_at_once(monkeypatch):
    monkeypatch.setenv("JITGRAD_FUSE", "1")
    monkeypatch.setenv("JITGRAD_FUSE_AFTER", "0")
    monkeypatch.setenv("JITGRAD_FUSE_MIN_SIZE", "16")


def jacobi(p, d):
    for _ in range(4):
        neighbours = (np.roll(p, 1, axis=0) + np.roll(p, -1, axis=0)
                      + np.roll(p, 1, axis=1) + np.roll(p, -1, axis=1))
        p = (neighbours - d) / 4
    return np.sum(p * p)


def rolled_3d(x, y):
    z = x * y + np.roll(x, 3, axis=-2) * 2.0 - np.roll(y, -7, axis=2)  # shifts past n too
    return np.sum(z * np.roll(z, 0, axis=0) + np.roll(z * y, 1, axis=1))


def kept_roll(x):
    r = np.roll(x, 2, axis=0)  # read by a kernel and by a step that is no kernel
    return np.sum((x + r) * x) + np.sum(np.sort(r, axis=0)[0])


def broadcast_roll(x, column):
    # the rolled column broadcasts across the region: read as a copy, not shifted
    return np.sum((x + np.roll(column, 1, axis=0)) * x)


CASES = {
    "jacobi": (jacobi, lambda rng, dtype: (rng.randn(32, 24).astype(dtype),
                                          rng.randn(32, 24).astype(dtype))),
    "rolled_3d": (rolled_3d, lambda rng, dtype: (rng.randn(4, 5, 6).astype(dtype),
                                                rng.randn(4, 5, 6).astype(dtype))),
    "kept_roll": (kept_roll, lambda rng, dtype: (rng.randn(16, 8).astype(dtype),)),
    "broadcast_roll": (broadcast_roll, lambda rng, dtype: (rng.randn(16, 8).astype(dtype),
                                                          rng.randn(16, 1).astype(dtype))),
}


@pytest.mark.parametrize("dtype", [numpy.float64, numpy.float32])
@pytest.mark.parametrize("name", sorted(CASES))
def test_replays_equal_eager_bit_for_bit(name, dtype):
    f, make_args = CASES[name]
    rng = numpy.random.RandomState(0)
    jitted, eager = grad(f, jit=True), grad(f)
    for _ in range(4):  # eager first call, trace, replays on new values
        args = make_args(rng, dtype)
        got, want = jitted(*args), eager(*args)
        assert got.dtype == want.dtype
        assert numpy.array_equal(got, want), numpy.max(abs(got - want))
    assert jitted.stats["hits"] >= 2


def _plan_and_kernels(f, *args):
    jitted = grad(f, jit=True)
    for _ in range(3):
        jitted(*args)
    text = explain(jitted, *args)
    return text.split("plan:")[1].split("\nkernel k0")[0], text


def test_jacobi_sweeps_are_kernels_reading_shifted_without_roll_copies():
    rng = numpy.random.RandomState(1)
    plan, text = _plan_and_kernels(jacobi, rng.randn(32, 24), rng.randn(32, 24))
    # Of 16 rolls per call (4 sweeps forward, 4 back) one copy is left: a backward
    # roll carried into the next turn (the loop keeps it) is made.
    assert plan.count("roll(") <= 1, plan
    assert re.search(r"sh(\d+) = 1 % n0", text) and "if i0 < sh" in text


def test_a_roll_something_else_reads_is_still_made():
    rng = numpy.random.RandomState(2)
    plan, text = _plan_and_kernels(kept_roll, rng.randn(16, 8))
    assert "roll(" in plan and re.search(r"sh\d+ = 2 % n0", text)


def test_a_broadcast_rolled_operand_is_read_from_its_copy():
    rng = numpy.random.RandomState(3)
    plan, text = _plan_and_kernels(broadcast_roll, rng.randn(16, 8), rng.randn(16, 1))
    assert "roll(" in plan and not re.search(r"sh\d+ = ", text)


def test_a_shift_computed_from_the_inputs_is_never_baked_into_a_kernel():
    """np.roll(x, k) with k an int argument (traced: it may change on replay without a
    new trace) or an int computed from traced values (guarded)."""
    def f(x, k, y):
        return np.sum((x + np.roll(x, k, axis=0) + np.roll(x, int(np.sum(y > 0)), 1)) * x)

    rng = numpy.random.RandomState(5)
    jitted, eager = grad(f, jit=True), grad(f)
    for k, n_positive in ((1, 1), (2, 1), (3, 2), (5, 2), (2, 3)):
        x, y = rng.randn(16, 8), -numpy.ones(4)
        y[:n_positive] = 1.0
        assert numpy.array_equal(jitted(x, k, y), eager(x, k, y))


def test_a_roll_read_by_a_region_the_cost_model_leaves_to_numpy_is_made(monkeypatch):
    """Two regions read one roll shifted; the cost model keeps the transcendental one
    and leaves the addition to NumPy, whose call reads the roll's copy."""
    monkeypatch.delenv("JITGRAD_FUSE_MIN_SIZE")  # the cost model decides

    def f(x):
        r = np.roll(x, 1, axis=0)
        cheap = x + r  # 1 arithmetic step at 4096 elements: not worth a kernel
        dear = np.sin(r) * np.cos(x) * np.sin(x * r)  # transcendentals: a kernel
        return cheap, dear

    rng = numpy.random.RandomState(6)
    jitted = jit(f)
    for _ in range(4):
        x = rng.randn(64, 64)
        (cheap, dear), (cheap_e, dear_e) = jitted(x), f(x)
        assert numpy.array_equal(cheap, cheap_e)
        numpy.testing.assert_allclose(dear, dear_e, rtol=1e-14, atol=1e-15)
    text = explain(jitted, x)
    plan = text.split("plan:")[1].split("\nkernel k0")[0]
    assert "roll(" in plan and "add(" in plan and re.search(r"sh\d+ = 1 % n0", text)


def test_a_roll_made_before_a_loop_and_read_inside_it_is_made():
    """A roll made before a rolled loop and read by the loop's kernels shifted is read
    by other steps too (the loop's search sees only its own block): it is made."""
    def f(p, v):
        r = np.roll(p, 1, axis=1)  # before the loop
        u = r * 3.0 + np.sort(r, axis=0)  # a step that is no kernel reads it
        for _ in range(6):
            v = (v * 0.5 + r) * 0.9 + np.roll(v, -1, axis=0) * 0.1
        return np.sum(v * u)

    rng = numpy.random.RandomState(8)
    jitted, eager = grad(f, argnum=(0, 1), jit=True), grad(f, argnum=(0, 1))
    for _ in range(4):
        p, v = rng.randn(128, 128), rng.randn(128, 128)
        for got, want in zip(jitted(p, v), eager(p, v)):
            assert numpy.array_equal(got, want)
