"""Peak memory of gradients through loops.

Reverse mode keeps, for each step, what that step's derivative rules read: for
``x = 0.9 * x + 0.1 * sin(x)`` autograd keeps about one array per step (the x that
``sin`` and the product read). ``peakmem_*`` are asv's whole-process peaks;
``track_peak_megabytes`` is the gradient call's own peak of traced allocations
(tracemalloc sees NumPy's buffers), measured in a fresh subprocess so that nothing
allocated before it counts. ``python benchmarks/bench_memory.py`` prints the table.
"""
import json
import os
import subprocess
import sys

import numpy

import jitgrad
import jitgrad.numpy as np

MODES = ["eager", "jit"]


def hundred_steps(x):
    for _ in range(100):
        x = 0.9 * x + 0.1 * np.sin(x)
    return np.sum(x ** 2)


class LoopGradient:
    params = (MODES,)
    param_names = ["mode"]

    def setup(self, mode):
        self.x = numpy.random.RandomState(0).randn(10**5)
        # Traced at the first call (by default that call runs eagerly).
        self.gradient = (jitgrad.jit(jitgrad.grad(hundred_steps), trace_after=0)
                         if mode == "jit" else jitgrad.grad(hundred_steps))
        if mode == "jit":
            self.gradient(self.x)

    def peakmem_grad(self, mode):
        self.gradient(self.x)

    def track_peak_megabytes(self, mode):
        """The call's own peak of traced allocations (NumPy reports its buffers to
        tracemalloc), free of what the process held before."""
        import tracemalloc
        tracemalloc.start()
        try:
            self.gradient(self.x)
            return tracemalloc.get_traced_memory()[1] / 2**20
        finally:
            tracemalloc.stop()

    track_peak_megabytes.unit = "MB"


# A 1000-step loop on arrays of 5000 doubles: each array kept per step costs 40 MB.
STEPS, SIZE = 1000, 5000
THOUSAND_MODES = ["jitgrad eager", "jitgrad jit first call", "jitgrad jit replay", "autograd"]


def thousand_steps(numpy_module):
    def loss(x):
        for _ in range(STEPS):
            x = 0.9 * x + 0.1 * numpy_module.sin(x)
        return numpy_module.sum(x ** 2)
    return loss


def make_gradient(mode):
    if mode == "autograd":
        import autograd
        import autograd.numpy as anp
        return autograd.grad(thousand_steps(anp))
    if mode == "jitgrad eager":
        return jitgrad.grad(thousand_steps(np))
    # Traced at the first call (by default that call runs eagerly).
    return jitgrad.jit(jitgrad.grad(thousand_steps(np)), trace_after=0)


def measure(mode):
    """In this process: the gradient call's peak of traced allocations and the growth
    of the process's peak resident memory, in MB."""
    import resource
    import tracemalloc
    x = numpy.random.RandomState(0).randn(SIZE)
    gradient = make_gradient(mode)
    if mode != "jitgrad jit first call":
        gradient(x)  # imports and one-time caches; for the replay, its trace
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    gradient(x)
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    return {"traced": traced / 2**20, "rss_growth": rss_growth / 2**10,
            "arrays_per_step": traced / (8 * SIZE) / STEPS}


def measure_in_subprocess(mode):
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--measure", mode],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.splitlines()[-1])


def _autograd_installed():
    try:
        import autograd  # noqa: F401
        return True
    except ImportError:
        return False


class ThousandStepLoop:
    params = (THOUSAND_MODES,)
    param_names = ["mode"]
    timeout = 300

    def setup(self, mode):
        if mode == "autograd" and not _autograd_installed():
            raise NotImplementedError("autograd is not installed")  # asv: skipped
        self.x = numpy.random.RandomState(0).randn(SIZE)
        self.gradient = make_gradient(mode)
        if mode != "jitgrad jit first call":
            self.gradient(self.x)

    def peakmem_grad(self, mode):
        self.gradient(self.x)

    def track_peak_megabytes(self, mode):
        return measure_in_subprocess(mode)["traced"]

    track_peak_megabytes.unit = "MB"


def main():
    if sys.argv[1:2] == ["--measure"]:
        print(json.dumps(measure(sys.argv[2])))
        return
    print(f"gradient of a {STEPS}-step loop on {SIZE} doubles (one array: "
          f"{8 * SIZE / 2**20:.3f} MB)")
    print(f"{'mode':<24} {'traced peak':>12} {'arrays/step':>12} {'RSS growth':>11}")
    for mode in THOUSAND_MODES:
        if mode == "autograd" and not _autograd_installed():
            print(f"{mode:<24} not installed")
            continue
        result = measure_in_subprocess(mode)
        print(f"{mode:<24} {result['traced']:>9.1f} MB {result['arrays_per_step']:>12.2f} "
              f"{result['rss_growth']:>8.1f} MB")


if __name__ == "__main__":
    main()
