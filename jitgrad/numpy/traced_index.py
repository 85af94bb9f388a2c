"""Indexing with traced integer indices: gathers whose indices are computed.

``x[i, j]`` where ``i, j`` are integer arrays computed from traced values (the
jit records ``floor``, ``astype`` and ``argmax`` like any other step) keeps the
indices as arguments of the step instead of constants, so a replay gathers at
the new indices: the pattern of semi-Lagrangian advection and of table lookups.
Boolean masks are not handled here: they change the result's shape, and
``plain_index`` guards them.

A slice whose bounds are traced integers (``A[k * n:(k + 1) * n]`` with ``k`` an int
argument of a jitted function) is kept the same way: the bounds are arguments of the
step, NumPy slices with their new values on replay, and only the result's shape is
guarded (``traced_shape``), so a minibatch index gives one trace per batch *size*,
not one per batch. (A slice of a plain NumPy array cannot be: NumPy asks for the
bounds' numbers, which are guarded.)
"""
import numpy as _np

from ..kernels import indexing
from ..trace import def_replay, defjvp_argnum, defvjp_argnum, getval, isbox, primitive, vspace
from ..trace.core import concrete, concrete_value, keeps_traced_ints
from ..trace.vspace import ArrayVSpace
from .fast_paths import scatter_add

class _Part:
    """Marks where a traced part sits in an index template."""
    __slots__ = ()

    def __repr__(self):
        return "<traced index part>"


_PART = _Part()


class _TracedSlice:
    """Marks a slice with traced integer bounds in an index template: ``bounds`` are
    its start, stop and step, each a plain value or ``_PART``."""
    __slots__ = ("bounds",)

    def __init__(self, bounds):
        self.bounds = bounds

    def __eq__(self, other):
        return type(other) is _TracedSlice and other.bounds == self.bounds

    def __hash__(self):
        return hash(("traced slice",) + tuple(b if b is not _PART else "part"
                                              for b in self.bounds))

    def __repr__(self):
        return "slice(" + ", ".join(map(repr, self.bounds)) + ")"


def _is_traced_integer(part):
    return isbox(part) and _np.issubdtype(_np.asarray(getval(part)).dtype, _np.integer)


def has_traced_slice(template):
    """True when the template holds a slice with traced bounds: the result's shape
    then depends on their values, and must be guarded (``traced_shape``)."""
    parts = template if isinstance(template, tuple) else (template,)
    return any(type(p) is _TracedSlice for p in parts)


def traced_shape(x):
    """``np.shape(x)``, recorded as a guard under the jit (at every trace level)."""
    return concrete(x, traced_shape) if isbox(x) else _np.shape(x)


def split_traced_index(idx):
    """``(template, parts)`` when ``idx`` holds traced integer arrays, else None.

    ``template`` is ``idx`` with each such part replaced by a marker; other traced
    parts (masks, scalars) are made plain, which the jit guards."""
    parts = []

    def visit(part):
        if type(part) is slice and any(_is_traced_integer(b)
                                       for b in (part.start, part.stop, part.step)):
            bounds = []
            for bound in (part.start, part.stop, part.step):
                if _is_traced_integer(bound):
                    parts.append(bound)
                    bounds.append(_PART)
                else:
                    bounds.append(concrete_value(bound))
            return _TracedSlice(tuple(bounds))
        if isbox(part):
            value = getval(part)
            # Integer arrays, and integer scalars (a time step t in A[t]): the shape of
            # the result does not depend on their values.
            if _np.issubdtype(_np.asarray(value).dtype, _np.integer):
                parts.append(part)
                return _PART
            return concrete_value(part)
        return part
    template = tuple(visit(p) for p in idx) if isinstance(idx, tuple) else visit(idx)
    return (template, tuple(parts)) if parts else None


def assemble(template, parts):
    parts = iter(parts)

    def fill(p):
        if p is _PART:
            return next(parts)
        if type(p) is _TracedSlice:
            return slice(*(next(parts) if b is _PART else b for b in p.bounds))
        return p
    if isinstance(template, tuple):
        return tuple(fill(p) for p in template)
    return fill(template)


@keeps_traced_ints
@primitive
def take_traced(A, template, *parts):
    return A[assemble(template, parts)]


def take_at(A, template, parts):
    """``A`` at the index ``template`` filled with ``parts`` (``take_traced``), its
    shape guarded where a traced slice bound decides it."""
    result = take_traced(A, template, *parts)
    if has_traced_slice(template):
        traced_shape(result)
    return result


@keeps_traced_ints
@primitive
def untake_traced(x, template, vs, *parts):
    """Zeros of space ``vs`` with ``x`` added at the index (repeats accumulate)."""
    result = vs.zeros()
    return scatter_add(result, assemble(template, parts), x)


def _arrays_only(template):
    """Whether the index is its traced parts alone: every item of the template traced."""
    return type(template) is tuple and all(p is _PART for p in template)


# In jitted plans, an index of integer arrays only gathers and scatters in compiled loops.
def take_traced_compiled(A, template, *parts):
    if _arrays_only(template):
        return indexing.take(A, parts)
    return A[assemble(template, parts)]


def untake_traced_compiled(x, template, vs, *parts):
    if _arrays_only(template) and type(vs) is ArrayVSpace and vs.dtype == _np.float64:
        result = indexing.add_at_zeros(vs.shape, parts, x)
        if result is not None:
            return result
    return untake_traced.fun(x, template, vs, *parts)


def_replay(take_traced, take_traced_compiled)
def_replay(untake_traced, untake_traced_compiled)


def _no_gradient_for_indices(argnum, ans, args, kwargs):
    return lambda g: vspace(args[argnum]).zeros()


defvjp_argnum(take_traced, lambda argnum, ans, args, kwargs: (
    (lambda g: untake_traced(g, args[1], vspace(args[0]), *args[2:])) if argnum == 0
    else _no_gradient_for_indices(argnum, ans, args, kwargs)))
defjvp_argnum(take_traced, lambda argnum, g, ans, args, kwargs: (
    take_traced(g, args[1], *args[2:]) if argnum == 0 else vspace(ans).zeros()))
defvjp_argnum(untake_traced, lambda argnum, ans, args, kwargs: (
    (lambda g: take_traced(g, args[1], *args[3:])) if argnum == 0
    else _no_gradient_for_indices(argnum, ans, args, kwargs)))
defjvp_argnum(untake_traced, lambda argnum, g, ans, args, kwargs: (
    untake_traced(g, args[1], args[2], *args[3:]) if argnum == 0 else vspace(ans).zeros()))
