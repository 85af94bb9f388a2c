"""Values of a whole-plan function, and its array steps other than elementwise ones:
products in the BLAS routine NumPy picks, tensordot as NumPy builds it, sums and means
in NumPy's order, reshapes, transposes, broadcasts, basic indexing (see whole_plan.py)."""
import math

import numpy as np

from .passes import Constant


class Unsupported(Exception):
    """A step (or input, output, guard) the whole-plan function cannot compute."""


class Value:
    """A value in the generated function: a local ``name``; ``shape`` None for a
    scalar; ``layout`` "C" or "F" (a transposed matrix); ``base``: the node whose
    memory an array view reads (for NumPy's syrk case); ``flat``: a local holding
    its elements in C order, 1-D and contiguous, where one is known (itself, or the
    array it reshapes: Numba's reshape costs ~30 ns, a tenth of a small plan)."""
    __slots__ = ["name", "shape", "layout", "base", "dtype", "flat"]

    def __init__(self, name, shape, layout="C", base=None, dtype="f8", flat=None):
        self.name, self.shape, self.layout, self.base, self.dtype = \
            name, shape, layout, base, dtype
        if flat is None and layout == "C" and shape is not None and len(shape) == 1:
            flat = name
        self.flat = flat


class Container:
    """A tuple or list of cotangent entries: ``Value``s, None for a placeholder."""
    __slots__ = ["slots", "kind"]

    def __init__(self, slots, kind):
        self.slots, self.kind = slots, kind


_TRANSPOSED = {"C": "F", "F": "C", "A": "A"}



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


def scalar_dtype(value):
    if type(value) in (bool, np.bool_):
        return "b1"
    if type(value) in (float, np.float64):
        return "f8"
    raise Unsupported(f"a scalar of type {type(value).__name__}")



class ArraySteps:
    """The translator's array steps (a mixin of ``whole_plan_source._Translator``)."""

    def array_operand(self, operand):
        value = self.operand(operand)
        if isinstance(value, str) or value.shape is None:
            raise Unsupported("a scalar where an array was expected")
        return value

    def flat(self, value):
        """A 1-D contiguous view of ``value``'s elements in C order."""
        n = math.prod(value.shape)
        if value.flat is not None:
            return value.flat
        if value.layout == "C":
            return f"{value.name}.reshape({n})"
        if value.layout == "F" and sum(1 for k in value.shape if k != 1) <= 1:
            return f"np.ascontiguousarray({value.name}).reshape({n})"  # one run
        raise Unsupported("a transposed or strided array read in C order")

    def c_order(self, value):
        """``value``'s elements in C order, 1-D, for uses where layout does not matter:
        ``flat``'s view, or a C-ordered copy where there is none."""
        if value.flat is None and value.layout != "C":
            return f"np.ascontiguousarray({value.name}).reshape({math.prod(value.shape)})"
        return self.flat(value)

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
                return Value(name, None)
            self.lines.append(f"    {name} = np.full({out_shape!r}, {expression})")
            return Value(name, out_shape)
        if columns == 1:
            expression, shape = f"np.dot({a.name}, {self.flat(b)})", (rows,)
        elif rows == 1:
            expression, shape = f"np.dot({self.flat(a)}, {b.name})", (columns,)
        else:
            expression, shape = f"np.dot({a.name}, {b.name})", (rows, columns)
        if shape == out_shape:
            self.lines.append(f"    {name} = {expression}")
            return Value(name, out_shape)
        if len(shape) == 2:
            self.lines.append(f"    {name} = {expression}.reshape({out_shape!r})")
            return Value(name, out_shape)
        # The vector BLAS returns stays the flat view of its reshapes.
        self.lines += [f"    p{name} = {expression}",
                       f"    {name} = p{name}.reshape({out_shape!r})"]
        return Value(name, out_shape, flat=f"p{name}")

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
            self.lines += [f"    {flat} = {self.c_order(array)}",
                           f"    {flat}_out = np.empty({n})",
                           f"    for i in range({n}):",
                           f"        {flat}_out[i] = {factors[0]} * {factors[1]}",
                           f"    {name} = {flat}_out.reshape({out.shape!r})"]
            self.define(node, Value(name, out.shape, flat=f"{flat}_out"))
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
            return Value(name, shape, "C", x.base)
        if list(order) == [1, 0] and shape == x.shape[::-1]:
            self.lines.append(f"    {name} = {x.name}.T")
            return Value(name, shape, _TRANSPOSED[x.layout], x.base)
        self.lines.append(f"    {name} = np.ascontiguousarray({x.name}.transpose("
                          f"{tuple(order)!r})).reshape({shape!r})")
        return Value(name, shape, "C", x.base)

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
                self.define(node, Value(name, None))
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
        self.define(node, Value(name, out_shape))

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
                self.define(node, x if not isinstance(x, str) else Value(x, None))
                return
            self.lines.append(f"    {name} = np.full({out.shape!r}, "
                              f"{x if isinstance(x, str) else x.name})")
            self.define(node, Value(name, out.shape))
            return
        if out.ndim == 0:
            self.lines.append(f"    {name} = {self.c_order(x)}[0]")
            self.define(node, Value(name, None))
            return
        if x.layout == "C" and x.shape == out.shape:
            self.define(node, x)
            return
        if x.flat is not None and out.ndim == 1:  # (the flat view it reshaped)
            self.define(node, Value(x.flat, out.shape, base=x.base))
            return
        # NumPy copies a view it cannot reshape, in C order: so does ascontiguousarray.
        source = x.name if x.layout == "C" else f"np.ascontiguousarray({x.name})"
        self.lines.append(f"    {name} = {source}.reshape({out.shape!r})")
        self.define(node, Value(name, out.shape, base=x.base,
                                flat=x.flat if x.layout == "C" else None))

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
            self.define(node, Value(name, shape, _TRANSPOSED[x.layout], x.base))
        else:
            self.lines.append(f"    {name} = {x.name}.transpose({tuple(order)!r})")
            self.define(node, Value(name, shape, "A", x.base))

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
        self.define(node, Value(name, out.shape, "A"))

    def getitem(self, node):
        args = self.arguments(node)
        x = self.array_operand(args[0][1])
        index = _basic_index(args[1][1], len(x.shape))
        name = f"v{node.index}"
        self.lines.append(f"    {name} = {x.name}[{index}]")
        out = node.value
        if type(out) is np.ndarray and out.ndim > 0:
            self.define(node, Value(name, out.shape, "A", x.base))
        else:
            self.define(node, Value(name, None, dtype=scalar_dtype(out)))

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
        self.define(node, Value(name, shape))
