"""Repeated gradient calls do not page-fault: freed memory stays in the heap
(kernels/heap.py), from the first derivative on. Each check runs in a fresh process,
whose malloc is untouched."""
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="glibc's malloc thresholds")

PROGRAM = textwrap.dedent("""
    import resource, sys
    import numpy
    import jitgrad.numpy as np
    from jitgrad import grad
    from jitgrad.kernels import heap

    def loss(w, x):  # 1.6 MB intermediates, a 1.25 MB gradient
        return np.sum(np.tanh(x @ w) ** 2)

    rng = numpy.random.RandomState(0)
    w, x = rng.randn(784, 200) / 28, rng.randn(1024, 784)
    g = grad(loss, jit=sys.argv[1] == "True")
    before = "set" in heap._state
    expected = grad(loss)(w, x)
    for _ in range(5):
        error = numpy.linalg.norm(g(w, x) - expected)
        assert error <= 1e-12 * numpy.linalg.norm(expected), error
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(20):
        g(w, x)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    print(before, heap._state.get("set"), faults)
""")


def run(cache, jitted=True, **env):
    env = {**os.environ, "JITGRAD_FUSE_AFTER": "0", "JITGRAD_CACHE_DIR": str(cache), **env}
    done = subprocess.run([sys.executable, "-c", PROGRAM, str(jitted)], capture_output=True,
                          text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    before, after, faults = done.stdout.split()
    return before == "True", after, int(faults)


@pytest.mark.parametrize("jitted", [True, False])
def test_repeated_gradient_calls_fault_no_pages(tmp_path, jitted):
    before, after, faults = run(tmp_path, jitted)
    if after == "False":
        pytest.skip("not glibc")
    assert not before  # untouched until the first derivative
    assert after == "True"
    # One gradient is 306 pages; without the thresholds each call faults them anew.
    assert faults < 100, faults


def test_keep_heap_0_leaves_malloc_alone(tmp_path):
    _, after, _ = run(tmp_path, JITGRAD_KEEP_HEAP="0")
    assert after == "False"
