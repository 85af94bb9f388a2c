"""Indexing with traced integer indices: gathers whose indices are computed.

``x[i, j]`` where ``i, j`` are integer arrays computed from traced values (the
jit records ``floor``, ``astype`` and ``argmax`` like any other step) keeps the
indices as arguments of the step instead of constants, so a replay gathers at
the new indices: the pattern of semi-Lagrangian advection and of table lookups.
Boolean masks are not handled here: they change the result's shape, and
``plain_index`` guards them.
"""
import numpy as _np

from ..trace import defjvp_argnum, defvjp_argnum, getval, isbox, primitive, vspace
from ..trace.core import concrete_value, keeps_traced_ints
from .fast_paths import scatter_add

class _Part:
    """Marks where a traced part sits in an index template."""
    __slots__ = ()

    def __repr__(self):
        return "<traced index part>"


_PART = _Part()


def split_traced_index(idx):
    """``(template, parts)`` when ``idx`` holds traced integer arrays, else None.

    ``template`` is ``idx`` with each such part replaced by a marker; other traced
    parts (masks, scalars) are made plain, which the jit guards."""
    parts = []

    def visit(part):
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
    if isinstance(template, tuple):
        return tuple(next(parts) if p is _PART else p for p in template)
    return next(parts) if template is _PART else template


@keeps_traced_ints
@primitive
def take_traced(A, template, *parts):
    return A[assemble(template, parts)]


@keeps_traced_ints
@primitive
def untake_traced(x, template, vs, *parts):
    """Zeros of space ``vs`` with ``x`` added at the index (repeats accumulate)."""
    result = vs.zeros()
    return scatter_add(result, assemble(template, parts), x)


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
