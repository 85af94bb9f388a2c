"""ArrayBox: a traced array or scalar that behaves like an ndarray."""
import numpy as _np

from ..trace import Box
from . import numpy_wrapper as anp
from .indexing import plain_index, getitem


class ArrayBox(Box):
    __slots__ = []
    # NumPy defers binary operators with an ndarray to ours, and routes
    # its ufuncs on a box to the traced versions.
    __array_priority__ = 100.0

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__" or "out" in kwargs:
            return NotImplemented
        return anp.wrap(ufunc)(*inputs, **kwargs)

    def __getitem__(self, idx):
        return getitem(self, plain_index(idx))

    def __setitem__(self, idx, value):
        raise TypeError(
            "Assignment into a traced array (a[idx] = v) is not supported yet: jitgrad "
            "records operations functionally. Build the result instead, e.g. with "
            "np.concatenate / np.stack / np.where, or collect values in a list and call "
            "np.array(list).")

    shape = property(lambda self: _np.shape(self._value))
    ndim = property(lambda self: _np.ndim(self._value))
    size = property(lambda self: _np.size(self._value))
    dtype = property(lambda self: _np.result_type(self._value))
    T = property(lambda self: anp.transpose(self))

    def __len__(self):
        return len(self._value)

    def __iter__(self):
        for i in range(len(self._value)):
            yield self[i]

    def __hash__(self):
        return id(self)

    def __float__(self):
        return float(self._value)

    def __int__(self):
        return int(self._value)

    def __complex__(self):
        return complex(self._value)

    def __index__(self):
        return _np.asarray(self._value).__index__()

    def __neg__(self): return anp.negative(self)
    def __pos__(self): return self
    def __abs__(self): return anp.abs(self)
    def __add__(self, other): return anp.add(self, other)
    def __sub__(self, other): return anp.subtract(self, other)
    def __mul__(self, other): return anp.multiply(self, other)
    def __pow__(self, other): return anp.power(self, other)
    def __truediv__(self, other): return anp.true_divide(self, other)
    def __mod__(self, other): return anp.mod(self, other)
    def __matmul__(self, other): return anp.matmul(self, other)
    def __radd__(self, other): return anp.add(other, self)
    def __rsub__(self, other): return anp.subtract(other, self)
    def __rmul__(self, other): return anp.multiply(other, self)
    def __rpow__(self, other): return anp.power(other, self)
    def __rtruediv__(self, other): return anp.true_divide(other, self)
    def __rmod__(self, other): return anp.mod(other, self)
    def __rmatmul__(self, other): return anp.matmul(other, self)
    def __floordiv__(self, other): return anp.floor_divide(self, other)
    def __rfloordiv__(self, other): return anp.floor_divide(other, self)
    def __eq__(self, other): return anp.equal(self, other)
    def __ne__(self, other): return anp.not_equal(self, other)
    def __gt__(self, other): return anp.greater(self, other)
    def __ge__(self, other): return anp.greater_equal(self, other)
    def __lt__(self, other): return anp.less(self, other)
    def __le__(self, other): return anp.less_equal(self, other)


_BOXED_TYPES = [_np.ndarray, float, complex, int, bool, _np.bool_,
                _np.float16, _np.float32, _np.float64, _np.longdouble,
                _np.complex64, _np.complex128, _np.clongdouble,
                _np.int8, _np.int16, _np.int32, _np.int64,
                _np.uint8, _np.uint16, _np.uint32, _np.uint64]
for _type in _BOXED_TYPES:
    ArrayBox.register(_type)

# ndarray methods that are plain NumPy functions of the array.
_METHODS = """all any argmax argmin argpartition argsort astype clip compress conj conjugate
    cumprod cumsum diagonal dot max mean min nonzero prod ptp ravel repeat round
    searchsorted squeeze std sum swapaxes take trace var""".split()
for _name in _METHODS:
    if hasattr(anp, _name):
        setattr(ArrayBox, _name,
                lambda self, *args, _f=getattr(anp, _name), **kwargs: _f(self, *args, **kwargs))


def _shape_args(args):
    # a.reshape(2, 3) and a.reshape((2, 3)) both work, as on ndarrays.
    return args[0] if len(args) == 1 else args


ArrayBox.reshape = lambda self, *shape, **kwargs: anp.reshape(self, _shape_args(shape), **kwargs)
ArrayBox.transpose = lambda self, *axes: anp.transpose(self, _shape_args(axes) if axes else None)
ArrayBox.flatten = lambda self, order="C": anp.ravel(self, order)
ArrayBox.real = property(lambda self: anp.real(self))
ArrayBox.imag = property(lambda self: anp.imag(self))
