"""What the fuser reads of a plan: its steps as ``FusionOp``s, constants as ``Literal``s.

The jit builds these from its graph (``jit/fusion_ops.py``), so kernels/ reads no
node of the jit's and imports nothing from it: the protocol is these two classes.
"""


class FusionOp:
    """A step of a plan, or a value a step reads, as the fuser sees it.

    ``index``: the value's number (one value, one number); ``kind``: ``"op"`` for a
    primitive's call, which may fuse; anything else never does (an input, a loop, a
    step the jit keeps as a call); ``name``: the primitive's name; ``fun``: the
    primitive, only as a key (steps of one primitive look alike to ``regions._period``);
    ``call``: the plain function computing it (a kernel Numba refused runs its steps
    with these); ``value``: its value as traced, or a stand-in with its shape and
    dtype; ``kwargs``: its keyword arguments; ``operands``: one ``FusionOp`` or
    ``Literal`` per positional argument (empty for a value only read); ``dynamic_shape``:
    its shape may depend on values.

    The primitive's declared facts (``trace.rules``): ``scalar_body`` (its Numba
    expression on scalars, ``{0}``... its arguments, or None), ``array_body`` (the one
    array loops use, or None: arrays stay NumPy calls), ``reduction`` (``"sum"``,
    ``"mean"`` or None), ``exact`` (its body is exact IEEE arithmetic: float32 regions
    may take it).

    ``origin`` is what the jit made it from: handed back to the jit, never read here.
    """
    __slots__ = ["index", "kind", "name", "fun", "call", "value", "kwargs", "operands",
                 "dynamic_shape", "scalar_body", "array_body", "reduction", "exact",
                 "shifted", "c_ordered", "origin"]

    def __init__(self, index, kind, name, value, origin, fun=None, call=None, kwargs=None,
                 dynamic_shape=False, scalar_body=None, array_body=None, reduction=None,
                 exact=False, shifted=None):
        self.index, self.kind, self.name, self.value = index, kind, name, value
        self.origin = origin
        self.fun, self.call, self.kwargs = fun, call, kwargs or {}
        self.dynamic_shape = dynamic_shape
        self.scalar_body, self.array_body = scalar_body, array_body
        self.reduction, self.exact, self.shifted = reduction, exact, shifted
        self.c_ordered = True
        self.operands = ()

    def __repr__(self):
        return f"<%{self.index} {self.name}>"


class Literal:
    """A constant argument: ``value`` is written into the kernel's source (a number) or
    passed to it (an array); ``origin`` is the jit's, as for ``FusionOp``."""
    __slots__ = ["value", "origin"]

    def __init__(self, value, origin):
        self.value, self.origin = value, origin


class Shifted:
    """A kernel input read at shifted positions: ``source``'s value rolled by ``shift``
    along ``axis`` (what a rolled step computed, read without the copy). The kernel is
    passed ``source``'s array (``origin`` is the source's)."""
    __slots__ = ["source", "shift", "axis", "value", "origin"]

    def __init__(self, source, shift, axis):
        self.source, self.shift, self.axis = source, shift, axis
        self.value, self.origin = source.value, source.origin

    def __repr__(self):
        return f"<%{self.source.index} rolled by {self.shift} along {self.axis}>"
