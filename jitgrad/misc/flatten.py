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
# ("leaf", shape, dtype): enough to cut a vector back into the structure. As autograd's,
# a leaf comes back as an array of its own float or complex dtype (a float32 leaf among
# float64 ones stays float32; a Python float is a 0-d array).
def _layout(value, pieces):
    plain = getval(value)
    node = tree.children(plain)
    if node is not None:
        parts, rebuild = node
        if type(plain) is dict:
            # As autograd: a dict's entries go into the vector in sorted key order, and
            # come back under their keys in the dict's own order (an OrderedDict's
            # order is its meaning: kept).
            keys = list(plain)
            order = sorted(range(len(keys)), key=lambda i: keys[i])
            parts = [value[keys[i]] for i in order]
            rebuild = _in_key_order(rebuild, order)
        elif isbox(value):  # a traced container: take its entries traced
            keys = list(plain) if isinstance(plain, dict) else range(len(parts))
            parts = [value[key] for key in keys]
        return ("node", rebuild, [_layout(part, pieces) for part in parts])
    pieces.append(np.ravel(value))
    return ("leaf", _np.shape(plain), _np.result_type(plain))


def _in_key_order(rebuild, order):
    def rebuild_sorted(sorted_parts):
        parts = [None] * len(order)
        for position, i in enumerate(order):
            parts[i] = sorted_parts[position]
        return rebuild(parts)
    return rebuild_sorted


def _rebuild(layout, vector, position):
    kind, rebuild, contents = layout
    if kind == "node":
        return rebuild([_rebuild(part, vector, position) for part in contents])
    shape, dtype = rebuild, contents
    start = position[0]
    position[0] = stop = start + int(_np.prod(shape))
    leaf = np.reshape(vector[start:stop], shape)
    if dtype.kind in "fc" and _np.result_type(getval(leaf)) != dtype:
        leaf = np.astype(leaf, dtype)
    return leaf
