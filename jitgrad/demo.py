"""``python -m jitgrad.demo``: a short tour of jitgrad on tanh.

Prints tanh's derivatives up to 6th order at a few points, each computed by
nesting ``grad``, next to a central finite difference of the order below, and
the 6th derivative next to its closed form.
"""
import numpy

import jitgrad.numpy as np
from jitgrad import elementwise_grad

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
    print(f"\n6th derivative vs closed form (-272t + 1232t^3 - 1680t^5 + 720t^7, t = tanh x): max difference {gap:.1e}")
    print("jit timings arrive with grad(f, jit=True).")


if __name__ == "__main__":
    main()
