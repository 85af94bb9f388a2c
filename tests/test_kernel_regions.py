"""Which steps a fused kernel takes and where it runs: every case's jit replay against eager.

A kernel runs where its region's last step was, so a region must take no step after
something outside it has read one of its values (a step of a region of another kind,
an unfused call, a guard), and a long region becomes several kernels, run in order.
"""
import numpy
import pytest

import jitgrad.numpy as np
from jitgrad import grad, jit
from jitgrad.extend import vspace
from jitgrad.kernels import regions

pytestmark = pytest.mark.eager_only  # these tests set jit= and fusion themselves


@pytest.fixture(autouse=True)
def small_kernels_and_private_cache(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("JITGRAD_FUSE", "1")
    monkeypatch.setenv("JITGRAD_FUSE_MIN_SIZE", "8")
    monkeypatch.setenv("JITGRAD_WHOLE_PLAN", "0")  # the fused kernels, not whole plans
    monkeypatch.setenv("JITGRAD_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def plans(jitted):
    return [plan for entry in jitted._cache.values() for plan in entry]


def kinds(jitted):
    return {"scalar" if k.region.scalar else "array" for p in plans(jitted) for k in p.kernels}


# A run of scalar steps whose values array steps read while the run goes on.
def scalar_run_first(w, t):  # issue 10's case
    c = np.sin(t) * 1.5 + t * t - t / 3
    d = c * c + np.exp(c) - 2 * c
    return np.sum((w * d - c) ** 2) + d * c


def scalar_run_between(w, t):
    u = w * w + 0.5 * w
    s = np.sum(u) * t
    c = np.cos(s) * t + s * s - 1.0 + t / 4.0
    v = u * c + w              # read midway through the scalar run
    d = c * c - np.tanh(c) + c / 7.0 + np.exp(-c * c) * 0.5
    v = v * d - u
    return np.sum(v * v) * d + c


def scalar_run_last(w, t):
    u = np.sum(w * w - w * 0.5)
    c = np.sin(t * u) * 2.0 + t * t - u / 9.0
    e = w * c                  # read midway; the run goes on to the end
    d = c * c * c - c / 5.0 + np.exp(-c * c) + np.cos(c) * c
    return d * 3.0 + np.sum(e) * d


def arrays_read_by_an_array_of_another_shape(w, t):
    u = w * w + w * t - 0.25
    m = np.outer(u, u[:3]) * 2.0 + 1.0   # another shape reads u
    u = u * u - w                       # and u's run goes on
    return np.sum(m * m) + np.sum(u * t)


CASES = [scalar_run_first, scalar_run_between, scalar_run_last,
         arrays_read_by_an_array_of_another_shape]


def inputs(k):
    return numpy.linspace(-1.0, 1.0, 50) * (1.0 + 0.1 * k), 0.3 - 0.2 * k


@pytest.mark.parametrize("f", CASES, ids=lambda f: f.__name__)
def test_values_read_by_other_steps_replay_as_eager(f):
    jitted = jit(f)
    for k in range(3):  # the trace, then two replays with new w and t
        assert jitted(*inputs(k)) == pytest.approx(f(*inputs(k)), rel=1e-12)
    assert jitted.stats["hits"] == 2 and kinds(jitted) >= {"array"}


@pytest.mark.parametrize("f", CASES, ids=lambda f: f.__name__)
def test_their_gradients_replay_as_eager(f):
    jitted, eager = grad(f, argnum=(0, 1), jit=True), grad(f, argnum=(0, 1))
    for k in range(3):
        for a, b in zip(jitted(*inputs(k)), eager(*inputs(k))):
            numpy.testing.assert_allclose(a, b, rtol=1e-12)
    assert jitted.stats["hits"] == 2


def test_the_scalar_run_stops_where_an_array_step_reads_it():
    jitted = jit(scalar_run_first)
    jitted(*inputs(0))
    (plan,) = plans(jitted)
    assert kinds(jitted) == {"scalar", "array"}
    (scalar,) = [k for k in plan.kernels if k.region.scalar]
    # sin .. (c*c + exp(c) - 2*c): the final d * c comes after w * d and is not in it
    assert [s.name for s in scalar.region.steps][-3:] == ["add", "multiply", "subtract"]


def test_defaults_fuse_the_issue_case_on_large_arrays(monkeypatch):
    monkeypatch.delenv("JITGRAD_FUSE_MIN_SIZE")
    w = numpy.linspace(-1, 1, 5000)
    jitted = jit(scalar_run_first)
    for t in (0.3, -0.4, 0.8):
        assert jitted(w * t, t) == pytest.approx(scalar_run_first(w * t, t), rel=1e-12)
    assert kinds(jitted) == {"scalar", "array"}


# A guard inside a region: Python looked at a value the kernel computes. A kernel that
# went on past the guard would run after the steps traced for the branch taken, so on
# a replay that takes the other branch, those steps ran before the guard could fail.
def guarded_branch(t):
    y = t
    for _ in range(8):
        y = y * 1.5             # a scalar run, positive with t
    if float(y) > 0:           # a guard on its value
        root = np.linalg.cholesky(t * np.ones((1, 1)))  # fails for t < 0
        return y * 2.0 - y * y + 1.0 + root[0, 0]
    return y - 1.0


def test_a_guard_on_a_fused_value_is_checked_before_later_steps():
    jitted = jit(guarded_branch)
    for t in (0.5, -0.5, 0.7, -0.2):
        assert jitted(t) == pytest.approx(guarded_branch(t), rel=1e-12)
    assert all(p.n_kernels == 1 for p in plans(jitted))
    assert jitted.stats["guard_misses"] >= 1


def opaque_step_between_members(w, t):
    u = w * 2.0 + t
    r = np.sort(w)              # unfused, reads nothing of u's region
    u = u * u + r * 0.5         # u's region goes on and reads it
    s = np.sum(u)               # unfused, reads the region: it ends here
    return np.sum(u * s - u)


def test_an_opaque_step_between_members_replays_as_eager():
    jitted = grad(opaque_step_between_members, argnum=(0, 1), jit=True)
    eager = grad(opaque_step_between_members, argnum=(0, 1))
    for k in range(3):
        for a, b in zip(jitted(*inputs(k)), eager(*inputs(k))):
            numpy.testing.assert_allclose(a, b, rtol=1e-12)
    assert plans(jitted)[0].n_kernels >= 2


def adds_in_place(x):
    y = x * 2.0
    z = vspace(x).mut_add(y, x)  # y += x, as eager does it
    return y * 1.0 + z


def test_an_in_place_add_is_not_fused_as_a_pure_one():
    jitted, x = jit(adds_in_place), numpy.linspace(0.0, 1.0, 20)
    for _ in range(3):
        numpy.testing.assert_allclose(jitted(x), adds_in_place(x), rtol=1e-12)


# Long regions: the backward pass of a 1000-step loop is one region of thousands of
# steps, which Numba compiles in minutes. It is cut into kernels of bounded cost.
def tanh_loop(x):
    for _ in range(1000):
        x = np.tanh(x)
    return np.sum(x)


@pytest.mark.parametrize("x", [0.3, numpy.linspace(-1.0, 1.0, 10)], ids=["scalar", "array"])
def test_a_long_region_becomes_several_kernels_within_the_cap(x, monkeypatch):
    monkeypatch.setenv("JITGRAD_ROLL", "0")  # the loop straight-line, as one long region
    jitted, eager = grad(tanh_loop, jit=True), grad(tanh_loop)
    for scale in (1.0, 0.5, -1.5):
        numpy.testing.assert_allclose(jitted(x * scale), eager(x * scale), rtol=1e-12)
    (plan,) = plans(jitted)
    fused = sum(len(k.region.steps) for k in plan.kernels)
    assert fused >= 2900 and plan.n_kernels >= 5, plan.n_kernels
    assert max(k.region.cost for k in plan.kernels) <= regions.MAX_KERNEL_COST
    # Pieces hold whole turns of the loop, so most share one source: a few compiles.
    assert len({k.source for k in plan.kernels}) <= 5


def test_a_region_within_the_cap_stays_one_kernel():
    jitted = grad(lambda x: np.sum((x * 2.0 + 1.0) * x - x / 3.0), jit=True)
    jitted(numpy.linspace(0.0, 1.0, 20))
    (plan,) = plans(jitted)
    assert plan.n_kernels == 1 and plan.kernels[0].region.cost <= regions.MAX_KERNEL_COST
