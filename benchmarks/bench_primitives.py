"""Per-primitive VJPs: the gradient of sum(primitive(x, ...)) with respect to x."""
import numpy

import jitgrad
import jitgrad.numpy as np

MODES = ["eager", "jit"]


def _cases():
    rng = numpy.random.RandomState(0)
    matrix = rng.randn(200, 200)
    tensor = rng.randn(40, 50, 20)
    batch = rng.randn(16, 60, 40)
    index = rng.randint(0, 10**5, size=10**4)
    return {
        "dot": (lambda x: np.sum(np.dot(x, matrix)), rng.randn(200, 200)),
        "tensordot": (lambda x: np.sum(np.tensordot(x, tensor, axes=2)), rng.randn(30, 40, 50)),
        "einsum": (lambda x: np.sum(np.einsum("bij,bjk->bik", x, batch)), rng.randn(16, 50, 60)),
        "indexing": (lambda x: np.sum(x[index] ** 2) + np.sum(x[10:-10:3]), rng.randn(10**5)),
        "reductions": (lambda x: np.sum(np.mean(x, axis=0) ** 2) + np.sum(np.max(x, axis=1)),
                       rng.randn(300, 300)),
        "elementwise": (lambda x: np.sum(np.tanh(x) * np.exp(-x) + x ** 2), rng.randn(10**5)),
    }


CASES = _cases()


class PrimitiveGradient:
    params = (list(CASES), MODES)
    param_names = ["primitive", "mode"]

    def setup(self, primitive, mode):
        function, self.x = CASES[primitive]
        self.gradient = jitgrad.grad(function, jit=mode == "jit")
        self.gradient(self.x)

    def time_grad(self, primitive, mode):
        self.gradient(self.x)
