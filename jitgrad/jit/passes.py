"""Graph passes: fold what does not depend on the inputs, merge repeats, drop the dead.

Each pass returns, for every node, what replaces it: itself, another node (a
common subexpression), or a ``Constant`` (a value known at trace time).
"""
import numpy as np

from ..trace import tree
from .identity import constant_key


class Constant:
    """A value baked into the plan."""
    __slots__ = ["value"]

    def __init__(self, value):
        self.value = value


def optimize(graph):
    """Returns ``(nodes, guards, outputs)``: the live nodes in order, with their
    arguments resolved to nodes or Constants, and the guards that still matter."""
    from .container_sums import merge_container_sums
    replacement = fold_constants(graph)
    eliminate_common_subexpressions(graph, replacement)
    merge_container_sums(graph, replacement)
    resolve = lambda n: replacement.get(n.index, n)
    guards = [g for g in graph.guards if isinstance(resolve(g.node), type(g.node))]
    outputs = map_tree(graph.outputs, resolve)
    nodes = live_nodes(graph, resolve, guards, outputs)
    return nodes, guards, outputs, resolve


def fold_constants(graph):
    """Nodes that depend on no input and no random draw become Constants."""
    replacement = {}
    dynamic = set()
    for node in graph.nodes:
        if node.kind in ("input", "source") or any(p.index in dynamic for p in node.parents):
            dynamic.add(node.index)
        else:
            replacement[node.index] = Constant(node.value)
    return replacement


def eliminate_common_subexpressions(graph, replacement):
    seen = {}
    for node in graph.nodes:
        if node.kind != "op" or node.index in replacement:
            continue
        key = _expression_key(node, replacement)
        if key is None:
            continue
        try:
            earlier = seen.setdefault(key, node)
        except TypeError:  # an unhashable static argument: never merged
            continue
        if earlier is not node:
            replacement[node.index] = earlier


def _expression_key(node, replacement):
    parents = dict(zip(node.parent_argnums, node.parents))
    parts = []
    for argnum, arg in enumerate(node.args):
        if argnum in parents:
            parent = replacement.get(parents[argnum].index, parents[argnum])
            if isinstance(parent, Constant):
                return None
            parts.append(("node", parent.index))
        else:
            parts.append(_constant_key(arg))
    kwargs = tuple((k, _constant_key(v)) for k, v in node.kwargs.items()) if node.kwargs else ()
    return (node.fun, tuple(parts), kwargs)


def _constant_key(value):
    if isinstance(value, (np.ndarray, list, dict)) or callable(value):
        return ("id", id(value))
    return ("value", constant_key(value))  # bit for bit: 0.0 is not -0.0


def live_nodes(graph, resolve, guards, outputs):
    """The nodes that outputs, guards and random draws need, in trace order."""
    live = set()
    stack = [n for n in tree_leaves(outputs) if not isinstance(n, Constant)]
    stack += [resolve(g.node) for g in guards]
    stack += [n for n in graph.nodes if n.kind in ("source", "effect")]
    stack += graph.inputs
    while stack:
        node = stack.pop()
        if isinstance(node, Constant) or node.index in live:
            continue
        live.add(node.index)
        stack.extend(resolve(p) for p in node.parents)
    return [n for n in graph.nodes if n.index in live and resolve(n) is n]


def map_tree(outputs, f):
    """The output tree with each graph node ``n`` replaced by ``f(n)``, other leaves
    by Constants."""
    from .graph import GraphNode

    def leaf(value):
        if isinstance(value, GraphNode):
            return f(value)
        return value if isinstance(value, Constant) else Constant(value)
    return tree.tree_map(leaf, outputs)


def tree_leaves(outputs):
    return tree.leaves(outputs)
