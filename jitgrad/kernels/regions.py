"""The fusion pass: find connected runs of elementwise steps to compile as one kernel.

It reads the plan's steps as ``ops.FusionOp``s, whose facts each primitive declared
(``trace.rules``): its scalar and array-loop bodies, ``exact`` (IEEE arithmetic),
``reduction`` ("sum" or "mean"), and whether its shape depends on values.

A step is fusable when its primitive has a body for array loops (a transcendental
without a vectorizable one stays a NumPy call: NumPy's vectorized loops beat scalar
libm), its result is a float64 or float32 array of at least ``min_size`` elements
(None: ``cost.MIN_ELEMENTS``, and then a region is kept only where ``cost.pays``:
NumPy's calls would take longer than its kernel), its shape
does not depend on values, and each operand is a scalar or an array whose shape
broadcasts to the result's (read with index 0 on its broadcast axes). float32
regions take only steps declared ``exact`` (IEEE arithmetic: the same bits in any
loop; libm and vmath differ from NumPy's float32 loops). A sum or mean over all axes
of a region's value joins the region as an exit: the kernel accumulates it in NumPy's
order (``pairwise.py``), and no step of the region reads it. Runs of at least
``MIN_SCALAR_STEPS`` steps on float64 *scalars* fuse too, transcendental ones included.

A region's kernel runs where its last step was, so a region takes no more steps
once anything outside it has read one of its values (an unfused call, a step of
another region, a guard): what reads the value comes after the kernel, and
nothing the region computes is needed earlier. A region too long to compile
quickly is cut into several kernels, run in order (see ``MAX_KERNEL_COST``).

A step's operand that is a rolled array (``FusionOp.shifted``, declared for
``np.roll``) of the region's shape is read where the roll took each entry from
(``ops.Shifted``): the roll read what it rolls, so that value comes from an earlier
kernel or call, and a roll that only kernels read is not made (``Region.absorbed``).
"""
import functools
import math
import string

import numpy as np

from . import cost
from .ops import FusionOp, Shifted

FLOAT64, FLOAT32 = np.dtype(np.float64), np.dtype(np.float32)
FUSABLE_DTYPES = (FLOAT64, FLOAT32)
# A scalar region pays one kernel call (~0.3 us) instead of ~0.2 us per NumPy scalar
# call, and a compile: worth it from a handful of steps on.
MIN_SCALAR_STEPS = 8
# Numba's compile time grows with a kernel's statements, and its array arguments cost
# most (measured here, CPU seconds: a loop of 120 steps 0.24 with 2 arrays, 0.55 with 40,
# 1.6 with 120, each array read or written weighing about as much as 8 steps; 3000 steps
# and 1000 arrays 52 s and 850 MB; straight-line scalar code about 1.1 ms a step).
# Regions costing more become several kernels, each at most MAX_KERNEL_COST (<= 0.6 s).
MAX_KERNEL_COST = 400
ARRAY_ARGUMENT_COST = 8
# The longest loop body whose turns the cuts follow (see ``_period``).
MAX_PERIOD = 100


class Region:
    """A set of steps that becomes one kernel: ``inputs`` in, ``outputs`` out."""

    def __init__(self, shape, scalar=False, dtype=FLOAT64):
        self.shape = shape
        self.scalar = scalar  # a run of steps on float64 scalars: one call for them all
        self.dtype = dtype
        self.steps = []
        # The region's exits: step index -> (kind, axes), kind "sum" or "mean", axes
        # None (all) or k (the k leading axes, a sum only: an unbroadcast)
        self.reductions = {}
        self.open = True
        self.inputs = []   # FusionOps and Literals the kernel reads, in order
        self.outputs = []  # steps whose values are needed after the kernel
        self.operands = {}  # step index -> its operands (FusionOps, Literals, Shifted)
        self.absorbed = []  # rolled steps that only kernels read, shifted: not made
        self.cost = 0  # of compiling its kernel: steps, weighted inputs and outputs


def find_regions(steps, needed_after, min_size, guards=()):
    """Regions of at least two steps, in the order of their first step.

    ``steps`` are the plan's live steps in order (``FusionOp``s, each with its
    operands); ``needed_after`` holds the indices of values used by outputs or guards;
    ``guards`` are ``(position, index)`` pairs: Python looked at value ``index``
    before the step numbered ``position`` ran.
    """
    region_of = {}
    regions = []
    looked_at = sorted(guards)
    floor = cost.MIN_ELEMENTS if min_size is None else min_size
    for step in steps:
        # A guard is checked after the kernel computing its value: that kernel must
        # not take steps traced after the guard (they assume the value it checks).
        while looked_at and looked_at[0][0] <= step.index:
            _close(region_of.get(looked_at.pop(0)[1]))
        operands = step.operands
        kind = _fusable(step, operands, floor)
        region = None
        if kind == "reduction":
            owner = region_of.get(operands[0].index) if _is_node(operands[0]) else None
            # (Not a sum of another of its sums: that value exists only after the loop.)
            if owner is not None and owner.open and not owner.scalar \
                    and operands[0].index not in owner.reductions:
                region = owner  # an exit of the region computing what it reduces
                region.steps.append(step)
                region.reductions[step.index] = _reduction(step, operands)
                region_of[step.index] = region
        elif kind:
            scalar, shape = kind == "scalar", np.shape(step.value)
            dtype = FLOAT64 if scalar else step.value.dtype
            # A region whose reduction this step reads has to finish first.
            reading_exits = {id(region_of[o.index]) for o in operands if _is_node(o)
                             and o.index in region_of
                             and o.index in region_of[o.index].reductions}
            joinable = {id(region_of[o.index]): region_of[o.index] for o in operands
                        if _is_node(o) and o.index in region_of and region_of[o.index].open
                        and region_of[o.index].scalar == scalar
                        and region_of[o.index].shape == shape
                        and region_of[o.index].dtype == dtype
                        and o.index not in region_of[o.index].reductions
                        and id(region_of[o.index]) not in reading_exits}
            region = _merge(list(joinable.values()), region_of) if joinable else None
            if region is None:
                region = Region(shape, scalar, dtype)
                regions.append(region)
            region.steps.append(step)
            region_of[step.index] = region
        # Whatever reads a region's value without joining it (an unfused call, a step
        # of a region of another shape, a scalar read by an array step) runs after
        # that region's kernel, so the region is finished.
        for operand in operands:
            owner = region_of.get(operand.index) if _is_node(operand) else None
            if owner is not region:
                _close(owner)
    regions = [r for r in regions if len(r.steps) >= _min_steps(r)]
    read_outside = _read_outside(steps, region_of, needed_after)
    regions = [piece for region in regions
               for piece in _cut(region, read_outside)
               if len(piece.steps) >= _min_steps(piece)]  # a short last piece: NumPy calls
    _connect(regions, steps, needed_after)
    if min_size is None:  # a region not worth its kernel stays NumPy calls
        paying = [r for r in regions if r.scalar or cost.pays(r)]
        if len(paying) < len(regions):  # their steps read rolled copies again
            regions = paying
            _absorb_rolls(regions, steps, needed_after)
    return regions


def _close(region):
    if region is not None:
        region.open = False


def _min_steps(region):
    return MIN_SCALAR_STEPS if region.scalar else 2


def _read_outside(steps, region_of, needed_after):
    """Indices of region steps whose values something outside their region reads."""
    read = set(needed_after)
    for step in steps:
        for operand in step.operands:
            owner = region_of.get(operand.index) if _is_node(operand) else None
            if owner is not None and owner is not region_of.get(step.index):
                read.add(operand.index)
    return read


def _cut(region, read_outside):
    """``region`` as consecutive pieces of one length, each a kernel costing at most
    ``MAX_KERNEL_COST``. Each piece runs where its last step was: after all its steps
    read, and before the next piece, which may read its values."""
    reads, last_read = _reads(region, read_outside)
    n = len(region.steps)
    if _cost(region, reads, last_read, 0, n) <= MAX_KERNEL_COST:
        return [region]
    for length in _lengths(_period(region, reads, last_read)):
        if all(_cost(region, reads, last_read, start, start + length) <= MAX_KERNEL_COST
               for start in range(0, n, length)):
            break
    pieces = []
    for start in range(0, n, length):
        piece = Region(region.shape, region.scalar, region.dtype)
        piece.steps = region.steps[start:start + length]
        piece.reductions = {s.index: region.reductions[s.index] for s in piece.steps
                            if s.index in region.reductions}
        pieces.append(piece)
    return pieces


def _reads(region, read_outside):
    """What each step of ``region`` reads: ``(key, position in region or None, weight)``
    for each operand that is not a literal; and for each step, the last position that
    reads it (``n`` when something after the region does)."""
    position = {step.index: i for i, step in enumerate(region.steps)}
    n = len(region.steps)
    reads, last_read = [], [n if step.index in read_outside else -1 for step in region.steps]
    for i, step in enumerate(region.steps):
        used = used_arguments(step)
        step_reads = []
        for argument, operand in enumerate(step.operands):
            if argument not in used:
                continue
            if _is_node(operand) and operand.index in position:
                j = position[operand.index]
                last_read[j] = max(last_read[j], i)
                step_reads.append((operand_key(operand), j, _weight(region, operand)))
            elif _is_node(operand) or type(operand.value) is np.ndarray:
                step_reads.append((operand_key(operand), None, _weight(region, operand)))
        reads.append(step_reads)
    return reads, last_read


def _weight(region, operand=None):
    """What an input (or, without ``operand``, an output) adds to a kernel's cost."""
    if region.scalar or (operand is not None and type(operand.value) is not np.ndarray):
        return 1
    return ARRAY_ARGUMENT_COST


def _cost(region, reads, last_read, start, end):
    """The compile cost of steps ``start:end`` as one kernel: its steps, inputs, outputs."""
    end = min(end, len(reads))
    inputs = {key: weight for step_reads in reads[start:end]
              for key, j, weight in step_reads if j is None or j < start}
    outputs = sum(1 for i in range(start, end) if last_read[i] >= end)
    return (end - start) + sum(inputs.values()) + outputs * _weight(region)


def _period(region, reads, last_read):
    """The number of steps in a turn of the loop that made ``region`` (1 when none is
    found): pieces of whole turns have one source, so they compile once."""
    def distance(i, j):  # a value from many steps back is read like one from outside
        return None if j is None or i - j > MAX_PERIOD else i - j
    signatures = [hash((step.fun, last_read[i] == len(reads),
                        tuple(distance(i, j) for _, j, _ in reads[i])))
                  for i, step in enumerate(region.steps)]
    signatures = np.array(signatures)
    for period in range(1, min(MAX_PERIOD, len(signatures) // 4) + 1):
        if np.mean(signatures[period:] == signatures[:-period]) >= 0.9:
            return period
    return 1


def _lengths(period):
    """Piece lengths to try, longest first: whole turns of the loop while they fit."""
    length = max(MAX_KERNEL_COST // period, 1) * period
    while length >= 2:
        yield length
        turns = length // period // 2
        length = turns * period if turns else length // 2


def _merge(regions, region_of):
    target = regions[0]
    for other in regions[1:]:
        for step in other.steps:
            region_of[step.index] = target
        target.steps.extend(other.steps)
        target.reductions.update(other.reductions)
        other.steps = []
    target.steps.sort(key=lambda s: s.index)
    return target


def operand_key(operand):
    """The same value used twice is one kernel input."""
    if _is_node(operand):
        return ("node", operand.index)
    if type(operand) is Shifted:
        return ("shifted", operand.source.index, operand.shift, operand.axis)
    return ("constant", id(operand.value))


def _shifted_read(operand, region, members):
    """A read of a rolled value (``FusionOp.shifted``) as a ``Shifted`` read of what was
    rolled, or None: for an array region of the rolled value's shape (no broadcasting),
    along an axis longer than 1, of a value computed before the kernel."""
    if not _is_node(operand) or operand.shifted is None or operand.kind != "op" or \
            operand.dynamic_shape or region.scalar or not operand.operands:
        return None
    source = operand.operands[0]
    value = operand.value
    if not _is_node(source) or type(source.value) is not np.ndarray or \
            type(value) is not np.ndarray or value.dtype != source.value.dtype or \
            value.shape != region.shape or source.value.shape != region.shape or \
            members.get(source.index) is region:
        return None
    shift, axis = operand.shifted
    if not -value.ndim <= axis < value.ndim or value.shape[axis] < 2:
        return None
    return Shifted(source, shift, axis % value.ndim)


def _absorb_rolls(regions, steps, needed_after):
    """Mark, in ``region.absorbed``, the rolled steps that only these regions' kernels
    read (shifted): the plan need not make their copies."""
    members = {step.index: region for region in regions for step in region.steps}
    read_plainly = set(needed_after)
    rolled = {}
    # Only rolls made among these steps: one made before a loop is read by the steps
    # around the loop too, which this search does not see.
    here = {step.index for step in steps}
    for step in steps:
        region = members.get(step.index)
        for position, operand in enumerate(step.operands):
            if not _is_node(operand) or operand.shifted is None or operand.index not in here:
                continue
            rolled[operand.index] = operand
            if region is None or type(region.operands[step.index][position]) is not Shifted:
                read_plainly.add(operand.index)
    for region in regions:
        region.absorbed = sorted(
            {o.index for s in region.steps for o in s.operands
             if _is_node(o) and o.index in rolled and o.index not in read_plainly})


def _is_node(operand):
    return isinstance(operand, FusionOp)


def _fusable(step, operands, min_size):
    """"array", "scalar", "reduction" or False: whether and how ``step`` can join a
    kernel."""
    if step.kind != "op" or step.dynamic_shape:
        return False
    if step.reduction:
        return "reduction" if _reduction(step, operands) else False
    if step.kwargs:
        return False
    body = step.scalar_body
    if body is None:
        return False
    value = step.value
    used = used_positions(body)
    operands = [o for position, o in enumerate(operands) if position in used]
    if type(value) in (float, np.float64):
        # On scalars every body fuses: one compiled call replaces NumPy scalar calls
        # of ~0.2 us each, and scalar libm is what NumPy calls there too.
        return "scalar" if all(_is_scalar(o.value) for o in operands) else False
    if step.array_body is None:
        # A libm call with no vectorizable version: in a loop Numba calls it per
        # element, 5-10x slower than NumPy's own loops, so it stays a NumPy call.
        return False
    if type(value) is not np.ndarray or value.dtype not in FUSABLE_DTYPES or \
            value.size < min_size:
        return False
    if value.dtype == FLOAT32 and not step.exact:
        return False
    for operand in operands:
        operand_value = operand.value
        if type(operand_value) is np.ndarray:
            if operand_value.dtype not in FUSABLE_DTYPES or (
                    operand_value.dtype != value.dtype and value.dtype == FLOAT32) or \
                    not _broadcasts_to(operand_value.shape, value.shape) or \
                    not _c_ordered(operand_value):
                return False
        elif not isinstance(operand_value, (float, int, np.floating, np.integer)) or \
                isinstance(operand_value, (bool, np.bool_)):
            return False
    return "array"


def _c_ordered(array):
    """Whether NumPy computes on ``array`` in C order, as kernels do: a captured constant
    laid out otherwise (Fortran order, reversed) gives NumPy's results its layout, and
    a later sum of them adds in another order than a kernel's (other bits)."""
    strides = [s for s, n in zip(array.strides, array.shape) if n > 1 and s != 0]
    return all(s > 0 for s in strides) and strides == sorted(strides, reverse=True)


def _broadcasts_to(shape, target):
    """Whether an operand of ``shape`` broadcasts to ``target`` (and no further)."""
    return len(shape) <= len(target) and all(
        n in (1, m) for n, m in zip(shape[::-1], target[::-1]))


def _reduction(step, operands):
    """(kind, axes) of a reduction a kernel can compute at a region's exit (see
    ``Region.reductions``), or None. A sum over leading axes adds row after row into
    each output element (NumPy's order there, for a C-ordered operand): only where
    the rows and the reduced part both have more than one element (else NumPy
    reduces the whole as one pairwise sum)."""
    kind = step.reduction
    operand = operands[0] if len(operands) == 1 else None
    value = getattr(operand, "value", None)
    if not (_is_node(operand) and type(value) is np.ndarray and value.ndim
            and value.dtype in FUSABLE_DTYPES
            and getattr(step.value, "dtype", None) == value.dtype):
        return None
    if not step.kwargs:
        return kind, None
    if kind != "sum" or set(step.kwargs) - {"axis", "keepdims"} or \
            not isinstance(step.kwargs.get("keepdims", False), bool):
        return None
    axis = step.kwargs.get("axis")
    axes = (axis,) if isinstance(axis, (int, np.integer)) else axis
    if not isinstance(axes, tuple) or not all(isinstance(a, (int, np.integer)) for a in axes):
        return None
    leading = sorted(int(a) % value.ndim for a in axes)
    k = len(leading)
    if leading != list(range(k)) or not 0 < k < value.ndim or \
            math.prod(value.shape[:k]) < 2 or math.prod(value.shape[k:]) < 2:
        return None
    return kind, k


def used_arguments(step):
    """The argument positions a fused step reads: a reduction its first, an elementwise
    step those its scalar body refers to."""
    return frozenset((0,)) if step.reduction else used_positions(step.scalar_body)


@functools.lru_cache(maxsize=None)
def used_positions(body):
    """The argument positions a scalar body refers to (``{1}`` in ``"({1} + {2})"``)."""
    return frozenset(int(field) for _, field, _, _ in string.Formatter().parse(body)
                     if field is not None)


def _is_scalar(value):
    return type(value) in (float, int, np.float64) or (
        isinstance(value, np.integer) and not isinstance(value, np.bool_))


def _connect(regions, steps, needed_after):
    """Fill each region's inputs and outputs."""
    members = {}
    for region in regions:
        for step in region.steps:
            members[step.index] = region
    for region in regions:
        region.operands = {s.index: [_shifted_read(o, region, members) or o for o in s.operands]
                           for s in region.steps}
    _absorb_rolls(regions, steps, needed_after)
    for region in regions:
        seen = set()
        for step in region.steps:
            used = used_arguments(step)
            for position, operand in enumerate(region.operands[step.index]):
                if position not in used:
                    continue
                if _is_node(operand) and members.get(operand.index) is region:
                    continue  # computed inside the kernel
                if _is_node(operand) or type(operand.value) is np.ndarray:
                    key = operand_key(operand)
                    if key not in seen:
                        seen.add(key)
                        region.inputs.append(operand)
    used_outside = set(needed_after)
    for step in steps:
        for operand in step.operands:
            if _is_node(operand) and members.get(operand.index) not in (None, members.get(step.index)):
                used_outside.add(operand.index)
    for region in regions:
        region.outputs = [s for s in region.steps if s.index in used_outside]
        region.cost = len(region.steps) + sum(_weight(region, o) for o in region.inputs) + \
            len(region.outputs) * _weight(region)
