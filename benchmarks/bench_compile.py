"""First-call time of a jitted gradient traced and fused at that call (trace plus
kernel compiles: JITGRAD_TRACE_AFTER=0 and JITGRAD_FUSE_AFTER=0, where by default the
first call runs eagerly and fusion waits), in seconds, each in a new process: with an
empty kernel cache, and with the cache a previous process filled. Reported apart from
steady state, as the design asks."""
import os
import subprocess
import sys
import tempfile

BENCHMARKS = os.path.dirname(os.path.abspath(__file__))
SCRIPT = """
import sys, time
sys.path.insert(0, {benchmarks!r})
import jitgrad
from workloads import WORKLOADS
workload = WORKLOADS[{name!r}]
size = workload.sizes[0]
args = workload.make_args(size)
gradient = jitgrad.grad(workload.make_loss(jitgrad.numpy, size), jit=True)
start = time.perf_counter()
gradient(*args)
print(time.perf_counter() - start)
"""


def first_call_seconds(name, cache_dir):
    """The first call's time in a fresh Python, with JITGRAD_CACHE_DIR=cache_dir."""
    env = dict(os.environ, JITGRAD_CACHE_DIR=cache_dir, JITGRAD_TRACE_AFTER="0",
               JITGRAD_FUSE_AFTER="0")
    out = subprocess.run([sys.executable, "-c", SCRIPT.format(benchmarks=BENCHMARKS, name=name)],
                         env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


class FirstCall:
    params = (["chain", "tight_loop", "mlp", "fluidsim"],)
    param_names = ["workload"]
    unit = "seconds"
    timeout = 600

    def track_cold_cache(self, name):
        with tempfile.TemporaryDirectory() as cache_dir:
            return first_call_seconds(name, cache_dir)

    def track_warm_cache(self, name):
        with tempfile.TemporaryDirectory() as cache_dir:
            first_call_seconds(name, cache_dir)
            return first_call_seconds(name, cache_dir)
