"""Sums and means over all axes computed inside fused kernels, in NumPy's pairwise order:
the same bits as eager's np.sum/np.mean on jit replays; kernels/pairwise.py against
np.sum on many sizes and against math.fsum on adversarial inputs."""
import math
import os
import subprocess
import sys
import textwrap

import numpy
import pytest

pytest.importorskip("numba")
import jitgrad.numpy as np  # noqa: E402
from jitgrad import grad, jit  # noqa: E402
from jitgrad.kernels import pairwise  # noqa: E402

pytestmark = [pytest.mark.eager_only,  # these tests set jit= and fusion themselves
              pytest.mark.usefixtures("small_kernels_and_private_cache")]
rng = numpy.random.default_rng(9)
SIZES = list(range(0, 300)) + [1000, 8191, 8192, 8193, 65537, 10 ** 5 + 3]


def same_bits(a, b):
    return numpy.asarray(a).tobytes() == numpy.asarray(b).tobytes() and \
        numpy.asarray(a).dtype == numpy.asarray(b).dtype


@pytest.mark.parametrize("dtype", [numpy.float64, numpy.float32])
def test_pairwise_sum_is_numpys_sum_bit_for_bit(dtype):
    for n in SIZES:
        x = (rng.standard_normal(n) * 10.0 ** rng.integers(-8, 8, n)).astype(dtype)
        assert same_bits(numpy.dtype(dtype).type(pairwise.pairwise_sum(x, *pairwise.pieces(n))),
                         numpy.sum(x)), n
    zeros = numpy.full(9, -0.0, dtype)  # the identity 0.0 makes a sum of -0.0s +0.0
    assert same_bits(numpy.dtype(dtype).type(pairwise.pairwise_sum(zeros, *pairwise.pieces(9))),
                     numpy.sum(zeros))


def adversarial(n):
    """Half ±1e16 and ±1e8, half standard normal: sums that cancel catastrophically."""
    big = rng.choice([1e16, -1e16, 1e8, -1e8], n)
    return numpy.where(rng.random(n) < 0.5, big, rng.standard_normal(n))


def test_error_against_fsum_is_numpys_within_the_pairwise_bound():
    """Measured: the kernels' sum is np.sum's bits, so its error against the exact sum
    (math.fsum) is NumPy's: at most 0.6 eps * sum|x| here for n up to 10**6, within
    pairwise summation's bound of about eps * log2(n / 128) * sum|x|."""
    for n in [10, 1000, 10 ** 4, 10 ** 6]:
        x = adversarial(n)
        ours = pairwise.pairwise_sum(x, *pairwise.pieces(n))
        assert ours == numpy.sum(x)
        err = abs(ours - math.fsum(x)) / numpy.abs(x).sum()
        assert err <= numpy.finfo(float).eps * max(1.0, math.log2(n / 128)), n


def plans(jitted):
    return [plan for entry in jitted._cache.values() for plan in entry]


def kernels(jitted):
    return [k for p in plans(jitted) for k in p.kernels]


def sum_of_chain(x, y):
    z = (x * 2.0 - y) * (x + 0.5)
    return np.sum(z * z - y)


def mean_and_sum(x, y):
    z = x * y - 1.0
    return np.mean(z * 3.0), np.sum(z / (1.0 + y * y)), z


def broadcast_sum(c, r):
    return np.sum(c * r - r * r) + np.mean(c * 2.0 - r)


# name: (function, argument shapes)
CASES = {
    "sum_of_chain": (sum_of_chain, [(1000,), (1000,)]),
    "sum_of_chain_2d": (sum_of_chain, [(37, 29), (37, 29)]),
    "mean_and_sum": (mean_and_sum, [(5000,), (5000,)]),
    "broadcast_sum": (broadcast_sum, [(40, 1), (1, 33)]),
    "broadcast_sum_3d": (broadcast_sum, [(3, 1, 50), (4, 1)]),
}


@pytest.mark.parametrize("dtype", [numpy.float64, numpy.float32])
@pytest.mark.parametrize("name", sorted(CASES))
def test_reductions_at_region_exits_replay_as_eager_bitwise(name, dtype):
    f, shapes = CASES[name]
    jitted = jit(f)
    for _ in range(3):
        args = [rng.standard_normal(s).astype(dtype) * 10.0 ** rng.integers(-3, 4) for s in shapes]
        got, want = jitted(*args), f(*args)
        got, want = (got, want) if isinstance(got, tuple) else ((got,), (want,))
        for g, w in zip(got, want):
            assert type(g) is type(w) and same_bits(g, w), (g, w)
    fused = [k for k in kernels(jitted) if k.region.reductions]
    assert fused and "pairwise" in fused[0].source


def test_a_step_reading_a_reduction_runs_after_its_kernel():
    def f(x):
        y = x * 2.0 + 1.0
        s = np.sum(y * y)
        return y * s - x / s   # reads the sum: not in the kernel that computes it
    jitted = jit(f)
    for _ in range(3):
        x = rng.standard_normal(300)
        assert same_bits(jitted(x), f(x))
    for kernel in kernels(jitted):
        for step in kernel.region.steps:
            reads = {o.index for o in kernel.region.operands[step.index] if hasattr(o, "index")}
            assert not reads & set(kernel.region.reductions)


def test_reduction_with_trig_two_pass_kernel():
    f = lambda x: np.mean(np.sin(x) * x) + np.sum(np.cos(x * 0.5))  # noqa: E731
    jitted = jit(f)
    for values in ([0.1, 2.0], [1e22, 3.0], [5e6, -1e300]):
        x = rng.standard_normal(200)
        x[:2] = values
        numpy.testing.assert_allclose(jitted(x), f(x), rtol=1e-13)
    assert any(k.region.reductions and "if slow:" in k.source for k in kernels(jitted))


def test_value_and_gradient_of_a_loss_fuse_the_loss():
    def loss(w, x):
        pred = x * w + 0.5
        return np.mean((pred - x * x) ** 2)
    jitted = jit(lambda w, x: (loss(w, x), grad(loss)(w, x)))
    for _ in range(3):
        w, x = rng.standard_normal((1, 20)), rng.standard_normal((30, 20))
        (v, g), (ev, eg) = jitted(w, x), (loss(w, x), grad(loss)(w, x))
        assert same_bits(v, ev) and same_bits(g, eg)


def test_a_reduction_kernel_loaded_from_disk_in_a_new_process(tmp_path):
    """Kernels that call pairwise's compiled functions are cached on disk: a second
    process loads them and gets eager's bits (a recursive callee once crashed there)."""
    script = textwrap.dedent("""
        import numpy, jitgrad.numpy as np
        from jitgrad import jit
        f = lambda x: np.sum(x * 3.0 - x * x) + np.mean(x * 0.5)
        jitted = jit(f)
        for n in (1000, 1000, 77777):
            x = numpy.random.default_rng(n).standard_normal(n)
            assert jitted(x) == f(x), (jitted(x), f(x))
        (plan, *_), *_ = jitted._cache.values()
        print(plan.n_kernels, plan.kernels[0].dispatcher.stats.cache_hits)
    """)
    env = dict(os.environ, JITGRAD_CACHE_DIR=str(tmp_path), JITGRAD_FUSE_MIN_SIZE="8",
               JITGRAD_FUSE_AFTER="0", JITGRAD_TRACE_AFTER="0")
    runs = [subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                           text=True) for _ in range(2)]
    for run in runs:
        assert run.returncode == 0, run.stderr[-2000:]
    assert int(runs[0].stdout.split()[0]) >= 1
    assert runs[1].stdout.split()[1] != "Counter()"  # loaded from disk


def affine_loss(x, w, b):
    z = x * w + b
    return np.sum(z * z - z)


@pytest.mark.parametrize("dtype", [numpy.float64, numpy.float32])
@pytest.mark.parametrize("shapes", [[(20, 30), (30,), (1, 30)], [(4, 5, 30), (5, 30), (30,)],
                                    [(6, 7, 9), (1, 7, 9), (1, 1, 9)]],
                         ids=["row_bias", "3d", "keepdims_shapes"])
def test_unbroadcast_sums_over_leading_axes_fuse_and_replay_as_eager_bitwise(shapes, dtype):
    """The backward pass sums a broadcast operand's cotangent over its leading axes: the
    kernel adds row after row into each element, as NumPy does."""
    jitted = grad(affine_loss, (1, 2), jit=True)
    for _ in range(3):
        x, w, b = (rng.standard_normal(s).astype(dtype) for s in shapes)
        for got, want in zip(jitted(x, w, b), grad(affine_loss, (1, 2))(x, w, b)):
            assert type(got) is type(want) and same_bits(got, want)
    leading = [axes for k in kernels(jitted) for _, axes in k.region.reductions.values()
               if axes is not None]
    assert leading, [k.source for k in kernels(jitted)]


def test_user_sums_over_leading_axes_and_others():
    def f(x, y):
        z = x * y - 0.5
        return np.sum(z, axis=0), np.sum(z * 2.0, axis=(0, 1), keepdims=True), \
            np.sum(z - y, axis=-1), np.sum(z * z, axis=1)  # the last two: NumPy calls
    jitted = jit(f)
    for _ in range(3):
        x, y = rng.standard_normal((6, 5, 40)), rng.standard_normal((5, 40))
        for got, want in zip(jitted(x, y), f(x, y)):
            assert same_bits(got, want)
    kinds = sorted(axes for k in kernels(jitted) for _, axes in k.region.reductions.values())
    assert kinds == [1, 2]


@pytest.mark.parametrize("loss", [
    lambda x: np.sum(x ** 2, axis=0).sum(),
    lambda x: np.sum(np.sum(x * x, axis=0)),
    lambda x: np.mean(np.sum(np.tanh(x) * x, axis=0) * 2.0),
], ids=["sum-of-sum", "nested", "mean-of-scaled-sum"])
def test_a_sum_of_a_fused_sum_is_computed_after_its_loop(loss):
    """A reduction of another reduction of the same region cannot be accumulated in the
    same loop (it raised KeyError building the kernel, on every call)."""
    jitted, both = jit(loss), jit(grad(loss))
    for k in range(3):
        x = rng.standard_normal((30, 40))
        assert jitted(x) == pytest.approx(loss(x), rel=1e-12)
        numpy.testing.assert_allclose(both(x), grad(loss)(x), rtol=1e-12)
    assert kernels(jitted)
