"""Array-likes that hide traced values, for NumPy functions that accept them.

A primitive sees the traced values among its arguments only. NumPy functions also
take a list of numbers, an object array (what plain ``numpy.array([x, y])`` makes
of traced values) or a traced list; each becomes one traced array here, as NumPy
would make one array of it, so ``np.mean([x, y])`` differentiates.
"""
import numpy as _np

from ..trace import getval, isbox
from ..trace.containers import NamedTupleBox, SequenceBox


def array_likes(args):
    """``args`` with each argument that hides traced numbers made one traced array."""
    for arg in args:  # the common call (arrays, numbers, boxes of them) returns at once
        kind = type(arg)
        if kind is list or kind is tuple:
            if _plain_sequence(arg):  # axes, a shape, numbers
                continue
            break
        if kind in _TRACED_SEQUENCES or (kind is _np.ndarray and arg.dtype.hasobject):
            break
    else:
        return args
    if not any(_hides_traced(arg) for arg in args):
        return args
    from .constructors import array
    return tuple(array(_entries(arg)) if _hides_traced(arg) else arg for arg in args)


def _plain_sequence(seq):
    """True when ``seq`` holds only plain entries, in nested lists and tuples too
    (tensordot's ``((0,), (1,))`` axes, which a VJP passes at every call): such an
    argument hides nothing traced, so it need not be searched."""
    for a in seq:
        kind = type(a)
        if kind not in _PLAIN_ENTRIES and not (
                (kind is tuple or kind is list) and _plain_sequence(a)):
            return False
    return True


# What a list or tuple holding no traced value is mostly made of.
_PLAIN_ENTRIES = frozenset((int, float, bool, complex, type(None), slice, _np.int64,
                            _np.float64))
# Box types of traced lists and tuples (namedtuples' box registers itself lazily).
# (A set: testing a tuple for a box type would call the box metaclass's __eq__.)
_TRACED_SEQUENCES = frozenset((SequenceBox, NamedTupleBox))


def _hides_traced(arg):
    kind = type(arg)
    if kind is list or kind is tuple:
        return any(_hides_traced(a) or (isbox(a) and _differentiable(a)) for a in arg)
    if kind is _np.ndarray:
        return arg.dtype == object and any(isbox(a) for a in arg.flat)
    return isbox(arg) and type(getval(arg)) in (list, tuple)


def _differentiable(box):
    # Traced integers in a list are shapes or axes: NumPy reads them (guarded).
    value = getval(box)
    return not isinstance(value, (int, _np.integer)) and not (
        isinstance(value, _np.ndarray) and value.dtype.kind in "biu")


def _entries(arg):
    return arg.tolist() if type(arg) is _np.ndarray else arg
