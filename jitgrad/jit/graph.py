"""The Graph IR and its tracer: what the jit records while a function runs once.

A jit trace is the outermost trace level. Its nodes (``GraphNode``) record every
primitive call on traced values, including the backward pass (VJP rules are
jitgrad code too), untraced results that can steer later steps (comparisons,
argmax), random draws, and *guards*: the value Python saw whenever it turned a
traced value into a ``bool``, ``int`` or ``float``. Values are concrete while
tracing, so the first call's answer comes straight from the trace.
"""
import numpy as np

from ..trace.core import Node, isbox
from ..trace import hooks, tree as trees
from ..trace.containers import frozen_placeholder, is_placeholder
from ..trace.rules import shape_from_values
from .identity import same_array


NO_RESULT = object()


class TraceUnsupported(Exception):
    """Raised while tracing when a replay could not be trusted; the jit runs eagerly.

    ``result`` holds the function's answer when it had already run to the end. Each one
    made while a trace runs is also noted on its recorder (``refusals``): a function
    that catches it (``except Exception:``) must not leave a plan behind."""
    result = NO_RESULT

    def __init__(self, *args):
        super().__init__(*args)
        observer = hooks.observer()
        if observer is not None:
            observer.refusals.append(self)


class PrimitiveRaised(TraceUnsupported):
    """A primitive raised an error while traced (cholesky of a matrix that is not
    positive definite): what Python does with it (an ``except`` branch) cannot be
    replayed, so the call runs eagerly, where the error meets the same Python."""


class GraphNode(Node):
    __slots__ = ["index", "kind", "fun", "args", "kwargs", "parent_argnums", "parents",
                 "value", "description", "dynamic_shape", "varies", "c_ordered"]

    def __init__(self, value, fun, args, kwargs, parent_argnums, parents):
        self._record("op", value, fun, args, kwargs, parent_argnums, parents)

    def initialize_root(self, value, position):
        self._record("input", value, None, (position,), {}, (), [])

    def initialize_constant(self, value):
        self._record("const", value, None, (), {}, (), [])

    def _record(self, kind, value, fun, args, kwargs, parent_argnums, parents):
        # A value that varies with the inputs (or a random draw) is needed later only
        # for its shape and dtype (the plan computes it anew); keeping it would hold
        # every forward and backward value of the trace at once (fluidsim 64x64's
        # first call: 8x eager's memory). Values that do not vary are folded into
        # the plan as constants, so they are kept.
        self.varies = kind in ("input", "source") or any(p.varies for p in parents)
        self.kind, self.fun = kind, fun
        # Whether NumPy laid the value out in C order (its stand-in keeps no strides):
        # a kernel reads and writes C order, NumPy follows its operands' layout.
        self.c_ordered = not (type(value) is np.ndarray and value.ndim > 1
                              and not value.flags.c_contiguous)
        self.value = stand_in(value) if self.varies and kind != "input" else value
        # Only inputs and constants show their value in explain(); ops show their call.
        self.description = describe_value(value) if kind in ("input", "const") else None
        self.dynamic_shape = any(p.dynamic_shape for p in parents) or (
            kind in ("op", "source") and shape_from_values(fun, args))
        if parent_argnums and kind in ("op", "effect"):
            # A parent's value in the arguments is read through the parent (passes,
            # rolling, kernels and the plan all do): keep only its shape and dtype,
            # or the arguments would hold the trace's values as the nodes would.
            # (A random draw keeps its arguments: check_random_draws draws again.)
            args = tuple(stand_in(arg) if argnum in parent_argnums else arg
                         for argnum, arg in enumerate(args))
        self.args, self.kwargs = args, kwargs
        self.parent_argnums, self.parents = tuple(parent_argnums), list(parents)
        graph = hooks.observer().graph
        graph.add(self)
        if kind == "op" and getattr(fun, "dtype_from_values", False):
            graph.guards.append(Guard(self, result_dtypes, result_dtypes(value),
                                      len(graph.nodes)))

    @property
    def name(self):
        if self.fun is None:
            return self.kind
        return getattr(self.fun, "__name__", type(self.fun).__name__)


def stand_in(value):
    """An array's shape and dtype without its data (a read-only, zero-stride array
    over one zero); scalars, small arrays and everything else stay as they are."""
    if type(value) is np.ndarray and value.size > 1 and not value.dtype.hasobject:
        # The constructor directly: np.broadcast_to costs 6x more, and a trace makes
        # one of these per value (fluidsim 64x64, 50 steps: 70k).
        zero = _ZEROS.get(value.dtype.itemsize)
        if zero is None:
            zero = _ZEROS[value.dtype.itemsize] = bytes(value.dtype.itemsize)
        return np.ndarray(value.shape, value.dtype, zero, 0, (0,) * value.ndim)
    return value


_ZEROS = {}  # itemsize -> that many zero bytes (immutable: the stand-ins are read-only)


def result_dtypes(value):
    """The dtypes of ``value``'s arrays, as strings (a result ``def_dtype_from_values``
    declares variable is guarded by them)."""
    return tuple(np.result_type(leaf).str for leaf in trees.leaves(value))


class Guard:
    """Python saw ``convert(value of node) == expected`` at this point of the trace;
    ``where`` is the user's line that needed it (``file.py:line``), or None."""
    __slots__ = ["node", "convert", "expected", "position", "where"]

    def __init__(self, node, convert, expected, position, where=None):
        self.node, self.convert = node, convert
        self.expected, self.position = expected, position
        self.where = where

    def __str__(self):
        at = f" (at {self.where})" if self.where else ""
        return f"guard {self.convert.__name__}(%{self.node.index}) == {self.expected!r}{at}"


class Graph:
    """Nodes in the order they ran, the guards between them, and the outputs."""

    def __init__(self):
        self.nodes = []
        self.inputs = []
        self.guards = []
        self.outputs = None  # a tree of nodes and constants (see ``jit``)
        # Arrays the trace captured (closures, globals, arrays made by plain NumPy):
        # the plan uses copies taken when first seen, so later changes are not seen.
        self._captured = {}  # id -> (array, snapshot)

    def add(self, node):
        node.index = len(self.nodes)
        self.nodes.append(node)
        if node.kind == "input":
            self.inputs.append(node)
        for argnum, arg in enumerate(node.args):
            if argnum not in node.parent_argnums:
                self._capture(arg)
        for value in node.kwargs.values():
            self._capture(value)

    def _capture(self, arg):
        if isbox(arg):
            raise TraceUnsupported(
                "a traced value reached a function hidden inside a list, or came from a "
                "transformation that has already finished")
        if type(arg) is np.ndarray:
            if id(arg) not in self._captured and arg.flags.writeable:
                self._captured[id(arg)] = (arg, snapshot(arg))
        else:
            node = trees.children(arg)
            for item in (node[0] if node is not None else ()):
                self._capture(item)

    def freeze_captured(self):
        """Point every node at the snapshots of the arrays it captured, after checking
        that the function did not modify one of them after using it."""
        for array, snapshot in self._captured.values():
            if not same_array(array, snapshot):
                raise TraceUnsupported("an array the function uses was modified in place "
                                       "after it was used")
        # A container cotangent's placeholder zeros are recognised by identity (sums
        # skip them, keeping -0.0 and the other entry's type): the copy must be one too.
        snapshots = {key: frozen_placeholder(snapshot) if is_placeholder(array) else snapshot
                     for key, (array, snapshot) in self._captured.items()}
        if not snapshots:
            return

        def frozen(value):
            return snapshots.get(id(value), value) if type(value) is np.ndarray else value
        for node in self.nodes:
            node.args = tuple(trees.tree_map(frozen, arg) if trees.children(arg) is not None
                              else frozen(arg) for arg in node.args)
            node.kwargs = {k: trees.tree_map(frozen, v) for k, v in node.kwargs.items()}
        self._captured = {}

    def check_random_draws(self, state_before):
        """Refuse a trace that drew from NumPy's global generator other than through
        jitgrad.numpy.random (whose draws it records and replays): a replay would
        repeat the first call's numbers. Redraws the recorded ones from the state
        before the trace and compares where the generator ended up."""
        state_after = np.random.get_state()
        np.random.set_state(state_before)
        try:
            for node in self.nodes:
                # (a generator object's draws leave the global state alone, and
                # drawing them again would move that object on)
                if node.kind == "source" and not getattr(node.fun, "draws_from_object", False):
                    node.fun.fun(*node.args, **node.kwargs)
            explained = _same_state(np.random.get_state(), state_after)
        finally:
            np.random.set_state(state_after)
        if not explained:
            raise TraceUnsupported(
                "numpy.random's global generator moved during the trace other than by "
                "jitgrad.numpy.random's draws, so a replay would repeat its numbers: the "
                "function draws from numpy.random directly (draw with jitgrad.numpy.random "
                "instead: its draws are replayed anew), or a library routine it calls does "
                "(scipy.linalg.logm's norm estimate)")

    def __str__(self):
        guards_after = {}
        for guard in self.guards:
            guards_after.setdefault(guard.position, []).append(guard)
        lines = []
        for node in self.nodes:
            lines.append(describe(node))
            lines.extend(f"    {g}" for g in guards_after.get(node.index + 1, ()))
        lines.append(f"outputs: {describe_tree(self.outputs)}")
        return "\n".join(lines)


# A snapshot with gaps is kept as wide as its strides span up to this size (or twice
# its own): beyond, it is compacted, to bound the memory a plan holds.
EXACT_SPAN_BYTES = 1 << 20


def snapshot(array):
    """A private copy of ``array`` laid out as it is: the same strides, signs and gaps
    included, so that NumPy and BLAS walk it, and round sums and products over it,
    exactly as over the original (a C-ordered copy of a reversed vector changes the
    order of a matmul's additions; one without the gaps of ``a[:, ::9]`` takes
    BLAS where the original took NumPy's own loop). It holds the memory those strides
    span. Where gaps make that more than twice the array's size and more than
    EXACT_SPAN_BYTES (a column of a large matrix), the copy is compact instead, in the
    same axis order and directions: results over it can then differ from eager's in
    the last bit."""
    if array.size == 0 or array.dtype.hasobject:
        return array.copy()
    extents = [stride * (n - 1) for stride, n in zip(array.strides, array.shape)]
    low = sum(extent for extent in extents if extent < 0)
    span = sum(extent for extent in extents if extent > 0) - low + array.itemsize
    if span > max(2 * array.nbytes, EXACT_SPAN_BYTES):
        return _compact_copy(array)
    copy = np.ndarray(array.shape, array.dtype, np.empty(span, np.uint8), -low,
                      array.strides)
    copy[...] = array
    return copy


def _compact_copy(array):
    """A copy without gaps, its axes in ``array``'s memory order and direction."""
    flip = tuple(slice(None, None, -1) if stride < 0 else slice(None)
                 for stride in array.strides)
    copy = np.empty_like(array[flip], order="K")[flip]
    copy[...] = array
    return copy


def describe(node):
    if node.kind == "input":
        return f"%{node.index} = input {node.args[0]}: {node.description}"
    if node.kind == "const":
        return f"%{node.index} = const {node.description}"
    parents = dict(zip(node.parent_argnums, node.parents))
    args = [f"%{parents[i].index}" if i in parents else short(arg)
            for i, arg in enumerate(node.args)]
    args += [f"{k}={short(v)}" for k, v in node.kwargs.items()]
    tag = {"source": " [random]", "effect": " [check]"}.get(node.kind, "")
    return f"%{node.index} = {node.name}({', '.join(args)}){tag}"


def describe_value(value):
    if isinstance(value, np.ndarray):
        return f"{value.dtype}{list(value.shape)}"
    if isinstance(value, (float, complex, np.generic)):
        return f"{type(value).__name__} {value!r}"
    return type(value).__name__


def short(value):
    if isinstance(value, np.ndarray):
        return f"<array {describe_value(value)}>" if value.size > 4 else repr(value.tolist())
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def describe_tree(outputs):
    if isinstance(outputs, GraphNode):
        return f"%{outputs.index}"
    node = trees.children(outputs)
    if node is None:
        return short(getattr(outputs, "value", outputs))
    parts = [describe_tree(part) for part in node[0]]
    if isinstance(outputs, dict):
        return "{" + ", ".join(f"{k!r}: {part}" for k, part in zip(outputs, parts)) + "}"
    brackets = "[]" if isinstance(outputs, list) else "()"
    name = "" if type(outputs) in (list, tuple) else type(outputs).__name__
    return f"{name}{brackets[0]}{', '.join(parts)}{brackets[1]}"


def _same_state(a, b):
    return all(np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y
               for x, y in zip(a, b))
