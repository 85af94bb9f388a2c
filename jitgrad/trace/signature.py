"""Argument and output trees of jitted calls: signatures, leaves and rebuilding.

A call's *signature* is hashable: the tree structure of its arguments, each
array's shape and dtype, each float or complex scalar's type, and the value of
everything else. Its *leaves* are the arrays and scalars that a plan takes as
inputs.
"""
from collections import OrderedDict

import numpy as np

from .core import isbox
from .graph import TraceUnsupported
from .passes import Constant

DYNAMIC_SCALARS = (float, complex, np.float16, np.float32, np.float64, np.longdouble,
                   np.complex64, np.complex128, np.clongdouble)


class Boxed(Exception):
    """An argument is already traced: an enclosing transformation is running."""


def leaf_key(value, leaves, where):
    kind = type(value)
    if kind is np.ndarray:
        if value.dtype == object:
            raise TypeError(f"jit: {where} is an object array; convert it with "
                            "np.asarray(x, dtype=float), or mark it static with static_argnums.")
        leaves.append(value)
        return (value.shape, value.dtype)
    if kind in DYNAMIC_SCALARS:
        leaves.append(value)
        return kind
    if kind in (tuple, list):
        return (kind, tuple(leaf_key(v, leaves, f"{where}[{i}]") for i, v in enumerate(value)))
    if kind in (dict, OrderedDict):
        return (kind, tuple((k, leaf_key(v, leaves, f"{where}[{k!r}]"))
                            for k, v in value.items()))
    if isbox(value):
        raise Boxed
    return static_key(value, where)


def static_key(value, where):
    try:
        hash(value)
    except TypeError:
        raise TypeError(f"jit: {where} of type {type(value).__name__} is neither an array, "
                        "a number, a container of those, nor hashable, so calls cannot be "
                        "told apart; pass arrays, or a hashable value with static_argnums."
                        ) from None
    return ("=", type(value), value)


def map_leaves(value, f):
    kind = type(value)
    if kind is np.ndarray or kind in DYNAMIC_SCALARS:
        return f(value)
    if kind in (tuple, list):
        return kind(map_leaves(v, f) for v in value)
    if kind in (dict, OrderedDict):
        return kind((k, map_leaves(v, f)) for k, v in value.items())
    return value


def output_tree(out, trace_id):
    if isbox(out):
        if out._trace == trace_id:
            return out._node
        raise TraceUnsupported("it returned a value traced by an inner transformation")
    kind = type(out)
    if kind in (tuple, list):
        return kind(output_tree(v, trace_id) for v in out)
    if kind is dict:
        return {k: output_tree(v, trace_id) for k, v in out.items()}
    if callable(out):
        raise ReturnsFunction()
    return Constant(out)


class ReturnsFunction(TraceUnsupported):
    """The output holds functions: the jit compiles those instead (``_staged_call``)."""


def pick(value, path):
    for key in path:
        value = value[key]
    return value


def plain_tree(out):
    while isbox(out):
        out = out._value
    kind = type(out)
    if kind in (tuple, list):
        return kind(plain_tree(v) for v in out)
    if kind is dict:
        return {k: plain_tree(v) for k, v in out.items()}
    return out
