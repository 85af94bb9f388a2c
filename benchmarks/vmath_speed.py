"""Speed of kernels/vmath against NumPy's ufuncs and Numba calling math.* (libm).

    python benchmarks/vmath_speed.py [--sizes 100000 1000000] [--rounds 7]

For each function, ns per element of: a Numba loop calling vmath.<f> (256-bit vectors,
LLVM's default on AVX-512 CPUs), the same loop with ``vmath.wide_vectors()`` (512-bit),
NumPy's ufunc (or the NumPy expression the function replaces), and a Numba loop calling
math.* — contenders alternate within one run, best of ``rounds`` in thread CPU time,
compile time excluded.
The sin/cos rows use sin_fast/cos_fast; ``sin 2-pass`` is the fused-kernel shape (fast
loop plus the trig_slow flag) whose extra cost in the normal case is what it shows.
"""
import argparse
import math
import time

import numba
import numpy
import scipy.special

from jitgrad.kernels import vmath

rng = numpy.random.default_rng(0)

# name: (vmath function, math.* expression as source, NumPy function, input sampler)
CASES = {
    "exp": (vmath.exp, "math.exp(x)", numpy.exp, lambda n: rng.uniform(-20, 20, n)),
    "expm1": (vmath.expm1, "math.expm1(x)", numpy.expm1, lambda n: rng.uniform(-5, 5, n)),
    "log": (vmath.log, "math.log(x)", numpy.log,
            lambda n: numpy.exp(rng.uniform(-20, 20, n))),
    "log1p": (vmath.log1p, "math.log1p(x)", numpy.log1p, lambda n: rng.uniform(-0.9, 10, n)),
    "tanh": (vmath.tanh, "math.tanh(x)", numpy.tanh, lambda n: rng.uniform(-5, 5, n)),
    "sinh": (vmath.sinh, "math.sinh(x)", numpy.sinh, lambda n: rng.uniform(-20, 20, n)),
    "cosh": (vmath.cosh, "math.cosh(x)", numpy.cosh, lambda n: rng.uniform(-20, 20, n)),
    "sech2": (vmath.sech2, "1.0 / math.cosh(x) ** 2", lambda x: 1.0 / numpy.cosh(x) ** 2,
              lambda n: rng.uniform(-5, 5, n)),
    "sigmoid": (vmath.sigmoid, "1.0 / (1.0 + math.exp(-x))", scipy.special.expit,
                lambda n: rng.uniform(-20, 20, n)),
    "softplus": (vmath.softplus, "max(x, 0.0) + math.log1p(math.exp(-abs(x)))",
                 lambda x: numpy.logaddexp(x, 0.0), lambda n: rng.uniform(-20, 20, n)),
    "sin": (vmath.sin_fast, "math.sin(x)", numpy.sin, lambda n: rng.uniform(-100, 100, n)),
    "cos": (vmath.cos_fast, "math.cos(x)", numpy.cos, lambda n: rng.uniform(-100, 100, n)),
}


def loops(name, f, expression):
    """Compiled loops over an array: vmath 256-bit, vmath 512-bit, math.*."""
    source = f"""
def plain(x_in, out):
    for i in range(out.shape[0]):
        out[i] = f(x_in[i])

def wide(x_in, out):
    wide_vectors()
    for i in range(out.shape[0]):
        out[i] = f(x_in[i])

def libm(x_in, out):
    for i in range(out.shape[0]):
        x = x_in[i]
        out[i] = {expression}
"""
    namespace = {"f": f, "math": math, "wide_vectors": vmath.wide_vectors}
    exec(source, namespace)
    jit = numba.njit(error_model="numpy")
    return jit(namespace["plain"]), jit(namespace["wide"]), jit(namespace["libm"])


def two_pass_loop():
    @numba.njit(error_model="numpy")
    def two_pass(x_in, out):
        slow = False
        for i in range(out.shape[0]):
            out[i] = vmath.sin_fast(x_in[i])
            slow |= vmath.trig_slow(x_in[i])
        if slow:
            for i in range(out.shape[0]):
                out[i] = vmath.sin(x_in[i])
    return two_pass


def best_times(contenders, x, out, rounds):
    """Seconds per call of each contender, alternating, best of rounds. Counted in this
    thread's CPU time: on a shared machine, wall time also counts others' time slices."""
    for run in contenders.values():
        run(x, out)
    repeat = max(1, int(2e6 // x.size))
    best = dict.fromkeys(contenders, math.inf)
    for _ in range(rounds):
        for key, run in contenders.items():
            start = time.thread_time()
            for _ in range(repeat):
                run(x, out)
            best[key] = min(best[key], (time.thread_time() - start) / repeat)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    print(f"numba {numba.__version__}, numpy {numpy.__version__}; ns per element "
          f"(ratio = other / vmath 256-bit)")
    header = (f"{'function':10s} {'n':>8s} {'vmath':>7s} {'vm-512':>7s} {'numpy':>7s} "
              f"{'math.*':>7s}   {'numpy/vm':>8s} {'math/vm':>8s}")
    print(header)
    for name, (f, expression, numpy_f, sample) in CASES.items():
        plain, wide, libm = loops(name, f, expression)
        for n in args.sizes:
            x = sample(n)
            out = numpy.empty_like(x)
            t = best_times({"vmath": plain, "wide": wide, "numpy": lambda x, out: numpy_f(x),
                            "libm": libm}, x, out, args.rounds)
            ns = {key: seconds / n * 1e9 for key, seconds in t.items()}
            print(f"{name:10s} {n:8d} {ns['vmath']:7.2f} {ns['wide']:7.2f} {ns['numpy']:7.2f} "
                  f"{ns['libm']:7.2f}   {ns['numpy'] / ns['vmath']:8.1f} "
                  f"{ns['libm'] / ns['vmath']:8.1f}")
    plain, _, _ = loops("sin", vmath.sin_fast, "math.sin(x)")
    two_pass = two_pass_loop()
    for n in args.sizes:
        x = CASES["sin"][3](n)
        out = numpy.empty_like(x)
        t = best_times({"fast": plain, "two_pass": two_pass}, x, out, args.rounds)
        print(f"sin 2-pass {n:8d} {t['two_pass'] / n * 1e9:7.2f}  (sin_fast alone "
              f"{t['fast'] / n * 1e9:.2f}: the trig_slow flag costs "
              f"{t['two_pass'] / t['fast']:.2f}x)")


if __name__ == "__main__":
    main()
