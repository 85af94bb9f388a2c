"""``python -m jitgrad.demo``: a short tour of jitgrad.

Prints tanh's derivatives up to 6th order at a few points, each computed by
nesting ``grad``, next to a central finite difference of the order below, and
the 6th derivative next to its closed form; then times two gradients eagerly
and with ``jit=True``.
"""
import time

import numpy

import jitgrad.numpy as np
from jitgrad import elementwise_grad, grad
from jitgrad.jit.jitted import steady_state_tiers

POINTS = [-1.5, -0.5, 0.0, 0.5, 1.5]
STEP = 1e-4


def tanh_derivatives(order):
    """tanh and its elementwise derivatives up to ``order``, by nested reverse mode."""
    functions = [np.tanh]
    for _ in range(order):
        functions.append(elementwise_grad(functions[-1]))
    return functions


def sixth_derivative_closed_form(x):
    """d^6/dx^6 tanh(x), a polynomial in t = tanh(x)."""
    t = numpy.tanh(x)
    return -272 * t + 1232 * t ** 3 - 1680 * t ** 5 + 720 * t ** 7


def main():
    x = numpy.array(POINTS)
    functions = tanh_derivatives(6)
    print("jitgrad demo: derivatives of tanh by nested reverse mode (elementwise_grad)\n")
    print(f"{'order':>5} | " + " ".join(f"x={p:>+5.1f}   " for p in POINTS)
          + "| max |grad - finite diff|")
    for order in range(1, 7):
        exact = functions[order](x)
        lower = functions[order - 1]
        numeric = (lower(x + STEP) - lower(x - STEP)) / (2 * STEP)
        error = numpy.max(numpy.abs(exact - numeric))
        print(f"{order:>5} | " + " ".join(f"{v:>+11.5f}" for v in exact) + f" | {error:.1e}")
    closed = sixth_derivative_closed_form(x)
    gap = numpy.max(numpy.abs(functions[6](x) - closed))
    print(f"\n6th derivative vs closed form (-272t + 1232t^3 - 1680t^5 + 720t^7, "
          f"t = tanh x): max difference {gap:.1e}")
    print()
    show_jit_timings()


def logistic_loss(w, X, y):
    p = 1 / (1 + np.exp(-(X @ w)))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def rational_loss(x):
    z = (x * 2.0 + 1.0) / (1.0 + x ** 2) - 3.0 * x
    return np.sum(z ** 2 / (1.0 + z ** 2))


def per_call(f, args, calls):
    start = time.perf_counter()
    for _ in range(calls):
        f(*args)
    return (time.perf_counter() - start) / calls


def show_jit_timings():
    """grad(f) against grad(f, jit=True): a tight loop, and a fused elementwise chain."""
    rng = numpy.random.RandomState(0)
    cases = [("logistic regression, N=100 D=10", logistic_loss,
              (0.1 * rng.randn(10), rng.randn(100, 10), (rng.rand(100) > 0.5) * 1.0), 500),
             ("10-op arithmetic chain, n=1e6", rational_loss, (rng.randn(10 ** 6),), 5)]
    print("timing (a first jitted call compiles with Numba: seconds on a new machine, "
          "then loaded from disk)...", flush=True)
    print(f"{'gradient of':34} | {'eager':>10} | {'jit':>10} | {'first jit call':>14} | speed-up")
    for name, f, args, calls in cases:
        with steady_state_tiers():  # so the few calls timed show the steady state
            jitted = grad(f, jit=True)
        eager = grad(f)
        start = time.perf_counter()
        first = jitted(*args)  # traces, optimizes and compiles
        first_call = time.perf_counter() - start
        assert numpy.allclose(first, eager(*args), rtol=1e-10)
        jitted(*args)
        t_eager, t_jit = per_call(eager, args, calls), per_call(jitted, args, calls)
        print(f"{name:34} | {_ms(t_eager):>10} | {_ms(t_jit):>10} | {_ms(first_call):>14} | "
              f"{t_eager / t_jit:5.1f}x")
    print("(jit: trace once, replay a plan; arithmetic chains fused into Numba kernels, "
          "cached on disk.\n Here the first call traces and fuses; by default a function's "
          "first calls run eagerly\n until they would have paid for its trace, and a plan "
          "fuses once its replays have paid for\n the compile: see README, Tiers)")


def _ms(seconds):
    return f"{seconds * 1e3:.3f} ms" if seconds < 1 else f"{seconds:.2f} s"


if __name__ == "__main__":
    main()
