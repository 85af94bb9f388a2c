"""Which callables are the same function, so that jitted objects made anew for it
(``jacobian(layer)`` inside an ODE's right-hand side, an operator built in a loop)
share the plans already traced instead of tracing again.

Two functions are the same when they run the same code on the same closure contents
and defaults: numbers and strings compared by value, arrays by identity *and*
content (a captured array is a constant of a plan, so an array changed since gives a
new key), containers entry by entry, functions recursively. A closure holding
anything else (an object whose state could change unseen) has no key: its jitted
objects keep plans of their own, as before.
"""
import functools
import hashlib
import types

import numpy as np

from .identity import constant_key

_SCALARS = (type(None), bool, int, float, complex, str, bytes, np.generic)


def function_key(fun):
    """A hashable key equal for callables that compute the same thing, or None."""
    try:
        return _function_key(fun, set())
    except _NoKey:
        return None


class _NoKey(Exception):
    pass


def _function_key(fun, active):
    if id(fun) in active:  # a recursive function reaching itself through its closure
        return ("recursive", getattr(fun, "__qualname__", None))
    active = active | {id(fun)}
    if isinstance(fun, types.FunctionType):
        cells = fun.__closure__ or ()
        return ("function", fun.__code__, id(fun.__globals__),
                tuple(_value_key(cell.cell_contents, active) for cell in cells),
                _value_key(fun.__defaults__, active),
                _value_key(fun.__kwdefaults__, active))
    if isinstance(fun, functools.partial):
        return ("partial", _function_key(fun.func, active), _value_key(fun.args, active),
                _value_key(fun.keywords, active))
    described = getattr(fun, "function_key_parts", None)  # Derivative, JitFunction
    if described is not None:
        return (type(fun).__name__,) + tuple(_value_key(part, active) for part in described())
    if isinstance(fun, (types.BuiltinFunctionType, np.ufunc)):
        return ("builtin", fun)
    raise _NoKey


def _value_key(value, active):
    if isinstance(value, _SCALARS):
        return constant_key(value)
    if type(value) is np.ndarray:
        if value.dtype.hasobject:
            raise _NoKey
        digest = hashlib.blake2b(value.tobytes(), digest_size=16).digest()
        return ("array", id(value), value.shape, value.dtype.str, digest)
    if type(value) in (tuple, list):
        return (type(value), tuple(_value_key(v, active) for v in value))
    if type(value) is dict:
        return (dict, tuple((_value_key(k, active), _value_key(v, active))
                            for k, v in value.items()))
    if isinstance(value, types.ModuleType):
        return ("module", value.__name__)
    if isinstance(value, type):
        return ("type", value)
    if callable(value):
        return _function_key(value, active)
    raise _NoKey
