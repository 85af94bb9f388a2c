"""Compatibility: the names third-party code imports from ``autograd.misc.tracers``.

``const_graph`` and ``const_graph_unary`` are jitgrad's (``graph_cache``: the jit, which
traces again where a cached graph would be stale). ``full_graph`` records a call's
whole graph of primitives, each node with its value and how it was computed.
"""
from ..trace.core import Node, trace
from .graph_cache import const_graph, const_graph_unary  # noqa: F401


class FullGraphNode(Node):
    """A node keeping its value and ``recipe``: (fun, args, kwargs, (argnum, parent)
    pairs), so a graph can be printed or walked after the call."""
    __slots__ = ["value", "recipe"]

    def __init__(self, value, fun, args, kwargs, parent_argnums, parents):
        self.value = value
        self.recipe = (fun, args, kwargs, list(zip(parent_argnums, parents)))

    def initialize_root(self):
        self.value = None
        self.recipe = (lambda x: x, (), {}, [])


def full_graph(fun, *args, **kwargs):
    """The node of ``fun(*args, **kwargs)``'s output, traced with ``FullGraphNode``s
    (the arguments as one tuple at the root); None when it does not depend on them."""
    _, end_node = trace(FullGraphNode.new_root(), lambda boxed: fun(*boxed, **kwargs), args)
    return end_node
