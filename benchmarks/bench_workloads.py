"""The workloads of compare.py, eager and jitted: steady-state time per gradient call,
and the size of the jit's plan."""
import contextlib
import io
import re

import jitgrad
import jitgrad.numpy as np
from jitgrad.jit.jitted import steady_state_tiers

from .workloads import WORKLOADS

MODES = ["eager", "jit"]


def steady_gradient(loss, jit):
    """``grad(loss, jit=jit)``; jitted, it traces and fuses at its first call (the jit's
    tiers, which wait for that on short programs, are bench_programs' subject): the
    settings are read when the jitted function is made."""
    if not jit:
        return jitgrad.grad(loss)
    with steady_state_tiers():
        return jitgrad.grad(loss, jit=True)


class _Workload:
    """Setup builds the gradient and calls it once, so jit times its replay only."""
    name = None
    timeout = 300

    def setup(self, *params):
        *size, mode = params
        workload = WORKLOADS[self.name]
        size = size[0] if size else workload.sizes[0]
        self.gradient = steady_gradient(workload.make_loss(np, size), mode == "jit")
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


class JitPlan:
    """Counts in the jitted gradient's plan, read from ``explain``: the steps replayed
    per call and the fused Numba kernels among them (fusion lowers the first)."""
    params = (["chain", "tight_loop", "mlp", "rnn", "fluidsim"],)
    param_names = ["workload"]
    timeout = 300

    def setup(self, name):
        workload = WORKLOADS[name]
        size = workload.sizes[-1]
        gradient = steady_gradient(workload.make_loss(np, size), True)
        with contextlib.redirect_stdout(io.StringIO()):
            self.text = gradient.explain(*workload.make_args(size))

    def _count(self, pattern):
        return sum(int(n) for n in re.findall(pattern, self.text))

    def track_steps(self, name):
        return self._count(r"(\d+) steps")

    def track_fused_kernels(self, name):
        return self._count(r"(\d+) fused kernels")
