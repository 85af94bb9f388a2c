"""Whole small plans as one Numba function: one dispatch per call instead of a NumPy
call per step (issue 12 item 4).

A plan whose every step is something Numba computes as NumPy does (elementwise
arithmetic and the transcendentals kernels compile, ``dot``/``matmul`` of 1-D and 2-D
float64 arrays, ``sum``/``mean`` over all axes or a leading or trailing run of them,
reshapes, transposes, ``expand_dims``, ``squeeze``, comparisons of scalars) is
translated into the source of one function of the plan's inputs. Shapes are fixed by
the plan's signature, so they are literals in the source. Consecutive elementwise steps
of one shape share one loop and keep their values in locals; an array is written only
where a later step, a guard or the outputs read it.

Numerics, against the step-by-step plan: elementwise arithmetic is the same bit for
bit; transcendentals use the fused kernels' bodies (``vmath`` on arrays, libm on
scalars: within the 1-3 ulp ``vmath`` states); sums follow NumPy's order (pairwise over
contiguous runs, row by row over leading axes: ``kernels/pairwise.py``); products call
BLAS through ``np.dot`` in the routine NumPy picks for the shapes (dot, gemv, gemm),
checked bit for bit in ``tests/test_whole_plan.py``. A product of an array with its own
transpose (NumPy's syrk) is left to the plan.

Guards are checked inline: a failing one makes the function return a failure flag and
the wrapper runs the plan's Python code, which raises ``GuardFailed`` with the guard's
number and the value seen, as always. So does an input Numba was not compiled for (a
non-contiguous or read-only array). Plans with loops, random draws, effects, or any
other step are left as they are (``translate`` raises ``Unsupported``).

Settings: ``JITGRAD_WHOLE_PLAN=0`` turns this off; ``JITGRAD_FUSE=0`` too.
"""
import logging
import math
import os
import time

import numpy as np

from .passes import Constant, tree_leaves

logger = logging.getLogger("jitgrad.jit")

LONG_COMPILE_SECONDS = 0.5


class Unsupported(Exception):
    """A step (or input, output, guard) the whole-plan function cannot compute."""


def enabled():
    from .. import kernels
    return os.environ.get("JITGRAD_WHOLE_PLAN", "1") not in ("0", "", "false", "no") and \
        kernels.fusion_enabled()


def install(plan):
    """Make ``plan.run`` the compiled whole plan when every step compiles; sets
    ``plan.whole_plan`` (the ``WholePlan``, or None)."""
    plan.whole_plan = None
    if not enabled():
        return
    fallback = plan.run
    try:
        program = translate(*plan._optimized, plan.n_inputs)
    except Unsupported as why:
        logger.debug("plan not compiled whole: %s", why)
        return
    whole = WholePlan(program, fallback)
    if whole.dispatcher is not None:
        plan.whole_plan = whole
        plan.run = whole


class Program:
    """What ``translate`` found: the Numba source, its argument types, the constant
    arrays passed after the inputs, and how to build the outputs."""

    def __init__(self, source, arg_types, constants, outputs, returned, n_inputs, n_steps):
        self.source = source
        self.arg_types = arg_types  # ("array", ndim) or ("float",) per argument
        self.constants = constants
        self.outputs = outputs      # the plan's output tree (nodes and Constants)
        self.returned = returned    # output node index -> (position in the result, kind)
        self.n_inputs = n_inputs
        self.n_steps = n_steps


class WholePlan:
    """``whole(*leaves)``: the plan's outputs from one call of the compiled function;
    the plan's own code (``fallback``) where a guard fails or the inputs do not fit."""

    def __init__(self, program, fallback):
        self.program = program
        self.fallback = fallback
        self.dispatcher = _compile(program)
        self.run = None
        if self.dispatcher is not None:
            self.run = _wrapper(program, self.dispatcher, fallback)

    def __call__(self, *leaves):
        return self.run(*leaves)

    def __repr__(self):
        return f"<whole plan: {self.program.n_steps} steps in one Numba function>"


def _compile(program):
    """The Numba dispatcher compiled for the program's argument types (or loaded from
    the disk cache); None, after a debug log, where Numba refused it."""
    from ..kernels.cache import load_kernel
    from numba import types
    signature = tuple(types.Array(types.float64, kind[1], "C") if kind[0] == "array"
                      else types.int64[::1] if kind[0] == "index" else types.float64
                      for kind in program.arg_types)
    start = time.perf_counter()
    try:
        dispatcher = load_kernel(program.source)
        if signature not in dispatcher.overloads:  # (plans of one source share it)
            dispatcher.disable_compile(False)
            dispatcher.compile(signature)
    except Exception as error:  # a Numba failure must not become the user's
        logger.debug("whole plan failed to compile (%s: %s); the plan runs step by step",
                     type(error).__name__, str(error)[:300])
        return None
    # Other argument types (a strided or read-only array) would compile again at the
    # call, for seconds: they raise TypeError instead, and the plan's code runs.
    dispatcher.disable_compile()
    seconds = time.perf_counter() - start
    level = logging.INFO if seconds > LONG_COMPILE_SECONDS else logging.DEBUG
    logger.log(level, "compiled a plan of %d steps into one Numba function in %.1f s "
               "(cached on disk: later runs load it)", program.n_steps, seconds)
    return dispatcher


def _wrapper(program, dispatcher, fallback):
    """A Python function of the plan's inputs calling the dispatcher once and building
    the output tree from its results."""
    from .plan import _tree_source
    namespace = {"_kernel": dispatcher, "_fallback": fallback, "np": np}
    params = [f"a{i}" for i in range(program.n_inputs)]
    constants = []
    for k, value in enumerate(program.constants):
        namespace[f"_c{k}"] = value
        constants.append(f"_c{k}")
    names = {}
    counter = [0]

    def operand(leaf):
        if isinstance(leaf, Constant):
            if type(leaf.value) in (bool, int, type(None), str) or (
                    type(leaf.value) is float and math.isfinite(leaf.value)):
                return repr(leaf.value)
            counter[0] += 1
            name = f"_k{counter[0]}"
            namespace[name] = leaf.value
            return name
        if leaf.index in program.returned:
            position, convert = program.returned[leaf.index]
            if isinstance(position, list):  # a tuple or list of cotangents
                entries = ", ".join(f"_r[{p}]" for p in position)
                return f"({entries},)" if convert is tuple else f"[{entries}]"
            if convert is None:
                return f"_r[{position}]"
            namespace[f"_t{position}"] = convert
            return f"_t{position}(_r[{position}])"
        return names[leaf.index]  # an input returned as it came

    for index, position in getattr(program, "inputs_returned", {}).items():
        names[index] = f"a{position}"
    body = _tree_source(program.outputs, operand)
    call = ", ".join(params + constants)
    source = "\n".join([
        f"def whole({', '.join(params)}):",
        "    try:",
        f"        _r = _kernel({call})",
        "    except TypeError:  # inputs it was not compiled for",
        f"        return _fallback({', '.join(params)})",
        "    if _r[0]:  # a guard failed: the plan's code raises GuardFailed",
        f"        return _fallback({', '.join(params)})",
        f"    return {body}", ""])
    exec(compile(source, "<jitgrad whole plan>", "exec"), namespace)
    return namespace["whole"]


# -- translation -----------------------------------------------------------------

_TRANSPOSED = {"C": "F", "F": "C", "A": "A"}


class _Container:
    """A tuple or list of cotangent entries: ``_Value``s, None for a placeholder."""
    __slots__ = ["slots", "kind"]

    def __init__(self, slots, kind):
        self.slots, self.kind = slots, kind


def _basic_index(operand, ndim):
    """Source of a basic index (ints and slices) that is a constant of the plan."""
    index = operand.value if isinstance(operand, Constant) else None
    parts = index if type(index) is tuple else (index,)
    if len(parts) > ndim or not parts:
        raise Unsupported("an index of more axes than the array")
    text = []
    for part in parts:
        if type(part) is int:
            text.append(repr(part))
        elif type(part) is slice and all(v is None or type(v) is int
                                         for v in (part.start, part.stop, part.step)):
            text.append(":".join("" if v is None else repr(v)
                                 for v in (part.start, part.stop, part.step)))
        else:
            raise Unsupported("an index that is not basic")
    return ", ".join(text) + ("," if len(text) == 1 else "")


class _Value:
    """A value in the generated function: a local ``name``; ``shape`` None for a
    scalar; ``layout`` "C" or "F" (a transposed matrix); ``base``: the node whose
    memory an array view reads (for NumPy's syrk case)."""
    __slots__ = ["name", "shape", "layout", "base", "dtype"]

    def __init__(self, name, shape, layout="C", base=None, dtype="f8"):
        self.name, self.shape, self.layout, self.base, self.dtype = \
            name, shape, layout, base, dtype


_COMPARISONS = {np.greater: ">", np.less: "<", np.greater_equal: ">=",
                np.less_equal: "<=", np.equal: "==", np.not_equal: "!="}


def _kind_of(raw):
    """The non-elementwise steps this module knows, by the function a primitive calls."""
    from ..kernels import blas_threads
    table = {np.matmul: "product", np.dot: "product", np.sum: "sum", np.mean: "mean",
             np.reshape: "reshape", np.expand_dims: "reshape", np.squeeze: "reshape",
             np.transpose: "transpose", np.swapaxes: "transpose",
             np.broadcast_to: "broadcast_to", np.tensordot: "tensordot"}
    from ..numpy import indexing
    from ..trace import containers
    table[indexing.getitem.fun] = "getitem"
    table[indexing.untake.fun] = "untake"
    table[containers.container_untake.fun] = "container_untake"
    table[getattr(blas_threads, "matmul", np.matmul)] = "product"
    table[getattr(blas_threads, "dot", np.dot)] = "product"
    try:
        return table.get(raw)
    except TypeError:  # unhashable
        return None


def translate(rolled, guards, outputs, resolve, n_inputs):
    """The ``Program`` of a plan's optimized steps; raises ``Unsupported``."""
    if rolled.loops:
        raise Unsupported("a rolled loop")
    return _Translator(rolled.items, guards, outputs, resolve, n_inputs).program()


class _Translator:
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

    # -- the function ---------------------------------------------------------
    def program(self):
        params = []
        for item in self.items:
            if item.kind == "input":
                params.append(self.input(item))
            elif item.kind == "op":
                try:
                    self.step(item)
                except Unsupported as why:
                    name = getattr(getattr(item.fun, "fun", item.fun), "__name__", "?")
                    raise Unsupported(f"{why} (step %{item.index}, {name})") from None
            else:
                raise Unsupported(f"a {item.kind} step")
        self.flush()
        if len(params) != self.n_inputs:
            raise Unsupported("inputs missing from the plan")
        returned, results, inputs_returned = {}, [], {}
        for leaf in tree_leaves(self.outputs):
            if isinstance(leaf, Constant) or leaf.index in returned:
                continue
            value = self.values[leaf.index]
            if leaf.index in self.input_positions:
                inputs_returned[leaf.index] = self.input_positions[leaf.index]
                continue
            if isinstance(value, _Container):
                if any(slot is None for slot in value.slots):
                    raise Unsupported("a placeholder entry in the outputs")
                returned[leaf.index] = (list(range(len(results) + 1,
                                                   len(results) + 1 + len(value.slots))),
                                        value.kind)
                results.extend(value.slots)
                continue
            returned[leaf.index] = (len(results) + 1, _output_convert(leaf.value))
            results.append(value)
        failure = ", ".join(["1"] + [self.placeholder(v) for v in results])
        success = ", ".join(["0"] + [v.name for v in results])
        constants = [f"c{k}" for k in range(len(self.constants))]
        header = ["import math", "", "import numba", "import numpy as np", ""]
        if self.uses_vmath:
            from ..kernels import vmath
            header += ["from jitgrad.kernels import vmath  # " + vmath.fingerprint(), ""]
        if self.uses_pairwise:
            from ..kernels import pairwise
            header += ["from jitgrad.kernels import pairwise  # " + pairwise.fingerprint(), ""]
        header += ["", '@numba.njit(cache=True, error_model="numpy", nogil=True)',
                   f"def kernel({', '.join(params + constants)}):"]
        body = [line.replace("@FAIL@", f"return ({failure},)") for line in self.lines]
        source = "\n".join(header + body + [f"    return ({success},)", ""])
        program = Program(source, self.arg_types, self.constants, self.outputs, returned,
                          self.n_inputs, sum(1 for item in self.items if item.kind == "op"))
        program.inputs_returned = inputs_returned
        return program

    def placeholder(self, value):
        if value.shape is None:
            return "False" if value.dtype == "b1" else "0.0"
        return f"np.zeros({value.shape!r})"

    def input(self, node):
        position = node.args[0]
        self.input_positions[node.index] = position
        value = node.value
        name = f"a{position}"
        if type(value) is np.ndarray and value.dtype == np.float64 and value.ndim >= 1 \
                and value.size > 0:
            self.arg_types.append(("array", value.ndim))
            self.values[node.index] = _Value(name, value.shape, base=node.index)
        elif type(value) in (float, np.float64):
            self.arg_types.append(("float",))
            self.values[node.index] = _Value(name, None)
        else:
            raise Unsupported(f"an input of type {type(value).__name__}")
        self.check_guards(node)
        return name

    def constant_array(self, value):
        known = self.constant_values.get(id(value))
        if known is not None:
            return known
        array = np.ascontiguousarray(value)
        if array.dtype != np.float64 or array.size == 0:
            raise Unsupported("a constant array that is not float64")
        name = f"c{len(self.constants)}"
        self.constants.append(array)
        self.arg_types.append(("array", array.ndim))
        # The plan keeps a captured array's layout (graph.snapshot), which NumPy's
        # sums and products depend on: a copy of another layout is elementwise only.
        layout = "C" if value.flags.c_contiguous else "A"
        self.constant_values[id(value)] = _Value(name, array.shape, layout)
        self.keep.append(value)  # its id stays its own while translating
        return self.constant_values[id(value)]

    def index_constant(self, array):
        name = f"c{len(self.constants)}"
        self.constants.append(array)
        self.arg_types.append(("index",))
        return name

    def operand(self, operand):
        """A step's argument as a ``_Value`` (nodes, constant arrays) or a literal."""
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
        parents = dict(zip(node.parent_argnums, node.parents))
        return [(i, self.resolve(parents[i])) if i in parents else (i, Constant(arg))
                for i, arg in enumerate(node.args)]

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
        if any(isinstance(self.values.get(getattr(o, "index", None)), _Container)
               for _, o in self.arguments(node)):
            self.flush()
            self.container_add(node, array_body)
            return
        if array_body is not None and not array_body.startswith("reduce_") and \
                not node.kwargs:
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
        dtype = _scalar_dtype(node.value)
        name = f"v{node.index}"
        self.lines.append(f"    {name} = {body.format(*args)}")
        self.define(node, _Value(name, None, dtype=dtype))
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
        shape = node.value.shape
        if self.group and self.group[0][1] != shape:
            self.flush()
        if node.index in self.guards_by_node:
            raise Unsupported("a guard on an array")
        self.group.append((node, shape, body))
        self.define(node, _Value(f"v{node.index}", shape))

    def flush(self):
        """Write the pending elementwise group: one loop nest over its shape."""
        if not self.group:
            return
        from ..kernels.regions import used_positions
        group, self.group = self.group, []
        shape = group[0][1]
        members = {node.index for node, _, _ in group}
        size, ndim = math.prod(shape), len(shape)
        # Each step's arguments: None (unused), ("local", index), a literal, or a _Value.
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
                  if isinstance(a, _Value) and a.shape is not None]
        if any(len(a.shape) > ndim for a in arrays):
            raise Unsupported("an operand of more dimensions than the result")
        # One flat loop where every array read has the group's shape and is C-ordered.
        flat = all(a.shape == shape and a.layout == "C" for a in arrays)
        index = ["i"] if flat else [f"i{a}" for a in range(ndim)]
        pre, reads, loop_body, written = [], {}, [], []

        def array_read(value):
            if value.name not in reads:
                if flat:
                    pre.append(f"    f_{value.name} = {value.name}.reshape({size})")
                    reads[value.name] = f"f_{value.name}[i]"
                else:
                    offset = ndim - len(value.shape)
                    at = ["0" if n == 1 and shape[offset + k] != 1 else index[offset + k]
                          for k, n in enumerate(value.shape)]
                    reads[value.name] = f"{value.name}[{', '.join(at)}]"
            return reads[value.name]

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
                target = f"o{node.index}[i]" if flat else f"v{node.index}[{', '.join(index)}]"
                loop_body.append(f"{target} = t{node.index}")
        for number in written:
            self.lines.append(f"    v{number} = np.empty({shape!r})")
            if flat:
                self.lines.append(f"    o{number} = v{number}.reshape({size})")
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
        self.define(node, _Value(name, None, dtype="b1"))

    def array_operand(self, operand):
        value = self.operand(operand)
        if isinstance(value, str) or value.shape is None:
            raise Unsupported("a scalar where an array was expected")
        return value

    def flat(self, value):
        """A 1-D contiguous view of ``value``'s elements in C order."""
        n = math.prod(value.shape)
        if value.layout == "C":
            return f"{value.name}.reshape({n})"
        if value.layout == "F" and sum(1 for k in value.shape if k != 1) <= 1:
            return f"np.ascontiguousarray({value.name}).reshape({n})"  # one run
        raise Unsupported("a transposed or strided array read in C order")

    def c_order(self, value):
        """``value``'s elements in C order, 1-D, for uses where layout does not matter."""
        n = math.prod(value.shape)
        if value.layout == "C":
            return f"{value.name}.reshape({n})"
        return f"np.ascontiguousarray({value.name}).reshape({n})"

    def product(self, node):
        if node.kwargs or len(node.args) != 2:
            raise Unsupported("a product with options")
        a, b = (self.array_operand(o) for _, o in self.arguments(node))
        out = node.value
        self.define(node, self.matrix_product(
            f"v{node.index}", a, b, out.shape if type(out) is np.ndarray else ()))

    def matrix_product(self, name, a, b, out_shape):
        """``a @ b`` of 1-D or 2-D values in the BLAS routine NumPy picks (dot for vector
        by vector, gemv where one side is a vector, gemm otherwise), reshaped to
        ``out_shape``."""
        if not (1 <= len(a.shape) <= 2 and 1 <= len(b.shape) <= 2):
            raise Unsupported("a product of more than two dimensions")
        if "A" in (a.layout, b.layout):
            raise Unsupported("a product of a strided view (NumPy may not call BLAS)")
        if a.base is not None and a.base == b.base and len(a.shape) == len(b.shape) == 2:
            raise Unsupported("a product of a matrix with its own transpose (syrk)")
        rows = 1 if len(a.shape) == 1 else a.shape[0]
        columns = 1 if len(b.shape) == 1 else b.shape[1]
        if rows == 1 and columns == 1:
            expression = f"np.dot({self.flat(a)}, {self.flat(b)})"
            if out_shape == ():
                self.lines.append(f"    {name} = {expression}")
                return _Value(name, None)
            self.lines.append(f"    {name} = np.full({out_shape!r}, {expression})")
        elif columns == 1:
            self.lines.append(f"    {name} = np.dot({a.name}, {self.flat(b)})"
                              f".reshape({out_shape!r})")
        elif rows == 1:
            self.lines.append(f"    {name} = np.dot({self.flat(a)}, {b.name})"
                              f".reshape({out_shape!r})")
        else:
            self.lines.append(f"    {name} = np.dot({a.name}, {b.name})"
                              f".reshape({out_shape!r})")
        return _Value(name, out_shape)

    def tensordot(self, node):
        """NumPy's tensordot: both operands' axes moved and merged into matrices, one
        ``dot``, the result's axes split again."""
        args = self.arguments(node)
        options = dict(node.kwargs)
        if len(args) > 2:
            options["axes"] = args[2][1]
        axes = options.pop("axes", Constant(2))
        if options or not isinstance(axes, Constant):
            raise Unsupported("a tensordot with traced axes")
        a, b = (self.operand(o) for _, o in args[:2])
        out = node.value
        if type(out) is not np.ndarray or out.ndim == 0:
            raise Unsupported("a tensordot to a scalar")
        scalars = [v if isinstance(v, str) else v.name for v in (a, b)
                   if isinstance(v, str) or v.shape is None]
        if scalars:  # NumPy's dot multiplies by a scalar (axes 0), element by element
            if len(scalars) == 2:
                raise Unsupported("a tensordot of two scalars")
            array_first = not (isinstance(a, str) or a.shape is None)
            array = a if array_first else b
            n, name, flat = math.prod(out.shape), f"v{node.index}", f"f{node.index}"
            factors = (f"{flat}[i]", scalars[0]) if array_first else (scalars[0], f"{flat}[i]")
            self.lines += [f"    {flat} = np.ascontiguousarray({array.name}).reshape({n})",
                           f"    {name} = np.empty({n})",
                           f"    for i in range({n}):",
                           f"        {name}[i] = {factors[0]} * {factors[1]}",
                           f"    {name} = {name}.reshape({out.shape!r})"]
            self.define(node, _Value(name, out.shape))
            return
        axes = axes.value
        na, nb = len(a.shape), len(b.shape)
        if isinstance(axes, (int, np.integer)):
            axes_a, axes_b = list(range(na - int(axes), na)), list(range(int(axes)))
        else:
            axes_a, axes_b = ([int(x)] if isinstance(x, (int, np.integer)) else
                              [int(v) for v in x] for x in axes)
        axes_a, axes_b = [x % na for x in axes_a], [x % nb for x in axes_b]
        free_a = [k for k in range(na) if k not in axes_a]
        free_b = [k for k in range(nb) if k not in axes_b]
        inner = math.prod(a.shape[k] for k in axes_a)
        at = self.matrix_view(f"m{node.index}a", a, free_a + axes_a,
                              (math.prod(a.shape[k] for k in free_a), inner))
        bt = self.matrix_view(f"m{node.index}b", b, axes_b + free_b,
                              (inner, math.prod(b.shape[k] for k in free_b)))
        out_shape = tuple(a.shape[k] for k in free_a) + tuple(b.shape[k] for k in free_b)
        if out_shape == () or type(node.value) is not np.ndarray:
            raise Unsupported("a tensordot to a scalar")
        self.define(node, self.matrix_product(f"v{node.index}", at, bt, out_shape))

    def matrix_view(self, name, x, order, shape):
        """``x.transpose(order).reshape(shape)`` as NumPy makes it: a view where it can
        (the same array, or a transposed matrix), else a C-ordered copy."""
        if list(order) == list(range(len(x.shape))):
            if x.shape == shape:
                return x
            source = x.name if x.layout == "C" else f"np.ascontiguousarray({x.name})"
            self.lines.append(f"    {name} = {source}.reshape({shape!r})")
            return _Value(name, shape, "C", x.base)
        if list(order) == [1, 0] and shape == x.shape[::-1]:
            self.lines.append(f"    {name} = {x.name}.T")
            return _Value(name, shape, _TRANSPOSED[x.layout], x.base)
        self.lines.append(f"    {name} = np.ascontiguousarray({x.name}.transpose("
                          f"{tuple(order)!r})).reshape({shape!r})")
        return _Value(name, shape, "C", x.base)

    def reduction(self, node, kind):
        args = self.arguments(node)
        if not args or isinstance(args[0][1], Constant):
            raise Unsupported("a reduction of a constant")
        if any(not isinstance(o, Constant) for _, o in args[1:]):
            raise Unsupported("a reduction with traced options")
        options = dict(zip(("axis", "dtype", "out", "keepdims"), (o.value for _, o in args[1:])))
        options.update(node.kwargs)
        if set(options) - {"axis", "keepdims", "dtype", "out"} or \
                options.get("dtype") is not None or options.get("out") is not None:
            raise Unsupported("a reduction with options")
        x = self.array_operand(args[0][1])
        ndim = len(x.shape)
        axis = options.get("axis")
        axes = tuple(range(ndim)) if axis is None else \
            tuple(sorted(a % ndim for a in (axis if isinstance(axis, tuple) else (axis,))))
        count = math.prod(x.shape[a] for a in axes)
        # NumPy drops axes of length 1, then sums a contiguous run pairwise, and rows
        # into the remaining axes when the reduced axes come first.
        reduced = [a for a in axes if x.shape[a] != 1]
        kept = [a for a in range(ndim) if a not in axes and x.shape[a] != 1]
        R = math.prod(x.shape[a] for a in reduced)
        K = math.prod(x.shape[a] for a in kept)
        name = f"v{node.index}"
        out = node.value
        out_shape = out.shape if type(out) is np.ndarray else None
        scale = f" / {float(count)!r}" if kind == "mean" else ""
        if x.layout != "C" and len(reduced) + len(kept) > 1:
            raise Unsupported("a sum over a transposed matrix")
        if K == 1:
            self.uses_pairwise = True
            from ..kernels.pairwise import pieces
            starts, order = pieces(R * K)
            s, o = self.index_constant(starts), self.index_constant(order)
            total = f"pairwise.pairwise_sum({self.flat(x)}, {s}, {o}){scale}"
            if out_shape is None or out_shape == ():
                self.lines.append(f"    {name} = {total}")
                if out_shape == ():
                    raise Unsupported("a 0-d array result")
                self.define(node, _Value(name, None))
                return
            self.lines.append(f"    {name} = np.full({out_shape!r}, {total})")
        elif R == 1:
            self.lines.append(f"    {name} = ((0.0 + {self.c_order(x)}){scale})"
                              f".reshape({out_shape!r})")
        elif max(reduced) < min(kept):  # rows added into the kept axes, in order
            self.lines += [f"    r{node.index} = np.zeros({K})",
                           f"    x{node.index} = {self.flat(x)}.reshape(({R}, {K}))",
                           f"    for r in range({R}):",
                           f"        for k in range({K}):",
                           f"            r{node.index}[k] += x{node.index}[r, k]",
                           f"    {name} = (r{node.index}{scale}).reshape({out_shape!r})"]
        elif min(reduced) > max(kept):  # each contiguous run pairwise
            self.uses_pairwise = True
            from ..kernels.pairwise import pieces
            starts, order = pieces(R)
            s, o = self.index_constant(starts), self.index_constant(order)
            self.lines += [f"    r{node.index} = np.empty({K})",
                           f"    x{node.index} = {self.flat(x)}.reshape(({K}, {R}))",
                           f"    for k in range({K}):",
                           f"        r{node.index}[k] = pairwise.pairwise_sum("
                           f"x{node.index}[k], {s}, {o}){scale}",
                           f"    {name} = r{node.index}.reshape({out_shape!r})"]
        else:
            raise Unsupported("a sum over interleaved axes")
        self.define(node, _Value(name, out_shape))

    def reshape(self, node):
        x = self.operand(self.arguments(node)[0][1])
        if node.kwargs.get("order", "C") != "C" or \
                (len(node.args) > 2 and getattr(node.fun, "fun", None) is np.reshape
                 and node.args[2] != "C"):
            raise Unsupported("a reshape in another order")
        out = node.value
        if type(out) is not np.ndarray:
            raise Unsupported("a reshape to a scalar")
        name = f"v{node.index}"
        if isinstance(x, str) or x.shape is None:  # a scalar as an array (expand_dims)
            if out.ndim == 0:
                self.define(node, x if not isinstance(x, str) else _Value(x, None))
                return
            self.lines.append(f"    {name} = np.full({out.shape!r}, "
                              f"{x if isinstance(x, str) else x.name})")
            self.define(node, _Value(name, out.shape))
            return
        if out.ndim == 0:
            self.lines.append(f"    {name} = {self.c_order(x)}[0]")
            self.define(node, _Value(name, None))
            return
        # NumPy copies a view it cannot reshape, in C order: so does ascontiguousarray.
        source = x.name if x.layout == "C" else f"np.ascontiguousarray({x.name})"
        self.lines.append(f"    {name} = {source}.reshape({out.shape!r})")
        self.define(node, _Value(name, out.shape, base=x.base))

    def transpose(self, node, raw):
        args = self.arguments(node)
        x = self.array_operand(args[0][1])
        rest = [o.value if isinstance(o, Constant) else None for _, o in args[1:]]
        ndim = len(x.shape)
        if raw is np.swapaxes:
            if len(rest) != 2 or node.kwargs:
                raise Unsupported("a swapaxes with traced axes")
            order = list(range(ndim))
            i, j = (int(r) % ndim for r in rest)
            order[i], order[j] = order[j], order[i]
        else:
            axes = node.kwargs.get("axes", rest[0] if rest else None)
            order = list(range(ndim))[::-1] if axes is None else [int(k) % ndim for k in axes]
        name = f"v{node.index}"
        shape = tuple(x.shape[k] for k in order)
        if order == list(range(ndim)):
            self.define(node, x)
        elif order == [1, 0]:
            self.lines.append(f"    {name} = {x.name}.T")
            self.define(node, _Value(name, shape, _TRANSPOSED[x.layout], x.base))
        else:
            self.lines.append(f"    {name} = {x.name}.transpose({tuple(order)!r})")
            self.define(node, _Value(name, shape, "A", x.base))

    def broadcast_to(self, node):
        """A copy of the broadcast values, marked strided ("A"): NumPy's sums and
        products treat a zero-stride view differently from a contiguous array."""
        x = self.operand(self.arguments(node)[0][1])
        out = node.value
        if type(out) is not np.ndarray or out.ndim == 0 or node.kwargs:
            raise Unsupported("a broadcast to a scalar")
        name = f"v{node.index}"
        if isinstance(x, str) or x.shape is None:
            self.lines.append(f"    {name} = np.full({out.shape!r}, "
                              f"{x if isinstance(x, str) else x.name})")
        else:
            ndim, offset = out.ndim, out.ndim - len(x.shape)
            index = [f"i{a}" for a in range(ndim)]
            at = ["0" if n == 1 and out.shape[offset + k] != 1 else index[offset + k]
                  for k, n in enumerate(x.shape)]
            self.lines.append(f"    {name} = np.empty({out.shape!r})")
            for depth, (i, n) in enumerate(zip(index, out.shape)):
                self.lines.append("    " * (depth + 1) + f"for {i} in range({n}):")
            self.lines.append("    " * (ndim + 1) +
                              f"{name}[{', '.join(index)}] = {x.name}[{', '.join(at)}]")
        self.define(node, _Value(name, out.shape, "A"))

    def getitem(self, node):
        args = self.arguments(node)
        x = self.array_operand(args[0][1])
        index = _basic_index(args[1][1], len(x.shape))
        name = f"v{node.index}"
        self.lines.append(f"    {name} = {x.name}[{index}]")
        out = node.value
        if type(out) is np.ndarray and out.ndim > 0:
            self.define(node, _Value(name, out.shape, "A", x.base))
        else:
            self.define(node, _Value(name, None, dtype=_scalar_dtype(out)))

    def untake(self, node):
        args = self.arguments(node)
        x = self.operand(args[0][1])
        vs = args[2][1].value if isinstance(args[2][1], Constant) else None
        shape = getattr(vs, "shape", None)
        if isinstance(x, str) or not isinstance(shape, tuple) or not shape or \
                np.dtype(getattr(vs, "dtype", None)) != np.float64:
            raise Unsupported("an untake into another space")
        index = _basic_index(args[1][1], len(shape))
        name = f"v{node.index}"
        self.lines.append(f"    {name} = np.zeros({shape!r})")
        self.lines.append(f"    {name}[{index}] = {x.name}")
        self.define(node, _Value(name, shape))

    def container_untake(self, node):
        """A cotangent container: ``x`` at ``idx``, the others placeholder zeros (None
        here: sums skip them)."""
        from ..trace.containers import SequenceVSpace
        args = self.arguments(node)
        x = self.operand(args[0][1])
        idx, vs = (o.value if isinstance(o, Constant) else None for _, o in args[1:3])
        if not isinstance(vs, SequenceVSpace) or type(idx) is not int or \
                isinstance(x, str) or x.shape is None or \
                vs.container_type not in (tuple, list):
            raise Unsupported("a cotangent container other than a tuple or list of arrays")
        slots = [None] * len(vs.shape)
        slots[idx] = x
        if tuple(getattr(vs.shape[idx], "shape", ())) != x.shape:
            raise Unsupported("a cotangent entry of another shape")
        self.define(node, _Container(slots, vs.container_type))

    def container_add(self, node, body):
        """A sum of cotangent containers, entry by entry, placeholders skipped."""
        if body != "({1} + {2})" or len(node.args) != 3:
            raise Unsupported("a container step other than a cotangent sum")
        a, b = (self.operand(o) for _, o in self.arguments(node)[1:])
        if not (isinstance(a, _Container) and isinstance(b, _Container)) or \
                len(a.slots) != len(b.slots) or a.kind is not b.kind:
            raise Unsupported("a sum of a container with a constant")
        slots = []
        for k, (x, y) in enumerate(zip(a.slots, b.slots)):
            if x is None or y is None:
                slots.append(y if x is None else x)
                continue
            if x.shape != y.shape or x.shape is None:
                raise Unsupported("a container sum of entries of other shapes")
            name = f"v{node.index}_{k}"
            self.lines.append(f"    {name} = {x.name} + {y.name}")
            slots.append(_Value(name, x.shape))
        self.define(node, _Container(slots, a.kind))

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
            self.lines.append("        @FAIL@")


def _scalar_dtype(value):
    if type(value) in (bool, np.bool_):
        return "b1"
    if type(value) in (float, np.float64):
        return "f8"
    raise Unsupported(f"a scalar of type {type(value).__name__}")


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
