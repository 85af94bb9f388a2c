"""Numba source of an array region's kernel: nested loops over its (collapsed) shape.

The loops run over the region's shape with its axes of length 1 dropped and
neighbouring axes merged where every input is either full or broadcast along both
(a same-shape region is one flat loop). Each array input is passed reshaped to that
many dimensions and read with index 0 on the axes it is broadcast along: the
broadcast pattern is in the source, hence in the kernel's cache key; sizes are
arguments, never in the source. Inputs are read in their own dtype and widened to
float64 in float64 regions, as NumPy's loops cast them; float32 regions compute in
float32, with literals as float32.

Reductions (sum, mean over all axes) are accumulated in NumPy's pairwise order (see
``pairwise.py``): a flat loop runs piece by piece, summing each piece from a small
buffer; nested loops write the reduced values to a scratch array summed after. A sum
over leading axes (the backward pass's unbroadcast) adds each row into an array of
the remaining axes, in order, as NumPy does for a C-ordered operand.
Kernels calling ``vmath.sin``/``cos`` run a vectorized pass first and an exact one
only when an argument was too large for it (see ``vmath.sin_fast``).
"""
import math
import re

import numpy as np

from .ops import Shifted
from .regions import operand_key, used_positions

def shape_literal(shape):
    """A shape as Python source (plain ints: NumPy 2 writes np.int64(3) for its own)."""
    return repr(tuple(int(n) for n in shape))


_TRIG_CALL = re.compile(r"vmath\.(sin|cos)\(([^()]*)\)")
_TRIG = re.compile(r"vmath\.(?:sin|cos)\(")


def calls_trig(body):
    """Whether scalar-body source calls vmath's exact sin or cos (whose fast form runs
    only in a fused kernel's vectorized pass: ``_fast_trig``)."""
    return _TRIG.search(body) is not None


class Layout:
    """The loop nest of a region: ``shape`` (collapsed), and for each array input its
    shape in that nest (1 on broadcast axes). No loop spans a boundary in ``splits``
    (an axis k: the k leading axes a sum reduces), so ``loops_before(k)`` is exact."""

    def __init__(self, region_shape, input_shapes, splits=()):
        axes = [a for a, n in enumerate(region_shape) if n != 1]
        padded = [(1,) * (len(region_shape) - len(s)) + tuple(s) for s in input_shapes]
        groups = []  # runs of axes merged into one loop
        for a in axes:
            pattern = tuple(s[a] == 1 for s in padded)
            if groups and groups[-1][1] == pattern and \
                    not any(groups[-1][0][-1] < k <= a for k in splits):
                groups[-1][0].append(a)
            else:
                groups.append(([a], pattern))
        if not groups:
            groups = [([], tuple(True for _ in padded))]
        self.groups = [group for group, _ in groups]
        self.shape = tuple(math.prod(region_shape[a] for a in group) for group in self.groups)
        self.input_shapes = [tuple(1 if pattern[k] else n for (_, pattern), n in
                                   zip(groups, self.shape)) for k in range(len(padded))]
        self.broadcast = [tuple(pattern[k] for _, pattern in groups) for k in range(len(padded))]
        self.ndim = len(self.shape)

    def group_of(self, axis):
        """The loop running over ``axis`` (an axis longer than 1)."""
        return next(g for g, group in enumerate(self.groups) if axis in group)

    def loops_before(self, k):
        """How many outer loops run over the axes before axis ``k``."""
        return sum(1 for group in self.groups if group and group[-1] < k)


def kernel_source(region, layout):
    """(source, array_inputs): the kernel ``kernel(inputs..., outputs..., sizes...,
    starts, order)`` returning the tuple of its reductions (``pairwise.pieces``)."""
    dtype = "float32" if region.dtype == np.float32 else "float64"
    index = [f"i{a}" for a in range(layout.ndim)]
    params, reads, prologue, array_inputs = [], [], [], []
    names = {}
    array_number = 0
    for k, operand in enumerate(region.inputs):
        params.append(f"in{k}")
        is_array = type(operand.value) is np.ndarray
        array_inputs.append(is_array)
        if is_array:
            mask = layout.broadcast[array_number]
            array_number += 1
            at = ["0" if b else i for b, i in zip(mask, index)]
            if type(operand) is Shifted:  # a rolled value: read where it came from
                g = layout.group_of(operand.axis)
                prologue.append(f"sh{k} = {operand.shift} % n{g}")
                at[g] = f"(i{g} - sh{k} + n{g} if i{g} < sh{k} else i{g} - sh{k})"
            at = ", ".join(at)
            reads.append(f"x{k} = np.{dtype}(in{k}[{at}])")
            names[operand_key(operand)] = f"x{k}"
        elif dtype == "float32":
            prologue.append(f"s{k} = np.float32(in{k})")
            names[operand_key(operand)] = f"s{k}"
        else:
            names[operand_key(operand)] = f"in{k}"
    outputs = {step.index: f"out{j}" for j, step in enumerate(region.outputs)
               if step.index not in region.reductions}
    reduced = {}  # step index of a reduction -> the name of the value it reduces
    body = []
    for number, step in enumerate(region.steps):
        if step.index in region.reductions:
            reduced[step.index] = names[operand_key(region.operands[step.index][0])]
            continue
        args = step_arguments(region, step, step.array_body, names, dtype)
        names[operand_key(step)] = f"t{number}"
        body.append(f"t{number} = {step.array_body.format(*args)}")
        if step.index in outputs:
            body.append(f"{outputs[step.index]}[{', '.join(index)}] = t{number}")
    reductions = [(f"r{j}", step.index) for j, step in enumerate(region.outputs)
                  if step.index in region.reductions]
    sizes = [f"n{a}" for a in range(layout.ndim)]
    whole = any(region.reductions[i][1] is None for _, i in reductions)
    signature = params + list(outputs.values()) + sizes + (["starts", "order"] if whole else [])
    fast_body, slow_flags = _fast_trig(body)
    lines = [f"def kernel({', '.join(signature)}):"]
    lines += ["    " + line for line in prologue]
    if slow_flags is None:
        lines += _loops(layout, reads, body, reductions, reduced, region.reductions, dtype, [])
    else:
        # Two passes: the common one vectorizes (sin_fast/cos_fast, exact up to
        # TRIG_MAX) and flags larger arguments; only then everything is computed again
        # with the exact sin/cos (libm beyond TRIG_MAX).
        lines += ["    slow = False"]
        lines += _loops(layout, reads, fast_body, reductions, reduced, region.reductions, dtype,
                        [f"slow |= {' | '.join(slow_flags)}"])
        lines += ["    if slow:"]
        lines += ["    " + line for line in
                  _loops(layout, reads, body, reductions, reduced, region.reductions, dtype, [])]
    results = "".join(f"{name}, " for name, _ in reductions)
    lines += [f"    return ({results})", ""]
    header = ["import math", "", "import numba", "import numpy as np", ""]
    if whole:
        from . import pairwise  # its fingerprint keys the cache, as vmath's does
        header += ["from jitgrad.kernels import pairwise  # " + pairwise.fingerprint(), ""]
    if any("vmath." in line for line in body):
        from . import vmath
        # vmath's fingerprint is part of the source, hence of the cache key: a kernel
        # compiled with another version of vmath inlined is never loaded.
        header += ["from jitgrad.kernels import vmath  # " + vmath.fingerprint(), ""]
    header += ["", '@numba.njit(cache=True, error_model="numpy", nogil=True)']
    return "\n".join(header + lines), array_inputs


def _loops(layout, reads, body, reductions, reduced, kinds, dtype, after):
    """The loop nest computing every element (indented for the kernel's body),
    accumulating the reductions, then setting r0, r1... to their values."""
    index = [f"i{a}" for a in range(layout.ndim)]
    whole = [(name, reduced[i]) for name, i in reductions if kinds[i][1] is None]
    leading = [(name, reduced[i], layout.loops_before(kinds[i][1])) for name, i in reductions
               if kinds[i][1] is not None]
    # Sums over leading axes: each output element adds its rows in order, from 0.0.
    accumulate = []
    lines = []
    for name, value, lead in leading:
        rest = [a for a in range(lead, layout.ndim)]
        flat = _flat(index, rest)
        lines.append(f"{name} = np.zeros({' * '.join(f'n{a}' for a in rest)}, np.{dtype})")
        accumulate.append(f"{name}[{flat}] = {name}[{flat}] + {value}")
    element = reads + body + after + accumulate
    if not whole:
        lines += _nest(index, element)
    elif layout.ndim == 1:
        # piece by piece in NumPy's order: the piece's values in a small buffer
        lines += [f"sums{j} = np.empty(starts.shape[0] - 1, np.{dtype})"
                  for j in range(len(whole))]
        lines += [f"buf{j} = np.empty({_block()}, np.{dtype})" for j in range(len(whole))]
        lines += ["for leaf in range(starts.shape[0] - 1):",
                  "    lo = starts[leaf]",
                  "    for i0 in range(lo, starts[leaf + 1]):"]
        lines += ["        " + line for line in element]
        lines += [f"        buf{j}[i0 - lo] = {value}" for j, (_, value) in enumerate(whole)]
        lines += [f"    sums{j}[leaf] = pairwise.leaf_sum(buf{j}, starts[leaf + 1] - lo)"
                  for j in range(len(whole))]
        lines += [f"{name}_sum = pairwise.combine(sums{j}, order)"
                  for j, (name, _) in enumerate(whole)]
    else:
        # nested loops: the reduced values in C order into scratch arrays, summed after
        total = " * ".join(f"n{a}" for a in range(layout.ndim))
        flat = _flat(index, range(layout.ndim))
        lines += [f"scratch{j} = np.empty({total}, np.{dtype})" for j in range(len(whole))]
        lines += _nest(index, element + [f"scratch{j}[{flat}] = {value}"
                                         for j, (_, value) in enumerate(whole)])
        lines += [f"{name}_sum = pairwise.pairwise_sum(scratch{j}, starts, order)"
                  for j, (name, _) in enumerate(whole)]
    total = " * ".join(f"n{a}" for a in range(layout.ndim))
    for name, step_index in reductions:
        if kinds[step_index] == ("mean", None):
            # np.mean: the sum divided by the count (an int64), in float64, then cast
            lines.append(f"{name} = np.{dtype}(np.float64({name}_sum) / ({total}))")
        elif kinds[step_index][1] is None:
            lines.append(f"{name} = {name}_sum")
    return ["    " + line for line in lines]


def _flat(index, loops):
    """The C-order flat index over ``loops`` of the nest."""
    loops = list(loops)
    flat = index[loops[0]]
    for a in loops[1:]:
        flat = f"({flat}) * n{a} + i{a}"
    return flat


def _nest(index, element):
    lines = []
    for depth, i in enumerate(index):
        lines.append("    " * depth + f"for {i} in range(n{depth}):")
    return lines + ["    " * len(index) + line for line in element]


def _block():
    from .pairwise import BLOCK
    return BLOCK


def _fast_trig(body):
    """``body`` with vmath.sin/cos calls as sin_fast/cos_fast, and the trig_slow tests
    of their arguments; (body, None) when it calls neither."""
    flags = []

    def fast(match):
        flags.append(f"vmath.trig_slow({match.group(2)})")
        return f"vmath.{match.group(1)}_fast({match.group(2)})"
    fast_body = [_TRIG_CALL.sub(fast, line) for line in body]
    if not flags or any(calls_trig(line) for line in fast_body):
        return body, None  # no trig, or a call this rewrite cannot read: one exact pass
    return fast_body, list(dict.fromkeys(flags))


def step_arguments(region, step, body, names, dtype="float64"):
    """What stands for each of ``step``'s operands in its ``body``: the name of a value
    the kernel holds, a literal for a constant, None for an operand the body leaves out
    (the vector space of a cotangent sum)."""
    used = used_positions(body)
    args = []
    for position, operand in enumerate(region.operands[step.index]):
        key = operand_key(operand)
        if position not in used:
            args.append(None)
        elif key in names:
            args.append(names[key])
        else:
            args.append(_literal(operand.value, dtype))
    return args


def _literal(value, dtype="float64"):
    if isinstance(value, (bool, np.bool_)):
        return repr(bool(value))
    if isinstance(value, (int, np.integer)) and dtype == "float64":
        return repr(int(value))
    value = float(value)
    if math.isnan(value):
        text = "math.nan"
    elif math.isinf(value):
        text = "math.inf" if value > 0 else "-math.inf"
    else:
        text = repr(value)
    return text if dtype == "float64" else f"np.float32({text})"
