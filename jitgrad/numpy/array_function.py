"""Plain NumPy called on traced values: ``numpy.sum(box)``, ``numpy.add.at(box, i, v)``.

NumPy hands a call with an ArrayBox among its arguments to
``ArrayBox.__array_function__`` (functions) or ``__array_ufunc__`` (ufuncs and
their methods). We answer with the jitgrad.numpy function of the same name, so
code written against plain NumPy traces too.
"""
import sys

import numpy as _np

from ..trace import isbox
from . import numpy_wrapper as anp

# NumPy modules whose functions have a jitgrad.numpy counterpart of the same name.
_NAMESPACES = (("numpy", ""), ("numpy.linalg", "linalg"), ("numpy.fft", "fft"))
# Functions that write into their argument: on a traced array, use assignment.
_IN_PLACE = frozenset("copyto put place putmask fill_diagonal put_along_axis".split())
_targets = {}


def _counterpart(func):
    """The jitgrad.numpy function standing for NumPy's ``func``, or None."""
    if func not in _targets:
        name = getattr(func, "__name__", None)
        target = None
        for module_name, sub in _NAMESPACES:
            module = sys.modules.get(module_name)
            if name and module is not None and getattr(module, name, None) is func:
                namespace = sys.modules.get(f"{__package__}.{sub}" if sub else __package__)
                target = getattr(namespace, name, None)
                break
        _targets[func] = target
    return _targets[func]


def _qualified(func):
    module = getattr(func, "__module__", "numpy") or "numpy"
    return f"{module}.{getattr(func, '__name__', func)}"


def array_function(func, types, args, kwargs):
    name = _qualified(func)
    if getattr(func, "__name__", None) in _IN_PLACE:
        raise TypeError(
            f"{name} writes into an array in place, which jitgrad cannot record on traced "
            "values. Use item assignment instead (a[idx] = v, on an array created with "
            "jitgrad.numpy, e.g. np.zeros or np.copy).")
    target = _counterpart(func)
    if target is None:
        raise TypeError(
            f"{name} was called on a traced value, and jitgrad.numpy has no function of "
            "that name to trace it with. Rewrite it with jitgrad.numpy functions, or wrap "
            "it as a primitive with a gradient rule (jitgrad.extend.primitive, defvjp).")
    raw = getattr(target, "fun", None)  # NumPy's function, or one calling it (dot)
    if (raw is func or getattr(raw, "__wrapped__", None) is func) and \
            not _boxed_at_top(args, kwargs):
        # A primitive only unboxes its own arguments: NumPy would call us again.
        raise TypeError(
            f"{name} received traced values inside a list or another container; "
            f"jitgrad.numpy.{func.__name__} traces only arrays passed as arguments "
            "directly. Pass np.array(list) (jitgrad.numpy) instead.")
    return target(*args, **kwargs)


def _boxed_at_top(args, kwargs):
    return any(isbox(a) for a in args) or any(isbox(v) for v in kwargs.values())


# ufunc methods with a traced counterpart.
_REDUCE = {"add": "sum", "multiply": "prod", "maximum": "max", "minimum": "min",
           "logical_and": "all", "logical_or": "any"}
_ACCUMULATE = {"add": "cumsum", "multiply": "cumprod"}


def ufunc_method(ufunc, method, inputs, kwargs):
    """``ufunc.reduce``, ``accumulate``, ``outer`` and ``at`` on traced values."""
    jnp = sys.modules[__package__]
    name = ufunc.__name__
    if method == "reduce" and name in _REDUCE:
        return getattr(jnp, _REDUCE[name])(*inputs, **{"axis": 0, **kwargs})
    if method == "accumulate" and name in _ACCUMULATE:
        return getattr(jnp, _ACCUMULATE[name])(*inputs, **{"axis": 0, **kwargs})
    if method == "outer" and len(inputs) == 2:
        a, b = inputs
        a = anp.reshape(a, anp.shape(a) + (1,) * anp.ndim(b))
        return anp.wrap(ufunc)(a, b, **kwargs)
    if method == "at" and name in ("add", "subtract"):
        return _add_at(name, *inputs)
    raise TypeError(f"numpy.{name}.{method} on traced values is not supported by jitgrad; "
                    "write it with jitgrad.numpy functions (np.sum, np.cumsum, ...).")


def _add_at(name, a, indices, b=None):
    """``np.add.at(a, indices, b)`` on a traced array: its entries at repeated
    indices accumulate, as ``a + untake(b)`` does."""
    from .indexing import plain_index, space_of, untake
    from .numpy_boxes import NDArrayBox
    if not isinstance(a, NDArrayBox):
        raise TypeError(f"np.{name}.at cannot add traced values into a plain NumPy array in "
                        "place; create the array with jitgrad.numpy (np.zeros, np.copy, ...).")
    indices = plain_index(indices)
    selected_shape = _np.broadcast_to(_np.zeros((), bool), a.shape)[indices].shape
    b = anp.broadcast_to(b, selected_shape)
    current = a._fresh()
    update = untake(b, indices, space_of(a.shape, anp.result_type(current, b)))
    result = (anp.add if name == "add" else anp.subtract)(current, update)
    a._store(result if anp.result_type(result) == a.dtype else anp.astype(result, a.dtype))
