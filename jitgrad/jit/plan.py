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
from ..trace import tree as trees
from .identity import same


class GuardFailed(Exception):
    """A replay took another branch than the trace: ``args`` are the guard's number
    and the value seen instead."""


class Plan:
    """A compiled replay of one traced path: ``plan(*leaves)`` gives the outputs.

    A plan starts unfused: building kernels costs a find over the graph and, in a
    new process, Numba's start-up and compiles (seconds), which a program calling the
    function a few times would never earn back. ``fuse()`` rebuilds it with kernels
    once its replays have taken long enough (see ``jitted``)."""

    def __init__(self, graph, n_inputs, fuse=True):
        self._optimized = optimize(graph)
        nodes, guards, outputs, resolve = self._optimized
        self.graph = graph
        self.n_inputs = n_inputs
        self.n_steps = sum(1 for n in nodes if n.kind in ("op", "source", "effect"))
        self.guards = guards
        # (guard number, value seen) -> the plan that took over when this one failed
        # there, tried first next time (paths taken in turn, such as minibatches).
        self.next_by_guard = {}
        self.n_guards = len(guards)
        self.has_random = any(n.kind == "source" for n in nodes)
        self.fused = False
        self.replay_seconds = 0.0
        self._build(fused_kernels(*self._optimized) if fuse else [])
        self.fused = fuse
        # The graph kept traced values alive; the plan needs only its constants, and
        # fusing later only the shapes and dtypes (kept in stand-ins that hold no data).
        for node in graph.nodes:
            node.value = _stand_in(node.value)

    def _build(self, kernels):
        self.kernels = kernels
        self.n_kernels = len(kernels)
        self.source, namespace = _generate(*self._optimized, self.n_inputs, kernels)
        code = compile(self.source, f"<jitgrad plan {id(self):x}>", "exec")
        exec(code, namespace)
        self.run = namespace["plan"]

    def fuse(self):
        """Rebuild with fused kernels (in place: every reference to the plan sees it)."""
        if not self.fused:
            self.fused = True
            kernels = fused_kernels(*self._optimized)
            if kernels:
                self._build(kernels)

    def __call__(self, leaves):
        return self.run(*leaves)


def _stand_in(value):
    """An array's shape and dtype without its data (a zero-stride view of one zero);
    scalars and everything else stay as they are."""
    if type(value) is np.ndarray and value.size > 1:
        return np.broadcast_to(np.zeros((), value.dtype), value.shape)
    return value


def fused_kernels(nodes, guards, outputs, resolve):
    """Compiled kernels for the plan's elementwise regions, or none. Numba is
    imported (by ``jitgrad.kernels``) only when a region qualifies."""
    from .. import kernels
    from ..trace.rules import array_bodies, scalar_bodies
    if not kernels.fusion_enabled():
        return []
    scalar_bodies = kernels.Bodies(scalar_bodies, array_bodies)
    needed_after = {n.index for n in tree_leaves(outputs) if not isinstance(n, Constant)}
    looked_at = [(g.position, resolve(g.node).index) for g in guards]
    needed_after.update(index for _, index in looked_at)
    regions = kernels.find_regions(nodes, resolve, scalar_bodies, needed_after,
                                   kernels.fusion_min_size(), looked_at)
    return kernels.compile_regions(regions, scalar_bodies)


class _Step:
    """One line of the plan: a node's call, or a fused kernel computing several."""
    __slots__ = ["node", "kernel", "uses", "defines"]

    def __init__(self, node=None, kernel=None, uses=(), defines=()):
        self.node, self.kernel = node, kernel
        self.uses, self.defines = list(uses), list(defines)


def _steps(nodes, resolve, kernels):
    """Nodes in order, each fused region replaced by one step where its last node was
    (nothing between a region's nodes uses its values, so that is early enough)."""
    fused_at = {}
    skipped = set()
    for kernel in kernels:
        fused_at[kernel.region.steps[-1].index] = kernel
        skipped.update(step.index for step in kernel.region.steps)
    steps = []
    for node in nodes:
        if node.index in fused_at:
            kernel = fused_at[node.index]
            steps.append(_Step(kernel=kernel, uses=kernel.region.inputs,
                               defines=kernel.region.outputs))
        elif node.index not in skipped:
            steps.append(_Step(node=node, uses=[resolve(p) for p in node.parents],
                               defines=[node]))
    return steps


def _generate(nodes, guards, outputs, resolve, n_inputs, kernels=()):
    namespace = {"GuardFailed": GuardFailed, "_same": same}
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

    steps = _steps(nodes, resolve, kernels)
    outputs_needed = {n.index for n in tree_leaves(outputs) if not isinstance(n, Constant)}
    guards_by_node = {}
    for number, guard in enumerate(guards):
        guards_by_node.setdefault(resolve(guard.node).index, []).append((number, guard))
    last_use = {}
    for position, step in enumerate(steps):
        for used in step.uses:
            if not isinstance(used, Constant):
                last_use[used.index] = position
        for node in step.defines:
            if node.index in guards_by_node:
                last_use[node.index] = max(last_use.get(node.index, 0), position)

    params = [f"a{i}" for i in range(n_inputs)]
    lines = [f"def plan({', '.join(params)}):"]
    kernels_named = 0
    for position, step in enumerate(steps):
        node = step.node
        if step.kernel is not None:
            number = kernels_named
            kernels_named += 1
            namespace[f"k{number}"] = step.kernel
            targets = [names.setdefault(n.index, f"v{n.index}") for n in step.defines]
            args = [operand(used) for used in step.uses]
            lines.append(f"    {', '.join(targets)}, = k{number}({', '.join(args)})")
        elif node.kind == "input":
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
        for defined in step.defines:
            for number, guard in guards_by_node.get(defined.index, ()):
                convert = f"g{number}"
                namespace[convert] = guard.convert
                expected = constant(guard.expected)
                lines.append(f"    _seen = {convert}({names[defined.index]})")
                lines.append(f"    if not _same(_seen, {expected}): "
                             f"raise GuardFailed({number}, _seen)")
        # Free each intermediate right after the step that uses it last.
        released = {u.index for u in step.uses if not isinstance(u, Constant)}
        for index in sorted(released):
            if last_use.get(index) == position and index not in outputs_needed \
                    and not names[index].startswith("a"):
                lines.append(f"    del {names[index]}")
    lines.append(f"    return {_tree_source(outputs, operand)}")
    return "\n".join(lines) + "\n", namespace


def _tree_source(outputs, operand):
    """Source building the output tree: literals for tuples, lists and dicts; other
    containers (namedtuples, OrderedDicts, registered classes) by their rebuild."""
    node = trees.children(outputs)
    if node is not None:
        parts = [_tree_source(part, operand) for part in node[0]]
        kind = type(outputs)
        if kind is tuple:
            return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"
        if kind is list:
            return f"[{', '.join(parts)}]"
        if kind is dict:
            return "{" + ", ".join(f"{operand(Constant(k))}: {part}"
                                   for k, part in zip(outputs, parts)) + "}"
        return f"{operand(Constant(node[1]))}([{', '.join(parts)}])"
    if isinstance(outputs, Constant) and isinstance(outputs.value, np.ndarray):
        # A fresh copy per call, as eager returns: callers may modify results in place
        # (the plan keeps its own copy, apart from the array the trace returned).
        return f"{operand(Constant(outputs.value.copy()))}.copy()"
    return operand(outputs)
