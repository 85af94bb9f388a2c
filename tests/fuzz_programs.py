"""Random jitgrad programs as data, for the jit fuzzer (``tests/test_jit_fuzz.py``).

A program is a list of statements over numbered values: values ``0..n_inputs-1`` are
the arguments ``x0, x1, ...``; statement ``k`` defines value ``n_inputs + k``, named
``v{n_inputs + k}``. A statement is a few lines of Python source with placeholders
(``{0}``, ``{1}`` for its operands, ``{out}`` for its own name), the operands it
reads, and the shape of the value it defines. Shapes are tracked while drawing, so
every drawn program runs; Python decisions on values (``if``, ``while``, ``int()``
indices) never change a shape. The function returns every value that no later
statement reads. ``render`` writes the program as the source of ``def f(x0, ...)``,
which is what runs, so a failure prints exactly the code that failed.

Hypothesis draws the program with one ``draw`` per choice; operands are counted back
from the newest value, so shrinking turns a program into a chain of simple steps.

Constructs that hit a known jit bug are drawn only when its ``KNOWN_BUG_*`` flag is
False (each bug has a reproducer in ``tests/test_jit_fuzz_findings.py``): set a flag
to False once its bug is fixed, and the fuzzer covers the construct again.
"""
import math
from dataclasses import dataclass, field, replace

import numpy
from hypothesis import strategies as st

# Fixed (kept for a quick switch back): the jit merged op(x, 0.0) and op(x, -0.0),
# its common-subexpression keys comparing constants with ==. True: no -0.0 constants.
KNOWN_BUG_SIGNED_ZERO_CONSTANTS = False
# Fixed: a guard on float(x) compared with ==, so a replay at 0.0 passed a guard that
# saw -0.0. True: float() results are used sign-blind (float(s) + 0.0), never in copysign.
KNOWN_BUG_FLOAT_GUARD_SIGNED_ZERO = False
# Fixed: getval(x) under the jit was a constant of the plan. True: getval is not drawn.
KNOWN_BUG_GETVAL_BAKES = False
# Fixed: the gradient of arctan2(y, x) divided by x*x + y*y, which underflows to 0
# for tiny arguments (1e-300). True: arctan2 never gets the constant 1e-300.
KNOWN_BUG_ARCTAN2_GRAD_UNDERFLOW = False
# Fixed: a ** b on NumPy float64 scalars, and its gradient, computed with the np.power
# ufunc (and np.log) when traced, with scalar code (np.float64.__pow__, math.log) in
# eager; they differ by an ulp in about 5% of cases. True: powers of scalars are not
# drawn.
KNOWN_BUG_SCALAR_POWER_ROUNDING = False
# Fixed: traced np.take(a, idx, axis=k) with k > 0 was a[:, idx], laid out in memory
# unlike np.take's result (a sum over it added in another order). True: such takes are
# written a[:, idx].
KNOWN_BUG_TAKE_LAYOUT = False
# Fixed: traced np.sort was a gather by np.argsort, C-ordered where np.sort keeps the
# input's layout, with tied 0.0 and -0.0 in another order. True: np.sort is not drawn.
KNOWN_BUG_SORT_BY_ARGSORT = False
# Fixed: the traced NumPy scalar of a full reduction could not be indexed (s[s > 0]).
# True: masks index arrays only.
KNOWN_BUG_SCALAR_INDEXING = False
# Fixed: a cotangent the jit folded to a constant had its container's placeholder zeros
# (recognised by identity) snapshot-copied into the plan, which then added them
# (0.0 + -0.0 = 0.0, a 0-d array + a NumPy scalar = a NumPy scalar). True: the gradient
# check ignores the sign of zeros and 0-d array vs scalar when there are several
# arguments.
KNOWN_BUG_CONTAINER_PLACEHOLDER_COPIED = False
# Fixed: a guard on float(x) took every NaN for the same value, so code looking at its
# sign (math.copysign) replayed a stale path. True: copysign sees no NaN.
KNOWN_BUG_FLOAT_GUARD_NAN_SIGN = False
# Fixed: a traced view (w = a[1:]) did not see later writes into its base (a[...] += ...).
# True: views are not drawn.
KNOWN_BUG_VIEW_SEES_BASE_WRITES = False
# Fixed: arrays the plan keeps (captured from the enclosing scope, or folded: a
# cotangent that depends on no input) were C-ordered copies, whatever their layout was
# when traced: a matmul or sum over a reversed one then rounded differently on replay
# (jitgrad/jit/graph.py, snapshot keeps the strides now). True: the fuzzer's loss takes
# its weights as arguments, so that its cotangents are computed, not kept.
KNOWN_BUG_SNAPSHOT_LAYOUT = False
# Fixed: eager's backward pass added a node's third and later cotangents in place,
# keeping the first sum's layout; traced, every sum is x + y, laid out by NumPy from
# both: with an F-ordered input the layouts differed and sums over axes after them
# rounded differently (jitgrad/trace/vjp.py adds in place only where x + y would keep
# the layout). True: gradients with inputs not C-ordered are compared to rtol 1e-12,
# not bitwise.
KNOWN_BUG_COTANGENT_SUM_LAYOUT = False
# Fixed: under jit(grad), an array the jit traces but grad does not (np.copy of
# np.floor(x), a view of one) is a box of the jit's level; a gradient-level node recorded
# that box object as its operand, and writing into the array in place rebound the
# object, so the node's operand changed (trace/core.py records older levels' boxes as
# snapshots now). True: arrays written in place (assign, view) are made from values
# grad traces, or by np.zeros.
KNOWN_BUG_OLDER_LEVEL_BOX_REBOUND = False

MAX_NDIM = 3
MAX_SIZE = 120
# Some arrays have more than a few elements: NumPy sums those pairwise, in memory
# order, so a result laid out differently from NumPy's shows in the last bits.
INPUT_SHAPES = [(), (1,), (3,), (4,), (2, 3), (3, 1), (1, 4), (3, 4), (2, 1, 3), (2, 3, 2),
                (5, 7), (17,), (3, 5, 4)]
LAYOUTS = ["C", "F", "reversed", "strided"]
# Input values that are not ordinary: signed zeros, NaN, infinities, extremes.
ZEROED = 3
SPECIAL_VALUES = [0.0, -0.0, math.nan, math.inf, -math.inf, 1e300, -1e-310]


@dataclass(frozen=True)
class Stmt:
    kind: str            # the kind of statement ("unary", "assign", "if", ...)
    args: tuple          # operand value numbers
    lines: tuple         # source lines, with {0}, {1}, ... and {out}
    shape: tuple         # the shape of the value it defines
    # Why finite differences cannot check this statement's gradient ("" when they can).
    no_fd: str = ""
    constant_slot: str = ""  # for a one-constant statement: its line with "{c}" for it
    constant: float = 0.0    # and that constant


@dataclass(frozen=True)
class Program:
    inputs: tuple        # (shape, kind, layout) per argument
    stmts: tuple
    seed: int            # input values and loss weights are drawn from it
    # per input: how many special values it holds (ZEROED: about half of it is ±0.0)
    specials: tuple = field(default=())
    fuse_small: bool = False  # fuse arrays of any size (JITGRAD_FUSE_MIN_SIZE=1)

    @property
    def n_inputs(self):
        return len(self.inputs)

    def name(self, value):
        return f"x{value}" if value < self.n_inputs else f"v{value}"

    def shape(self, value):
        if value < self.n_inputs:
            return self.inputs[value][0]
        return self.stmts[value - self.n_inputs].shape

    def outputs(self):
        """Values no statement reads (inputs excluded), in order."""
        used = {a for s in self.stmts for a in s.args}
        return [v for v in range(self.n_inputs, self.n_inputs + len(self.stmts))
                if v not in used]

    @property
    def no_fd(self):
        return next((s.no_fd for s in self.stmts if s.no_fd), "")

    def __repr__(self):  # what hypothesis prints for a falsifying example
        inputs = ", ".join(f"x{i}: {kind} {shape} {layout}"
                           for i, (shape, kind, layout) in enumerate(self.inputs))
        return (f"<program ({inputs}; seed {self.seed}, specials {self.specials}, "
                f"fuse_small {self.fuse_small})>\n{render(self)}")


def render(program):
    """The program as Python source of ``def f(x0, x1, ...)`` (``np`` is jitgrad.numpy)."""
    params = ", ".join(program.name(i) for i in range(program.n_inputs))
    lines = [f"def f({params}):"]
    for k, stmt in enumerate(program.stmts):
        names = [program.name(a) for a in stmt.args]
        out = program.name(program.n_inputs + k)
        for line in stmt.lines:
            lines.append("    " + line.format(*names, out=out))
    outputs = [program.name(v) for v in program.outputs()]
    lines.append(f"    return ({', '.join(outputs)},)")
    return "\n".join(lines) + "\n"


def compile_program(program):
    """The function ``render(program)`` defines."""
    import jitgrad.numpy as np
    from jitgrad.tracer import getval
    namespace = {"np": np, "math": math, "getval": getval}
    source = render(program)
    exec(compile(source, "<fuzz program>", "exec"), namespace)
    f = namespace["f"]
    f.source = source
    return f


# -- inputs ----------------------------------------------------------------------

def make_inputs(program, variant):
    """The arguments of call ``variant``: 0 and 1 are independent draws, 2 is the
    negation of 0 (it flips sign tests, signed zeros included), 3 is 0 again (back
    to the first path)."""
    if variant == 2:
        return [_negated(x) for x in make_inputs(program, 0)]
    rng = numpy.random.RandomState((program.seed + 7919 * (variant % 3)) % 2 ** 32)
    args = []
    for (shape, kind, layout), n_special in zip(program.inputs, program.specials):
        values = rng.randn(*shape) if shape else numpy.array(rng.randn())
        flat = values.reshape(-1)
        if n_special == ZEROED:  # ties, signed zeros of both signs
            flat[rng.rand(flat.size) < 0.25] = 0.0
            flat[rng.rand(flat.size) < 0.25] = -0.0
            n_special = 0
        for _ in range(n_special):
            flat[rng.randint(flat.size)] = SPECIAL_VALUES[rng.randint(len(SPECIAL_VALUES))]
        args.append(_as_kind(flat.reshape(shape), kind, layout))
    return args


def _as_kind(values, kind, layout):
    if kind == "float64":
        return numpy.float64(values[()])
    if layout == "F":
        return numpy.asfortranarray(values)
    if layout == "reversed" and values.ndim:  # same values, negative strides
        return numpy.ascontiguousarray(values[::-1])[::-1]
    if layout == "strided" and values.ndim:  # same values, every other element
        wide = numpy.zeros(values.shape[:-1] + (2 * values.shape[-1],))
        wide[..., ::2] = values
        return wide[..., ::2]
    return numpy.array(values)


def _negated(x):
    if isinstance(x, numpy.ndarray):
        out = x.copy(order="K")
        if x.ndim and x.strides[0] < 0:
            out = numpy.ascontiguousarray(x[::-1])[::-1]
        out[...] = -x
        return out
    return -x


def loss_weights(program):
    """Fixed weights for the loss sum(out_i * w_i), one per output."""
    rng = numpy.random.RandomState((program.seed + 1) % 2 ** 32)
    return [rng.randn(*program.shape(v)) if program.shape(v) else float(rng.randn())
            for v in program.outputs()]


def is_finite_input(args):
    return all(numpy.all(numpy.isfinite(a)) for a in args)


# -- drawing ---------------------------------------------------------------------

def literal(c):
    if math.isnan(c):
        return "-np.nan" if math.copysign(1.0, c) < 0 else "np.nan"
    if math.isinf(c):
        return "np.inf" if c > 0 else "-np.inf"
    return repr(c)


def constants(operation=None):
    """Constants for arithmetic; zeros weigh more (signed zeros are easy to get wrong)."""
    values = zero_constants() * 3 + [1.0, -1.0, 0.5, 2.0, 3.0, 1e-300, 1e300, math.nan,
                                     math.inf, -math.inf]
    if operation == "arctan2" and KNOWN_BUG_ARCTAN2_GRAD_UNDERFLOW:
        values.remove(1e-300)
    return values


def zero_constants():
    return [0.0] if KNOWN_BUG_SIGNED_ZERO_CONSTANTS else [0.0, -0.0]


UNARY = {
    "negative": "-{0}", "abs": "np.abs({0})", "sin": "np.sin({0})", "cos": "np.cos({0})",
    "tanh": "np.tanh({0})", "exp": "np.exp({0})", "log": "np.log({0})",
    "sqrt": "np.sqrt({0})", "square": "np.square({0})", "reciprocal": "1.0 / {0}",
    "pow2": "{0} ** 2", "pow3": "{0} ** 3", "arctan": "np.arctan({0})",
    "expm1": "np.expm1({0})", "log1p": "np.log1p({0})", "sinh": "np.sinh({0})",
    "cosh": "np.cosh({0})", "cbrt": "np.cbrt({0})", "sign": "np.sign({0})",
    "floor": "np.floor({0})", "fabs": "np.fabs({0})", "arcsinh": "np.arcsinh({0})",
    "relu": "np.maximum({0}, {z})", "finite": "np.where(np.isfinite({0}), {0}, 0.0)",
    "nan_to_num": "np.nan_to_num({0})", "clip": "np.clip({0}, -1.0, 1.0)",
    "half": "0.5 * {0}", "sum_self": "{0} + {0}",
}
BINARY = {
    "add": "{0} + {1}", "subtract": "{0} - {1}", "multiply": "{0} * {1}",
    "divide": "{0} / {1}", "maximum": "np.maximum({0}, {1})",
    "minimum": "np.minimum({0}, {1})", "fmax": "np.fmax({0}, {1})",
    "fmin": "np.fmin({0}, {1})", "hypot": "np.hypot({0}, {1})",
    "arctan2": "np.arctan2({0}, {1})", "power": "np.abs({0}) ** {1}",
    "mod": "np.mod({0}, {1})", "fmod": "np.fmod({0}, {1})",
    "copysign": "np.copysign({0}, {1})", "logaddexp": "np.logaddexp({0}, {1})",
    "where": "np.where({0} > {1}, {0}, {1})",
}
REDUCTIONS = ["sum", "mean", "max", "min", "prod", "var"]
BRANCH_BODIES = ["np.sin({0})", "{0} * 2.0", "{0} - 1.0", "np.tanh({0}) * 0.5", "-{0}",
                 "np.abs({0})", "{0} + np.random.rand()", "{0} * {0}", "np.maximum({0}, {z})"]
LOOP_BODIES = ["np.tanh({out}) - 0.25", "{out} * 0.5", "{out} - np.mean({out})",
               "{out} * {out} - 1.0", "np.sin({out}) + np.random.randn()"]


BAKES = "float()/getval into arithmetic: no derivative by design"


EXTREME = "a constant of extreme size: functions vary on scales no step can follow"


def noting_extremes(stmt):
    """``stmt``, marked when a constant of extreme size (1e300, 1e-300) appears in it."""
    if stmt.no_fd in ("", EXTREME):
        extreme = any("e+300" in line or "e-300" in line for line in stmt.lines)
        stmt = replace(stmt, no_fd=EXTREME if extreme else "")
    return stmt


def scalar_power(template, shape):
    """Whether ``template`` is a power whose operand {0}, of ``shape``, may be a NumPy
    scalar (see KNOWN_BUG_SCALAR_POWER_ROUNDING)."""
    return KNOWN_BUG_SCALAR_POWER_ROUNDING and shape == () and "**" in template


# Statements whose value is traced at the level of their first operand only (the rest
# steers: indices, conditions, numbers taken out by float() or getval).
_FIRST_OPERAND_KINDS = {"gather", "int_index", "roll", "float_scale", "getval", "mask",
                        "while", "view", "assign"}


def traced_by_grad(stmt, traced):
    """Whether grad(loss, all inputs) traces the value ``stmt`` defines (``traced[v]``
    for the values before it): jitgrad.numpy's functions of a traced value are traced,
    but not floor and sign (no derivative), and what is made by np.zeros is a constant
    of the gradient's level."""
    if stmt.kind == "unary" and ("np.floor(" in stmt.lines[0] or "np.sign(" in stmt.lines[0]):
        return False
    if stmt.kind == "assign" and stmt.lines[0].startswith("{out} = np.zeros"):
        return True
    if stmt.kind in _FIRST_OPERAND_KINDS:
        return traced[stmt.args[0]]
    if stmt.kind == "if":
        return traced[stmt.args[1]]
    return any(traced[a] for a in stmt.args)


def fits(shape):
    return len(shape) <= MAX_NDIM and math.prod(shape) <= MAX_SIZE


def broadcast(*shapes):
    """The broadcast shape, or None when there is none or it is too big."""
    try:
        shape = numpy.broadcast_shapes(*shapes)
    except ValueError:
        return None
    return shape if fits(shape) else None


class Drawer:
    """Draws statements for a growing program; ``shapes[v]`` is value v's shape."""

    def __init__(self, draw, shapes, stmts, floats):
        self.draw = draw
        self.shapes = shapes
        self.stmts = stmts
        # float() of a value being differentiated is an error under grad (as under
        # autograd), and float() or getval fed into arithmetic hides a dependence from
        # the gradient: only some programs use them, so that most get their gradient
        # checked, against finite differences too.
        self.floats = floats
        self.traced = [True] * len(shapes)  # traced_by_grad, per value

    def pick(self, predicate=lambda shape: True, traced_only=False):
        """A value whose shape satisfies ``predicate`` (and that grad traces, with
        ``traced_only``), counted back from the newest (so a shrunk program is a chain)."""
        candidates = [v for v, s in enumerate(self.shapes)
                      if predicate(s) and (self.traced[v] or not traced_only)]
        if not candidates:
            return None
        back = self.draw(st.integers(0, len(candidates) - 1))
        return candidates[len(candidates) - 1 - back]

    def choice(self, options):
        return self.draw(st.sampled_from(options))

    def integer(self, lo, hi):
        return self.draw(st.integers(lo, hi))

    def const(self):
        return literal(self.choice(constants()))

    # Each returns a Stmt, or None when no operand fits (another kind is drawn then).
    def unary(self):
        a = self.pick()
        name = self.choice(sorted(UNARY))
        z = literal(self.choice(zero_constants()))
        if scalar_power(UNARY[name], self.shapes[a]):
            return None
        text = UNARY[name].replace("{z}", z)
        return Stmt("unary", (a,), ("{out} = " + text,), self.shapes[a])

    def binary(self):
        a = self.pick()
        b = self.pick(lambda s: broadcast(self.shapes[a], s) is not None)
        name = self.choice(sorted(BINARY))
        shape = broadcast(self.shapes[a], self.shapes[b])
        if scalar_power(BINARY[name], self.shapes[a]):
            return None
        return Stmt("binary", (a, b), ("{out} = " + BINARY[name],), shape)

    def const_binary(self):
        a = self.pick()
        name = self.choice(["add", "subtract", "multiply", "divide", "maximum", "minimum",
                            "power", "mod", "copysign", "arctan2", "fmax"])
        template = BINARY[name]
        if scalar_power(template, self.shapes[a]):
            return None
        if self.draw(st.booleans()):
            slot = "{out} = " + template.format("{0}", "{c}")
        else:
            slot = "{out} = " + template.format("{c}", "{0}")
        c = self.choice(constants(name))
        return Stmt("const", (a,), (slot.replace("{c}", literal(c)),), self.shapes[a],
                    constant_slot=slot, constant=c)

    def repeat(self):
        """An earlier simple statement again, on the same operands, sometimes with
        another constant: the jit's common-subexpression merging must tell them apart."""
        kinds = ("const",) if self.draw(st.booleans()) else (
            "unary", "binary", "const", "reduce", "reshape", "take")
        earlier = [s for s in self.stmts if s.kind in kinds]
        if not earlier:
            return None
        stmt = earlier[len(earlier) - 1 - self.integer(0, len(earlier) - 1)]
        how = self.choice(["negated", "same", "other", "negated"]) if stmt.constant_slot else "same"
        if how == "same":
            return stmt
        c = -stmt.constant if how == "negated" else self.choice(
            constants("arctan2" if "arctan2" in stmt.constant_slot else None))
        if KNOWN_BUG_SIGNED_ZERO_CONSTANTS and c == 0.0:
            c = 0.0
        return replace(stmt, lines=(stmt.constant_slot.replace("{c}", literal(c)),),
                       constant=c)

    def where(self):
        a = self.pick()
        b = self.pick(lambda s: broadcast(self.shapes[a], s) is not None)
        c = self.const()
        return Stmt("where", (a, b), (f"{{out}} = np.where({{0}} > {c}, {{0}}, {{1}})",),
                    broadcast(self.shapes[a], self.shapes[b]))

    def reduce(self):
        a = self.pick()
        shape = self.shapes[a]
        name = self.choice(REDUCTIONS)
        ndim = len(shape)
        axes = [None] + list(range(ndim)) + [-1] * (ndim > 0)
        if ndim >= 2:
            axes.append((0, ndim - 1))
        axis = self.choice(axes)
        keepdims = self.draw(st.booleans())
        if axis is None:
            reduced = tuple(range(ndim))
        else:
            reduced = tuple(x % ndim for x in (axis if isinstance(axis, tuple) else (axis,)))
        out = tuple((1 if keepdims else None) if i in reduced else n
                    for i, n in enumerate(shape))
        out = tuple(n for n in out if n is not None)
        kw = []
        if axis is not None:
            kw.append(f"axis={axis!r}")
        if keepdims:
            kw.append("keepdims=True")
        if self.draw(st.booleans()) and name != "var":
            text = f"{{0}}.{name}({', '.join(kw)})"
        else:
            text = f"np.{name}({', '.join(['{0}'] + kw)})"
        return Stmt("reduce", (a,), ("{out} = " + text,), out)

    def reshape(self):
        a = self.pick(lambda s: len(s) >= 1)
        if a is None:
            return None
        shape = self.shapes[a]
        ndim = len(shape)
        options = [("{0}[::-1]", (shape[0],) + shape[1:])]
        if ndim >= 2:
            options += [("{0}.T", shape[::-1]), ("{0}[:, ::-1]", shape),
                        ("np.swapaxes({0}, 0, -1)", (shape[-1],) + shape[1:-1] + (shape[0],))]
        if ndim < MAX_NDIM:
            options += [("{0}[None]", (1,) + shape), ("{0}[..., None]", shape + (1,))]
        size = math.prod(shape)
        options.append(("{0}.reshape(-1)", (size,)))
        for first in (2, 3, 4):
            if size % first == 0 and size // first > 1:
                options.append((f"np.reshape({{0}}, ({first}, -1))", (first, size // first)))
        if 1 in shape:
            options.append(("np.squeeze({0})", tuple(n for n in shape if n != 1)))
        if shape[0] >= 2:
            options += [("{0}[1:]", (shape[0] - 1,) + shape[1:]),
                        ("{0}[::2]", ((shape[0] + 1) // 2,) + shape[1:]),
                        ("{0}[-1]", shape[1:]), ("{0}[:-1][::-1]", (shape[0] - 1,) + shape[1:])]
        if ndim >= 2 and shape[-1] >= 2:
            options.append(("{0}[..., 1:]", shape[:-1] + (shape[-1] - 1,)))
            options.append(("{0}[:, 0]", shape[:1] + shape[2:]))
        template, out = self.choice(options)
        return Stmt("reshape", (a,), ("{out} = " + template,), out)

    def take(self):
        a = self.pick(lambda s: len(s) >= 1)
        if a is None:
            return None
        shape = self.shapes[a]
        axis = self.integer(0, len(shape) - 1)
        n = shape[axis]
        count = self.integer(1, 4)
        idx = [self.integer(-n, n - 1) for _ in range(count)]  # negatives and repeats
        out = shape[:axis] + (count,) + shape[axis + 1:]
        if math.prod(out) > MAX_SIZE:
            return None
        if self.draw(st.booleans()) and not KNOWN_BUG_TAKE_LAYOUT:
            text = f"np.take({{0}}, {idx}, axis={axis})"
        else:
            text = "{0}[" + ":, " * axis + f"{idx}]"
        return Stmt("take", (a,), ("{out} = " + text,), out)

    def gather(self):
        """Indices computed from values (argmax, argsort): gathers the jit must not bake."""
        a = self.pick(lambda s: len(s) >= 1)
        if a is None:
            return None
        b = self.pick()
        n = self.shapes[a][0]
        size_b = math.prod(self.shapes[b])
        if self.draw(st.booleans()) and size_b * math.prod(self.shapes[a][1:]) <= MAX_SIZE:
            return Stmt("gather", (a, b), (f"{{out}} = {{0}}[np.argsort({{1}}, axis=None) % {n}]",),
                        (size_b,) + self.shapes[a][1:])
        return Stmt("gather", (a, b), (f"{{out}} = {{0}}[np.argmax({{1}}) % {n}]",),
                    self.shapes[a][1:])

    def mask(self):
        a = self.pick(lambda s: len(s) >= 1 or not KNOWN_BUG_SCALAR_INDEXING)
        if a is None:
            return None
        b = self.pick(lambda s: s == self.shapes[a])
        c = literal(self.choice([0.0, 0.5, -0.5]))
        name = self.choice(["sum", "mean", "sum"])
        return Stmt("mask", (a, b), (f"{{out}} = np.{name}({{0}}[{{1}} > {c}])",), ())

    def matmul(self):
        a = self.pick(lambda s: 1 <= len(s) <= 2)
        if a is None:
            return None
        sa = self.shapes[a]
        b = self.pick(lambda s: 1 <= len(s) <= 2 and s[0] == sa[-1])
        if b is None:
            if len(sa) == 2:
                return Stmt("matmul", (a,), ("{out} = {0} @ {0}.T",), (sa[0], sa[0]))
            return Stmt("matmul", (a,), ("{out} = np.dot({0}, {0})",), ())
        sb = self.shapes[b]
        out = sa[:-1] + sb[1:]
        return Stmt("matmul", (a, b), ("{out} = {0} @ {1}",), out)

    def assemble(self):
        a = self.pick(lambda s: len(s) >= 1)
        if a is None:
            return None
        sa = self.shapes[a]
        axis = self.integer(0, len(sa) - 1)
        b = self.pick(lambda s: len(s) == len(sa) and all(
            x == y for i, (x, y) in enumerate(zip(s, sa)) if i != axis))
        sb = self.shapes[b]
        if self.draw(st.booleans()) and sb == sa and len(sa) < MAX_NDIM:
            out = sa[:axis] + (2,) + sa[axis:]
            text = f"np.stack([{{0}}, {{1}}], axis={axis})"
        else:
            out = sa[:axis] + (sa[axis] + sb[axis],) + sa[axis + 1:]
            text = f"np.concatenate([{{0}}, {{1}}], axis={axis})"
        if math.prod(out) > MAX_SIZE:
            return None
        return Stmt("assemble", (a, b), ("{out} = " + text,), out)

    def scan(self):
        a = self.pick(lambda s: len(s) >= 1)
        if a is None:
            return None
        axis = self.integer(-1, len(self.shapes[a]) - 1)
        name = self.choice(["cumsum", "cumprod"] + ["sort"] * (not KNOWN_BUG_SORT_BY_ARGSORT))
        return Stmt("scan", (a,), (f"{{out}} = np.{name}({{0}}, axis={axis})",), self.shapes[a])

    def roll(self):
        a = self.pick(lambda s: len(s) >= 1)
        if a is None:
            return None
        b = self.pick()
        return Stmt("roll", (a, b), ("{out} = np.roll({0}, int(np.sum({1} > 0)))",),
                    self.shapes[a])

    def int_index(self):
        a = self.pick(lambda s: len(s) >= 1)
        if a is None:
            return None
        b = self.pick()
        n = self.shapes[a][0]
        return Stmt("int_index", (a, b), (f"{{out}} = {{0}}[int(np.argmax({{1}})) % {n}]",),
                    self.shapes[a][1:])

    def float_scale(self):
        if not self.floats:
            return None
        a = self.pick()
        b = self.pick()
        reduce = self.choice(["np.sum", "np.max", "np.min"])
        # times 0.0: a zero whose sign follows the values (call 3 negates them)
        value = f"float({reduce}({{1}}){self.choice(['', ' * 0.0'])})"
        if KNOWN_BUG_FLOAT_GUARD_SIGNED_ZERO:
            value = f"({value} + 0.0)"
        return Stmt("float_scale", (a, b), (f"{{out}} = {{0}} * {value}",), self.shapes[a],
                    no_fd=BAKES)

    def random(self):
        a = self.pick()
        shape = self.shapes[a]
        dims = ", ".join(str(n) for n in shape)
        options = [f"{{out}} = {{0}} + np.random.randn({dims})",
                   f"{{out}} = {{0}} * np.random.uniform(-1.0, 1.0, size={shape!r})",
                   "{out} = {0} + np.random.rand()",
                   f"{{out}} = {{0}} + np.random.normal(0.0, 1.0, size={shape!r})"]
        return Stmt("random", (a,), (self.choice(options),), shape)

    def getval(self):
        if KNOWN_BUG_GETVAL_BAKES or not self.floats:
            return None
        a = self.pick()
        b = self.pick(lambda s: broadcast(self.shapes[a], s) is not None)
        return Stmt("getval", (a, b), ("{out} = {0} * getval({1})",),
                    broadcast(self.shapes[a], self.shapes[b]), no_fd=BAKES)

    def assign(self):
        """An array made by np.zeros or np.copy, then written in place 1-3 times."""
        target = self.pick(lambda s: len(s) >= 1)
        if target is None:
            return None
        shape = self.shapes[target]
        args = []
        if self.draw(st.booleans()) or (KNOWN_BUG_OLDER_LEVEL_BOX_REBOUND
                                        and not self.traced[target]):
            lines = [f"{{out}} = np.zeros({shape!r})"]
        else:
            args.append(target)
            lines = ["{out} = np.copy({0})"]

        def rhs(sub_shape):
            if self.draw(st.booleans()):
                return self.const()
            v = self.pick(lambda s: broadcast(s, sub_shape) == sub_shape)
            if v is None:
                return self.const()
            args.append(v)
            return "{%d}" % (len(args) - 1)
        n0 = shape[0]
        for _ in range(self.integer(1, 3)):
            kind = self.choice(["item", "slice_add", "mask", "fancy", "reversed", "shift",
                                "ellipsis"])
            if kind == "item":
                i = self.integer(-n0, n0 - 1)
                lines.append(f"{{out}}[{i}] = {rhs(shape[1:])}")
            elif kind == "slice_add" and n0 >= 2:
                op = self.choice(["+=", "-=", "*="])
                lines.append(f"{{out}}[1:] {op} {rhs((n0 - 1,) + shape[1:])}")
            elif kind == "mask":
                c = literal(self.choice([0.0, 0.5]))
                lines.append(f"{{out}}[{{out}} > {c}] = {self.const()}")
            elif kind == "fancy":
                idx = [self.integer(-n0, n0 - 1) for _ in range(self.integer(1, 3))]
                lines.append(f"{{out}}[{idx}] = {rhs(shape[1:])}")
            elif kind == "reversed":
                lines.append(f"{{out}}[::-1] *= {rhs(shape)}")
            elif kind == "shift" and n0 >= 2:
                lines.append("{out}[1:] += {out}[:-1]")  # overlapping, in place
            else:
                lines.append(f"{{out}}[...] += {rhs(shape)}")
        return Stmt("assign", tuple(args), tuple(lines), shape)

    def view(self):
        if KNOWN_BUG_VIEW_SEES_BASE_WRITES:
            return None
        a = self.pick(lambda s: len(s) >= 1 and s[0] >= 2,
                      traced_only=KNOWN_BUG_OLDER_LEVEL_BOX_REBOUND)
        if a is None:
            return None
        b = self.pick(lambda s: broadcast(s, self.shapes[a]) == self.shapes[a])
        shape = self.shapes[a]
        lines = ["_base_{out} = np.copy({0})", "{out} = _base_{out}[1:]"]
        # Writes after the view was taken, which it must see where they overlap it:
        # into the base, through a sibling view, through the view, through its view.
        for _ in range(self.integer(1, 2)):
            kind = self.choice(["base", "reversed", "row", "sibling", "itself", "inner"])
            if kind == "base":
                lines.append("_base_{out}[...] += {1}")
            elif kind == "reversed":
                lines.append("_base_{out}[::-1] *= {1}")
            elif kind == "row":
                i = self.integer(-shape[0], shape[0] - 1)
                lines.append(f"_base_{{out}}[{i}] = {self.const()}")
            elif kind == "sibling":
                lines += ["_sibling_{out} = _base_{out}[:-1]", "_sibling_{out} *= -2.0"]
            elif kind == "itself":
                lines.append("{out}[...] = {out} * 0.5")
            else:
                lines += ["_inner_{out} = {out}[::2]", "_inner_{out} += 1.0"]
        return Stmt("view", (a, b), tuple(lines), (shape[0] - 1,) + shape[1:])

    def branch(self):
        a = self.pick()
        b = self.pick()
        c = literal(self.choice([0.0, 0.5, -0.5]))
        conditions = [f"np.sum({{0}}) > {c}", "int(np.sum({0} > 0)) % 2 == 0",
                      "np.isnan(np.sum({0}))", f"np.max({{0}}) <= {c}",
                      "np.min({0}) == 0.0"]
        if self.floats and self.draw(st.booleans()):
            conditions = [f"float(np.mean({{0}})) > {c}", "float(np.min({0})) == 0.0"]
            if not KNOWN_BUG_FLOAT_GUARD_SIGNED_ZERO:
                zero = "np.max({0}) * 0.0"  # its sign follows the values
                if KNOWN_BUG_FLOAT_GUARD_NAN_SIGN:
                    zero = f"np.nan_to_num({zero})"
                conditions.append(f"math.copysign(1.0, float({zero})) > 0")
        z = literal(self.choice(zero_constants()))
        condition = self.choice(conditions)
        then = self.choice(BRANCH_BODIES).replace("{z}", z).format("{1}")
        otherwise = self.choice(BRANCH_BODIES).replace("{z}", z).format("{1}")
        return Stmt("if", (a, b), (f"if {condition}:", f"    {{out}} = {then}", "else:",
                                   f"    {{out}} = {otherwise}"), self.shapes[b])

    def loop(self):
        a = self.pick()
        c = literal(self.choice([0.5, 1.0, 2.0]))
        condition = self.choice([f"np.max(np.abs({{out}})) > {c}", f"np.sum({{out}}) > {c}"])
        if self.floats and self.draw(st.booleans()):
            condition = f"float(np.max(np.abs({{out}}))) > {c}"
        body = self.choice(LOOP_BODIES)
        bound = self.integer(1, 4)
        return Stmt("while", (a,), ("{out} = {0}", "_k = 0",
                                    f"while _k < {bound} and {condition}:",
                                    f"    {{out}} = {body}", "    _k += 1"),
                    self.shapes[a])


KINDS = {  # kind: weight
    "unary": 6, "binary": 6, "const_binary": 4, "where": 1, "reduce": 4, "reshape": 3,
    "take": 2, "gather": 1, "mask": 1, "matmul": 1, "assemble": 1, "scan": 1, "roll": 1,
    "int_index": 1, "float_scale": 1, "random": 1, "getval": 1, "assign": 2, "view": 1,
    "branch": 2, "loop": 1, "repeat": 3,
}
_KIND_LIST = [k for k, w in KINDS.items() for _ in range(w)]


@st.composite
def programs(draw, min_stmts=15, max_stmts=25):
    """A random program of ``min_stmts``..``max_stmts`` statements (see the module doc)."""
    n_inputs = draw(st.integers(1, 3))
    inputs = []
    for _ in range(n_inputs):
        shape = draw(st.sampled_from(INPUT_SHAPES))
        kind = draw(st.sampled_from(["ndarray", "float64"])) if shape == () else "ndarray"
        layout = draw(st.sampled_from(LAYOUTS)) if len(shape) >= 1 else "C"
        inputs.append((shape, kind, layout))
    with_specials = draw(st.integers(0, 2)) == 0
    specials = tuple(draw(st.sampled_from([0, 1, 2, ZEROED])) if with_specials else 0
                     for _ in range(n_inputs))
    floats = draw(st.integers(0, 9)) < 3
    shapes = [s for s, _, _ in inputs]
    stmts = []
    drawer = Drawer(draw, shapes, stmts, floats)
    for _ in range(draw(st.integers(min_stmts, max_stmts))):
        stmt = None
        while stmt is None:
            kind = draw(st.sampled_from(_KIND_LIST))
            stmt = getattr(drawer, kind)()
            if stmt is not None and not fits(stmt.shape):
                stmt = None  # too big (a @ a.T of a long column): draw another
        stmt = noting_extremes(stmt)
        drawer.traced.append(traced_by_grad(stmt, drawer.traced))
        stmts.append(stmt)
        shapes.append(stmt.shape)
    seed = draw(st.integers(0, 2 ** 31 - 1))
    fuse_small = draw(st.sampled_from([False, False, False, True]))
    return Program(tuple(inputs), tuple(stmts), seed, specials, fuse_small)


# -- minimizing a failing program -------------------------------------------------

def without(program, k):
    """The program without statement ``k``, whose uses read ``substitute`` instead
    (a value of the same shape), or None when nothing can stand in."""
    n = program.n_inputs
    stmt = program.stmts[k]
    value = n + k
    users = [s for s in program.stmts if value in s.args]
    substitute = None
    if users:
        same = [a for a in stmt.args if program.shape(a) == stmt.shape]
        if not same:
            return None
        substitute = same[0]

    def renumber(a):
        if a == value:
            return substitute
        return a - 1 if a > value else a
    stmts = [replace(s, args=tuple(renumber(a) for a in s.args))
             for i, s in enumerate(program.stmts) if i != k]
    if not stmts:
        return None
    return replace(program, stmts=tuple(stmts))


def without_input(program, i):
    """The program without argument ``i``, if no statement reads it."""
    if program.n_inputs == 1 or any(i in s.args for s in program.stmts):
        return None
    stmts = tuple(replace(s, args=tuple(a - 1 if a > i else a for a in s.args))
                  for s in program.stmts)
    keep = [j for j in range(program.n_inputs) if j != i]
    return replace(program, stmts=stmts, inputs=tuple(program.inputs[j] for j in keep),
                   specials=tuple(program.specials[j] for j in keep))


def without_line(program, k, line):
    """The program with line ``line`` of an in-place assignment block ``k`` dropped."""
    stmt = program.stmts[k]
    if stmt.kind != "assign" or line == 0 or len(stmt.lines) <= 2:
        return None
    lines = stmt.lines[:line] + stmt.lines[line + 1:]
    stmts = program.stmts[:k] + (replace(stmt, lines=lines),) + program.stmts[k + 1:]
    return replace(program, stmts=stmts)


def smaller_programs(program):
    for k in reversed(range(len(program.stmts))):
        yield without(program, k)
    for k, stmt in enumerate(program.stmts):
        for line in range(1, len(stmt.lines)):
            yield without_line(program, k, line)
    for i in range(program.n_inputs):
        yield without_input(program, i)


def minimize(program, fails, budget=300):
    """Greedily drop statements, lines of assignment blocks and unused arguments while
    ``fails(program)`` stays true (at most ``budget`` tries)."""
    changed = True
    while changed and budget > 0:
        changed = False
        for candidate in smaller_programs(program):
            if candidate is None:
                continue
            budget -= 1
            if fails(candidate):
                program, changed = candidate, True
                break
            if budget <= 0:
                break
    return program
