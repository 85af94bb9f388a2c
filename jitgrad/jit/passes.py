"""Graph passes: fold what does not depend on the inputs, merge repeats, drop the dead.

Each pass returns, for every node, what replaces it: itself, another node (a
common subexpression), or a ``Constant`` (a value known at trace time);
``fold_uniform_constants`` rewrites arguments instead (an array of equal entries
becomes one NumPy scalar).
"""
import numpy as np

from ..trace import tree
from .identity import constant_key


class Constant:
    """A value baked into the plan."""
    __slots__ = ["value"]

    def __init__(self, value):
        self.value = value


def arguments(node, resolve):
    """Each positional argument of ``node`` as its steps read it: a parent resolved (a
    node or a ``Constant``), any other argument a ``Constant``."""
    parents = dict(zip(node.parent_argnums, node.parents))
    return [resolve(parents[i]) if i in parents else Constant(arg)
            for i, arg in enumerate(node.args)]


def optimize(graph):
    """Returns ``(nodes, guards, outputs)``: the live nodes in order, with their
    arguments resolved to nodes or Constants, and the guards that still matter."""
    from .container_sums import merge_container_sums
    replacement = fold_constants(graph)
    fold_uniform_constants(graph, replacement)
    eliminate_common_subexpressions(graph, replacement)
    keep_product_operands_apart(graph, replacement)
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


def fold_uniform_constants(graph, replacement):
    """A constant array whose entries are all the same (the ones and 1/n a VJP
    broadcasts: ``multiply(<array float64[128, 10]>, %7)``) becomes a NumPy scalar of its
    dtype where an elementwise step of one IEEE operation reads it and its other
    operand has the result's shape and dtype: the result is the same, bit for bit, in
    shape and dtype (NumPy 2 promotes a NumPy scalar as an array of its dtype; a Python
    float would be weak and keep float32 results float32), and a fused kernel reads a
    literal instead of an array. Rewrites the steps' arguments in place."""
    from ..kernels.regions import used_positions
    from ..trace.rules import exact_arithmetic, scalar_bodies
    for node in graph.nodes:
        # Steps of one IEEE operation on two arguments (declared exact: each element
        # one correctly rounded operation, so a scalar operand gives the bits an array
        # of it gives, whatever loop NumPy or a kernel runs; not ``**``).
        if node.kind != "op" or node.index in replacement or node.kwargs or \
                type(node.value) is not np.ndarray or node.fun not in exact_arithmetic:
            continue
        positions = sorted(used_positions(scalar_bodies[node.fun]))
        if len(positions) != 2:
            continue
        parents = dict(zip(node.parent_argnums, node.parents))
        first, second = positions
        operands = arguments(node, lambda n: replacement.get(n.index, n))
        for argnum, otherwise in ((first, second), (second, first)):
            constant, other = operands[argnum], operands[otherwise]
            if not isinstance(constant, Constant) or isinstance(other, Constant) \
                    or type(other.value) is not np.ndarray \
                    or other.value.shape != node.value.shape \
                    or other.value.dtype != node.value.dtype:
                continue
            scalar = _uniform(constant.value)
            if scalar is None:
                continue
            node.args = tuple(scalar if a == argnum else arg for a, arg in enumerate(node.args))
            if argnum in parents:
                kept = [(a, p) for a, p in zip(node.parent_argnums, node.parents) if a != argnum]
                node.parent_argnums = tuple(a for a, _ in kept)
                node.parents = [p for _, p in kept]
            break


def _uniform(value):
    """The NumPy scalar all of ``value``'s entries are, bit for bit (-0.0 is not 0.0),
    or None: for real arrays without NaNs (a kernel's literal would lose a NaN's sign)."""
    if type(value) is not np.ndarray or value.size == 0 or value.dtype.kind not in "fiu" or \
            value.dtype.itemsize not in (1, 2, 4, 8):
        return None
    bits = np.ascontiguousarray(value).reshape(-1).view(f"u{value.dtype.itemsize}")
    if not (bits == bits[0]).all():
        return None
    first = value.reshape(-1)[0]
    return None if first != first else first


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


def keep_product_operands_apart(graph, replacement):
    """Undoes the merges that made a product's two operands views of one array where
    eager's were two arrays (``A = X / s; B = X / s; A @ B.T``): NumPy multiplies a
    matrix by its own transpose with syrk, not gemm, and rounds otherwise (2e-16
    relative in a GP kernel's gradient), so the plan would not give eager's bits."""
    resolve = lambda n: replacement.get(n.index, n)
    for node in graph.nodes:
        if node.kind != "op" or node.index in replacement or len(node.parents) < 2 or \
                not _is_product(node.fun):
            continue
        first, second = node.parents[:2]
        if _view_base(first, lambda n: n) is _view_base(second, lambda n: n):
            continue  # eager's operands were one array too
        if _view_base(first, resolve) is not _view_base(second, resolve):
            continue
        for chain in (first, second):  # each operand computed as eager computed it
            while chain is not None:
                if not isinstance(replacement.get(chain.index, chain), Constant):
                    replacement.pop(chain.index, None)
                chain = chain.parents[0] if _is_view(chain) and chain.parents else None


def _view_base(node, resolve):
    """The node whose array ``node`` is a view of (through transposes and reshapes)."""
    node = resolve(node)
    while not isinstance(node, Constant) and _is_view(node) and node.parents:
        node = resolve(node.parents[0])
    return node


def _is_view(node):
    return node.kind == "op" and _raw(node.fun) in _VIEWS


def _is_product(fun):
    from ..kernels import blas_threads
    return _raw(fun) in _PRODUCTS or blas_threads.is_product(fun)


def _raw(fun):
    return getattr(fun, "fun", fun)


_VIEWS = {np.transpose, np.swapaxes, np.reshape, np.expand_dims, np.squeeze, np.ravel}
_PRODUCTS = {np.dot, np.matmul, np.tensordot, np.inner}


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
