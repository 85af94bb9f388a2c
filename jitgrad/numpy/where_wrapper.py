"""``where`` as autograd code calls it: ``x`` and ``y`` may be keywords, and a call
on plain Python values (no array, no traced value) returns plain Python values.

The primitive stays ``numpy_wrapper.where`` (its rules are in ``elementwise``);
this only normalizes the call, because NumPy's ``where`` takes positional
arguments only and always returns arrays.
"""
import numpy as _np

from ..trace import isbox
from . import numpy_wrapper as anp

_NOT_GIVEN = object()


def where(condition, x=_NOT_GIVEN, y=_NOT_GIVEN):
    """``numpy.where``, traced. ``where(condition)`` gives the indices where it holds;
    ``where(condition, x, y)`` chooses elementwise, and is differentiable in x and y.
    With Python scalars or lists only, the answer is a Python scalar or list
    (``result.tolist()``), as in autograd."""
    if x is _NOT_GIVEN and y is _NOT_GIVEN:
        return anp.where(condition)
    if x is _NOT_GIVEN or y is _NOT_GIVEN:
        missing = "x" if x is _NOT_GIVEN else "y"
        raise ValueError(f"where: {missing} is missing; pass both x and y to choose "
                         "between them, or neither to get the indices where condition holds.")
    chosen = anp.where(condition, x, y)
    if any(map(_has_array, (condition, x, y))):
        return chosen
    return _np.asarray(chosen).tolist()


def _has_array(value):
    if isbox(value) or isinstance(value, (_np.ndarray, _np.generic)):
        return True
    return isinstance(value, (list, tuple)) and any(map(_has_array, value))
