"""Loop rolling: find the repeated blocks of a plan, so that it can run them as a loop.

A traced Python loop (a simulation step, an RNN step, a Jacobi sweep) leaves N copies
of one block in the graph, and its backward pass N copies of another, in reverse
order. Emitted straight, the plan's source, its compile and its fusion search grow
with N; rolled, each block is emitted and fused once and run ``reps`` times.

A run of blocks rolls when each node of the block has, in every repetition, the same
primitive, static arguments, result shape and dtype, guards, and operands of one
kind: a node of the same repetition (internal), of the repetition before at a fixed
position (carried state), one value for all repetitions (invariant: a node before the
loop or a constant), or a node of an earlier rolled loop whose repetition moves by
-1, 0 or +1 per repetition (a *tape*: the backward loop reading its forward loop's
values in reverse; that loop keeps those values in a list). A Python int argument may
count along the turns (``x[t]`` in ``for t in range(n)``). Anything else ends the
run, and what does not roll stays straight-line code.

``roll`` returns a ``Rolled``: the top-level items (nodes and ``Loop``s) in order.
"""

import numpy as np

from .. import settings
from .identity import constant_key
from .passes import Constant

# A loop must repeat at least twice and cover this many nodes: shorter ones are
# clearer, and as fast, as straight-line code (whose fused kernels span turns).
MIN_REPETITIONS = 2
MIN_ROLLED_NODES = 24
# The longest block looked for (a fluid simulation step and its backward pass are a
# few hundred nodes).
MAX_PERIOD = 3000
# Blocks of up to this many turns of a repeated run are tried when one turn is not a
# block of its own.
MAX_MULTIPLE = 4
# Signatures hashed together to skip periods with no repetition quickly.
GRAM = 8
# Constant arrays up to this size are compared by content (each repetition of a loop
# folds its own copy of np.arange(n), say); larger ones by identity.
MAX_COMPARED_CONSTANT = 1 << 16


def rolling_enabled():
    """``JITGRAD_ROLL=0`` turns rolling off (plans straight-line, as before)."""
    return settings.flag("JITGRAD_ROLL", True)


class Loop:
    """Nodes ``nodes[start : start + period * reps]`` run as ``reps`` turns of one block.

    ``template`` is the block's second repetition: its nodes are emitted, read
    carried state from the first repetition's nodes (``carried``: position in the
    block -> the value the first turn reads instead), and read other loops' values
    through ``tapes`` (node index -> (loop, position, first repetition, step)).
    ``taped`` holds the positions whose value every repetition keeps for later
    readers; ``guards`` maps a template position to its guard slots."""

    def __init__(self, number, start, period, reps, nodes):
        self.number, self.start, self.period, self.reps = number, start, period, reps
        self.template = nodes[start + period:start + 2 * period]
        self.first = nodes[start:start + period]
        self.last = nodes[start + period * (reps - 1):start + period * reps]
        self.carried = {}   # position -> operand read by the first turn
        self.tapes = {}     # template operand index -> (loop, position, first rep, step)
        self.taped = set()
        self.read_after = set()  # positions whose last value is read after the loop
        self.guards = {}    # template position -> [GuardSlot]
        # (position, argument) -> (first turn's value, step): a Python int argument
        # counting along the turns (the t of x[t] in ``for t in range(n)``).
        self.counting = {}

    def carried_name(self, position):
        return f"s{self.number}_{position}"

    def tape_name(self, position):
        return f"h{self.number}_{position}"

    @property
    def counter(self):
        return f"_r{self.number}"


class GuardSlot:
    """One guard of a block's node, checked in every turn: its conversion, and per
    repetition the guard's number and the value the trace saw (``expected``: one
    value, or a list of one per repetition when they differ)."""
    __slots__ = ["guard", "numbers", "expected", "varies"]

    def __init__(self, guard, numbers, expected, varies):
        self.guard, self.numbers = guard, numbers
        self.expected, self.varies = expected, varies


class Rolled:
    """The plan's nodes with loops found: ``items`` in order (nodes and Loops);
    ``where`` maps a looped node's index to ``(loop, repetition, position)``."""

    def __init__(self, items, loops, where):
        self.items, self.loops, self.where = items, loops, where

    def describe(self):
        if not self.loops:
            return "rolled: no loops"
        reps = " + ".join(str(loop.reps) for loop in self.loops)
        return f"rolled: {len(self.loops)} loop{'s' * (len(self.loops) > 1)}, {reps} repetitions"


def unrolled(nodes):
    return Rolled(list(nodes), [], {})


def roll(nodes, guards, outputs, resolve):
    """The loops found in the optimized ``nodes`` (see the module docstring)."""
    if len(nodes) < MIN_ROLLED_NODES:
        return unrolled(nodes)
    guards_of = {}
    for number, guard in enumerate(guards):
        guards_of.setdefault(resolve(guard.node).index, []).append((number, guard))
    keys = _Keys()
    exact, loose = _signatures(nodes, resolve, guards_of, keys)
    spans = [span + (False,) for span in _periodic_spans(exact)]
    # Then, where nothing repeated exactly, blocks whose Python ints may count along
    # the turns (they are checked when the loop is verified).
    for start, period, reps, _ in spans:
        loose[start:start + period * reps] = -1 - np.arange(start, start + period * reps)
        exact[start:start + period * reps] = loose[start:start + period * reps]
    if not np.array_equal(loose, exact):
        spans += [span + (True,) for span in _periodic_spans(loose)]
    position = {node.index: p for p, node in enumerate(nodes)}
    loops, where = [], {}
    loop = None
    for start, period, reps, counting in sorted(spans):
        # A block twice as long may repeat where this one does not (two turns of an
        # inner step per turn of the loop).
        for multiple in range(1, MAX_MULTIPLE + 1):
            if reps // multiple < MIN_REPETITIONS:
                break
            loop = _verified(nodes, start, period * multiple, reps // multiple, len(loops),
                             position, where, resolve, guards_of, keys, counting)
            if loop is not None:
                break
        if loop is None:
            continue
        loops.append(loop)
        for rep in range(loop.reps):
            for j in range(loop.period):
                where[nodes[loop.start + rep * loop.period + j].index] = (loop, rep, j)
    if not loops:
        return unrolled(nodes)
    _mark_tapes(nodes, loops, where, outputs, resolve)
    items, p = [], 0
    for loop in loops:
        items.extend(nodes[p:loop.start])
        items.append(loop)
        p = loop.start + loop.period * loop.reps
    items.extend(nodes[p:])
    return Rolled(items, loops, where)


class _Keys:
    """Keys comparing static values by content, bit for bit (cached per object)."""

    def __init__(self):
        self._cache = {}
        self._interned = {}

    def __call__(self, value):
        kind = type(value)
        if kind in _PLAIN:
            return (kind, value) if kind is not float else constant_key(value)
        cached = self._cache.get(id(value))
        if cached is None or cached[0] is not value:
            # Interned: a signature holding a small int hashes without rehashing the
            # value (a vector space's hash walks its shape each time).
            key = self._key(value)
            try:
                key = self._interned.setdefault(key, len(self._interned))
            except TypeError:
                key = ("id", id(value))
            cached = self._cache[id(value)] = (value, key)
        return cached[1]

    def _key(self, value):
        kind = type(value)
        if kind is np.ndarray:
            if value.dtype.hasobject or value.size > MAX_COMPARED_CONSTANT:
                return ("id", id(value))
            return ("array", value.shape, value.dtype.str, value.tobytes())
        if kind in (tuple, list):
            return (kind, tuple(self(v) for v in value))
        if kind is slice:
            return (slice, self(value.start), self(value.stop), self(value.step))
        if kind is dict:
            return ("id", id(value))
        if isinstance(value, (float, complex, np.floating, np.complexfloating)):
            return constant_key(value)
        try:
            hash(value)
        except TypeError:
            return ("id", id(value))
        return (kind, value)


# Values keyed as they are (floats bit for bit, by constant_key).
_PLAIN = frozenset([int, bool, str, type(None), float])


def _signatures(nodes, resolve, guards_of, keys):
    """Two integers per node, equal for nodes that could stand at one position of a
    block: kind, primitive, static arguments, constants, shape, dtype and guards; the
    second leaves out the values of Python int arguments."""
    ids = {}
    exact, loose = np.empty(len(nodes), dtype=np.int64), np.empty(len(nodes), dtype=np.int64)
    for p, node in enumerate(nodes):
        if node.kind == "input":
            exact[p] = loose[p] = ids.setdefault(("input", p), len(ids))
            continue
        args = list(node.args)
        for argnum, parent in zip(node.parent_argnums, node.parents):
            parent = resolve(parent)
            args[argnum] = _Operand(keys(parent.value) if isinstance(parent, Constant) else None)
        ints = tuple(arg for arg in args if type(arg) is int)
        args = [arg.key if type(arg) is _Operand else "int" if type(arg) is int else keys(arg)
                for arg in args]
        key = (node.kind, _fun_key(node.fun), tuple(args),
               tuple((k, keys(v)) for k, v in node.kwargs.items()) if node.kwargs else (),
               _value_key(node.value),
               tuple(_fun_key(g.convert) for _, g in guards_of.get(node.index, ())))
        try:
            loose[p] = ids.setdefault(key, len(ids))
            exact[p] = ids.setdefault((key, ints), len(ids)) if ints else loose[p]
        except TypeError:  # something unhashable slipped through: never repeated
            exact[p] = loose[p] = -1 - p
    return exact, loose


def _static_ints(node):
    """argument number -> value, for each Python int the node takes as it is."""
    return {argnum: arg for argnum, arg in enumerate(node.args)
            if type(arg) is int and argnum not in node.parent_argnums}


class _Operand:
    """A traced operand's place in a signature: a constant's key, or None for a node."""
    __slots__ = ["key"]

    def __init__(self, key):
        self.key = ("const", key) if key is not None else "node"


def _value_key(value):
    """A value's type, shape and dtype (of each part, for a tuple or list)."""
    if type(value) in (tuple, list):
        return (type(value), tuple(_value_key(v) for v in value))
    return (type(value), getattr(value, "shape", None), getattr(value, "dtype", None))


def _fun_key(fun):
    try:
        hash(fun)
        return fun
    except TypeError:
        return id(fun)


def _periodic_spans(signatures):
    """``(start, period, reps)`` of non-overlapping runs of repeated signatures, the
    runs covering most nodes chosen first."""
    n = len(signatures)
    candidates = []
    # A hash of each run of GRAM signatures: two positions a period apart in a run of
    # repetitions have equal hashes, while chance equalities of single signatures (a
    # plan has many adds of one shape) mostly do not survive it. It only skips periods
    # quickly: runs are found on the signatures themselves.
    grams = np.zeros(n, dtype=np.int64)
    for shift in range(GRAM):
        grams = grams * np.int64(1000003) + np.roll(signatures, shift)
    for period in range(1, min(MAX_PERIOD, n // MIN_REPETITIONS) + 1):
        # A run of at least period equal signatures (period - GRAM equal grams) holds
        # two consecutive positions of any sample this sparse: periods without such a
        # pair are skipped.
        hashed = grams if period > 3 * GRAM else signatures
        stride = max(1, (period - GRAM) // 2 if period > 3 * GRAM else period // 2)
        sample = hashed[period::stride] == hashed[:n - period:stride]
        if not np.any(sample[1:] & sample[:-1]):
            continue
        same = signatures[period:] == signatures[:-period]
        edges = np.flatnonzero(np.diff(np.concatenate(([0], same.view(np.int8), [0]))))
        starts = edges[::2]
        reps = (edges[1::2] - starts + period) // period
        keep = (reps >= MIN_REPETITIONS) & (reps * period >= MIN_ROLLED_NODES)
        candidates.extend((-int(r) * period, period, int(start), int(r))
                          for start, r in zip(starts[keep], reps[keep]))
    candidates.sort()
    taken = np.zeros(n, dtype=bool)
    spans = []
    for _, period, start, reps in candidates:
        end = start + reps * period
        if taken[start:end].any():
            # What is left of it: the longest stretch not taken.
            free = np.flatnonzero(~taken[start:end])
            if len(free) == 0:
                continue
            breaks = np.flatnonzero(np.diff(free) != 1)
            pieces = np.split(free, breaks + 1)
            piece = max(pieces, key=len)
            start, reps = start + int(piece[0]), len(piece) // period
            end = start + reps * period
            if reps < MIN_REPETITIONS or reps * period < MIN_ROLLED_NODES:
                continue
        taken[start:end] = True
        spans.append((start, period, reps))
    return spans


def _verified(nodes, start, period, reps, number, position, where, resolve, guards_of, keys,
              loose=False):
    """The Loop over the repetitions of this span whose data flow repeats (see the
    module docstring), or None."""
    def address(operand, rep):
        """Where a node of repetition ``rep`` finds this operand."""
        if isinstance(operand, Constant):
            return ("const", keys(operand.value))
        p = position[operand.index]
        base = start + rep * period
        if p >= base:
            return ("internal", p - base)
        if p >= base - period and rep >= 1:
            return ("carried", p - base + period)
        if p >= start:
            return ("far",)
        found = where.get(operand.index)
        if found is not None:
            return ("loop", found[0], found[2], found[1])
        return ("node", operand.index)

    def operands(rep, j):
        node = nodes[start + rep * period + j]
        return [resolve(p) for p in node.parents]

    middle = max(1, reps // 2)
    # Each slot's kind, from the middle repetitions.
    kinds = {}
    for j in range(period):
        for slot, (now, before) in enumerate(zip(operands(middle, j), operands(middle - 1, j))):
            a, b = address(now, middle), address(before, middle - 1)
            if a[0] == "far":
                return None
            if a[0] == "loop":
                if b[0] != "loop" or b[1] is not a[1] or b[2] != a[2] or abs(a[3] - b[3]) > 1:
                    return None
                step = a[3] - b[3]
                a = ("loop", a[1], a[2], a[3] - step * middle, step)
            kinds[j, slot] = a
        now, before = _static_ints(nodes[start + middle * period + j]), \
            _static_ints(nodes[start + (middle - 1) * period + j])
        for argnum, value in now.items():
            kinds[j, "int", argnum] = (value - (value - before[argnum]) * middle,
                                       value - before[argnum])

    def matches(rep, first):
        """Whether repetition ``rep`` follows the slots' kinds (``first``: as the
        loop's first turn, whose carried state comes from before it)."""
        for j in range(period):
            for slot, operand in enumerate(operands(rep, j)):
                kind, a = kinds[j, slot], address(operand, rep)
                if kind[0] == "loop":
                    if a != ("loop", kind[1], kind[2], kind[3] + kind[4] * rep):
                        return False
                elif kind[0] == "carried" and first:
                    if a[0] in ("internal", "far"):
                        return False
                elif a != kind:
                    return False
            if loose:  # (equal signatures hold equal ints, guards and constants)
                for argnum, value in _static_ints(nodes[start + rep * period + j]).items():
                    counted_from, counted_by = kinds[j, "int", argnum]
                    if value != counted_from + counted_by * rep:
                        return False
        return True

    if not matches(middle, False):
        return None
    high = middle
    while high + 1 < reps and matches(high + 1, False):
        high += 1
    low = middle
    while low - 1 >= 0 and matches(low - 1, False):
        low -= 1
    if low - 1 >= 0 and matches(low - 1, True):
        low -= 1  # a first turn whose carried state comes from before the span
    # The first turn's carried state comes from before the loop: one value per position.
    initial = None
    while low < high:
        initial = _initial_state(kinds, [operands(low, j) for j in range(period)], keys)
        if initial is not None:
            break
        low += 1
    if initial is None or high - low + 1 < MIN_REPETITIONS or \
            (high - low + 1) * period < MIN_ROLLED_NODES:
        return None
    if all(np.ndim(node.value) == 0 for node in nodes[start:start + period]
           if type(node.value) is not tuple):
        # Scalar steps: unrolled, a whole run of turns fuses into one compiled call,
        # which a loop of per-turn calls would make many times slower.
        return None
    loop = Loop(number, start + low * period, period, high - low + 1, nodes)
    loop.carried = initial
    for (j, *rest), kind in kinds.items():
        if rest and rest[0] == "int" and kind[1] != 0:
            loop.counting[j, rest[1]] = (kind[0] + kind[1] * low, kind[1])
    for j, node in enumerate(loop.template):
        for slot, parent in enumerate(node.parents):
            kind = kinds[j, slot]
            if kind[0] == "loop":
                operand = resolve(parent)
                tape = (kind[1], kind[2], kind[3] + kind[4] * low, kind[4])
                if loop.tapes.setdefault(operand.index, tape) != tape:
                    return None  # one node read two ways: the block cannot name it once
        slots = _guard_slots(guards_of, [nodes[loop.start + r * period + j]
                                         for r in range(loop.reps)], keys)
        if slots:
            loop.guards[j] = slots
    return loop


def _initial_state(kinds, operands, keys):
    """Carried position -> what the first turn reads there, or None when two of its
    slots read different values for one position."""
    initial = {}
    for j, block in enumerate(operands):
        for slot, operand in enumerate(block):
            kind = kinds[j, slot]
            if kind[0] == "carried":
                before = initial.setdefault(kind[1], operand)
                if before is not operand and not _same_constant(before, operand, keys):
                    return None
    return initial


def _same_constant(a, b, keys):
    return isinstance(a, Constant) and isinstance(b, Constant) and \
        keys(a.value) == keys(b.value)


def _guard_slots(guards_of, reps, keys):
    per_rep = [guards_of.get(node.index, ()) for node in reps]
    slots = []
    for k, (_, guard) in enumerate(per_rep[0]):
        numbers = [guards[k][0] for guards in per_rep]
        expected = [guards[k][1].expected for guards in per_rep]
        varies = not all(keys(e) == keys(expected[0]) and type(e) is type(expected[0])
                         for e in expected)
        slots.append(GuardSlot(guard, numbers, expected if varies else expected[0], varies))
    return slots


def _mark_tapes(nodes, loops, where, outputs, resolve):
    """Mark the loop positions whose values something reads in another repetition
    than the last (a later loop's tape, a node after the loop, the outputs)."""
    from .passes import tree_leaves

    def read(operand, reader_loop=None):
        if isinstance(operand, Constant):
            return
        found = where.get(operand.index)
        if found is None or found[0] is reader_loop:
            return
        loop, rep, j = found
        (loop.read_after if rep == loop.reps - 1 else loop.taped).add(j)
    for node in nodes:
        reader = where.get(node.index)
        for parent in node.parents:
            read(resolve(parent), reader[0] if reader else None)
    for leaf in tree_leaves(outputs):
        read(leaf)
    for loop in loops:
        for tape_loop, j, _, _ in loop.tapes.values():
            tape_loop.taped.add(j)
