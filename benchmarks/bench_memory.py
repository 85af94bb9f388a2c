"""Peak memory of a gradient through a 100-step loop: eager keeps every step's
values for the backward pass; so does a jit plan, unless it learns to free them."""
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
        self.gradient = jitgrad.grad(hundred_steps, jit=mode == "jit")
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
