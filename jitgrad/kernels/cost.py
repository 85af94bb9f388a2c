"""Whether a fused kernel pays for a region: its predicted time against NumPy's calls.

A NumPy step costs a fixed call plus a cost per element that depends on its function
(NumPy's float64 ``sin`` is not vectorized here: ~10-20 ns an element, its ``exp`` ~1);
a kernel costs a fixed call, a cost per array argument, and per element one pass over
its arrays plus its steps' bodies (``vmath`` ~1-2 ns, arithmetic a fraction of one).
So a region of transcendentals pays at a few hundred elements, a region of two
additions not even at 4096: ``pays`` compares the two for each region. A step's costs
are read from the function its array body calls (``vmath.sin``, ``math.sqrt``; ``**``
is ``power``; none: arithmetic); a call not in the tables costs the same both ways.

The constants are nanoseconds measured on this machine (2 shared cores, AVX-512,
NumPy 2.4.6, Numba 0.68.1) by ``taskset -c 1 python benchmarks/fusion_costs.py`` on
2026-12-03 (per element: in-cache slopes from 256 to 4096 elements), rounded from
several runs on a busy machine (vmath's per-element costs varied by 2x between runs).
Checked against replays, fused and not, alternating in one run: the predictions
matched in 28 of 30 cases (trig/arithmetic chains of 1-4 steps, 64 to 10^4 elements);
the two misses were near even (``sin(x) * 2.0`` at 300 elements fused 0.90x as fast,
four arithmetic steps at 1000 0.99x).
"""
import math
import re

import numpy as np

from .ops import Literal

# A NumPy ufunc call, and an np.sum (its Python wrapper costs most).
NUMPY_CALL = 400
NUMPY_REDUCTION_CALL = 2100
# A fused kernel's call (its straight-line Python: outputs allocated, inputs reshaped,
# Numba's dispatch) and each array argument's share (re-measured after that Python
# replaced a generic loop that cost 1900 + 250 per argument).
KERNEL_CALL = 600
KERNEL_ARGUMENT = 200
# ns per element of a NumPy call of each function (arithmetic: one ufunc of two arrays).
NUMPY_ELEMENT = {"arithmetic": 0.3, "power": 2.2, "square": 0.5, "exp": 0.9, "expm1": 1.15,
                 "log": 0.9, "log1p": 1.0, "sin": 12.0, "cos": 12.0, "sinh": 1.4, "cosh": 1.05,
                 "tanh": 2.0, "sqrt": 1.2, "sum": 0.2}
# ns per element in a kernel's loop: per array read or written, per arithmetic
# operation, per call of each function (sin and cos with their two-pass check; ``**``
# taken to cost what NumPy's power does, but multiplications for a whole exponent).
KERNEL_ELEMENT = {"array": 0.1, "arithmetic": 0.03, "power": 2.2, "exp": 1.2,
                  "expm1": 1.25, "log": 1.2, "log1p": 1.0, "sin": 2.0, "cos": 2.0,
                  "sinh": 1.5, "cosh": 1.2, "tanh": 1.5, "sqrt": 0.4}
# A call found in neither table: the same cost both ways (only the calls saved count).
UNKNOWN_ELEMENT = 2.0
# A kernel is built only where NumPy's predicted time is this much larger: the model is
# rough, and a compile costs a fraction of a second (paid once, on disk after).
MARGIN = 1.1
# From this many elements on, every region pays: out of cache, NumPy's extra passes over
# memory cost more than the in-cache slopes say (measured in one run: x * y + x at 2e4
# elements 1.5x faster fused, at 1e5 29x, where the slopes predict no gain).
ALWAYS_ELEMENTS = 16384
# Arrays smaller than this never join a kernel (the env's JITGRAD_FUSE_MIN_SIZE replaces
# this and ``pays``): only the saved calls could pay there, and whole plans
# (jit/whole_plan.py) take such small plans as one function.
MIN_ELEMENTS = 64
# Below this many elements a fused kernel computes only what gives eager's bits (steps
# declared exact, sums in NumPy's order, inputs in C order), even where vmath's
# transcendentals would pay from a few hundred elements on (a sin/cos gradient at 300
# elements: 6.9 us fused, 25 us as NumPy calls). An ulp is not harmless everywhere:
# autograd's gmm example (Newton-CG on a 300-point mixture, logsumexp over 3000
# elements) ran 72 iterations identical to eager, then took another line-search step
# into a covariance that is not positive definite, and stopped with scipy's error, where
# eager finished; kept to exact steps it still parted from eager after 84, at a sum over
# a transposed view (F order: NumPy sums it pairwise, a kernel row after row).
INEXACT_MIN_ELEMENTS = 4096

_CALL = re.compile(r"\b(?:vmath|math)\.(\w+)\(")
_OPERATOR = re.compile(r"\*\*|[-+*/]")
_POWER = re.compile(r"\(\{\d+\} \*\* \{(\d+)\}\)")


def pays(region):
    """Whether ``region`` (an array region, inputs and outputs found) runs faster as one
    kernel than as NumPy calls, by ``MARGIN``, and (below ``INEXACT_MIN_ELEMENTS``)
    computes eager's bits."""
    n = math.prod(region.shape)
    if n >= ALWAYS_ELEMENTS:
        return True
    if n < INEXACT_MIN_ELEMENTS and not _eager_bits(region):
        return False
    arrays = sum(1 for operand in region.inputs if type(operand.value) is np.ndarray)
    arrays += sum(1 for step in region.outputs if step.index not in region.reductions)
    numpy_ns = 0.0
    kernel_ns = KERNEL_CALL + arrays * (KERNEL_ARGUMENT + n * KERNEL_ELEMENT["array"])
    for step in region.steps:
        if step.index in region.reductions:
            numpy_ns += NUMPY_REDUCTION_CALL + n * NUMPY_ELEMENT["sum"]
            kernel_ns += n * 2 * KERNEL_ELEMENT["array"]  # into a buffer, then summed
            continue
        numpy_element, kernel_element = step_costs(step.array_body,
                                                   region.operands.get(step.index))
        numpy_ns += NUMPY_CALL + n * numpy_element
        kernel_ns += n * kernel_element
    return numpy_ns > MARGIN * kernel_ns


def _eager_bits(region):
    """Whether ``region``'s kernel computes eager's bits: exact steps and sums, over
    inputs laid out in C order (eager's results, and the order its sums add in, follow
    its operands' layout; a kernel's are C order)."""
    if not all(step.exact or step.index in region.reductions for step in region.steps):
        return False
    for operand in region.inputs:
        source = getattr(operand, "source", operand)  # a Shifted read's array
        if type(operand.value) is np.ndarray and operand.value.ndim > 1 and \
                not getattr(source, "c_ordered", True):
            return False
    return True


def step_costs(body, operands=None):
    """(NumPy's, a kernel's) ns per element for a step computing ``body`` on
    ``operands`` (``FusionOp``s, ``Literal``s and ``Shifted`` reads, or None: not
    known)."""
    power = _POWER.fullmatch(body)
    operand = operands[int(power.group(1))] if power and operands else None
    # (a literal exponent only: a node's is a variable of the kernel)
    exponent = operand.value if isinstance(operand, Literal) else None
    if isinstance(exponent, (int, float, np.integer, np.floating)) and \
            float(exponent).is_integer() and 0 < exponent <= 4:
        # Numba multiplies for a literal whole exponent; NumPy has a loop for x ** 2 only.
        return (NUMPY_ELEMENT["square" if exponent == 2 else "power"],
                KERNEL_ELEMENT["arithmetic"] * exponent)
    calls = _CALL.findall(body)
    operators = _OPERATOR.findall(_CALL.sub("(", body))
    kernel = sum(KERNEL_ELEMENT.get(name, UNKNOWN_ELEMENT) for name in calls)
    kernel += sum(KERNEL_ELEMENT["power"] if op == "**" else KERNEL_ELEMENT["arithmetic"]
                  for op in operators)
    if calls:
        main = NUMPY_ELEMENT.get(calls[0], UNKNOWN_ELEMENT)
    else:
        main = NUMPY_ELEMENT["power" if "**" in operators else "arithmetic"]
    return main, kernel

