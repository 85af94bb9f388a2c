"""Sorting: the gradient flows through the permutation that sorts the values.

``sort`` of a traced array is NumPy's own sort, so its values, the order of tied
0.0 and -0.0 and the result's memory layout are eager NumPy's; its rules route
the cotangent back through the ``argsort`` of the values (computed when a rule
runs: under the jit a step of the graph, so a replay sorts the new values). At
ties each tied output takes the cotangent of the input element ``argsort`` placed
there. ``partition`` is the array indexed by ``argpartition``: NumPy leaves the
order of the elements around the kth open, and this way values and gradient
follow one arrangement.
"""
import numpy as _np

from ..trace.core import concrete_value
from ..trace import defjvp, defvjp, isbox
from . import numpy_wrapper as anp
from .indexing import along_axis_index, getitem, untake
from .traced_index import split_traced_index, take_traced, untake_traced
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
    if axis is None:
        a, axis = anp.ravel(a), -1
    if anp.ndim(a) == 0:
        raise _np.exceptions.AxisError(axis, 0)
    return anp.sort(a, axis, kind=kind, stable=stable)


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


# The wrapped NumPy sort (jitgrad.numpy.sort of a traced array, and code that calls
# it directly) is differentiated through the argsort of its argument.
def _sort_index(a, axis, kind, stable):
    if axis is None:
        raise NotImplementedError("the sort primitive's rule needs an axis; use "
                                  "jitgrad.numpy.sort, which handles axis=None")
    order = anp.argsort(a, axis, kind=kind, stable=stable)  # traced under the jit
    return along_axis_index(order, axis, anp.shape(a))


def _gather(g, idx):
    traced = split_traced_index(idx)
    return getitem(g, idx) if traced is None else take_traced(g, traced[0], *traced[1])


def _scatter(g, idx, vs):
    traced = split_traced_index(idx)
    return untake(g, idx, vs) if traced is None else untake_traced(g, traced[0], vs, *traced[1])


def _sort_vjp(ans, a, axis=-1, kind=None, order=None, *, stable=None):
    idx, vs = _sort_index(a, axis, kind, stable), vspace(a)
    return lambda g: _scatter(g, idx, vs)


def _sort_jvp(g, ans, a, axis=-1, kind=None, order=None, *, stable=None):
    return _gather(g, _sort_index(a, axis, kind, stable))


defvjp(anp.sort, _sort_vjp)
defjvp(anp.sort, _sort_jvp)
