"""Plans: an optimized graph compiled to straight-line Python.

Each step is one call of the primitive's own NumPy/SciPy function on plain
arrays, with its arguments already in local variables; a guard is one
comparison that raises ``GuardFailed``; a buffer is released after its last
use. Straight-line code costs a fraction of a microsecond per step, against
about twenty for re-running the traced Python.
"""
import math

import numpy as np

from .passes import Constant, optimize, tree_leaves


class GuardFailed(Exception):
    """A replay took another branch than the trace: trace again."""


def _same(observed, expected):
    if isinstance(expected, np.ndarray):
        return np.shape(observed) == expected.shape and np.array_equal(observed, expected)
    if isinstance(expected, (tuple, list)):
        return (type(observed) is type(expected) and len(observed) == len(expected)
                and all(_same(o, e) for o, e in zip(observed, expected)))
    try:
        if observed == expected:
            return True
    except (TypeError, ValueError):
        return False
    # NaN == NaN for a guard: the same value was seen.
    return (isinstance(observed, float) and isinstance(expected, float)
            and math.isnan(observed) and math.isnan(expected))


class Plan:
    """A compiled replay of one traced path: ``plan(*leaves)`` gives the outputs."""

    def __init__(self, graph, n_inputs):
        nodes, guards, outputs, resolve = optimize(graph)
        self.graph = graph
        self.n_steps = sum(1 for n in nodes if n.kind in ("op", "source"))
        self.guards = guards
        self.n_guards = len(guards)
        self.has_random = any(n.kind == "source" for n in nodes)
        self.source, namespace = _generate(nodes, guards, outputs, resolve, n_inputs)
        code = compile(self.source, f"<jitgrad plan {id(self):x}>", "exec")
        exec(code, namespace)
        self.run = namespace["plan"]
        # The graph keeps traced values alive; the plan needs only its constants.
        for node in graph.nodes:
            node.value = None

    def __call__(self, leaves):
        return self.run(*leaves)


def _generate(nodes, guards, outputs, resolve, n_inputs):
    namespace = {"GuardFailed": GuardFailed, "_same": _same}
    names = {}
    constants = {}

    def constant(value):
        if type(value) in (bool, int, type(None), str) or (
                type(value) is float and math.isfinite(value)):
            return repr(value)
        key = id(value)
        if key not in constants:
            constants[key] = f"c{len(constants)}"
            namespace[constants[key]] = value
        return constants[key]

    def operand(node_or_constant):
        if isinstance(node_or_constant, Constant):
            return constant(node_or_constant.value)
        return names[node_or_constant.index]

    last_use = {}
    for position, node in enumerate(nodes):
        for parent in node.parents:
            last_use[resolve(parent).index] = position
    for guard in guards:
        node = resolve(guard.node)
        last_use[node.index] = max(last_use.get(node.index, 0),
                                   next(i for i, n in enumerate(nodes) if n is node))
    outputs_needed = {n.index for n in tree_leaves(outputs) if not isinstance(n, Constant)}
    guards_by_node = {}
    for number, guard in enumerate(guards):
        guards_by_node.setdefault(resolve(guard.node).index, []).append((number, guard))

    params = [f"a{i}" for i in range(n_inputs)]
    lines = [f"def plan({', '.join(params)}):"]
    for position, node in enumerate(nodes):
        if node.kind == "input":
            names[node.index] = f"a{node.args[0]}"
        else:
            name = names[node.index] = f"v{node.index}"
            fun = f"f{node.index}"
            namespace[fun] = node.fun.fun if hasattr(node.fun, "fun") else node.fun
            parents = dict(zip(node.parent_argnums, node.parents))
            args = [operand(resolve(parents[i])) if i in parents else constant(arg)
                    for i, arg in enumerate(node.args)]
            args += [f"{k}={constant(v)}" for k, v in node.kwargs.items()]
            lines.append(f"    {name} = {fun}({', '.join(args)})")
        for number, guard in guards_by_node.get(node.index, ()):
            convert = f"g{number}"
            namespace[convert] = guard.convert
            expected = constant(guard.expected)
            lines.append(f"    if not _same({convert}({names[node.index]}), {expected}): "
                         f"raise GuardFailed({number})")
        # Free each intermediate right after the step that uses it last.
        for parent in {resolve(p).index for p in node.parents}:
            if last_use.get(parent) == position and parent not in outputs_needed \
                    and not names[parent].startswith("a"):
                lines.append(f"    del {names[parent]}")
    lines.append(f"    return {_tree_source(outputs, operand)}")
    return "\n".join(lines) + "\n", namespace


def _tree_source(tree, operand):
    if type(tree) is tuple:
        inner = ", ".join(_tree_source(t, operand) for t in tree)
        return f"({inner},)" if len(tree) == 1 else f"({inner})"
    if type(tree) is list:
        return "[" + ", ".join(_tree_source(t, operand) for t in tree) + "]"
    if type(tree) is dict:
        return "{" + ", ".join(f"{operand(Constant(k))}: {_tree_source(v, operand)}"
                               for k, v in tree.items()) + "}"
    if isinstance(tree, Constant) and isinstance(tree.value, np.ndarray):
        # A fresh copy per call, as eager returns: callers may modify results in place
        # (the plan keeps its own copy, apart from the array the trace returned).
        return f"{operand(Constant(tree.value.copy()))}.copy()"
    return operand(tree)
