"""Sorting: the gradient flows through the permutation that sorts the values.

``sort`` and ``partition`` of a traced array are the array indexed by the
``argsort`` / ``argpartition`` of its plain values, so the cotangent goes back
through ``untake`` to where each element came from. At ties, each tied output
takes the cotangent of the input element NumPy's arg-function placed there.
"""
import numpy as _np

from ..trace.core import concrete_value
from ..trace import defjvp, defvjp, getval, isbox
from . import numpy_wrapper as anp
from .indexing import along_axis_index, getitem, untake
from ..trace.vspace import vspace


def _permuted(a, permute, axis):
    """``a`` reordered along ``axis`` by ``permute(plain values, axis)``."""
    if axis is None:
        a, axis = anp.ravel(a), -1
    if anp.ndim(a) == 0:
        raise _np.exceptions.AxisError(axis, 0)
    # The permutation comes from a NumPy arg-sort of the values; under the jit that
    # step is recorded, so a replay sorts the new values (the gather is traced).
    order = permute(a, axis)
    return a[along_axis_index(order, axis, anp.shape(a))]


def sort(a, axis=-1, kind=None, order=None, *, stable=None):
    if not isbox(a):
        return _np.sort(a, axis, kind=kind, order=order, stable=stable)
    if order is not None:
        raise TypeError("np.sort(..., order=...) sorts structured arrays, which have no "
                        "gradient; sort a float array instead.")
    return _permuted(a, lambda v, ax: anp.argsort(v, ax, kind=kind, stable=stable), axis)


def partition(a, kth, axis=-1, kind="introselect", order=None):
    if not isbox(a):
        return _np.partition(a, concrete_value(kth), axis, kind=kind, order=order)
    if order is not None:
        raise TypeError("np.partition(..., order=...) works on structured arrays, which "
                        "have no gradient; partition a float array instead.")
    kth = concrete_value(kth)
    return _permuted(a, lambda v, ax: anp.argpartition(v, kth, ax, kind=kind), axis)


def sort_complex(a):
    if not isbox(a):
        return _np.sort_complex(a)
    result = sort(a)
    return result if anp.iscomplexobj(result) else anp.astype(result, _np.complex128)


if hasattr(_np, "msort"):  # removed in NumPy 2.0
    def msort(a):
        return sort(a, axis=0)


# The wrapped NumPy sort itself, for rules and code that call it directly: its
# values equal the argsort-indexed ones, so the same permutation differentiates it.
def _sort_index(a, axis, kind):
    value = concrete_value(a)  # guarded under the jit
    if axis is None:
        raise NotImplementedError("the sort primitive's rule needs an axis; use "
                                  "jitgrad.numpy.sort, which handles axis=None")
    return along_axis_index(_np.argsort(value, axis, kind=kind), axis, _np.shape(value))


defvjp(anp.sort, lambda ans, a, axis=-1, kind=None, order=None, **kwargs: lambda g,
       idx=_sort_index(a, axis, kind), vs=vspace(a): untake(g, idx, vs))
defjvp(anp.sort, lambda g, ans, a, axis=-1, kind=None, order=None, **kwargs:
       getitem(g, _sort_index(a, axis, kind)))
