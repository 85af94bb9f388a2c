"""``flatten``: nested tuples/lists/dicts of arrays as one flat vector, and back.

Both directions are built from traced operations (container indexing, ``ravel``,
``concatenate``, slicing, ``reshape``), so flattening a traced container gives a
traced vector and gradients flow through either direction.
"""
import numpy as _np

from .. import numpy as np
from ..trace import getval, isbox, tree


def flatten(value):
    """Returns ``(vector, unflatten)``: the leaves of ``value`` raveled and joined
    in order, and a function that rebuilds the same structure from such a vector."""
    pieces = []
    layout = _layout(value, pieces)
    vector = np.concatenate(pieces) if pieces else _np.zeros(0)

    def unflatten(vector):
        return _rebuild(layout, vector, [0])
    return vector, unflatten


def flatten_func(func, example):
    """Returns ``(flat_func, unflatten, flat_example)`` where ``flat_func(v, *args)``
    is ``func(unflatten(v), *args)`` with its output flattened too."""
    flat_example, unflatten = flatten(example)

    def flat_func(vector, *args, **kwargs):
        return flatten(func(unflatten(vector), *args, **kwargs))[0]
    return flat_func, unflatten, flat_example


# A layout is ("node", rebuild, [layouts]) for a container (see jitgrad.trace.tree) or
# ("leaf", shape, is_plain_scalar): enough to cut a vector back into the structure.
def _layout(value, pieces):
    plain = getval(value)
    node = tree.children(plain)
    if node is not None:
        parts, rebuild = node
        if isbox(value):  # a traced container: take its entries traced
            keys = list(plain) if isinstance(plain, dict) else range(len(parts))
            parts = [value[key] for key in keys]
        return ("node", rebuild, [_layout(part, pieces) for part in parts])
    shape = _np.shape(plain)
    pieces.append(np.ravel(value))
    return ("leaf", shape, not isinstance(plain, _np.ndarray))


def _rebuild(layout, vector, position):
    kind, rebuild, contents = layout
    if kind == "node":
        return rebuild([_rebuild(part, vector, position) for part in contents])
    shape, is_scalar = rebuild, contents
    start = position[0]
    position[0] = stop = start + int(_np.prod(shape))
    if shape == () and is_scalar:
        return vector[start]
    return np.reshape(vector[start:stop], shape)
