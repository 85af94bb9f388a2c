"""Plans: an optimized graph compiled to straight-line Python.

Each step is one call of the primitive's own NumPy/SciPy function on plain
arrays, with its arguments already in local variables; a guard is one
comparison that raises ``GuardFailed``; a buffer is released after its last
use. Straight-line code costs a fraction of a microsecond per step, against
about twenty for re-running the traced Python.
"""
import keyword
import math
import re

import numpy as np

from .passes import Constant, arguments, optimize, tree_leaves
from .rolling import GuardSlot, Loop, roll, rolling_enabled, unrolled
from ..trace import rules, tree as trees
from .identity import same
from .whole_plan import install as compile_whole
from ..kernels import blas_threads
from ..kernels.heap import keep_freed_memory
from ..kernels.source import shape_literal
from ..trace.vjp import writeable_arrays


class GuardFailed(Exception):
    """A replay took another branch than the trace: ``args`` are the guard's number
    and the value seen instead."""


class Plan:
    """A compiled replay of one traced path: ``plan(*leaves)`` gives the outputs.

    A plan starts unfused: building kernels costs a find over the graph and, in a
    new process, Numba's start-up and compiles (seconds), which a program calling the
    function a few times would never earn back. ``fuse()`` rebuilds it with kernels
    once its replays have taken long enough (see ``jitted``)."""
    whole_plan = None  # the WholePlan running it, once fused (whole_plan.py)

    def __init__(self, graph, n_inputs, fuse=True):
        nodes, guards, outputs, resolve = optimize(graph)
        # A traced Python loop's repeated blocks become one loop each (rolling.py).
        rolled = roll(nodes, guards, outputs, resolve) if rolling_enabled() else unrolled(nodes)
        self._optimized = (rolled, guards, outputs, resolve)
        self.rolled = [int(loop.reps) for loop in rolled.loops]
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
        self._build(fused_kernels(*self._optimized) if fuse else [], fuse)
        self.fused = fuse
        if fuse:  # every step in one compiled function, where all compile
            compile_whole(self)
            keep_freed_memory()
        # The graph kept traced values alive; the plan needs only its constants, and
        # fusing later only the shapes and dtypes (kept in stand-ins that hold no data).
        stand_ins = {}
        for node in graph.nodes:
            node.value = _stand_in(node.value, stand_ins)

    def _build(self, kernels, fused=False):
        self.kernels = kernels
        self.n_kernels = len(kernels)
        self.source, namespace = _generate(*self._optimized, self.n_inputs, kernels,
                                           replays=fused and _replays_enabled())
        code = compile(self.source, f"<jitgrad plan {id(self):x}>", "exec")
        exec(code, namespace)
        self.run = namespace["plan"]

    def fuse(self):
        """Rebuild with fused kernels (in place: every reference to the plan sees it)."""
        if not self.fused:
            self.fused = True
            kernels = fused_kernels(*self._optimized)
            if kernels or _replays_enabled():
                self._build(kernels, fused=True)
            compile_whole(self)
            keep_freed_memory()

    def __call__(self, leaves):
        return self.run(*leaves)


# NumPy functions of one array that a plan calls as that array's method: the same view,
# without the function's wrapper (per call: expand_dims 2.6 us -> reshape 0.13, reshape
# 1.0 -> 0.2, swapaxes 0.49 -> 0.14, squeeze 0.67 -> 0.31). An unfused plan (every plan
# until fusing has paid) replays these for each sum's and product's gradient.
_AS_METHOD = {np.swapaxes: "swapaxes", np.squeeze: "squeeze", np.reshape: "reshape",
              np.transpose: "transpose", np.expand_dims: "reshape"}


def _stand_in(value, made):
    """An array's shape and dtype without its data (a zero-stride view of one zero, one
    per shape and dtype in ``made``); scalars and everything else stay as they are."""
    if type(value) is np.ndarray and value.size > 1:
        key = (value.shape, value.dtype)
        stand_in = made.get(key)
        if stand_in is None:
            stand_in = made[key] = np.broadcast_to(np.zeros((), value.dtype), value.shape)
        return stand_in
    return value


def fused_kernels(rolled, guards, outputs, resolve):
    """Compiled kernels for the plan's elementwise regions, or none: found once in
    the straight-line code and once in each loop's block. Numba is imported (by
    ``jitgrad.kernels``) only when a region qualifies."""
    from .. import kernels
    from .fusion_ops import FusionOps
    if not kernels.fusion_enabled():
        return []
    ops = FusionOps(resolve)
    looked_at = {}
    for guard in guards:
        index = resolve(guard.node).index
        found = rolled.where.get(index)
        looked_at.setdefault(found[0] if found else None, []).append((guard.position, index))
    needed_after = {n.index for n in tree_leaves(outputs) if not isinstance(n, Constant)}
    needed_after.update(index for _, index in looked_at.get(None, ()))
    steps = [ops.step(_LoopRead(item, resolve, rolled.where) if isinstance(item, Loop)
                      else item) for item in rolled.items]
    regions = kernels.find_regions(steps, needed_after, kernels.fusion_min_size(),
                                   looked_at.get(None, ()))
    for loop in rolled.loops:
        kept = loop.taped | loop.read_after | set(loop.carried)
        needed = {loop.template[j].index for j in kept}
        # A guard on a block's node is looked at in every turn: the template's own.
        template_guards = [(position, index) for position, index in looked_at.get(loop, ())
                           if rolled.where[index][1] == 1]
        needed.update(index for _, index in template_guards)
        # A step whose argument counts along the turns stays a call: a kernel would
        # hold one turn's value.
        counting = {j for j, _ in loop.counting}
        steps = [ops.step(node, "opaque" if j in counting else None)
                 for j, node in enumerate(loop.template)]
        regions += kernels.find_regions(steps, needed, kernels.fusion_min_size(),
                                        template_guards)
    return kernels.compile_regions(regions)


class _LoopRead:
    """A loop as one step of the straight-line code, for the fusion search: it reads
    the values from before the loop that its block reads."""
    kind, fun, kwargs, value, dynamic_shape = "loop", None, {}, None, False

    def __init__(self, loop, resolve, where):
        self.index = loop.first[0].index
        self.parents = _outside_reads(loop, resolve, where)
        self.parent_argnums = tuple(range(len(self.parents)))
        self.args = tuple(self.parents)


def _outside_reads(loop, resolve, where, initial=True):
    """The nodes before ``loop`` that its block reads by name (not through a tape), and
    with ``initial`` those its first turn starts from."""
    reads = {}
    for operand in loop.carried.values() if initial else ():
        if not isinstance(operand, Constant):
            reads[operand.index] = operand
    for node in loop.template:
        for parent in node.parents:
            operand = resolve(parent)
            if isinstance(operand, Constant) or operand.index in reads:
                continue
            found = where.get(operand.index)
            if found is not None and found[0] is loop:
                continue
            tape = loop.tapes.get(operand.index)
            if tape is not None and tape[3] != 0:
                continue
            reads[operand.index] = operand
    return list(reads.values())


class _Step:
    """One line of the plan: a node's call, a fused kernel computing several, or a
    rolled loop."""
    __slots__ = ["node", "kernel", "loop", "uses", "defines"]

    def __init__(self, node=None, kernel=None, loop=None, uses=(), defines=()):
        self.node, self.kernel, self.loop = node, kernel, loop
        self.uses, self.defines = list(uses), list(defines)


def _steps(items, resolve, kernels, where=None):
    """Items in order, each fused region replaced by one step where its last node was
    (nothing between a region's nodes uses its values, so that is early enough)."""
    fused_at = {}
    skipped = set()
    for kernel in kernels:
        fused_at[kernel.region.steps[-1].index] = kernel
        skipped.update(step.index for step in kernel.region.steps)
        skipped.update(kernel.region.absorbed)  # rolls that kernels read in place
    steps = []
    for item in items:
        if isinstance(item, Loop):
            steps.append(_Step(loop=item, uses=_outside_reads(item, resolve, where),
                               defines=item.last))
        elif item.index in fused_at:
            kernel = fused_at[item.index]
            steps.append(_Step(kernel=kernel, uses=[op.origin for op in kernel.region.inputs],
                               defines=[op.origin for op in kernel.region.outputs]))
        elif item.index not in skipped:
            steps.append(_Step(node=item, uses=[resolve(p) for p in item.parents],
                               defines=[item]))
    return steps


def _replays_enabled():
    """Whether fused plans call the compiled replays of primitives (``def_replay``):
    they compile with Numba, so not under ``JITGRAD_FUSE=0``."""
    from .. import kernels
    return kernels.fusion_enabled()


def _generate(rolled, guards, outputs, resolve, n_inputs, kernels=(), replays=False):
    """The plan's source and the namespace it runs in; with ``replays``, steps call
    their primitives' compiled replays where these declared one."""
    writer = _Writer(rolled, guards, outputs, resolve, kernels, replays)
    params = [f"a{i}" for i in range(n_inputs)]
    header = [f"# {rolled.describe()}"] if rolled.loops else []
    writer.lines = header + [f"def plan({', '.join(params)}):"]
    indent = "    "
    held = _blas_calls(rolled, resolve) >= 2
    if held:  # one OpenBLAS thread for the whole replay, set once (blas_threads)
        writer.namespace["_hold"] = blas_threads.hold_one_thread
        writer.namespace["_release"] = blas_threads.release_one_thread
        writer.lines += [f"{indent}_hold()", f"{indent}try:"]
        indent += "    "
    writer.block(_steps(rolled.items, resolve, kernels, rolled.where), indent)
    writer.namespace["_own"] = writeable_arrays
    writer.lines.append(f"{indent}return {_tree_source(outputs, writer.operand, own='_own')}")
    if held:
        writer.lines += ["    finally:", "        _release()"]
    return "\n".join(writer.lines) + "\n", writer.namespace


def _blas_calls(rolled, resolve):
    """How many calls of a replay set OpenBLAS's thread count (a loop's, once a turn)."""
    count = 0
    for item in rolled.items:
        if isinstance(item, Loop):
            count += item.reps * sum(_sets_threads(node, resolve) for node in item.template)
        else:
            count += _sets_threads(item, resolve)
    return count


def _sets_threads(node, resolve):
    if node.kind != "op" or not blas_threads.uses_threads(node.fun):
        return False
    values = [operand.value for operand in arguments(node, resolve)]
    return blas_threads.sets_threads(node.fun, values)


class _Writer:
    """Writes a plan's lines: calls, kernels, guards, loops, and the ``del`` of each
    buffer after its last use."""

    def __init__(self, rolled, guards, outputs, resolve, kernels, replays=False):
        self.where, self.resolve, self.kernels = rolled.where, resolve, kernels
        self.replays = rules.replays if replays else {}
        self.namespace = {"GuardFailed": GuardFailed, "_same": same}
        self.names = {}
        self.constants = {}
        self.functions = {}
        self.n_kernels = 0
        self.lines = []
        self.c_order_reads = {}  # a product's node index -> its second factor's copy
        self.outputs_needed = {self.use_key(leaf) for leaf in tree_leaves(outputs)
                               if not isinstance(leaf, Constant)}
        self.guards_by_node = {}
        for number, guard in enumerate(guards):
            self.guards_by_node.setdefault(resolve(guard.node).index, []).append((number, guard))

    # -- names --------------------------------------------------------------
    def constant(self, value):
        if type(value) in (bool, int, type(None), str) or (
                type(value) is float and math.isfinite(value)):
            return repr(value)
        key = id(value)
        if key not in self.constants:
            self.constants[key] = f"c{len(self.constants)}"
            self.namespace[self.constants[key]] = value
        return self.constants[key]

    def function(self, fun):
        """The primitive's own name (``dot``, ``add``), made unique in the plan."""
        name = self.functions.get(id(fun))
        if name is None:
            base = _identifier(getattr(fun, "__name__", "") or type(fun).__name__)
            name, number = base, 1
            while name in self.namespace:
                number += 1
                name = f"{base}_{number}"
            self.namespace[name] = fun
            self.functions[id(fun)] = name
        return name

    def use_key(self, node):
        """What holds a node's value: its name, or, for a loop's value of another turn
        than the last, that loop's tape."""
        found = self.where.get(node.index)
        if found is not None and found[1] != found[0].reps - 1:
            return ("tape", found[0].number, found[2])
        return ("node", node.index)

    def operand(self, operand):
        """A value as the straight-line code reads it."""
        if isinstance(operand, Constant):
            return self.constant(operand.value)
        found = self.where.get(operand.index)
        if found is not None:
            loop, rep, position = found
            if rep != loop.reps - 1:
                return f"{loop.tape_name(position)}[{rep}]"
            return self.names[loop.template[position].index]
        return self.names[operand.index]

    def block_operand(self, loop, operand):
        """A value as a turn of ``loop`` reads it."""
        if isinstance(operand, Constant):
            return self.constant(operand.value)
        found = self.where.get(operand.index)
        if found is not None and found[0] is loop:
            if found[1] == 1:
                return self.names[operand.index]
            return loop.carried_name(found[2])  # the turn before's value
        tape = loop.tapes.get(operand.index)
        if tape is not None and tape[3] != 0:
            return _tape_entry(loop, tape)
        return self.operand(operand)

    def key(self, operand, loop):
        """What a use of ``operand`` keeps alive: a name, a tape, a carried value; in
        a loop's block, values from outside it are ``("outside", ...)``, never released
        there."""
        if loop is None:
            return self.use_key(operand)
        found = self.where.get(operand.index)
        if found is not None and found[0] is loop:
            return ("carried", loop.number, found[2]) if found[1] == 0 else \
                ("node", operand.index)
        return ("outside", operand.index)

    # -- lines --------------------------------------------------------------
    def block(self, steps, indent, loop=None):
        """Lines for ``steps``, at the top of the plan or in ``loop``'s block."""
        read = self.operand if loop is None else (lambda o: self.block_operand(loop, o))
        last_use, kept = self._last_uses(steps, loop)
        for position, step in enumerate(steps):
            if step.loop is not None:
                # Tapes this loop reads last: each turn lets go of what it read.
                done = {key for key, last in last_use.items()
                        if last == position and key not in kept}
                released_early = self.loop(step.loop, indent, done)
            elif step.kernel is not None:
                number = self.n_kernels
                self.n_kernels += 1
                self.namespace[f"k{number}"] = step.kernel
                targets = [self.names.setdefault(n.index, f"v{n.index}") for n in step.defines]
                args = [read(used) for used in step.uses]
                self.lines.append(f"{indent}{', '.join(targets)}, = k{number}({', '.join(args)})")
            elif step.node.kind == "input":
                self.names[step.node.index] = f"a{step.node.args[0]}"
            else:
                self.call(step.node, read, indent, loop)
            if step.loop is None:
                for defined in step.defines:
                    self.guard_lines(defined, indent, loop)
            # Free each buffer right after the step that uses it last.
            released = {self.key(u, loop) for u in step.uses if not isinstance(u, Constant)}
            if loop is not None:  # a turn's value nothing reads
                released.update(self.key(d, loop) for d in step.defines)
            if step.loop is not None:
                released.update(("tape", t[0].number, t[1]) for t in step.loop.tapes.values())
            for key in sorted(released, key=str):
                if last_use.get(key, position) == position and key not in kept and \
                        (step.loop is None or key not in released_early):
                    self._release(key, indent)

    def _last_uses(self, steps, loop):
        """Each value's last step, and the values not to release here."""
        last_use = {}
        for position, step in enumerate(steps):
            for used in step.uses:
                if not isinstance(used, Constant):
                    last_use[self.key(used, loop)] = position
            if step.loop is not None:
                for tape in step.loop.tapes.values():
                    last_use[("tape", tape[0].number, tape[1])] = position
            for node in step.defines:
                if node.index in self.guards_by_node or loop is not None:
                    key = self.key(node, loop)
                    last_use[key] = max(last_use.get(key, 0), position)
        if loop is None:
            return last_use, self.outputs_needed
        # Kept past the turn: carried, taped and read after the loop; nothing from outside.
        kept = {key for key in last_use if key[0] == "outside"}
        kept.update(("node", loop.template[j].index)
                    for j in loop.taped | loop.read_after | set(loop.carried))
        return last_use, kept

    def _release(self, key, indent):
        kind, first, second = (key + (None,))[:3]
        if kind == "node":
            name = self.names.get(first)
            if name is not None and not name.startswith("a"):
                self.lines.append(f"{indent}del {name}")
        elif kind == "tape":
            self.lines.append(f"{indent}del h{first}_{second}")
        elif kind == "carried":
            self.lines.append(f"{indent}del s{first}_{second}")

    def call(self, node, read, indent, loop=None):
        name = self.names[node.index] = f"v{node.index}"
        raw = node.fun.fun if hasattr(node.fun, "fun") else node.fun
        parents = dict(zip(node.parent_argnums, node.parents))
        counting = {}
        if loop is not None:  # Python ints counting along the turns
            position = self.where[node.index][2]
            counting = {argnum: f"{first} + {step} * {loop.counter}"
                        for (j, argnum), (first, step) in loop.counting.items() if j == position}
        args = [read(self.resolve(parents[i])) if i in parents else
                counting[i] if i in counting else self.constant(arg)
                for i, arg in enumerate(node.args)]
        if loop is not None and node.index in self.c_order_reads:
            args[1] = self.c_order_reads[node.index]  # (see _c_order_copies)
        args += [f"{k}={self.constant(v)}" for k, v in node.kwargs.items()]
        if self.is_view_of_array(node, raw, parents):
            rest = args[1:] if raw is not np.expand_dims else \
                [shape_literal(node.value.shape)]  # the trace's on every replay
            self.lines.append(f"{indent}{name} = {args[0]}.{_AS_METHOD[raw]}({', '.join(rest)})")
            return
        fun = self.function(self.replay(raw))
        self.lines.append(f"{indent}{name} = {fun}({', '.join(args)})")

    def is_view_of_array(self, node, raw, parents):
        """Whether the step is one of ``_AS_METHOD``'s NumPy functions called on a step's
        or an input's ndarray (its type is the trace's on every replay), with no replay
        declared and no keywords but reshape's ``order`` (ndarray methods take no others):
        the plan calls the array's method."""
        try:
            if raw not in _AS_METHOD or self.replay(raw) is not raw:
                return False
        except TypeError:  # unhashable
            return False
        keywords_kept = not node.kwargs or (raw is np.reshape and set(node.kwargs) == {"order"})
        first = self.resolve(parents[0]) if 0 in parents else None
        return (keywords_kept and first is not None and not isinstance(first, Constant)
                and type(first.value) is np.ndarray and type(node.value) is np.ndarray)

    def replay(self, fun):
        """What the plan calls for ``fun``: its declared replay, if any, else itself."""
        try:
            return self.replays.get(fun, fun)
        except TypeError:  # an unhashable callable declares none
            return fun

    def guard_lines(self, node, indent, loop):
        """The checks of ``node``'s guards; in a loop, each turn checks its own."""
        if loop is not None:
            slots = loop.guards.get(self.where[node.index][2], ())
        else:
            slots = [GuardSlot(g, [number], g.expected, False)
                     for number, g in self.guards_by_node.get(node.index, ())]
        checked = []  # (convert, expected) of this value's checks so far
        for slot in slots:
            # A value Python looked at twice the same way (a repeated test, merged by
            # common subexpressions) is checked once: the first check fails first.
            seen_before = any(c is slot.guard.convert and v == slot.varies and
                              same(e, slot.expected) for c, e, v in checked)
            checked.append((slot.guard.convert, slot.expected, slot.varies))
            if seen_before:
                continue
            convert = f"g{slot.numbers[0]}"
            self.namespace[convert] = slot.guard.convert
            if slot.varies:
                expected = f"{self.constant(tuple(slot.expected))}[{loop.counter}]"
            else:
                expected = self.constant(slot.expected)
            number = _progression(slot.numbers, loop.counter if loop else "", self.constant)
            self.lines.append(f"{indent}_seen = {convert}({self.names[node.index]})")
            self.lines.append(f"{indent}if not _same(_seen, {expected}): "
                              f"raise GuardFailed({number}, _seen)")

    def loop(self, loop, indent, done=()):
        """``loop`` as a Python for loop over its block: carried values are rebound at
        the end of each turn, taped ones kept in a list for later readers."""
        for position in sorted(loop.taped):
            self.lines.append(f"{indent}{loop.tape_name(position)} = [None] * {loop.reps}")
        for position, operand in sorted(loop.carried.items()):
            self.lines.append(f"{indent}{loop.carried_name(position)} = {self.operand(operand)}")
        # A first value nothing reads after this loop lives on in the carried name only.
        invariant = {self.use_key(o) for o in
                     _outside_reads(loop, self.resolve, self.where, initial=False)}
        released_early = set()
        for operand in loop.carried.values():
            key = None if isinstance(operand, Constant) else self.use_key(operand)
            if key in done and key[0] == "node" and key not in invariant and \
                    key not in released_early:
                released_early.add(key)
                self._release(key, indent)
        copies = self._c_order_copies(loop, indent)
        self.lines.append(f"{indent}for {loop.counter} in range({loop.reps}):")
        inner = indent + "    "
        self.block(_steps(loop.template, self.resolve, self.kernels), inner, loop)
        for position in sorted(loop.taped):
            self.lines.append(f"{inner}{loop.tape_name(position)}[{loop.counter}] = "
                              f"{self.names[loop.template[position].index]}")
        for position in sorted(loop.carried):
            self.lines.append(f"{inner}{loop.carried_name(position)} = "
                              f"{self.names[loop.template[position].index]}")
        for position in sorted(loop.taped | set(loop.carried)):
            if position not in loop.read_after:
                self.lines.append(f"{inner}del {self.names[loop.template[position].index]}")
        # A tape read at one place per turn, for the last time: its entry is done with
        # (the backward loop frees the forward values as it goes, as straight-line code did).
        reads = {}
        for tape in loop.tapes.values():
            reads.setdefault(("tape", tape[0].number, tape[1]), []).append(tape)
        for key in sorted(reads, key=str):
            if key in done and len(reads[key]) == 1 and reads[key][0][3] != 0:
                self.lines.append(f"{inner}{_tape_entry(loop, reads[key][0])} = None")
        for position in sorted(loop.carried):
            self.lines.append(f"{indent}del {loop.carried_name(position)}")
        for name in copies:
            self.lines.append(f"{indent}del {name}")
        for position, node in enumerate(loop.last):
            name = self.names.get(loop.template[position].index)
            if name is not None:  # (a value inside a fused kernel has none)
                self.names[node.index] = name
        return released_early

    def _c_order_copies(self, loop, indent):
        """A C-ordered copy, made before ``loop``, of each matrix from outside it that
        the block multiplies by in a strided layout (the ``W.T`` of an RNN's backward
        step ``g @ W.T``): OpenBLAS multiplies by a transposed matrix up to 2x slower
        than by a C-ordered one when the other factor has few rows (32 x 128 by
        128 x 128: 28 us against 19). The copy's product may round differently, so only
        products of at least ``INEXACT_MIN_ELEMENTS`` take it (below, eager's bits).
        Returns the copies' names."""
        from ..kernels.cost import INEXACT_MIN_ELEMENTS
        made = {}
        for node in loop.template:
            if node.kind != "op" or not blas_threads.is_product(node.fun) or \
                    np.size(node.value) < INEXACT_MIN_ELEMENTS:
                continue
            operand = arguments(node, self.resolve)[1]
            if isinstance(operand, Constant) or operand.c_ordered or \
                    np.ndim(operand.value) != 2 or operand.index in self.where or \
                    operand.index in loop.tapes:
                continue
            if operand.index not in made:
                made[operand.index] = f"_ct{operand.index}"
                self.namespace["_c_order"] = np.ascontiguousarray
                self.lines.append(f"{indent}{made[operand.index]} = "
                                  f"_c_order({self.operand(operand)})")
            self.c_order_reads[node.index] = made[operand.index]
        return list(made.values())


def _tape_entry(loop, tape):
    """Source for the entry of ``tape`` a turn of ``loop`` reads."""
    tape_loop, position, first, step = tape
    sign = "+" if step > 0 else "-"
    index = f"{first} {sign} {loop.counter}" if first or step < 0 else loop.counter
    return f"{tape_loop.tape_name(position)}[{index}]"


def _progression(numbers, counter, constant):
    """Source for ``numbers[counter]``: an arithmetic progression as arithmetic."""
    if len(numbers) == 1:
        return repr(numbers[0])
    step = numbers[1] - numbers[0]
    if all(b - a == step for a, b in zip(numbers, numbers[1:])):
        return f"{numbers[0]} + {step} * {counter}"
    return f"{constant(tuple(numbers))}[{counter}]"


_RESERVED = re.compile(r"^(?:[avckg]\d+|[sh]\d+_\d+|_.*|plan|range|None|True|False)$")


def _identifier(name):
    """``name`` as a Python identifier that names no local of a plan."""
    name = re.sub(r"\W", "_", name) or "fun"
    if name[0].isdigit() or keyword.iskeyword(name) or _RESERVED.match(name):
        name = f"fn_{name}"
    return name


def _tree_source(outputs, operand, seen=None, own=None):
    """Source building the output tree: literals for tuples, lists and dicts; other
    containers (namedtuples, OrderedDicts, registered classes) by their rebuild. An
    array step returned at a second place is copied there: a gradient's entries are
    the caller's to update in place (``g *= lr``) one by one, as autograd's are, and
    merged steps (two equal cotangents) must not make that update both."""
    seen = set() if seen is None else seen
    node = trees.children(outputs)
    if node is not None:
        parts = [_tree_source(part, operand, seen, own) for part in node[0]]
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
    if not isinstance(outputs, Constant) and isinstance(outputs.value, np.ndarray):
        if outputs.index in seen:
            return f"{operand(outputs)}.copy()"
        seen.add(outputs.index)
    if own is not None and not isinstance(outputs, Constant) and \
            type(outputs.value) in (tuple, list, dict):
        # A container one step made (a gradient's cotangents) may hold one array twice.
        return f"{own}({operand(outputs)})"
    return operand(outputs)
