"""Array constructors that can later be assigned into with traced values.

Inside a differentiated function, ``np.zeros(n)`` and its siblings return the
new array boxed as a constant of the innermost trace level. It computes like the
array, and ``out[i] = f(x[i])`` on it then records a functional index update
(``ArrayBox.__setitem__``). Outside any trace, and inside derivative rules
(whose values must stay plain), they return plain arrays as NumPy does.
"""
import sys

import numpy as _np

from ..trace import getval, isbox
from ..trace import core as _core
from ..trace.jvp import JVPNode
from ..trace.vjp import VJPNode, backward_pass
from . import numpy_wrapper as anp
from .assembly import contains_box, stack
from .indexing import plain_index

# Frames that run derivative rules, and the frame that starts a trace level.
_RULE_CODES = frozenset({VJPNode.__init__.__code__, JVPNode.__init__.__code__,
                         backward_pass.__code__})
_TRACE_CODE = _core.trace.__code__


def _in_rule():
    """True when called (through a constructor) from a VJP or JVP rule.

    Rules run while their own trace level is innermost; a constant boxed at that
    level would leak into the tangent or cotangent they return. The nearest
    enclosing ``trace`` call means user code of the innermost level instead.
    """
    frame = sys._getframe(2)
    while frame is not None:
        code = frame.f_code
        if code is _TRACE_CODE:
            return False
        if code in _RULE_CODES:
            return True
        frame = frame.f_back
    return False


def assignable(value):
    """``value`` boxed as a constant of the innermost trace, if one is open."""
    if (_core.trace_depth() == 0 or isbox(value) or _np.asarray(value).dtype.kind not in "biufc"
            or _in_rule()):
        return value
    box = _core.new_constant_box(value)
    if isbox(box):
        box._constant = True
    return box


def zeros(shape, dtype=float, order="C", **kwargs):
    return assignable(_np.zeros(plain_index(shape), dtype, order, **kwargs))


def ones(shape, dtype=None, order="C", **kwargs):
    return assignable(_np.ones(plain_index(shape), dtype, order, **kwargs))


def empty(shape, dtype=float, order="C", **kwargs):
    return assignable(_np.empty(plain_index(shape), dtype, order, **kwargs))


def zeros_like(a, dtype=None, order="K", subok=True, shape=None, **kwargs):
    return assignable(_np.zeros_like(getval(a), dtype, order, subok, shape, **kwargs))


def ones_like(a, dtype=None, order="K", subok=True, shape=None, **kwargs):
    return assignable(_np.ones_like(getval(a), dtype, order, subok, shape, **kwargs))


def empty_like(a, dtype=None, order="K", subok=True, shape=None, **kwargs):
    return assignable(_np.empty_like(getval(a), dtype, order, subok, shape, **kwargs))


def _filled(fill_value, shape, dtype):
    """A traced ``fill_value`` broadcast to ``shape``: differentiable in the fill."""
    result = anp.broadcast_to(fill_value, shape)
    if dtype is not None and _np.dtype(dtype) != anp.result_type(result):
        result = anp.astype(result, dtype)
    return anp.copy(result)


def full(shape, fill_value, dtype=None, order="C", **kwargs):
    if isbox(fill_value):
        return _filled(fill_value, plain_index(shape), dtype)
    return assignable(_np.full(plain_index(shape), fill_value, dtype, order, **kwargs))


def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, **kwargs):
    if isbox(fill_value):
        shape = anp.shape(a) if shape is None else shape
        return _filled(fill_value, shape, anp.result_type(a) if dtype is None else dtype)
    return assignable(_np.full_like(getval(a), fill_value, dtype, order, subok, shape,
                                    **kwargs))


def copy(a, order="K", subok=False):
    if isbox(a):
        return anp.copy(a, order)
    return assignable(_np.copy(a, order, subok))


def array(object, dtype=None, *, copy=True, order="K", subok=False, ndmin=0, **kwargs):
    """``np.array``: also assembles (nested) lists of traced values, and copies a traced
    array (as NumPy copies an array) so that assigning into one leaves the other."""
    if isinstance(object, (list, tuple)) and contains_box(object):
        # The stack copies: its parts need not be copied first.
        result = stack([array(item, copy=None) for item in object])
    elif isbox(object):
        result = anp.copy(object) if copy else object  # copy=None/False: no copy needed
    else:
        return assignable(_np.array(object, dtype, copy=copy, order=order, subok=subok,
                                    ndmin=ndmin, **kwargs))
    if dtype is not None and _np.dtype(dtype) != anp.result_type(result):
        result = anp.astype(result, dtype)
    if anp.ndim(result) < ndmin:
        result = anp.reshape(result, (1,) * (ndmin - anp.ndim(result)) + anp.shape(result))
    return result


def asarray(a, dtype=None, order=None, **kwargs):
    """``np.asarray``: traced values pass through (no copy, as for ndarrays)."""
    if isbox(a) or (isinstance(a, (list, tuple)) and contains_box(a)):
        return array(a, dtype, copy=None)
    return _np.asarray(a, dtype, order, **kwargs)


asanyarray = asarray
