"""The jit's tight-loop speed: logistic regression gradient, eager vs jit vs autograd.

    python benchmarks/jit_overhead.py [--calls 2000]

Prints per-call times measured in one run (contenders alternate, best of 5
rounds) and the jit's replay overhead per plan step, measured on an unfused chain of
50 scalar ``sin`` calls against the same NumPy calls made directly.
"""
import argparse
import os
import time

import numpy

import jitgrad.numpy as np
from jitgrad import grad, jit

try:
    import autograd
    import autograd.numpy as anp
except ImportError:  # the comparison is optional
    autograd = None


def logistic_loss(xnp):
    def loss(w, X, y):
        p = 1 / (1 + xnp.exp(-(X @ w)))
        return -xnp.mean(y * xnp.log(p) + (1 - y) * xnp.log(1 - p))
    return loss


def per_call(f, args, calls, rounds=5):
    f(*args)
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            f(*args)
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def replay_overhead_per_step(steps=50, calls=20000):
    def chain(x):
        for _ in range(steps):
            x = np.sin(x)
        return x
    jitted = jit(chain)
    x = 0.3
    # Unfused, so that each step is one NumPy call (fused, the chain is one kernel call).
    previous = os.environ.get("JITGRAD_FUSE")
    os.environ["JITGRAD_FUSE"] = "0"
    jitted(x)
    if previous is None:
        del os.environ["JITGRAD_FUSE"]
    else:
        os.environ["JITGRAD_FUSE"] = previous
    plan_time = per_call(jitted, (x,), calls)
    sin = numpy.sin

    def direct(x):
        for _ in range(steps):
            x = sin(x)
        return x
    direct_time = per_call(direct, (x,), calls)
    return (plan_time - direct_time) / steps, plan_time / steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    rng = numpy.random.RandomState(0)
    X = rng.randn(100, 10)
    y = (rng.rand(100) > 0.5).astype(float)
    w = 0.1 * rng.randn(10)
    contenders = {"jitgrad eager": grad(logistic_loss(np)),
                  "jitgrad jit": grad(logistic_loss(np), jit=True)}
    if autograd is not None:
        contenders["autograd"] = autograd.grad(logistic_loss(anp))
    reference = contenders["jitgrad eager"](w, X, y)
    for name, f in contenders.items():
        assert numpy.allclose(f(w, X, y), reference, rtol=1e-10), name
    times = {name: per_call(f, (w, X, y), args.calls) for name, f in contenders.items()}
    print(f"logistic regression gradient, N=100, D=10, {args.calls} calls per round")
    for name, t in times.items():
        ratio = f"  ({times['autograd'] / t:.1f}x autograd's speed)" if "autograd" in times else ""
        print(f"  {name:14s} {t * 1e6:8.1f} us/call{ratio}")
    overhead, total = replay_overhead_per_step()
    print(f"replay overhead: {overhead * 1e6:.2f} us per step "
          f"({total * 1e6:.2f} us per step including NumPy's own call)")


if __name__ == "__main__":
    main()
