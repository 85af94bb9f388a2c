"""kernels/blas_threads: small dot/matmul products and small linear algebra (NumPy's and
SciPy's) run on one OpenBLAS thread, then the user's count is back; large and tiny ones
are left alone; jitgrad's dot and matmul (eager and in jitted plans) go through it and
give NumPy's answers."""
import numpy
import pytest
import scipy.linalg

threadpoolctl = pytest.importorskip("threadpoolctl")
import jitgrad.numpy as np  # noqa: E402
from jitgrad import grad, jit  # noqa: E402
from jitgrad.kernels import blas_threads  # noqa: E402

rng = numpy.random.default_rng(3)


def openblas_threads():
    return [info["num_threads"] for info in threadpoolctl.threadpool_info()
            if info["internal_api"] == "openblas"]


@pytest.fixture
def two_threads():
    if not blas_threads._openblas():
        pytest.skip("NumPy does not use OpenBLAS here")
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        if max(openblas_threads()) < 2:
            pytest.skip("OpenBLAS cannot run two threads here")
        yield


def probe(a, b, *args, **kwargs):
    """A product that records OpenBLAS's thread counts while it runs."""
    probe.seen = openblas_threads()
    return numpy.matmul(a, b, *args, **kwargs)


@pytest.mark.parametrize("shapes, limited", [
    (((128, 200), (200, 200)), True),      # 5e6 multiply-adds: one thread
    (((128, 128), (128,)), True),          # matrix-vector above OpenBLAS's cut-off
    (((10, 10), (10, 10)), False),         # OpenBLAS runs it on one thread anyway
    (((400, 400), (400, 400)), False),     # 6.4e7: long enough for threads
])
def test_small_products_run_on_one_thread_and_restore_the_count(two_threads, shapes, limited):
    a, b = (rng.standard_normal(s) for s in shapes)
    before = openblas_threads()
    out = blas_threads._limited(probe, a, b)
    assert numpy.array_equal(out, numpy.matmul(a, b))
    assert (max(probe.seen) == 1) == limited, (probe.seen, blas_threads.multiply_adds(a, b))
    assert openblas_threads() == before


def test_the_count_is_restored_when_the_product_raises(two_threads):
    before = openblas_threads()
    with pytest.raises(ValueError):
        blas_threads.matmul(numpy.ones((100, 200)), numpy.ones((100, 200)))
    assert openblas_threads() == before


def test_multiply_adds():
    assert blas_threads.multiply_adds(numpy.ones((3, 4)), numpy.ones((4, 5))) == 60
    assert blas_threads.multiply_adds(numpy.ones((2, 3, 4)), numpy.ones((2, 4, 5))) == 240
    assert blas_threads.multiply_adds(numpy.ones(4), numpy.ones(4)) == 4
    assert blas_threads.multiply_adds([[1.0, 2.0]], [[1.0], [2.0]]) == 2
    assert blas_threads.multiply_adds(2.0, numpy.ones(3)) == 3
    assert blas_threads.multiply_adds(numpy.ones((3, 0)), numpy.ones((0, 2))) == 0


def test_jitgrads_dot_and_matmul_go_through_it_eagerly_and_in_plans(two_threads):
    assert np.dot.fun is blas_threads.dot and np.matmul.fun is blas_threads.matmul

    def loss(W, x):
        z = np.dot(x, W) @ W.T
        return np.sum((z * z - z) ** 2)  # arithmetic: fused or not, NumPy's bits
    jitted = grad(loss, jit=True)
    for _ in range(3):
        W, x = rng.standard_normal((150, 150)), rng.standard_normal((40, 150))
        assert numpy.array_equal(jitted(W, x), grad(loss)(W, x))
    plan_source = jit(lambda W, x: np.dot(x, W) @ W.T).explain(W, x)
    assert "dot(" in plan_source and "matmul(" in plan_source
    assert numpy.array_equal(np.dot([[1.0, 2.0]], [3.0, 4.0]), numpy.dot([[1.0, 2.0]], [3.0, 4.0]))


def test_small_linear_algebra_runs_on_one_thread(two_threads):
    def probe_solve(a, b, **kwargs):
        probe_solve.seen = openblas_threads()
        return scipy.linalg.solve_triangular(a, b, **kwargs)
    a, b = numpy.tril(rng.standard_normal((2, 2))) + 3 * numpy.eye(2), rng.standard_normal((2, 300))
    before = openblas_threads()
    out = blas_threads.limited(probe_solve)(a, b, lower=True)
    assert numpy.array_equal(out, scipy.linalg.solve_triangular(a, b, lower=True))
    assert max(probe_solve.seen) == 1 and openblas_threads() == before
    big = numpy.eye(400)
    blas_threads.limited(probe_solve)(big, big, lower=True)  # 400**3 * 2: left alone
    assert max(probe_solve.seen) == max(before)


def test_numpys_and_scipys_linear_algebra_go_through_it():
    import jitgrad.scipy.linalg as jsl
    assert np.linalg.inv.fun.__wrapped__ is numpy.linalg.inv
    assert np.linalg.cholesky.fun.__wrapped__ is numpy.linalg.cholesky
    assert jsl.lu.fun.__wrapped__ is scipy.linalg.lu
    a = rng.standard_normal((4, 4)) + 4 * numpy.eye(4)
    assert numpy.array_equal(np.linalg.inv(a), numpy.linalg.inv(a))
    assert numpy.array_equal(jsl.solve_triangular(a, a[0], lower=True),
                             scipy.linalg.solve_triangular(a, a[0], lower=True))


def test_a_held_thread_serves_small_products_and_frees_big_ones(two_threads):
    before = openblas_threads()
    small = rng.standard_normal((128, 200)), rng.standard_normal((200, 200))
    big = rng.standard_normal((400, 400)), rng.standard_normal((400, 400))
    big_product = big[0] @ big[1]  # on the user's threads: their bits may differ
    blas_threads.hold_one_thread()
    try:
        assert max(openblas_threads()) == 1
        blas_threads.hold_one_thread()  # nested: the inner release keeps it held
        blas_threads.release_one_thread()
        assert max(openblas_threads()) == 1
        assert numpy.array_equal(blas_threads._limited(probe, *small), small[0] @ small[1])
        assert max(probe.seen) == 1 and max(openblas_threads()) == 1
        assert numpy.array_equal(blas_threads._limited(probe, *big), big_product)
        assert probe.seen == before  # the user's counts while it runs, one after
        assert max(openblas_threads()) == 1
    finally:
        blas_threads.release_one_thread()
    assert openblas_threads() == before


def test_a_plan_of_several_products_holds_one_thread_for_its_replay(two_threads):
    def loss(W, x, flag):
        h = np.tanh(x @ W) @ W
        if flag > 0:  # a guard: a replay that fails it raises inside the plan
            h = h * 2.0
        return np.sum(h ** 2)
    jitted = grad(loss, jit=True)
    before = openblas_threads()
    W, x = rng.standard_normal((100, 100)), rng.standard_normal((60, 100))
    for flag in (1.0, 2.0, -1.0, 3.0, -2.0):
        W = W + 0.01
        assert numpy.allclose(jitted(W, x, flag), grad(loss)(W, x, flag), rtol=1e-12, atol=0)
        assert openblas_threads() == before
    source = jit(lambda W, x: np.tanh(x @ W) @ W).explain(W, x)
    assert "_hold()" in source and "_release()" in source
    assert "_hold()" not in jit(lambda W, x: np.tanh(x @ W)).explain(W, x)  # one product
    small = rng.standard_normal((3, 3))  # OpenBLAS's own one-thread size: nothing to set
    assert "_hold()" not in jit(lambda W, x: np.tanh(x @ W) @ W).explain(small, small)


def test_the_one_thread_bound_is_a_setting():
    import os
    import subprocess
    import sys
    program = "from jitgrad.kernels import blas_threads; print(blas_threads.SMALL_PRODUCT)"
    runs = [subprocess.run([sys.executable, "-c", program], text=True, capture_output=True,
                           env={**os.environ, "JITGRAD_BLAS_ONE_THREAD_BELOW": value},
                           check=True) for value in ("0", "1e6", "x")]
    assert [run.stdout.split()[0] for run in runs] == ["0.0", "1000000.0", "50000000.0"]
    # an unreadable value: the default, and a warning naming the setting
    assert "JITGRAD_BLAS_ONE_THREAD_BELOW='x' is not understood" in runs[2].stderr
    assert "not understood" not in runs[0].stderr + runs[1].stderr
