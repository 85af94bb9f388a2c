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
