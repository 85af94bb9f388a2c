"""The fusion pass: find connected runs of elementwise steps to compile as one kernel.

A step is fusable when its primitive has an arithmetic scalar body (transcendental
ones stay NumPy calls: NumPy's vectorized loops beat scalar libm), its result is a float64
array of at least ``min_size`` elements (below that NumPy's own calls are cheap
and a compile is not worth it), its shape does not depend on values, and each
operand is either an array of exactly that shape or a scalar. Steps join the
region of their operands while nothing outside the region has used it yet, so a
region never needs a value computed after it.
"""
import numpy as np

FUSABLE_DTYPE = np.dtype(np.float64)


class Region:
    """A set of steps that becomes one kernel: ``inputs`` in, ``outputs`` out."""

    def __init__(self, shape):
        self.shape = shape
        self.steps = []
        self.open = True
        self.inputs = []   # nodes and Constants the kernel reads, in order
        self.outputs = []  # steps whose values are needed after the kernel
        self.operands = {}  # step index -> its operands (nodes and Constants)


def find_regions(steps, resolve, scalar_bodies, needed_after, min_size):
    """Regions of at least two steps, in the order of their first step.

    ``steps`` are the plan's live nodes in order; ``resolve`` maps a parent to the
    node or Constant that replaces it; ``needed_after`` holds the indices of
    nodes used by outputs or guards.
    """
    region_of = {}
    regions = []
    for step in steps:
        operands = _operands(step, resolve)
        if _fusable(step, operands, scalar_bodies, min_size):
            joinable = {id(region_of[o.index]): region_of[o.index] for o in operands
                        if _is_node(o) and o.index in region_of
                        and region_of[o.index].open and region_of[o.index].shape == step.value.shape}
            region = _merge(list(joinable.values()), region_of) if joinable else None
            if region is None:
                region = Region(step.value.shape)
                regions.append(region)
            region.steps.append(step)
            region_of[step.index] = region
        else:
            for operand in operands:
                if _is_node(operand) and operand.index in region_of:
                    region_of[operand.index].open = False
    regions = [r for r in regions if r.steps and len(r.steps) >= 2]
    _connect(regions, steps, resolve, region_of, needed_after)
    return regions


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
    if step.kind != "op" or step.kwargs or step.dynamic_shape:
        return False
    body = scalar_bodies.get(step.fun)
    if body is None or "math." in body:
        # Numba calls scalar libm per element: measured here 5-10x slower than
        # NumPy's vectorized exp/tanh/sin loops, so those stay NumPy calls.
        return False
    value = step.value
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
    return True


def _connect(regions, steps, resolve, region_of, needed_after):
    """Fill each region's inputs and outputs."""
    members = {}
    for region in regions:
        for step in region.steps:
            members[step.index] = region
    for region in regions:
        seen = set()
        for step in region.steps:
            for operand in _operands(step, resolve):
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
