"""Arrays the function reads from globals and closures (and off objects and dicts
read from them: ``self.X``), boxed as constants while it is traced, so that indexing
them with traced values is traced too.

The autograd minibatch loop reads its data from a global and slices it with the
iteration number: ``train_images[idx * 256:(idx + 1) * 256]``. A plain NumPy array
asks a traced slice bound for its number, which the jit guards: every batch was a path
of its own, traced at its second sighting and given up after 34 of them (a 12-batch
MNIST loop ran 1.46x eager's time). Boxed, the array's slice and gather are steps
of the plan, their bounds and indices its arguments: one plan serves every batch
(0.85x eager's time, the same bits).

The box holds a snapshot, as the plan's constants always do (captured arrays are
constants of the trace: changing one in place later is not seen, as before). Only
numeric arrays up to ``MAX_BYTES`` are boxed: each trace copies them. The binding
is restored when the function returns.

Where boxing may change what the function does (it writes into the array or binds
its name anew, or raises, or is refused), ``changed`` or the caller's exception says
so, and the jit traces again without boxing (jitted.py; the function's other effects
then happen twice). What it cannot see: while traced, the array is a traced value as
an argument is (``isinstance(data, numpy.ndarray)`` is False, footgun S3). Another
thread reading the same global meanwhile gets the box, which computes there as the
plain array it holds (``trace.core.primitive``); its writes into it would be lost.
"""
import types

import numpy as np

from ..trace.core import constant_box
from .attribute_reads import plain_attribute, follow
from .graph import snapshot

# Arrays larger than this stay plain NumPy (each trace would copy them): 64 MiB.
MAX_BYTES = 1 << 26


class BoxingChanged(Exception):
    """The trace with captured arrays boxed went otherwise than it would without."""


def boxable(value):
    return (type(value) is np.ndarray and value.dtype.kind in "fciu"
            and 0 < value.nbytes <= MAX_BYTES)


class CapturedAsConstants:
    """``with CapturedAsConstants(reads, trace_id, node_type):`` the variables and
    chains a ``Reads`` holds that hold a boxable array hold a constant box of it
    inside: ``reads.bindings`` (a globals dict or a closure cell), and the last step of
    ``reads.chains`` where it is an instance's own attribute, a dict's item or a
    list's entry (``self.X``, ``data["X"]``; not a property, a class attribute or a
    tuple's entry)."""

    def __init__(self, reads, trace_id, node_type):
        found = [(holder, name, value) for holder, name, value in reads.bindings
                 if boxable(value)]
        found += [binding for root, steps, value, _ in reads.chains
                  if boxable(value) and (binding := _holder(root, steps, value))]
        # One box a slot (two chains may end at the same attribute).
        self.bindings = list({(id(holder), name): (holder, name, value)
                              for holder, name, value in found}.values())
        self.trace_id, self.node_type = trace_id, node_type
        self.boxed = []  # (holder, name, value, box)
        self.nodes = set()  # ids of the boxes' nodes: a write into one is reported
        self.written = self.rebound = False

    def __bool__(self):
        return bool(self.bindings)

    def __enter__(self):
        for holder, name, value in self.bindings:
            box = constant_box(snapshot(value), self.trace_id, self.node_type)
            self.nodes.add(id(box._node))
            _bind(holder, name, box)
            self.boxed.append((holder, name, value, box))
        return self

    def __exit__(self, *exc):
        for holder, name, value, box in self.boxed:
            if _bound(holder, name) is not box:
                # The function bound the name anew, perhaps to a value computed from
                # the box: undone, and the trace made again with the array plain.
                self.rebound = True
                if type(holder) is list:  # (entries may have moved: the box's own slot)
                    name = next((k for k, entry in enumerate(holder) if entry is box), None)
                    if name is None:
                        continue
            _bind(holder, name, value)
        self.boxed = []
        return False

    @property
    def changed(self):
        """Whether the function wrote into a box or bound a boxed name anew."""
        return self.written or self.rebound

    def written_in_place(self, box):
        if id(box._node) in self.nodes:
            self.written = True


def _holder(root, steps, value):
    """``(holder, key, value)`` for the last step of a chain where ``holder[key]``
    holds ``value`` and can be set back plainly; None elsewhere."""
    try:
        container = follow(root, steps[:-1])
    except Exception:  # (the chain read otherwise now: still_bound will tell)
        return None
    kind, key = steps[-1]
    if kind == "attr" and not isinstance(container, (type, types.ModuleType)):
        holder = getattr(container, "__dict__", None)
        if type(holder) is dict and holder.get(key) is value and \
                plain_attribute(container, key):  # (not a property's or a slot's)
            return holder, key, value
    elif kind == "key" and type(container) is dict and container.get(key) is value:
        return container, key, value
    elif kind == "index" and type(container) is list and type(key) is int and \
            -len(container) <= key < len(container) and container[key] is value:
        return container, key, value
    return None


def _bind(holder, name, value):
    if type(holder) is types.CellType:
        holder.cell_contents = value
    else:
        holder[name] = value


def _bound(holder, name):
    try:
        if type(holder) is types.CellType:
            return holder.cell_contents
        return holder[name]
    except (ValueError, LookupError):  # an emptied cell, a key or entry gone
        return None
