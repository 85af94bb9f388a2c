"""Sameness as a computation sees it: bit for bit, so that 0.0 and -0.0 differ (they
do under division, arctan2, copysign) and a NaN is the same as itself. A NaN's sign
counts too (copysign and signbit see it; arithmetic carries it along); its payload
does not.

The jit compares values seen by guards, and keys constants, by this rule; ``==``
would merge 0.0 with -0.0 and never match a NaN.
"""
import math

import numpy as np


def same(a, b):
    """True when ``a`` and ``b`` are the same value: same type family, same bits."""
    kind = type(b)
    if kind is bool or kind is int or kind is str:  # the common guards, quickly
        return type(a) is kind and a == b
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return same_array(np.asarray(a), np.asarray(b))
    if isinstance(a, (tuple, list)) or isinstance(b, (tuple, list)):
        return (type(a) is type(b) and len(a) == len(b)
                and all(same(x, y) for x, y in zip(a, b)))
    if isinstance(a, (float, np.floating)) and isinstance(b, (float, np.floating)):
        return same_float(a, b)
    if isinstance(a, (complex, np.complexfloating)) and isinstance(b, (complex, np.complexfloating)):
        return same_float(a.real, b.real) and same_float(a.imag, b.imag)
    try:
        return bool(a == b) and type(a) is type(b)
    except (TypeError, ValueError):
        return False


def same_float(a, b):
    equal = a == b or (a != a and b != b)  # NaN is NaN
    return equal and math.copysign(1.0, a) == math.copysign(1.0, b)


def same_array(a, b):
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind in "fc":
        return bool(np.array_equal(a, b, equal_nan=True)
                    and np.array_equal(np.signbit(a.real), np.signbit(b.real))
                    and (a.dtype.kind != "c" or np.array_equal(np.signbit(a.imag),
                                                               np.signbit(b.imag))))
    return bool(np.array_equal(a, b))


def constant_key(value):
    """A hashable key telling constants apart bit for bit (0.0 from -0.0, NaN from -NaN)."""
    if isinstance(value, (float, np.floating)):
        if value != value:
            return (type(value), "-nan" if math.copysign(1.0, value) < 0 else "nan")
        return (type(value), float(value).hex())
    if isinstance(value, (complex, np.complexfloating)):
        return (type(value), constant_key(value.real), constant_key(value.imag))
    return (type(value), value)
