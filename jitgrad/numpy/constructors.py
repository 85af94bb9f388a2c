"""Array constructors that can later be assigned into with traced values.

Inside a differentiated function, ``np.zeros(n)`` and its siblings return the
new array boxed as a constant of the innermost trace level. It computes like the
array, and ``out[i] = f(x[i])`` on it then records a functional index update
(``ArrayBox.__setitem__``). Outside any trace, and inside derivative rules
(whose values must stay plain), they return plain arrays as NumPy does.
"""
import numpy as _np

from ..trace import getval, isbox
from ..trace import core as _core
from . import numpy_wrapper as anp
from .assembly import contains_box, stack
from .indexing import plain_index


def assignable(value):
    """A new float or complex array, boxed as a constant of the innermost trace level
    so that traced values can be assigned into it; anything else stays plain.

    Integer and boolean arrays (indices, masks) cannot hold a derivative, and in a
    primitive's body or a derivative rule there is no trace level to join
    (``core.PlainScope``): there NumPy's plain arrays are returned, as autograd does.
    """
    if isbox(value) or _core.innermost_level() is None:
        return value
    if _np.asarray(value).dtype.kind not in "fc":
        return value
    return _core.new_constant_box(value)


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


def empty_like(prototype, dtype=None, order="K", subok=True, shape=None, **kwargs):
    return assignable(_np.empty_like(getval(prototype), dtype, order, subok, shape, **kwargs))


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
    if isbox(object) and type(getval(object)) in (list, tuple):
        object = list(object)  # a traced list: its traced entries
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
