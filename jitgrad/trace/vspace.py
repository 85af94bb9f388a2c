"""Vector spaces: the zeros, ones, sums and inner products that derivatives live in.

Every traced value has a vector space (``vspace(x)``): floats and complex
numbers, arrays, and tuples/lists/dicts of these (see ``containers``). The
arithmetic methods are primitives so that sums of cotangents are themselves
differentiable (their rules are in ``rules``).
"""
import math

import numpy as np

from . import tree
from .core import getval, isbox, primitive, register_lazily


class VSpace:
    """The space of one kind of value: its zeros, ones, random vectors and basis.

    The arithmetic (``add``, ``mut_add``, ``scalar_mul``, ``inner_prod``,
    ``covector``) is attached below this class; a subclass whose values do not
    combine by plain NumPy arithmetic overrides the matching hook (``_add`` ...).
    """
    __slots__ = []
    mappings = {}
    iscomplex = False

    def __init__(self, value):
        pass

    def zeros(self):
        raise _not_provided(self, "zeros")

    def ones(self):
        raise _not_provided(self, "ones")

    def standard_basis(self):
        raise _not_provided(self, "standard_basis")

    def randn(self):
        raise _not_provided(self, "randn")

    def __eq__(self, other):
        return type(self) is type(other) and self._key() == other._key()

    def __hash__(self):
        return hash((type(self), self._key()))

    def _key(self):
        return tuple(getattr(self, name) for cls in type(self).__mro__
                     for name in cls.__dict__.get("__slots__", ()))

    def __repr__(self):
        return f"{type(self).__name__}({self._key()})"

    @classmethod
    def register(cls, value_type, vspace_maker=None):
        VSpace.mappings[value_type] = vspace_maker or cls


def _not_provided(vs, method):
    return NotImplementedError(f"{type(vs).__name__} does not define {method}(); a VSpace "
                               f"subclass registered with VSpace.register must define it.")


# ---- arithmetic ----
# Each operation is one primitive, made once here and attached to VSpace under its
# public name, so that sums and scalings of cotangents are traced like any other step
# (their rules are in ``rules``). The primitive calls the space's hook, whose default
# is plain NumPy arithmetic; the hook names are autograd's, so that a space written
# for autograd's VSpace works unchanged.

def _plus(vs, x, y):
    return x + y


def _plus_in_place(vs, x, y):
    x += y
    return x


def _times(vs, x, a):
    return x * a


def _flat_dot(vs, x, y):
    return np.dot(np.ravel(x), np.ravel(y))


def _unchanged(vs, x):
    return x


_ARITHMETIC = (  # (public name, hook, default hook)
    ("add", "_add", _plus),
    ("mut_add", "_mut_add", _plus_in_place),
    ("scalar_mul", "_scalar_mul", _times),
    ("inner_prod", "_inner_prod", _flat_dot),
    ("covector", "_covector", _unchanged),
)


def _calls_hook(name, hook):
    def operation(vs, *vectors):
        return getattr(vs, hook)(*vectors)
    operation.__name__, operation.__qualname__ = name, f"VSpace.{name}"
    return primitive(operation)


for _name, _hook, _default in _ARITHMETIC:
    setattr(VSpace, _hook, _default)
    setattr(VSpace, _name, _calls_hook(_name, _hook))
VSpace.inner = VSpace.inner_prod  # jitgrad's own shorter name for it


def vspace(value):
    try:
        return VSpace.mappings[type(value)](value)
    except KeyError:
        if isbox(value):
            return vspace(getval(value))
        if register_lazily(type(value)):
            return vspace(value)
        raise TypeError(f"jitgrad has no vector space for type {type(value).__name__}; "
                        "register one with jitgrad.extend.VSpace.register") from None


class ArrayVSpace(VSpace):
    """Real arrays and real scalars of one shape and dtype."""
    __slots__ = ["shape", "dtype"]

    def __init__(self, value):
        value = np.asarray(value)
        self.shape = value.shape
        self.dtype = value.dtype

    @property
    def size(self):
        return math.prod(self.shape)

    @property
    def ndim(self):
        return len(self.shape)

    def zeros(self):
        return np.zeros(self.shape, self.dtype)

    def ones(self):
        return np.ones(self.shape, self.dtype)

    def standard_basis(self):
        for idx in np.ndindex(*self.shape):
            vect = np.zeros(self.shape, self.dtype)
            vect[idx] = 1
            yield vect

    def randn(self):
        return np.asarray(np.random.randn(*self.shape), self.dtype)

class ComplexArrayVSpace(ArrayVSpace):
    """Complex arrays as a real vector space of twice the size."""
    __slots__ = []
    iscomplex = True

    @property
    def size(self):
        return 2 * math.prod(self.shape)

    def ones(self):
        # The sum of the basis vectors, as for real spaces: 1 + 1j in every entry.
        return np.full(self.shape, 1 + 1j, self.dtype)

    def standard_basis(self):
        for idx in np.ndindex(*self.shape):
            for unit in (1.0, 1.0j):
                vect = np.zeros(self.shape, self.dtype)
                vect[idx] = unit
                yield vect

    def randn(self):
        real = np.random.randn(*self.shape)
        imag = np.random.randn(*self.shape)
        return np.asarray(real + 1j * imag, self.dtype)

    def _inner_prod(self, x, y):
        return np.real(np.vdot(x, y))  # vdot conjugates x and flattens both

    def _covector(self, x):
        return np.conj(x)


def array_vspace(value):
    value = np.asarray(value)
    if value.dtype.kind == "c":  # complex floating (np.issubdtype costs 2 us a call)
        return ComplexArrayVSpace(value)
    return ArrayVSpace(value)


for _type in [float, complex, int, bool, np.ndarray, np.bool_,
              np.float16, np.float32, np.float64, np.longdouble,
              np.complex64, np.complex128, np.clongdouble,
              np.int8, np.int16, np.int32, np.int64,
              np.uint8, np.uint16, np.uint32, np.uint64]:
    VSpace.register(_type, array_vspace)


def check_differentiable(x, what):
    """Raise a TypeError that says how to fix it when ``x`` is not a float/complex input."""
    if _plainly_differentiable(x):
        return
    if isbox(x):
        x = getval(x)
    node = tree.children(x)
    if node is not None:
        keys = list(x) if isinstance(x, dict) else range(len(node[0]))
        for key, item in zip(keys, node[0]):
            if not _plainly_differentiable(item):  # (the name is made only when needed)
                check_differentiable(item, f"{what}[{key!r}]")
        return
    if isinstance(x, (bool, np.bool_)) or (
            isinstance(x, np.ndarray) and x.dtype == np.bool_):
        raise TypeError(f"{what} is boolean; booleans have no gradient. "
                        "Pass a float array (x.astype(float)) if you meant a number.")
    if isinstance(x, (int, np.integer)) or (
            isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.integer)):
        example = "float(x)" if np.ndim(x) == 0 else "x.astype(float)"
        raise TypeError(f"{what} is an integer ({type(x).__name__}"
                        f"{'' if np.ndim(x) == 0 else ', dtype ' + str(x.dtype)}); "
                        f"gradients need floating point inputs: pass {example}, or mark "
                        "it as non-differentiable by choosing another argnum.")
    if isinstance(x, np.ndarray) and x.dtype == object:
        raise TypeError(f"{what} is an object array; jitgrad differentiates float and complex "
                        "arrays only: convert it with np.asarray(x, dtype=float).")
    if type(x) not in VSpace.mappings:
        raise TypeError(f"{what} has type {type(x).__name__}, which jitgrad cannot "
                        "differentiate: pass floats, float arrays, or lists/tuples/dicts of "
                        "them (jitgrad.extend.VSpace.register adds new types).")


_FLOAT_SCALARS = frozenset((float, complex, np.float16, np.float32, np.float64, np.longdouble,
                            np.complex64, np.complex128, np.clongdouble))


def _plainly_differentiable(x):
    """A float or complex array or number, the usual input: it passes every check of
    ``check_differentiable``, whose tests (``np.issubdtype`` ~1 us) and names of
    container entries cost ~5 us a parameter of a model, at every gradient call."""
    kind = type(x)
    return kind in _FLOAT_SCALARS or (kind is np.ndarray and x.dtype.kind in "fc")
