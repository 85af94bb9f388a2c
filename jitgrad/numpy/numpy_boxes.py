"""ArrayBox: a traced array or scalar that behaves like an ndarray.

Besides operators, properties and methods, it supports item assignment: a box
is rebound (same object, new value and node) to the result of a functional
index update, so ``out[i] = f(x[i])`` on an array made by a jitgrad.numpy
constructor, ``a[idx] += v`` and ``a += v`` work and differentiate exactly.
A box taken from another by basic indexing (``A[i]``, ``A[1:]``) is a NumPy
view: writing into it writes into its base too, and writing into the base (or
into another view of it) re-reads every live view from the base, so a view shows
what NumPy's would. (Views made otherwise, ``A.T`` or ``A.reshape``, are copies.)
"""
import operator
import sys
import weakref

import numpy as _np

from ..trace import Box, getval, isbox, primitive
from ..trace.core import concrete, concrete_value
from ..trace.hooks import (observed_only as _only_the_jit_traces, refuse_replay,
                           written_in_place)
from . import numpy_wrapper as anp
from .array_function import array_function, ufunc_method
from .elementwise import binary_operator, negative_operator, power_operator
from .indexing import getitem, index_update, is_basic_index, plain_index
from .traced_index import assemble, split_traced_index, take_at
from .conversions import conversion_error, number_error


def _jnp():
    """The jitgrad.numpy namespace (its box-aware functions), once it is imported."""
    return sys.modules[__package__]


class _ArrayBoxType(type):
    """The class of ArrayBox and NDArrayBox, which compare equal, so that code written
    for autograd that tests ``type(x) == ArrayBox`` sees every traced array (``is``
    still tells them apart; ``isinstance(x, ArrayBox)`` is the robust test)."""

    def __eq__(cls, other):
        if isinstance(other, _ArrayBoxType):
            return issubclass(cls, other) or issubclass(other, cls)
        return NotImplemented

    def __ne__(cls, other):
        equal = _ArrayBoxType.__eq__(cls, other)
        return equal if equal is NotImplemented else not equal

    __hash__ = type.__hash__


class ArrayBox(Box, metaclass=_ArrayBoxType):
    # _constant: made by a constructor and only assigned plain values since (so it may
    # become a plain array); _base: (box, index) when this box is a view of that box;
    # _views: weak references to the views taken from this box (see _store).
    __slots__ = ["_constant", "_base", "_views", "__weakref__"]
    # NumPy defers binary operators with an ndarray to ours, and routes
    # its ufuncs and functions on a box to the traced versions.
    __array_priority__ = 100.0

    def __init__(self, value, trace, node):
        self._value, self._trace, self._node = value, trace, node  # (as Box.__init__)
        # Set, not left unset: ``getattr(box, "_constant", False)`` on an unset slot
        # raises and catches an AttributeError (~0.5 us), and every traced call reads it.
        self._constant = False

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        # (jitgrad.numpy's own ufuncs never get here with traced inputs and out=:
        # ``core.primitive`` refuses that before unboxing.)
        out = kwargs.pop("out", None)
        if ufunc is _np.power and method == "__call__" and not kwargs and len(inputs) == 2:
            # ``numpy_scalar ** box`` arrives here; so does numpy.power(numpy_scalar,
            # box), which we cannot tell apart: both compute as the operator does.
            result = power_operator(*inputs)
        elif method == "__call__":
            result = anp.wrap(ufunc)(*inputs, **kwargs)
        else:
            result = ufunc_method(ufunc, method, inputs, kwargs)
        if out is None or result is None:
            return result
        return _write_out(ufunc.__name__, out, result)

    def __array_function__(self, func, types, args, kwargs):
        return array_function(func, types, args, kwargs)

    def __array__(self, dtype=None, copy=None):
        """Plain NumPy asked for an array (``numpy.asarray(x)``, a compiled library).

        What holds no derivative converts (a constant, a cast to integers, a value
        only the jit traces: guarded). A value being differentiated becomes an
        object array of traced entries, as under autograd, so that plain NumPy
        arithmetic on it still traces; asked for floats, it is an error."""
        if getattr(self, "_constant", False):
            return _np.asarray(getval(self), dtype)
        if (dtype is not None and _np.dtype(dtype).kind in "biu") or _only_the_jit_traces(self):
            return _np.asarray(concrete_value(self), dtype)
        if dtype is None or _np.dtype(dtype) == object:
            return self._object_array()
        raise conversion_error()

    def _object_array(self):
        shape = _np.shape(self._value)
        entries = _np.empty(shape, object)
        if not shape:
            entries[()] = self
            return entries
        for idx in _np.ndindex(*shape):
            entries[idx] = getitem(self, idx)
        return entries

    def _assign(self, result, constant=False):
        """Rebind this box to traced ``result``: the box object stays, so every name
        bound to it sees the new value, as for an ndarray changed in place."""
        if getattr(self._node, "kind", None) == "input":
            # An argument of a jitted function written in place: a replay could not
            # write into the caller's array, so the function runs eagerly.
            refuse_replay("it writes into one of its argument arrays in place")
        written_in_place(self)
        self._value, self._trace, self._node = result._value, result._trace, result._node
        self._constant = constant

    def _as_operand(self):
        """A snapshot (same value, level, node): a node of a newer level records it,
        and ``_assign`` may rebind this box afterwards (see Box._as_operand)."""
        snapshot = object.__new__(type(self))
        snapshot._value, snapshot._trace, snapshot._node = self._value, self._trace, self._node
        snapshot._constant = getattr(self, "_constant", False)
        return snapshot

    def _fresh(self):
        """This box's current values: a view is kept up to date by every write into
        its base (see _store), so it is the box itself."""
        return self

    def _store(self, result, constant=False, writer=None):
        """Replace the whole content by ``result``, as NumPy's in-place writes do: a
        view writes through into its base, and the live views of this box (but
        ``writer``, the view whose write this is) read their values from it again."""
        base = getattr(self, "_base", None)
        if base is not None:
            owner, idx = base
            # A traced integer in idx becomes the number it is here (guarded).
            owner._write(plain_index(idx), result, writer=self)
        self._assign(result, constant)
        self._refresh_views(writer)

    def _refresh_views(self, writer=None):
        views = getattr(self, "_views", None)
        if not views:
            return
        live = [ref for ref in views if ref() is not None]
        self._views = live
        for ref in live:
            view = ref()
            if view is None or view is writer:
                continue
            fresh = self._read(view._base[1])[0]
            view._assign(fresh, getattr(fresh, "_constant", False))
            view._refresh_views()

    def _add_view(self, view, idx):
        view._base = (self, idx)
        views = getattr(self, "_views", None)
        if views is None:
            views = self._views = []
        elif len(views) >= 16 and len(views) & (len(views) - 1) == 0:
            # Views taken and dropped in a loop over a base never written: keep the
            # list as long as the live views, amortized.
            views[:] = [ref for ref in views if ref() is not None]
        views.append(weakref.ref(view))

    def _inplace(self, op, other):
        """``a op= b``: NumPy writes into ``a``, keeping its shape and dtype."""
        result = op(self, other)
        if not isinstance(getval(self), _np.ndarray):
            return result  # scalars are immutable: ``x += 1`` rebinds the name only
        shape, dtype = self.shape, self.dtype
        if anp.shape(result) != shape:
            raise ValueError(f"non-broadcastable output operand with shape {shape} doesn't "
                             f"match the broadcast shape {anp.shape(result)}")
        if anp.result_type(result) != dtype:
            if not _np.can_cast(anp.result_type(result), dtype, "same_kind"):
                raise TypeError(f"Cannot cast {op.__name__} output from "
                                f"{anp.result_type(result)!r} to {dtype!r} with casting "
                                "rule 'same_kind'")
            result = anp.astype(result, dtype)
        self._store(result)
        return self

    def __iadd__(self, other): return self._inplace(anp.add, other)
    def __isub__(self, other): return self._inplace(anp.subtract, other)
    def __imul__(self, other): return self._inplace(anp.multiply, other)
    def __itruediv__(self, other): return self._inplace(anp.true_divide, other)
    def __ipow__(self, other): return self._inplace(power_operator, other)
    def __imod__(self, other): return self._inplace(anp.mod, other)
    def __ifloordiv__(self, other): return self._inplace(anp.floor_divide, other)
    def __imatmul__(self, other): return self._inplace(anp.matmul, other)

    # Through jitgrad.numpy, so the jit can guard shapes that depend on values.
    shape = property(lambda self: anp.shape(self))
    ndim = property(lambda self: _np.ndim(self._value))
    size = property(lambda self: anp.size(self))
    dtype = property(lambda self: _np.result_type(self._value))
    itemsize = property(lambda self: self.dtype.itemsize)
    nbytes = property(lambda self: self.size * self.dtype.itemsize)
    T = property(lambda self: anp.transpose(self))
    mT = property(lambda self: anp.matrix_transpose(self))
    real = property(lambda self: anp.real(self))
    imag = property(lambda self: anp.imag(self))

    def __hash__(self):
        # A traced integer hashes as its number (guarded), so it finds dict keys; any
        # other traced value is hashed by identity, as ndarrays cannot be hashed.
        value = self._value
        if isinstance(value, (int, _np.integer)) and not isinstance(value, (bool, _np.bool_)):
            return hash(concrete(self, operator.index))
        return id(self)

    def _to_python(self, convert):
        """``float(x)``, ``complex(x)``: a plain number, without derivative. Allowed
        where nothing is lost (a constant, a value only the jit traces: guarded);
        for a value being differentiated it is an error, as under autograd."""
        if (not getattr(self, "_constant", False) and not _only_the_jit_traces(self)
                and self.dtype.kind in "fc"):
            raise number_error(convert.__name__)
        return concrete(self, convert)

    def __float__(self): return self._to_python(float)
    def __int__(self): return concrete(self, int)
    def __complex__(self): return self._to_python(complex)
    def __index__(self): return concrete(self, operator.index)

    def __format__(self, spec):
        return format(getval(self), spec) if spec else str(self)

    def __round__(self, ndigits=None):
        if ndigits is None:
            return concrete(self, round)
        return anp.round(self, ndigits)

    def item(self, *args):
        """The plain Python value (not traced: an error while differentiating it)."""
        if args:
            return self[args[0] if len(args) == 1 else args].item()
        return self._to_python(_item)

    def tolist(self):
        """Plain Python values (not traced: an error while differentiating them)."""
        return self._to_python(_tolist)

    def __neg__(self): return negative_operator(self)
    def __pos__(self): return self
    def __abs__(self): return anp.abs(self)
    def __invert__(self): return anp.invert(self)
    def __divmod__(self, other):
        if _defers_to(other):
            return NotImplemented
        return (anp.floor_divide(self, other), anp.mod(self, other))
    # NumPy scalars compute ** with scalar code, not the ufunc (see power_operator).
    def __pow__(self, other):
        if _defers_to(other):
            return NotImplemented
        return power_operator(self, other)
    def __rpow__(self, other): return power_operator(other, self)
    def __rmatmul__(self, other): return anp.matmul(other, self)
    def __rdivmod__(self, other): return (anp.floor_divide(other, self), anp.mod(other, self))
    def __rand__(self, other): return anp.bitwise_and(other, self)
    def __ror__(self, other): return anp.bitwise_or(other, self)
    def __rxor__(self, other): return anp.bitwise_xor(other, self)

    # Methods with an ndarray's own signature.
    def reshape(self, *shape, order="C", copy=None):
        return anp.reshape(self, _shape_args(shape), order=order)

    def transpose(self, *axes):
        return anp.transpose(self, _shape_args(axes) if axes else None)

    def flatten(self, order="C"):
        return anp.ravel(self, order)

    def astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
        if not copy and _np.dtype(dtype) == self.dtype:
            return self
        return anp.astype(self, dtype)

    def copy(self, order="C"):
        return anp.copy(self, order)


class NDArrayBox(ArrayBox):
    """A traced ndarray: an ArrayBox that can also be indexed, assigned into, iterated.

    Python numbers have their own class, without ``__getitem__`` (they cannot be
    indexed): NumPy treats any object with one as a sequence and would hide our error
    for ``ndarray[i] = traced number`` behind its own "setting an array element with
    a sequence". NumPy scalars can be indexed (see NumpyScalarBox).
    """
    __slots__ = []

    def __getitem__(self, idx):
        result, basic = self._read(idx)
        if basic and isinstance(getval(result), _np.ndarray):
            self._add_view(result, idx)  # NumPy returns a view here
        return result

    def _read(self, idx):
        """``(self[idx], whether idx is basic)``: a basic index reads a view in NumPy."""
        traced = split_traced_index(idx)
        if traced is not None:  # a gather at computed integer indices
            template, parts = traced
            # A[t] at a traced integer t is a view in NumPy, as A[1] is.
            basic = all(_np.ndim(getval(part)) == 0 for part in parts) and is_basic_index(
                assemble(template, [0] * len(parts)))
            return take_at(self, template, parts), basic
        idx = plain_index(idx)
        return getitem(self, idx), is_basic_index(idx)

    def __setitem__(self, idx, value):
        value = _jnp().asarray(value) if isinstance(value, (list, tuple)) else value
        self._write(plain_index(idx), value)

    def _write(self, idx, value, writer=None):
        constant = getattr(self, "_constant", False) and (
            not isbox(value) or getattr(value, "_constant", False))
        self._store(index_update(self, idx, value), constant, writer)

    def __len__(self):
        shape = anp.shape(self)
        if not shape:
            raise TypeError("len() of unsized object")
        return shape[0]

    def __iter__(self):
        for i in range(len(self._value)):
            yield self[i]

    def __contains__(self, item):
        return concrete(self, lambda value: getval(item) in value)

    def fill(self, value):
        self[...] = value

    def sort(self, axis=-1, kind=None, order=None):
        self._store(_jnp().sort(self, axis, kind=kind, order=order))

    def partition(self, kth, axis=-1, kind="introselect", order=None):
        self._store(_jnp().partition(self, kth, axis, kind=kind, order=order))


class NumpyScalarBox(ArrayBox):
    """A traced NumPy scalar (np.float64 ...), which NumPy lets you index as a 0-d
    array: ``s[()]``, ``s[...]``, ``s[None]``, ``s[s > 0]`` (the result of a full
    reduction, masked)."""
    __slots__ = []

    def __getitem__(self, idx):
        return getitem(self, plain_index(idx))

    def _to_python(self, convert):
        try:
            return ArrayBox._to_python(self, convert)
        except TypeError:
            # ``ndarray[i] = s`` calls float(s), and when that fails on an object with
            # __getitem__, NumPy reports "setting an array element with a sequence"
            # instead of our error. So the box stops being indexable first (what it
            # was computing for stops here anyway), and NumPy passes our error on.
            self.__class__ = ArrayBox
            raise

    def __iter__(self):
        # Not the sequence protocol __getitem__ would give: a NumPy scalar is no sequence.
        raise TypeError(f"'{type(self._value).__name__}' object is not iterable")


def _defers_to(other):
    """True for an array-like of another library (an xarray.DataArray) that handles
    NumPy's ufuncs itself: it gets the operator, and calls our ufuncs on its data."""
    kind = type(other)
    known = _deferring.get(kind)
    if known is None:
        known = _deferring[kind] = (
            not issubclass(kind, (_np.ndarray, _np.generic, Box))
            and getattr(kind, "__array_ufunc__", None) is not None)
    return known


_deferring = {}


def _repeats(box, other):
    """``other * n`` with ``n`` a traced integer scalar (a jitted function's int) and
    ``other`` a list, tuple or string repeats it, as with a Python or NumPy int: Python
    does so (reading the count through ``__index__``, a guard) when the box declines."""
    return isinstance(other, (list, tuple, str, bytes)) and \
        isinstance(box._value, (int, _np.integer)) and not isinstance(box._value, bool)


def _forward_operator(ufunc_name):
    repeats = ufunc_name == "multiply"

    def operator_method(self, other):
        if _defers_to(other) or (repeats and _repeats(self, other)):
            return NotImplemented
        return binary_operator(ufunc_name, self, other)
    return operator_method


def _reflected_operator(ufunc_name):
    repeats = ufunc_name == "multiply"

    def operator_method(self, other):
        if repeats and _repeats(self, other):
            return NotImplemented
        return binary_operator(ufunc_name, other, self)
    return operator_method


# Binary operators with the box on the left give way to array-likes of other libraries.
for _dunder, _ufunc in [("add", "add"), ("sub", "subtract"), ("mul", "multiply"),
                        ("truediv", "true_divide"), ("mod", "mod"),
                        ("matmul", "matmul"), ("floordiv", "floor_divide"),
                        ("and", "bitwise_and"), ("or", "bitwise_or"), ("xor", "bitwise_xor"),
                        ("eq", "equal"), ("ne", "not_equal"), ("gt", "greater"),
                        ("ge", "greater_equal"), ("lt", "less"), ("le", "less_equal")]:
    setattr(ArrayBox, f"__{_dunder}__", _forward_operator(_ufunc))
for _dunder, _ufunc in [("radd", "add"), ("rsub", "subtract"), ("rmul", "multiply"),
                        ("rtruediv", "true_divide"), ("rmod", "mod"),
                        ("rfloordiv", "floor_divide")]:
    setattr(ArrayBox, f"__{_dunder}__", _reflected_operator(_ufunc))


def _item(value):
    return _np.asarray(value).item()


def _tolist(value):
    return _np.asarray(value).tolist()


def _shape_args(args):
    # a.reshape(2, 3) and a.reshape((2, 3)) both work, as on ndarrays.
    return args[0] if len(args) == 1 else args


def _write_out(name, out, result):
    """A ufunc's ``out=`` arrays, traced, take the result by assignment."""
    results = result if isinstance(result, tuple) else (result,)
    for target, value in zip(out, results):
        if not isinstance(target, NDArrayBox):
            dtype = anp.result_type(value)
            if not _np.can_cast(dtype, target.dtype, "same_kind"):
                raise TypeError(f"Cannot cast ufunc {name!r} output from {dtype!r} to "
                                f"{target.dtype!r} with casting rule 'same_kind'")
            raise TypeError(f"np.{name}(..., out=array) cannot write a traced value into a "
                            "plain NumPy array; use the returned value, or create the array "
                            "with jitgrad.numpy (np.zeros, np.empty, ...).")
        target[...] = value
    return out[0] if len(out) == 1 else out


_BOXED_TYPES = [float, complex, int, bool, _np.bool_,
                _np.float16, _np.float32, _np.float64, _np.longdouble,
                _np.complex64, _np.complex128, _np.clongdouble,
                _np.int8, _np.int16, _np.int32, _np.int64,
                _np.uint8, _np.uint16, _np.uint32, _np.uint64]
for _type in _BOXED_TYPES:
    (NumpyScalarBox if issubclass(_type, _np.generic) else ArrayBox).register(_type)
NDArrayBox.register(_np.ndarray)


def _method(name):
    def method(self, *args, **kwargs):
        return getattr(_jnp(), name)(self, *args, **kwargs)
    method.__name__ = name
    return method


# ndarray methods that are the jitgrad.numpy function of the same name.
for _name in """all any argmax argmin argpartition argsort choose clip compress conj
        conjugate cumprod cumsum diagonal dot max mean min nonzero prod ptp ravel repeat
        round searchsorted squeeze std sum swapaxes take trace var""".split():
    setattr(ArrayBox, _name, _method(_name))
