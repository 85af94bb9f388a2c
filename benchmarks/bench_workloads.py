"""The workloads of compare.py, eager and jitted: steady-state time per gradient call."""
import jitgrad
import jitgrad.numpy as np

from .workloads import WORKLOADS

MODES = ["eager", "jit"]


class _Workload:
    """Setup builds the gradient and calls it once, so jit times its replay only."""
    name = None
    timeout = 300

    def setup(self, *params):
        *size, mode = params
        workload = WORKLOADS[self.name]
        size = size[0] if size else workload.sizes[0]
        self.gradient = jitgrad.grad(workload.make_loss(np, size), jit=mode == "jit")
        self.args = workload.make_args(size)
        self.gradient(*self.args)

    def time_grad(self, *params):
        self.gradient(*self.args)


class Chain(_Workload):
    name = "chain"
    params = (list(WORKLOADS["chain"].sizes), MODES)
    param_names = ["n", "mode"]


class TightLoop(_Workload):
    name = "tight_loop"
    params = (MODES,)
    param_names = ["mode"]


class MLP(_Workload):
    name = "mlp"
    params = (MODES,)
    param_names = ["mode"]


class RNN(_Workload):
    name = "rnn"
    params = (MODES,)
    param_names = ["mode"]


class FluidSim(_Workload):
    name = "fluidsim"
    params = (MODES,)
    param_names = ["mode"]
