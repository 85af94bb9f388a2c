"""The translation of a plan's optimized steps into the source of one Numba function
(see whole_plan.py): inputs and constants as arguments, consecutive elementwise steps of
one shape in one loop, guards inline, cotangent containers entry by entry, outputs."""
import functools
import math
import re

import numpy as np

from ..kernels.source import calls_trig
from .passes import Constant, arguments, tree_leaves
from .whole_plan_arrays import ArraySteps, Unsupported, Container, Value, scalar_dtype


GUARD_MISS = "jitgrad: a guard of the whole plan failed"
SHAPE_MISS = "jitgrad: an input of another shape than the whole plan's"


class Program:
    """What ``translate`` found: the Numba source, its argument types, the constant
    arrays passed after the inputs, and how to build the outputs."""

    def __init__(self, source, arg_types, constants, outputs, returned, n_inputs, n_steps):
        self.source = source
        self.arg_types = arg_types  # ("array", ndim) or ("float",) per argument
        self.constants = constants
        self.outputs = outputs      # the plan's output tree (nodes and Constants)
        # output node index -> (expression, conversion): a buffer's name, ``_r[k]`` (the
        # k-th scalar result), or a list of buffers and the container type (tuple, list)
        self.returned = returned
        self.buffers = []           # (name, shape) of the output buffers passed last
        self.n_inputs = n_inputs
        self.n_steps = n_steps
        self.passed = list(range(n_inputs))  # the inputs the kernel takes, by position


_COMPARISONS = {np.greater: ">", np.less: "<", np.greater_equal: ">=",
                np.less_equal: "<=", np.equal: "==", np.not_equal: "!="}


def _kind_of(raw):
    """The non-elementwise steps this module knows, by the function a primitive calls."""
    try:
        return _step_kinds().get(raw)
    except TypeError:  # unhashable
        return None


@functools.lru_cache(maxsize=None)
def _step_kinds():
    from ..kernels import blas_threads
    from ..numpy import indexing
    from ..trace import containers
    table = {np.matmul: "product", np.dot: "product", np.sum: "sum", np.mean: "mean",
             np.reshape: "reshape", np.expand_dims: "reshape", np.squeeze: "reshape",
             np.transpose: "transpose", np.swapaxes: "transpose",
             np.broadcast_to: "broadcast_to", np.tensordot: "tensordot",
             indexing.getitem.fun: "getitem", indexing.untake.fun: "untake",
             containers.container_untake.fun: "container_untake",
             containers.sum_untaken: "sum_untaken"}
    table[getattr(blas_threads, "matmul", np.matmul)] = "product"
    table[getattr(blas_threads, "dot", np.dot)] = "product"
    return table


def translate(rolled, guards, outputs, resolve, n_inputs):
    """The ``Program`` of a plan's optimized steps; raises ``Unsupported``."""
    if rolled.loops:
        raise Unsupported("a rolled loop")
    return _Translator(rolled.items, guards, outputs, resolve, n_inputs).program()


class _Translator(ArraySteps):
    def __init__(self, items, guards, outputs, resolve, n_inputs):
        from ..trace.rules import array_bodies, scalar_bodies
        self.items, self.resolve, self.outputs = items, resolve, outputs
        self.n_inputs = n_inputs
        self.scalar_bodies, self.array_bodies = scalar_bodies, array_bodies
        self.values = {}
        self.constants = []        # arrays passed after the inputs
        self.arg_types = []
        self.lines = []
        self.group = []            # elementwise steps sharing one loop, not yet written
        self.guards_by_node = {}
        for number, guard in enumerate(guards):
            self.guards_by_node.setdefault(resolve(guard.node).index, []).append(guard)
        # Who reads each node: a group keeps in locals what only its own steps read.
        self.readers = {}
        for item in items:
            for parent in item.parents:
                operand = resolve(parent)
                if not isinstance(operand, Constant):
                    self.readers.setdefault(operand.index, set()).add(item.index)
        self.output_indices = {leaf.index for leaf in tree_leaves(outputs)
                               if not isinstance(leaf, Constant)}
        self.uses_vmath = self.uses_pairwise = False
        self.input_positions = {}
        self.constant_values, self.keep = {}, []
        self.in_place = set()      # outputs a loop writes straight into their buffers

    # -- the function ---------------------------------------------------------
    def program(self):
        params, unread = [], 0
        for item in self.items:
            if item.kind == "input":
                name = self.input(item)
                if name is None:
                    unread += 1
                else:
                    params.append(name)
            elif item.kind == "op":
                try:
                    self.step(item)
                except Unsupported as why:
                    name = getattr(getattr(item.fun, "fun", item.fun), "__name__", "?")
                    raise Unsupported(f"{why} (step %{item.index}, {name})") from None
            else:
                raise Unsupported(f"a {item.kind} step")
        self.flush()
        if len(params) + unread != self.n_inputs:
            raise Unsupported("inputs missing from the plan")
        # Array outputs are written into buffers the caller passes (``buffers``): a
        # returned array that Numba allocates and boxes costs 0.3-0.5 us more per call.
        returned, results, inputs_returned, buffers = {}, [], {}, []

        def buffer(name, value, shape):
            if value.shape != shape:
                raise Unsupported(f"an output of shape {value.shape}, {shape} in the plan")
            buffers.append((name, value.shape))
            self.arg_types.append(("array", len(value.shape)))
            return name

        for leaf in tree_leaves(self.outputs):
            if isinstance(leaf, Constant) or leaf.index in returned:
                continue
            value = self.values[leaf.index]
            if leaf.index in self.input_positions:
                inputs_returned[leaf.index] = self.input_positions[leaf.index]
                continue
            if isinstance(value, Container):
                if any(slot is None for slot in value.slots):
                    raise Unsupported("a placeholder entry in the outputs")
                names = []
                for k, slot in enumerate(value.slots):
                    names.append(buffer(f"out{leaf.index}_{k}", slot, slot.shape))
                    self.lines.append(f"    {names[-1]}[...] = {slot.name}")
                returned[leaf.index] = (names, value.kind)
            elif value.shape is not None:
                name = buffer(f"out{leaf.index}", value, np.shape(leaf.value))
                if leaf.index not in self.in_place:
                    self.lines.append(f"    {name}[...] = {value.name}")
                returned[leaf.index] = (name, None)
            else:
                returned[leaf.index] = (f"_r[{len(results)}]", _output_convert(leaf.value))
                results.append(value)
        self.lines = _without_unread_views(self.lines)
        results = "".join(f"{v.name}, " for v in results)
        constants = [f"c{k}" for k in range(len(self.constants))]
        header = ["import math", "", "import numba", "import numpy as np", ""]
        if self.uses_vmath:
            from ..kernels import vmath
            header += ["from jitgrad.kernels import vmath  # " + vmath.fingerprint(), ""]
        if self.uses_pairwise:
            from ..kernels import pairwise
            header += ["from jitgrad.kernels import pairwise  # " + pairwise.fingerprint(), ""]
        # The GIL is kept: releasing and taking it again costs ~36 ns a call, and
        # whole plans are small (MAX_ELEMENTS), their calls microseconds.
        header += ["", '@numba.njit(cache=True, error_model="numpy")',
                   f"def kernel({', '.join(params + constants + [n for n, _ in buffers])}):"]
        source = "\n".join(header + self.lines + [f"    return ({results})", ""])
        program = Program(source, self.arg_types, self.constants, self.outputs, returned,
                          self.n_inputs, sum(1 for item in self.items if item.kind == "op"))
        program.inputs_returned = inputs_returned
        program.buffers = buffers
        program.passed = [int(name[1:]) for name in params]
        return program

    def input(self, node):
        position = node.args[0]
        self.input_positions[node.index] = position
        value = node.value
        name = f"a{position}"
        if type(value) is np.ndarray and value.dtype == np.float64 and value.ndim >= 1 \
                and value.size > 0:
            self.arg_types.append(("array", value.ndim))
            self.values[node.index] = Value(name, value.shape, base=node.index)
            # Shapes are literals in the source: the function checks its inputs' own,
            # so that no caller's test stands between an array of another shape and
            # memory it does not own (Numba's dispatcher checks dtype, ndim, layout).
            self.lines.append(f"    if {name}.shape != {tuple(value.shape)!r}:")
            self.lines.append(f"        raise RuntimeError({SHAPE_MISS!r})")
        elif type(value) in (float, np.float64):
            self.arg_types.append(("float",))
            self.values[node.index] = Value(name, None)
        elif node.index not in self.readers and node.index not in self.output_indices \
                and node.index not in self.guards_by_node:
            # An input nothing reads (the iteration number autograd's optimizers pass
            # to an objective that ignores it): the kernel does not take it.
            return None
        else:
            raise Unsupported(f"an input of type {type(value).__name__}")
        self.check_guards(node)
        return name

    def constant_array(self, value):
        known = self.constant_values.get(id(value))
        if known is not None:
            return known
        if value.dtype != np.float64 or value.size == 0:
            raise Unsupported("a constant array that is not float64")
        name = f"c{len(self.constants)}"
        if value.ndim == 2 and not value.flags.c_contiguous and value.T.flags.c_contiguous:
            # A transposed matrix (``X.T`` of a captured X, in a gradient): passed as
            # the matrix it views, transposed in the function, products of it in the
            # BLAS routine NumPy calls for it (the bits of the plan's own product).
            self.constants.append(value.T)
            self.arg_types.append(("array", 2))
            self.lines.append(f"    t{name} = {name}.T")
            self.constant_values[id(value)] = Value(f"t{name}", value.shape, "F")
            self.keep.append(value)
            return self.constant_values[id(value)]
        array = np.ascontiguousarray(value)
        self.constants.append(array)
        self.arg_types.append(("array", array.ndim))
        # The plan keeps a captured array's layout (graph.snapshot), which NumPy's
        # sums and products depend on: a copy of another layout is elementwise only.
        layout = "C" if value.flags.c_contiguous else "A"
        self.constant_values[id(value)] = Value(name, array.shape, layout)
        self.keep.append(value)  # its id stays its own while translating
        return self.constant_values[id(value)]

    def index_constant(self, array):
        name = f"c{len(self.constants)}"
        self.constants.append(array)
        self.arg_types.append(("index",))
        return name

    def operand(self, operand):
        """A step's argument as a ``Value`` (nodes, constant arrays) or a literal."""
        if isinstance(operand, Constant):
            return self.literal(operand.value)
        if operand.index not in self.values:
            raise Unsupported("a value computed outside the plan's steps")
        return self.values[operand.index]

    def literal(self, value):
        from ..kernels.source import _literal
        if type(value) is np.ndarray and value.ndim > 0:
            return self.constant_array(value)
        if isinstance(value, np.ndarray):
            value = value[()]
        if isinstance(value, (bool, np.bool_, int, float, np.integer, np.float64)) and \
                not isinstance(value, np.float32):
            if isinstance(value, float) and math.isnan(value) and math.copysign(1.0, value) < 0:
                # A NaN's sign, which NumPy keeps, is lost in a literal: an argument.
                name = f"c{len(self.constants)}"
                self.constants.append(value)
                self.arg_types.append(("float",))
                return name
            return _literal(value)
        raise Unsupported(f"a constant of type {type(value).__name__}")

    def arguments(self, node):
        """(position, operand) of each argument: parents resolved, others constant."""
        return list(enumerate(arguments(node, self.resolve)))

    # -- steps --------------------------------------------------------------
    def step(self, node):
        if node.dynamic_shape:
            raise Unsupported("a step whose shape depends on values")
        raw = getattr(node.fun, "fun", node.fun)
        value = node.value
        is_array = type(value) is np.ndarray and value.ndim > 0
        if is_array and (value.dtype != np.float64 or value.size == 0):
            raise Unsupported(f"an array of {value.dtype}")
        array_body = self.array_bodies.get(node.fun)
        if _kind_of(raw) == "sum_untaken":  # its operands are containers too
            self.flush()
            self.sum_untaken(node)
            return
        if any(isinstance(self.values.get(getattr(o, "index", None)), Container)
               for _, o in self.arguments(node)):
            self.flush()
            self.container_add(node)
            return
        if array_body is not None and not node.kwargs:
            if is_array:
                self.elementwise_array(node, array_body)
            else:
                self.flush()
                self.elementwise_scalar(node)
            return
        self.flush()
        kind = None if node.fun is None else _kind_of(raw)
        if raw in _COMPARISONS and not node.kwargs:
            self.comparison(node, _COMPARISONS[raw])
        elif kind == "product":
            self.product(node)
        elif kind in ("sum", "mean"):
            self.reduction(node, kind)
        elif kind == "reshape":
            self.reshape(node)
        elif kind == "transpose":
            self.transpose(node, raw)
        elif kind == "tensordot":
            self.tensordot(node)
        elif kind == "broadcast_to":
            self.broadcast_to(node)
        elif kind == "getitem":
            self.getitem(node)
        elif kind == "untake":
            self.untake(node)
        elif kind == "container_untake":
            self.container_untake(node)
        else:
            raise Unsupported(f"a step of {getattr(raw, '__name__', raw)!r}")
        self.check_guards(node)

    def define(self, node, value):
        self.values[node.index] = value
        return value

    def elementwise_scalar(self, node):
        body = self.scalar_bodies.get(node.fun)
        if body is None:
            raise Unsupported("an elementwise step without a scalar body")
        args = self.body_args(node, body, lambda v: None)
        dtype = scalar_dtype(node.value)
        name = f"v{node.index}"
        self.lines.append(f"    {name} = {body.format(*args)}")
        self.define(node, Value(name, None, dtype=dtype))
        self.check_guards(node)

    def body_args(self, node, body, array_read):
        """The body's arguments: scalars by name, literals, arrays by ``array_read``."""
        from ..kernels.regions import used_positions
        used = used_positions(body)
        args = []
        for position, operand in self.arguments(node):
            if position not in used:
                args.append(None)
                continue
            value = self.operand(operand)
            if isinstance(value, str):
                args.append(value)
            elif value.shape is None:
                args.append(value.name)
            else:
                read = array_read(value)
                if read is None:
                    raise Unsupported("an array operand of a scalar step")
                args.append(read)
        if "vmath." in body:
            self.uses_vmath = True
        return args

    def elementwise_array(self, node, body):
        if calls_trig(body):
            # Fused kernels run vmath's sin/cos in a vectorized pass first (an exact
            # one only for huge arguments); in a whole plan's loops they are the slow
            # exact path: a 300-element sin/cos gradient 29.7 us whole, 7.1 us fused.
            raise Unsupported("sin or cos on arrays (fused kernels vectorize them)")
        shape = node.value.shape
        if self.group and self.group[0][1] != shape:
            self.flush()
        if node.index in self.guards_by_node:
            raise Unsupported("a guard on an array")
        self.group.append((node, shape, body))
        self.define(node, Value(f"v{node.index}", shape))

    def flush(self):
        """Write the pending elementwise group: one loop nest over its shape."""
        if not self.group:
            return
        from ..kernels.regions import used_positions
        group, self.group = self.group, []
        shape = group[0][1]
        members = {node.index for node, _, _ in group}
        size, ndim = math.prod(shape), len(shape)
        # Each step's arguments: None (unused), ("local", index), a literal, or a Value.
        steps = []
        for node, _, body in group:
            used = used_positions(body)
            args = []
            for position, operand in self.arguments(node):
                if position not in used:
                    args.append(None)
                elif not isinstance(operand, Constant) and operand.index in members:
                    args.append(("local", operand.index))
                else:
                    args.append(self.operand(operand))
            if "vmath." in body:
                self.uses_vmath = True
            steps.append((node, body, args))
        arrays = [a for _, _, args in steps for a in args
                  if isinstance(a, Value) and a.shape is not None]
        if any(len(a.shape) > ndim for a in arrays):
            raise Unsupported("an operand of more dimensions than the result")
        # One flat loop where every array read has the group's shape and is C-ordered.
        flat = all(a.shape == shape and a.layout == "C" for a in arrays)
        index = ["i"] if flat else [f"i{a}" for a in range(ndim)]
        pre, reads, loop_body, written = [], {}, [], []

        def array_read(value):
            if value.name not in reads:
                if flat and value.flat is not None:
                    reads[value.name] = f"{value.flat}[i]"
                elif flat:
                    pre.append(f"    f_{value.name} = {value.name}.reshape({size})")
                    reads[value.name] = f"f_{value.name}[i]"
                else:
                    offset = ndim - len(value.shape)
                    at = ["0" if n == 1 and shape[offset + k] != 1 else index[offset + k]
                          for k, n in enumerate(value.shape)]
                    reads[value.name] = f"{value.name}[{', '.join(at)}]"
            return reads[value.name]

        def written_flat(number):  # (a 1-D array is its own flat view)
            return f"v{number}" if ndim == 1 else f"o{number}"

        for node, body, args in steps:
            text = []
            for arg in args:
                if arg is None or isinstance(arg, str):
                    text.append(arg)
                elif isinstance(arg, tuple):
                    text.append(f"t{arg[1]}")
                elif arg.shape is None:
                    text.append(arg.name)
                else:
                    text.append(array_read(arg))
            loop_body.append(f"t{node.index} = {body.format(*text)}")
            outside = self.readers.get(node.index, set()) - members
            if outside or node.index in self.output_indices:
                written.append(node.index)
                target = f"{written_flat(node.index)}[i]" if flat else \
                    f"v{node.index}[{', '.join(index)}]"
                loop_body.append(f"{target} = t{node.index}")
        for number in written:
            if number in self.output_indices:
                self.in_place.add(number)
                self.lines.append(f"    v{number} = out{number}")
            elif flat and ndim != 1:  # (the array as its shape: a view, where read)
                self.lines += [f"    o{number} = np.empty({size})",
                               f"    v{number} = o{number}.reshape({shape!r})"]
            else:
                self.lines.append(f"    v{number} = np.empty({shape!r})")
            if flat and ndim != 1:
                if number in self.output_indices:
                    self.lines.append(f"    o{number} = v{number}.reshape({size})")
                self.values[number].flat = f"o{number}"
        self.lines.extend(pre)
        if flat:
            loops = [f"for i in range({size}):"]
        else:
            loops = [f"for {i} in range({n}):" for i, n in zip(index, shape)]
        for depth, line in enumerate(loops):
            self.lines.append("    " * (depth + 1) + line)
        inner = "    " * (len(loops) + 1)
        self.lines.extend(inner + line for line in loop_body)

    def comparison(self, node, operator):
        args = [self.operand(o) for _, o in self.arguments(node)]
        if len(args) != 2 or any(not isinstance(a, str) and a.shape is not None
                                 for a in args):
            raise Unsupported("a comparison of arrays")
        left, right = (a if isinstance(a, str) else a.name for a in args)
        name = f"v{node.index}"
        self.lines.append(f"    {name} = {left} {operator} {right}")
        self.define(node, Value(name, None, dtype="b1"))

    def container_untake(self, node):
        """A cotangent container: ``x`` at ``idx``, the others placeholder zeros (None
        here: sums skip them)."""
        args = self.arguments(node)
        x = self.operand(args[0][1])
        idx, vs = (o.value if isinstance(o, Constant) else None for _, o in args[1:3])
        self.define(node, self._untaken(vs, idx, x))

    def _untaken(self, vs, idx, x):
        from ..trace.containers import SequenceVSpace
        if not isinstance(vs, SequenceVSpace) or type(idx) is not int or \
                isinstance(x, str) or x.shape is None or \
                vs.container_type not in (tuple, list):
            raise Unsupported("a cotangent container other than a tuple or list of arrays")
        slots = [None] * len(vs.shape)
        slots[idx] = x
        if tuple(getattr(vs.shape[idx], "shape", ())) != x.shape:
            raise Unsupported("a cotangent entry of another shape")
        return Container(slots, vs.container_type)

    def container_add(self, node):
        """A sum of cotangent containers, entry by entry, placeholders skipped."""
        from ..trace.vspace import VSpace
        if node.fun is not VSpace.add or len(node.args) != 3:
            raise Unsupported("a container step other than a cotangent sum")
        a, b = (self.operand(o) for _, o in self.arguments(node)[1:])
        self.define(node, self._container_sum(a, b, f"v{node.index}"))

    def sum_untaken(self, node):
        """A tree of cotangent sums over untakes (jit/container_sums.py), sum by sum."""
        args = self.arguments(node)
        vs, structure = (o.value if isinstance(o, Constant) else None for _, o in args[:2])
        leaves = [self.operand(o) for _, o in args[2:]]
        sums = iter(range(len(node.args)))

        def value(part):
            if part[0] == "add":
                a, b = value(part[1]), value(part[2])
                return self._container_sum(a, b, f"v{node.index}_{next(sums)}")
            if part[0] == "untake":
                if part[2][0] != "key":
                    raise Unsupported("a cotangent container untaken at a slice")
                return self._untaken(vs, part[2][1], leaves[part[1]])
            return leaves[part[1]]
        self.define(node, value(structure))

    def _container_sum(self, a, b, name):
        if not (isinstance(a, Container) and isinstance(b, Container)) or \
                len(a.slots) != len(b.slots) or a.kind is not b.kind:
            raise Unsupported("a sum of a container with a constant")
        slots = []
        for k, (x, y) in enumerate(zip(a.slots, b.slots)):
            if x is None or y is None:
                slots.append(y if x is None else x)
                continue
            if x.shape != y.shape or x.shape is None:
                raise Unsupported("a container sum of entries of other shapes")
            self.lines.append(f"    {name}_{k} = {x.name} + {y.name}")
            slots.append(Value(f"{name}_{k}", x.shape))
        return Container(slots, a.kind)

    # -- guards -------------------------------------------------------------
    def check_guards(self, node):
        for guard in self.guards_by_node.get(node.index, ()):
            value = self.values[node.index]
            if value.shape is not None:
                raise Unsupported("a guard on an array")
            x, expected = value.name, guard.expected
            if guard.convert is bool and type(expected) is bool:
                test = f"({x} != 0) == {expected!r}" if value.dtype != "b1" else \
                    f"{x} == {expected!r}"
            elif guard.convert is float and type(expected) is float:
                from ..kernels.source import _literal
                e = _literal(expected)
                test = (f"({x} == {e} or ({x} != {x} and {e} != {e})) and "
                        f"math.copysign(1.0, {x}) == math.copysign(1.0, {e})")
            elif guard.convert is int and type(expected) is int and abs(expected) < 2 ** 52:
                test = f"math.isfinite({x}) and math.trunc({x}) == {expected!r}"
            else:
                raise Unsupported("a guard the function cannot check")
            self.lines.append(f"    if not ({test}):")
            # (the wrapper runs the plan's code, which raises GuardFailed)
            self.lines.append(f"        raise RuntimeError({GUARD_MISS!r})")


_VIEW = re.compile(r"    (\w+) = \w+(\.reshape\([\d, ()]*\)|\.T)$")


def _without_unread_views(lines):
    """``lines`` less the reshapes and transposes (views, no effects) of locals that
    nothing reads: steps translated one by one leave some (a reshape whose reader
    took the array's flat view instead), and Numba keeps each as a call (~30 ns)."""
    while True:
        unread = set()
        for k, line in enumerate(lines):
            match = _VIEW.match(line)
            if match:
                name = re.compile(rf"\b{match.group(1)}\b")
                if not any(name.search(other) for j, other in enumerate(lines) if j != k):
                    unread.add(k)
        if not unread:
            return lines
        lines = [line for k, line in enumerate(lines) if k not in unread]


def _output_convert(value):
    """How a Numba result becomes what the plan returns (None: as it comes)."""
    kind = type(value)
    if kind is np.ndarray and value.ndim > 0:
        return None
    if kind is np.float64 or kind is np.bool_:
        return kind
    if kind is float or kind is bool:
        return kind
    raise Unsupported(f"an output of type {kind.__name__}")
