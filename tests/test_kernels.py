"""Fusion of elementwise steps into Numba kernels: same answers, counted kernels, cache."""
import os
import subprocess
import sys
import textwrap
import warnings

import numpy
import pytest

import jitgrad.numpy as np
from jitgrad.jit import clear_shared_plans
from jitgrad import grad, jit
from jitgrad.kernels import cache

pytestmark = pytest.mark.eager_only  # these tests set jit= and fusion themselves


@pytest.fixture(autouse=True)
def small_kernels_and_private_cache(monkeypatch, tmp_path_factory):
    """Fuse small arrays too (fast tests), into a cache directory of this session."""
    monkeypatch.setenv("JITGRAD_FUSE", "1")
    monkeypatch.setenv("JITGRAD_FUSE_MIN_SIZE", "8")
    monkeypatch.setenv("JITGRAD_WHOLE_PLAN", "0")  # the fused kernels, not whole plans
    monkeypatch.setenv("JITGRAD_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def rational(x, y):
    z = (x * 2.0 + y) / (1.0 + x ** 2) - 3.0 * y
    return np.sum(z * z / (1.0 + z * z))


def plans(jitted):
    return [plan for entry in jitted._cache.values() for plan in entry]


def test_fused_gradient_matches_eager_and_unfused(monkeypatch):
    x, y = numpy.random.randn(50), numpy.random.randn(50)
    fused = grad(rational, (0, 1), jit=True)
    monkeypatch.setenv("JITGRAD_FUSE", "0")
    unfused = grad(rational, (0, 1), jit=True)
    unfused(x, y)
    monkeypatch.setenv("JITGRAD_FUSE", "1")
    for _ in range(2):
        for a, b, c in zip(fused(x, y), unfused(x, y), grad(rational, (0, 1))(x, y)):
            numpy.testing.assert_allclose(a, c, rtol=1e-13)
            numpy.testing.assert_allclose(b, c, rtol=1e-13)
    assert plans(fused)[0].n_kernels >= 1 and plans(unfused)[0].n_kernels == 0
    assert "k0(" in plans(fused)[0].source


def test_forward_and_backward_chains_fuse_into_few_kernels():
    jitted = grad(rational, jit=True)
    x, y = numpy.random.randn(50), numpy.random.randn(50)
    jitted(x, y)
    plan = plans(jitted)[0]
    fused_steps = sum(len(k.region.steps) for k in plan.kernels)
    assert fused_steps >= 10 and plan.n_kernels <= 4, plan.source


def test_transcendentals_fuse_with_vmath_or_stay_numpy_calls():
    # exp and tanh have vectorizable versions (kernels/vmath.py); tan does not.
    f = lambda x: np.exp(x) + np.tanh(x) * 2.0 + np.tan(x)
    jitted = jit(f)
    for _ in range(3):
        x = numpy.random.randn(50)
        numpy.testing.assert_allclose(jitted(x), f(x), rtol=1e-14)
    (kernel,) = plans(jitted)[0].kernels
    assert len(kernel.region.steps) == 5  # exp, tanh, *, +, + around the NumPy tan
    assert "vmath.exp(" in kernel.source and "vmath.tanh(" in kernel.source
    assert "tan(" not in kernel.source.replace("tanh(", "")
    assert "math." not in kernel.source.replace("vmath.", "")


def test_small_arrays_are_not_fused(monkeypatch):
    monkeypatch.setenv("JITGRAD_FUSE_MIN_SIZE", "1000")
    jitted = grad(rational, jit=True)
    jitted(numpy.random.randn(50), numpy.random.randn(50))
    assert plans(jitted)[0].n_kernels == 0


def test_guards_and_outputs_read_fused_values():
    def f(x):
        y = x * x + 1.0
        z = y * 3.0 - x
        if np.sum(z) > 0:         # guard on a fused value
            return z * 2.0, y      # both are fused values
        return z, y - 1.0
    jitted = jit(f)
    for sign in (1.0, -1.0, 1.0):
        x = sign * numpy.linspace(1.0, 2.0, 20)
        for a, b in zip(jitted(x), f(x)):
            numpy.testing.assert_allclose(a, b, rtol=1e-14)


def test_explain_lists_kernels_and_their_source():
    text = jit(lambda x: x * 2.0 + x * x).explain(numpy.ones(20))
    assert "fused kernels" in text and "@numba.njit" in text and "def kernel(" in text


def test_unwritable_cache_warns_once_and_compiles_in_memory(monkeypatch, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("JITGRAD_CACHE_DIR", str(blocker / "cache"))
    body = lambda x: x * 7.0 - x * x * 0.5  # noqa: E731  (a kernel not compiled before)
    with pytest.warns(RuntimeWarning, match="kernel cache .* cannot be used"):
        out = jit(body)(numpy.arange(20.0))
    numpy.testing.assert_allclose(out, body(numpy.arange(20.0)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the second unusable kernel does not warn again
        jit(lambda x: x * 9.0 - x * x * 0.25)(numpy.arange(20.0))


def test_a_file_where_the_kernel_directory_goes_is_named_as_such(monkeypatch, tmp_path):
    monkeypatch.setenv("JITGRAD_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(cache, "_warned", set())
    (tmp_path / "kernels").write_text("a file in the way")
    body = lambda x: x * 5.0 - x * x * 0.75  # noqa: E731  (a kernel not compiled before)
    with pytest.warns(RuntimeWarning, match="kernels is not a directory.*move that file away") \
            as caught:
        out = jit(body)(numpy.arange(20.0))
    assert not any("trusted" in str(w.message) for w in caught)
    numpy.testing.assert_allclose(out, body(numpy.arange(20.0)))


def test_foreign_file_in_the_cache_is_replaced(monkeypatch, tmp_path):
    monkeypatch.setenv("JITGRAD_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(cache, "_compiled", {})
    body = lambda x: x * 3.0 + x * x  # noqa: E731
    jit(body)(numpy.arange(20.0))
    (kernel_file,) = (tmp_path / "kernels").glob("k_*.py")
    kernel_file.write_text("garbage = (")
    monkeypatch.setattr(cache, "_compiled", {})  # as a new process would see it
    clear_shared_plans()
    with pytest.warns(RuntimeWarning, match="not written by this version"):
        out = jit(body)(numpy.arange(20.0))
    numpy.testing.assert_allclose(out, body(numpy.arange(20.0)))


def test_a_second_process_loads_kernels_from_disk(tmp_path):
    script = textwrap.dedent("""
        import numpy, jitgrad.numpy as np
        from jitgrad import jit
        f = jit(lambda x: x * 5.0 + x * x * 0.125)
        f(numpy.arange(20.0))
        (plan,) = next(iter(f._cache.values()))
        print(plan.kernels[0].dispatcher.stats.cache_hits)
    """)
    env = dict(os.environ, JITGRAD_CACHE_DIR=str(tmp_path), JITGRAD_FUSE_MIN_SIZE="8")
    run = lambda: subprocess.run([sys.executable, "-c", script], env=env, check=True,  # noqa
                                 capture_output=True, text=True).stdout.split()[-1]
    assert run() == "Counter()"           # compiled and stored
    assert run() != "Counter()"           # loaded


def test_import_jitgrad_does_not_import_numba():
    code = "import sys, jitgrad, jitgrad.numpy as np; jitgrad.grad(np.sin)(1.0); " \
           "print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    assert out.strip() == "False"


def test_regions_of_the_same_structure_share_one_kernel(monkeypatch):
    monkeypatch.setenv("JITGRAD_ROLL", "0")  # six turns straight-line (rolled: one kernel)
    def simulate(x):
        for _ in range(6):
            x = np.tan(x * 0.5 + x * x * 0.1)  # the same arithmetic each step (tan: NumPy)
        return x
    jitted = jit(simulate)
    x = numpy.linspace(0.0, 1.0, 30)
    numpy.testing.assert_allclose(jitted(x), simulate(x))
    (plan,) = plans(jitted)
    assert plan.n_kernels == 6
    assert len({id(kernel.dispatcher) for kernel in plan.kernels}) == 1


def scalar_chain(x):
    for _ in range(10):
        x = np.sin(x) * 1.5 + np.exp(-x) / (1.0 + x * x)
    return x


def test_scalar_chains_fuse_into_one_call_with_eager_answers(monkeypatch):
    jitted = grad(scalar_chain, jit=True)
    jitted(0.3)  # plans are built (and fused, or not) on the first call
    monkeypatch.setenv("JITGRAD_FUSE", "0")
    unfused = grad(scalar_chain, jit=True)
    unfused(0.3)
    for x in (0.3, -0.7, 0.3):
        want = grad(scalar_chain)(x)
        assert jitted(x) == pytest.approx(want, rel=1e-13)
        assert unfused(x) == pytest.approx(want, rel=1e-13)
        assert type(jitted(x)) is type(want)
    (plan,) = plans(jitted)
    assert plan.n_kernels >= 1 and "math.sin" in plan.kernels[0].source


def test_scalar_kernels_keep_numpy_semantics_at_poles_and_outside_domains():
    def f(x):
        y = x * 1.0
        for _ in range(4):
            y = y * 1.0 + 0.0
        return 1.0 / y + np.log(y - 1.0) + np.sqrt(y - 2.0)  # inf, nan, nan at 0
    jitted = jit(f)
    with numpy.errstate(all="ignore"):
        for x in map(numpy.float64, (0.0, 3.0, 0.0)):  # NumPy scalars, as the jit traces
            numpy.testing.assert_equal(jitted(x), f(x))  # inf/nan compare equal here
    (plan,) = plans(jitted)
    assert plan.n_kernels == 1


def test_short_scalar_runs_stay_numpy_calls():
    jitted = grad(lambda x: np.sin(x) * 2.0, jit=True)
    jitted(0.5)
    assert plans(jitted)[0].n_kernels == 0


@pytest.mark.parametrize("x", [numpy.linspace(0.5, 1.5, 20), 0.7], ids=["array", "scalar"])
def test_a_kernel_numba_cannot_compile_runs_as_numpy_steps(monkeypatch, x):
    from jitgrad.kernels import fused
    from jitgrad.trace.rules import array_bodies, scalar_bodies
    monkeypatch.setitem(scalar_bodies, np.multiply, "no_such_function({0}, {1})")
    monkeypatch.setitem(array_bodies, np.multiply, "no_such_function({0}, {1})")
    monkeypatch.setattr(fused, "_warned", set())

    def f(x):
        for _ in range(4):
            x = x * 1.25 + x * x
        return x
    jitted = jit(f)
    with pytest.warns(RuntimeWarning, match="failed to compile"):
        jitted(x)  # traces, and builds the plan's kernel
    for _ in range(2):
        numpy.testing.assert_allclose(jitted(x), f(x), rtol=1e-14)
    assert plans(jitted)[0].n_kernels >= 1


def test_plans_fuse_once_their_replays_have_taken_long_enough(monkeypatch):
    # A short program never pays for kernels: a plan starts unfused and is rebuilt
    # with kernels after JITGRAD_FUSE_AFTER seconds of replays.
    monkeypatch.setenv("JITGRAD_FUSE_AFTER", "1e-9")
    x, y = numpy.random.randn(50), numpy.random.randn(50)
    jitted = grad(rational, (0, 1), jit=True)
    expected = grad(rational, (0, 1), jit=False)(x, y)
    first = jitted(x, y)
    (plan,) = plans(jitted)
    assert plan.n_kernels == 0 and not plan.fused
    for _ in range(3):
        for a, b in zip(jitted(x, y), expected):
            numpy.testing.assert_allclose(a, b, rtol=1e-13)
    assert plan.fused and plan.n_kernels >= 1 and plans(jitted)[0] is plan
    for a, b in zip(first, expected):
        numpy.testing.assert_allclose(a, b, rtol=1e-13)
    monkeypatch.setenv("JITGRAD_FUSE_AFTER", "1e9")
    never = grad(rational, (0, 1), jit=True)
    for _ in range(3):
        never(x, y)
    assert plans(never)[0].n_kernels == 0


@pytest.mark.parametrize("order", ["F", "reversed"])
def test_a_constant_laid_out_otherwise_than_c_stays_a_numpy_call(order):
    # NumPy's c * t keeps c's layout, and np.sum adds in memory order: a kernel adding in
    # C order gave other bits, at every size it fused.
    rs = numpy.random.RandomState(3)
    c = rs.randn(6, 700)
    c = numpy.asfortranarray(c) if order == "F" else \
        numpy.ascontiguousarray(c[::-1, ::-1])[::-1, ::-1]
    f = lambda x: np.sum(c * x[0, 0])  # noqa: E731
    jitted = jit(f)
    for _ in range(3):
        x = rs.randn(6, 6)
        got, want = jitted(x), f(x)
        assert numpy.array_equal(got, want), (got, want)
    assert plans(jitted)[0].n_kernels == 0
