"""The fusion pass: find connected runs of elementwise steps to compile as one kernel.

A step is fusable when its primitive has an arithmetic scalar body (transcendental
ones stay NumPy calls: NumPy's vectorized loops beat scalar libm), its result is a float64
array of at least ``min_size`` elements (below that NumPy's own calls are cheap
and a compile is not worth it), its shape does not depend on values, and each
operand is either an array of exactly that shape or a scalar. Runs of at least
``MIN_SCALAR_STEPS`` steps on float64 *scalars* fuse too, transcendental ones
included.

A region's kernel runs where its last step was, so a region takes no more steps
once anything outside it has read one of its values (an unfused call, a step of
another region, a guard): what reads the value comes after the kernel, and
nothing the region computes is needed earlier.
"""
import functools
import string

import numpy as np

FUSABLE_DTYPE = np.dtype(np.float64)
# A scalar region pays one kernel call (~0.3 us) instead of ~0.2 us per NumPy scalar
# call, and a compile: worth it from a handful of steps on.
MIN_SCALAR_STEPS = 8


class Region:
    """A set of steps that becomes one kernel: ``inputs`` in, ``outputs`` out."""

    def __init__(self, shape, scalar=False):
        self.shape = shape
        self.scalar = scalar  # a run of steps on float64 scalars: one call for them all
        self.steps = []
        self.open = True
        self.inputs = []   # nodes and Constants the kernel reads, in order
        self.outputs = []  # steps whose values are needed after the kernel
        self.operands = {}  # step index -> its operands (nodes and Constants)


def find_regions(steps, resolve, scalar_bodies, needed_after, min_size, guards=()):
    """Regions of at least two steps, in the order of their first step.

    ``steps`` are the plan's live nodes in order; ``resolve`` maps a parent to the
    node or Constant that replaces it; ``needed_after`` holds the indices of
    nodes used by outputs or guards; ``guards`` are ``(position, index)`` pairs:
    Python looked at node ``index`` before the step numbered ``position`` ran.
    """
    region_of = {}
    regions = []
    looked_at = sorted(guards)
    for step in steps:
        # A guard is checked after the kernel computing its value: that kernel must
        # not take steps traced after the guard (they assume the value it checks).
        while looked_at and looked_at[0][0] <= step.index:
            _close(region_of.get(looked_at.pop(0)[1]))
        operands = _operands(step, resolve)
        kind = _fusable(step, operands, scalar_bodies, min_size)
        region = None
        if kind:
            scalar, shape = kind == "scalar", np.shape(step.value)
            joinable = {id(region_of[o.index]): region_of[o.index] for o in operands
                        if _is_node(o) and o.index in region_of and region_of[o.index].open
                        and region_of[o.index].scalar == scalar
                        and region_of[o.index].shape == shape}
            region = _merge(list(joinable.values()), region_of) if joinable else None
            if region is None:
                region = Region(shape, scalar)
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
    _connect(regions, steps, resolve, needed_after, scalar_bodies)
    return regions


def _close(region):
    if region is not None:
        region.open = False


def _min_steps(region):
    return MIN_SCALAR_STEPS if region.scalar else 2


def _merge(regions, region_of):
    target = regions[0]
    for other in regions[1:]:
        for step in other.steps:
            region_of[step.index] = target
        target.steps.extend(other.steps)
        other.steps = []
    target.steps.sort(key=lambda s: s.index)
    return target


def _operands(step, resolve):
    parents = dict(zip(step.parent_argnums, step.parents))
    from ..trace.passes import Constant
    return [resolve(parents[i]) if i in parents else Constant(arg)
            for i, arg in enumerate(step.args)]


def operand_key(operand):
    """The same value used twice is one kernel input."""
    return ("node", operand.index) if _is_node(operand) else ("constant", id(operand.value))


def _is_node(operand):
    return hasattr(operand, "index")


def _fusable(step, operands, scalar_bodies, min_size):
    """"array", "scalar" or False: whether and how ``step`` can join a kernel."""
    if step.kind != "op" or step.kwargs or step.dynamic_shape:
        return False
    body = scalar_bodies.get(step.fun)
    if body is None:
        return False
    value = step.value
    used = used_positions(body)
    operands = [o for position, o in enumerate(operands) if position in used]
    if type(value) in (float, np.float64):
        # On scalars every body fuses: one compiled call replaces NumPy scalar calls
        # of ~0.2 us each, and scalar libm is what NumPy calls there too.
        return "scalar" if all(_is_scalar(o.value) for o in operands) else False
    if "math." in body:
        # Numba calls scalar libm per element: measured here 5-10x slower than
        # NumPy's vectorized exp/tanh/sin loops, so those stay NumPy calls.
        return False
    if type(value) is not np.ndarray or value.dtype != FUSABLE_DTYPE or value.size < min_size:
        return False
    for operand in operands:
        operand_value = operand.value
        if type(operand_value) is np.ndarray:
            if operand_value.shape != value.shape or operand_value.dtype != FUSABLE_DTYPE:
                return False
        elif not isinstance(operand_value, (float, int, np.floating, np.integer)) or \
                isinstance(operand_value, (bool, np.bool_)):
            return False
    return "array"


@functools.lru_cache(maxsize=None)
def used_positions(body):
    """The argument positions a scalar body refers to (``{1}`` in ``"({1} + {2})"``)."""
    return frozenset(int(field) for _, field, _, _ in string.Formatter().parse(body)
                     if field is not None)


def _is_scalar(value):
    return type(value) in (float, int, np.float64) or (
        isinstance(value, np.integer) and not isinstance(value, np.bool_))


def _connect(regions, steps, resolve, needed_after, scalar_bodies):
    """Fill each region's inputs and outputs."""
    members = {}
    for region in regions:
        for step in region.steps:
            members[step.index] = region
    for region in regions:
        seen = set()
        for step in region.steps:
            used = used_positions(scalar_bodies[step.fun])
            for position, operand in enumerate(_operands(step, resolve)):
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
        for operand in _operands(step, resolve):
            if _is_node(operand) and members.get(operand.index) not in (None, members.get(step.index)):
                used_outside.add(operand.index)
    for region in regions:
        region.outputs = [s for s in region.steps if s.index in used_outside]
        region.operands = {s.index: _operands(s, resolve) for s in region.steps}
