"""Core overhead: gradients of small scalar functions, where tracing is all the cost."""
import jitgrad
import jitgrad.numpy as np
from jitgrad.jit import clear_shared_plans

from .bench_workloads import steady_gradient
from .workloads import sin_chain_loss

MODES = ["eager", "jit"]


def short(x):
    return np.sin(x) * x + 1.0


def fan_out_fan_in(x):
    """x feeds 20 branches that are summed back: many parents and children per node."""
    total = 0.0
    for k in range(1, 21):
        total = total + np.sin(k * x)
    return total


FUNCTIONS = {"short": short, "50 chained sin": sin_chain_loss(np, 50),
             "fan-out/fan-in 20": fan_out_fan_in}


class ScalarGradient:
    """One gradient call; jit's first call (its trace) happens in setup."""
    params = (list(FUNCTIONS), MODES)
    param_names = ["function", "mode"]

    def setup(self, function, mode):
        self.gradient = steady_gradient(FUNCTIONS[function], mode == "jit")
        self.gradient(0.7)

    def time_grad(self, function, mode):
        self.gradient(0.7)


def many_calls(x):
    """1000 primitive calls on one traced value, only the last used: per-call cost."""
    for _ in range(1000):
        y = np.sin(x)
    return y


class PrimitiveOnBox:
    """A primitive called on a traced value: eagerly (recording a VJP node), or under
    the jit's graph tracer (a fresh jit traces on every call)."""
    params = (MODES,)
    param_names = ["mode"]

    def time_1000_primitive_calls(self, mode):
        if mode == "jit":
            # Traced at this call: no tiers, no plans shared from the previous call.
            clear_shared_plans()
            jitgrad.jit(jitgrad.grad(many_calls), trace_after=0)(0.7)
        else:
            jitgrad.grad(many_calls)(0.7)
