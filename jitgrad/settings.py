"""The ``JITGRAD_*`` environment settings, read one way.

A flag takes 1/0, true/false, yes/no or on/off, in any case (empty is off); a number
must parse and not be below its minimum. A value that is neither is warned about once,
naming what jitgrad uses instead (before, ``JITGRAD_JIT=false`` turned the jit on and
``JITGRAD_FUSE_AFTER=abc`` was ignored without a word).
"""
import math
import os
import warnings

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_warned = set()


def flag(name, default):
    """The boolean setting ``name``, or ``default`` when unset or not understood."""
    value = os.environ.get(name)
    if value is None:
        return default
    word = value.strip().lower()
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    _warn(name, value, f"{'1' if default else '0'} (it takes 1/0, true/false, yes/no, on/off)")
    return default


def number(name, default, kind=float, minimum=0):
    """The numeric setting ``name`` (``kind(value)``, at least ``minimum``), or
    ``default`` when unset or not such a number."""
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        result = kind(value)
        if isinstance(result, float) and math.isnan(result) or result < minimum:
            raise ValueError
    except ValueError:
        kind_name = "a whole number" if kind is int else "a number"
        _warn(name, value, f"{default} (it takes {kind_name} of at least {minimum})")
        return default
    return result


def _warn(name, value, used):
    if (name, value) not in _warned:
        _warned.add((name, value))
        warnings.warn(f"{name}={value!r} is not understood; jitgrad uses {used}",
                      stacklevel=3)
