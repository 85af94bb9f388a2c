"""Pytrees: the one definition of what a container is, for every walk over values.

Arguments and outputs of differentiated and jitted functions are trees whose
inner nodes are tuples, lists, dicts, OrderedDicts, namedtuples and classes
registered with ``register``; everything else is a leaf. Signatures, boxing,
packing outputs, plan outputs and ``explain`` all walk trees through this module,
so they cannot disagree about what a container is.
"""
from collections import OrderedDict

_registered = {}


def register(cls, to_children, from_children):
    """Make instances of ``cls`` tree nodes: ``to_children(value)`` returns
    ``(children, aux)`` (a sequence of subtrees and hashable static data) and
    ``from_children(aux, children)`` builds an instance back."""
    _registered[cls] = (to_children, from_children)


def is_namedtuple_class(cls):
    return issubclass(cls, tuple) and hasattr(cls, "_fields")


def node_kind(cls):
    """``"sequence"``, ``"dict"``, ``"registered"`` or None (a leaf) for values of ``cls``."""
    if cls is tuple or cls is list or is_namedtuple_class(cls):
        return "sequence"
    if cls is dict or cls is OrderedDict:
        return "dict"
    if cls in _registered:
        return "registered"
    return None


def children(value):
    """``(children, rebuild)`` of a tree node, where ``rebuild(new_children)`` makes a
    node of the same kind; None for a leaf."""
    cls = type(value)
    kind = node_kind(cls)
    if kind == "sequence":
        return list(value), sequence_builder(cls)
    if kind == "dict":
        keys = list(value)
        return [value[k] for k in keys], lambda parts: cls(zip(keys, parts))
    if kind == "registered":
        to_children, from_children = _registered[cls]
        parts, aux = to_children(value)
        return list(parts), lambda parts: from_children(aux, parts)
    return None


def sequence_builder(cls):
    """Builds a ``cls`` (tuple, list or namedtuple) from a list of its entries."""
    if is_namedtuple_class(cls):
        return lambda parts: cls(*parts)
    return cls


def structure_key(value):
    """A hashable description of a node: its class and its static data (dict keys,
    a registered class's aux); None for a leaf."""
    cls = type(value)
    kind = node_kind(cls)
    if kind == "sequence":
        return (cls, len(value))
    if kind == "dict":
        return (cls, tuple(value))
    if kind == "registered":
        return (cls, _registered[cls][0](value)[1])
    return None


def tree_map(f, tree, is_leaf=None):
    """``tree`` with every leaf ``x`` replaced by ``f(x)`` (``is_leaf`` may stop the
    walk at inner nodes, which ``f`` then receives whole)."""
    if is_leaf is not None and is_leaf(tree):
        return f(tree)
    node = children(tree)
    if node is None:
        return f(tree)
    parts, rebuild = node
    return rebuild([tree_map(f, part, is_leaf) for part in parts])


def leaves(tree, is_leaf=None):
    """The leaves of ``tree`` in order."""
    found = []
    _collect(tree, is_leaf, found)
    return found


def _collect(tree, is_leaf, found):
    if is_leaf is not None and is_leaf(tree):
        found.append(tree)
        return
    node = children(tree)
    if node is None:
        found.append(tree)
    else:
        for part in node[0]:
            _collect(part, is_leaf, found)


def any_leaf(predicate, tree):
    """True when ``predicate`` holds for some leaf of ``tree``."""
    node = children(tree)
    if node is None:
        return predicate(tree)
    return any(any_leaf(predicate, part) for part in node[0])
