"""Which callables are the same function, so that jitted objects made anew for it
(``jacobian(layer)`` inside an ODE's right-hand side, an operator built in a loop)
share the plans already traced instead of tracing again.

Two functions are the same when they run the same code on the same closure contents,
defaults and values of the globals their code names (a loss reading module-level data
``X``, rebound or changed between two ``grad(loss, jit=True)``): numbers and strings
compared by value, arrays by identity *and* content (a captured array is a constant of
a plan, so an array changed since gives a new key), containers entry by entry,
functions recursively (jitgrad's, NumPy's and SciPy's own by identity). A function
reaching anything else (an object whose state could change unseen) has no key: its
jitted objects keep plans of their own, as before.
"""
import functools
import types
import zlib

import numpy as np

from .identity import constant_key

_SCALARS = (type(None), bool, int, float, complex, str, bytes, np.generic)


def function_key(fun, arrays=None):
    """A hashable key equal for callables that compute the same thing, or None. The
    arrays it was computed from (closure contents, globals) are appended to ``arrays``:
    a key naming a dead array can never match again."""
    try:
        return _function_key(fun, set(), [] if arrays is None else arrays)
    except _NoKey:
        return None


class _NoKey(Exception):
    pass


def _function_key(fun, active, arrays):
    if id(fun) in active:  # a recursive function reaching itself through its closure
        return ("recursive", getattr(fun, "__qualname__", None))
    active = active | {id(fun)}
    if isinstance(fun, types.FunctionType):
        if _is_library(fun):
            return ("library", fun)
        cells = fun.__closure__ or ()
        return ("function", fun.__code__, id(fun.__globals__),
                tuple(_value_key(cell.cell_contents, active, arrays) for cell in cells),
                _value_key(fun.__defaults__, active, arrays),
                _value_key(fun.__kwdefaults__, active, arrays),
                tuple((name, _value_key(fun.__globals__[name], active, arrays))
                      for name in _global_names(fun.__code__) if name in fun.__globals__))
    if isinstance(fun, functools.partial):
        return ("partial", _function_key(fun.func, active, arrays),
                _value_key(fun.args, active, arrays), _value_key(fun.keywords, active, arrays))
    described = getattr(fun, "function_key_parts", None)  # Derivative, JitFunction
    if described is not None:
        return (type(fun).__name__,) + tuple(_value_key(part, active, arrays)
                                             for part in described())
    if isinstance(fun, (types.BuiltinFunctionType, np.ufunc)):
        return ("builtin", fun)
    raise _NoKey


_LIBRARIES = ("jitgrad", "numpy", "scipy")


def _is_library(fun):
    """Whether ``fun`` is jitgrad's, NumPy's or SciPy's own (its behaviour is fixed)."""
    module = getattr(fun, "__module__", None) or ""
    return module.partition(".")[0] in _LIBRARIES


@functools.lru_cache(maxsize=1024)
def _global_names(code):
    """The names ``code`` (and the functions and lambdas defined in it) may read as
    globals, sorted (attribute names among them: harmless where they miss)."""
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names.update(_global_names(constant))
    return tuple(sorted(names))


def _checksum(array):
    """A checksum of ``array``'s bytes, to see it changed in place (not a defence
    against a crafted collision: CRC-32 reads 4 GB/s here, blake2b 1 GB/s, and a
    global dataset is read at every jitted object made for a function using it)."""
    return zlib.crc32(np.ascontiguousarray(array).reshape(-1).view(np.uint8))


def _value_key(value, active, arrays):
    if isinstance(value, _SCALARS):
        return constant_key(value)
    if type(value) is np.ndarray:
        if value.dtype.hasobject:
            raise _NoKey
        arrays.append(value)
        return ("array", id(value), value.shape, value.dtype.str, _checksum(value))
    if type(value) in (tuple, list):
        return (type(value), tuple(_value_key(v, active, arrays) for v in value))
    if type(value) is dict:
        return (dict, tuple((_value_key(k, active, arrays), _value_key(v, active, arrays))
                            for k, v in value.items()))
    if isinstance(value, types.ModuleType):
        return ("module", value.__name__)
    if isinstance(value, type):
        return ("type", value)
    if callable(value):
        return _function_key(value, active, arrays)
    raise _NoKey
