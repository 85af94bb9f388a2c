"""Whole programs (issue 11): the program workloads in steady state, every workload end
to end in a new process with an empty kernel cache (first call included), and the first
call of fluidsim 64x64's jitted gradient at 5, 50 and 100 steps, cold and warm, with its
peak memory against eager's. ``compare.py --end-to-end`` prints the same as one table."""
import shutil
import tempfile

from . import end_to_end
from .workloads import WORKLOADS, autograd_library, jitgrad_library

MODES = ["eager", "jit", "autograd"]
PROGRAMS = [name for name, w in WORKLOADS.items() if w.make_program is not None]


def _library(mode):
    if mode == "autograd":
        try:
            return autograd_library()
        except ImportError:
            raise NotImplementedError("autograd is not installed")  # asv skips
    return jitgrad_library(mode == "jit")


class Program:
    """One whole program run (200 adam iterations; one odeint solve whose right side
    builds a Jacobian per call), after a first run in setup: the jit's plans are kept
    for operators rebuilt from the same function."""
    params = (PROGRAMS, MODES)
    param_names = ["workload", "mode"]
    timeout = 300

    def setup(self, name, mode):
        workload = WORKLOADS[name]
        size = workload.sizes[0]
        self.program = workload.program(_library(mode), size)
        self.args = workload.make_args(size)
        self.program(*self.args)

    def time_program(self, name, mode):
        self.program(*self.args)


def _run(spec, cache=None):
    """``end_to_end.run_child`` with a kernel cache of its own unless one is given."""
    own = cache is None
    cache = cache or tempfile.mkdtemp(prefix="jitgrad-asv-")
    try:
        return end_to_end.run_child(spec, cache)
    finally:
        if own:
            shutil.rmtree(cache, ignore_errors=True)


class EndToEnd:
    """Seconds from building the operator to the last call of the workload's program
    (``Workload.program``: its ``calls`` gradient calls, or the program workload once),
    in a new process with an empty kernel cache."""
    params = (list(WORKLOADS), MODES)
    param_names = ["workload", "mode"]
    unit = "seconds"
    timeout = 1200

    def setup(self, name, mode):
        if mode == "autograd":
            _library(mode)

    def track_program(self, name, mode):
        size = WORKLOADS[name].sizes[0]
        return _run({"workload": name, "size": size, "task": "program",
                     "contender": mode})["seconds"]


class FluidsimFirstCall:
    """The jitted gradient's first call alone (fluidsim 64x64), each in a new process:
    cold (empty kernel cache) and warm (a second process on the cache a first one
    filled); and its peak traced memory over one eager gradient's. Issue 11's targets:
    50 steps cold <= 2.5 s, warm <= 1 s; 100 steps cold <= 4 s; memory <= 3x eager's."""
    params = ([5, 50, 100],)
    param_names = ["steps"]
    unit = "seconds"
    timeout = 1200

    def _spec(self, steps, **extra):
        return dict({"workload": "fluidsim", "size": (end_to_end.FLUIDSIM_GRID, steps),
                     "task": "first_call", "contender": "jit"}, **extra)

    def track_cold_cache(self, steps):
        return _run(self._spec(steps))["seconds"]

    def track_warm_cache(self, steps):
        cache = tempfile.mkdtemp(prefix="jitgrad-asv-")
        try:
            _run(self._spec(steps), cache)
            return _run(self._spec(steps), cache)["seconds"]
        finally:
            shutil.rmtree(cache, ignore_errors=True)

    def track_peak_memory_over_eager(self, steps):
        jit = _run(self._spec(steps, memory=True))["traced_peak"]
        eager = _run(self._spec(steps, memory=True, contender="eager"))["traced_peak"]
        return jit / eager

    track_peak_memory_over_eager.unit = "ratio"

