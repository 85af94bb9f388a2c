"""The numbers behind jitgrad/kernels/cost.py: what a NumPy call and a fused kernel cost.

    python benchmarks/fusion_costs.py [--rounds 9]

Prints, in nanoseconds, the constants of ``cost.py`` measured on this machine, ready to
paste: a NumPy ufunc call's fixed cost and each function's cost per element (the slope
from 256 to 4096 elements: arrays in cache, where the decision to fuse is made), the
same for ``np.sum``, the fixed costs of a NumPy call, a fused kernel call and a kernel's
array argument (``FusedKernel.__call__`` with 1 to 8 inputs), and a kernel loop's cost
per element:
per array read or written, per arithmetic operation, per call of each function it
compiles (``vmath`` and ``math.sqrt``). Best of ``rounds`` in wall time, alternating.
"""
import argparse
import math
import os
import time

os.environ.setdefault("JITGRAD_FUSE_AFTER", "0")
os.environ.setdefault("JITGRAD_TRACE_AFTER", "0")
os.environ["JITGRAD_FUSE_MIN_SIZE"] = "1"   # kernels for any size
os.environ["JITGRAD_WHOLE_PLAN"] = "0"      # the kernels themselves, not whole plans

import numba  # noqa: E402
import numpy  # noqa: E402

from jitgrad import jit  # noqa: E402
from jitgrad.jit import clear_shared_plans  # noqa: E402
from jitgrad.kernels import vmath  # noqa: E402

SMALL, LARGE = 256, 4096
rng = numpy.random.default_rng(0)

# body call -> (NumPy function, the kernel's scalar function, input sampler)
FUNCTIONS = {
    "exp": (numpy.exp, vmath.exp, lambda n: rng.uniform(-20, 20, n)),
    "expm1": (numpy.expm1, vmath.expm1, lambda n: rng.uniform(-5, 5, n)),
    "log": (numpy.log, vmath.log, lambda n: numpy.exp(rng.uniform(-20, 20, n))),
    "log1p": (numpy.log1p, vmath.log1p, lambda n: rng.uniform(-0.9, 10, n)),
    "sin": (numpy.sin, vmath.sin_fast, lambda n: rng.uniform(-100, 100, n)),
    "cos": (numpy.cos, vmath.cos_fast, lambda n: rng.uniform(-100, 100, n)),
    "sinh": (numpy.sinh, vmath.sinh, lambda n: rng.uniform(-20, 20, n)),
    "cosh": (numpy.cosh, vmath.cosh, lambda n: rng.uniform(-20, 20, n)),
    "tanh": (numpy.tanh, vmath.tanh, lambda n: rng.uniform(-5, 5, n)),
    "sqrt": (numpy.sqrt, math.sqrt, lambda n: rng.uniform(0, 100, n)),
}


def best(run, rounds, repeat=200):
    """Seconds per call of ``run()``: best of ``rounds``."""
    run()
    fastest = math.inf
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeat):
            run()
        fastest = min(fastest, (time.perf_counter() - start) / repeat)
    return fastest


def slope(time_at):
    """ns per element between SMALL and LARGE elements, from ``time_at(n)`` (seconds)."""
    return (time_at(LARGE) - time_at(SMALL)) / (LARGE - SMALL) * 1e9


def numpy_costs(rounds):
    a, b = rng.uniform(1, 2, 8), rng.uniform(1, 2, 8)
    call = best(lambda: numpy.add(a, b), rounds) * 1e9
    reduce_call = best(lambda: numpy.sum(a), rounds) * 1e9

    def timer(f, sample):
        def time_at(n):
            x = sample(n)
            return best(lambda: f(x), rounds)
        return time_at
    element = {"arithmetic": slope(lambda n: best(
        lambda x=rng.uniform(1, 2, n), y=rng.uniform(1, 2, n): numpy.multiply(x, y), rounds))}
    element["power"] = slope(lambda n: best(
        lambda x=rng.uniform(1, 2, n), y=rng.uniform(1, 2, n): numpy.power(x, y), rounds))
    element["square"] = slope(timer(lambda x: numpy.power(x, 2), lambda n: rng.uniform(1, 2, n)))
    for name, (f, _, sample) in FUNCTIONS.items():
        element[name] = slope(timer(f, sample))
    element["sum"] = slope(timer(numpy.sum, lambda n: rng.uniform(1, 2, n)))
    return call, reduce_call, element


def call_costs(rounds):
    """(NumPy call, kernel call, kernel argument) in ns on 8 elements: a ufunc of two arrays,
    and ``FusedKernel.__call__`` of kernels of k = 1, 2, 4, 8 inputs and one output (the
    kernel call's fixed cost is that of k = 1 less two arguments). All alternate, round
    after round, and each keeps its best: on a busy machine the quiet moments."""
    def chain(*xs):
        total = xs[0] * 2.0
        for x in xs[1:]:
            total = total + x
        return total * 3.0
    a, b = rng.uniform(1, 2, 8), rng.uniform(1, 2, 8)
    contenders = {"numpy": lambda: numpy.multiply(a, b)}
    for k in (1, 2, 4, 8):
        xs = [rng.uniform(1, 2, 8) for _ in range(k)]
        clear_shared_plans()  # (chain is one function to the plan cache, k apart)
        jitted = jit(chain)
        jitted(*xs)
        (plan,) = [p for entry in jitted._cache.values() for p in entry]
        (kernel,) = plan.kernels
        contenders[k] = lambda kernel=kernel, xs=xs: kernel(*xs)
    fastest = dict.fromkeys(contenders, math.inf)
    for _ in range(4 * rounds):
        for key, run in contenders.items():
            fastest[key] = min(fastest[key], best(run, 1, repeat=500) * 1e9)
    per_argument = (fastest[8] - fastest[1]) / 7
    return fastest["numpy"], fastest[1] - 2 * per_argument, per_argument


def loop_costs(rounds):
    """ns per element in a compiled loop: per array, per arithmetic operation, per call."""
    source = """
def copy(x, out):
    for i in range(out.shape[0]):
        out[i] = x[i]

def arithmetic(x, out):
    for i in range(out.shape[0]):
        out[i] = ((x[i] * 1.5 + 0.5) * 0.75 - 0.25) / 1.25

def call(x, out):
    for i in range(out.shape[0]):
        out[i] = f(x[i])
"""
    def loop(name, f=None):
        namespace = {"f": f, "__name__": "fusion_costs_loops"}
        exec(source, namespace)
        return numba.njit(error_model="numpy")(namespace[name])

    def per_element(compiled, sample):
        def time_at(n):
            x = sample(n)
            out = numpy.empty_like(x)
            return best(lambda: compiled(x, out), rounds, repeat=1000)
        return slope(time_at)
    uniform = lambda n: rng.uniform(1, 2, n)  # noqa: E731
    copy = per_element(loop("copy"), uniform)
    element = {"array": copy / 2,
               "arithmetic": max(per_element(loop("arithmetic"), uniform) - copy, 0) / 4}
    for name, (_, f, sample) in FUNCTIONS.items():
        element[name] = max(per_element(loop("call", f), sample) - copy, 0)
    return element


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    _, reduce_call, numpy_element = numpy_costs(args.rounds)
    call, kernel_call, kernel_argument = call_costs(args.rounds)
    fused_element = loop_costs(args.rounds)
    print(f"# numpy {numpy.__version__}, numba {numba.__version__}; ns")
    print(f"NUMPY_CALL = {call:.0f}")
    print(f"NUMPY_REDUCTION_CALL = {reduce_call:.0f}")
    print(f"KERNEL_CALL = {kernel_call:.0f}")
    print(f"KERNEL_ARGUMENT = {kernel_argument:.0f}")
    print("NUMPY_ELEMENT = {" + ", ".join(f'"{k}": {v:.2f}' for k, v in numpy_element.items())
          + "}")
    print("KERNEL_ELEMENT = {" + ", ".join(f'"{k}": {v:.2f}' for k, v in fused_element.items())
          + "}")


if __name__ == "__main__":
    main()
