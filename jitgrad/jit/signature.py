"""Argument and output trees of jitted calls: signatures, leaves and rebuilding.

A call's *signature* is hashable: the tree structure of its arguments (see
``tree``), each array's shape and dtype, each float or complex scalar's type, and
the value of everything else. Its *leaves* are the arrays and scalars that a plan
takes as inputs.
"""
import functools
import types

import numpy as np

from ..trace.core import isbox
from ..trace.array_subclasses import unsupported_array
from .graph import TraceUnsupported
from .passes import Constant
from ..trace import tree

# Scalars a plan takes as inputs, like arrays: a new value replays the plan (Python
# code that needs an integer's value, as an index or a count, guards it). bool and
# enums stay part of the signature.
DYNAMIC_SCALARS = (float, complex, np.float16, np.float32, np.float64, np.longdouble,
                   np.complex64, np.complex128, np.clongdouble,
                   int, np.int8, np.int16, np.int32, np.int64,
                   np.uint8, np.uint16, np.uint32, np.uint64)


# Array dtypes traced as leaves: bool, integers, floats, complex (``dtype.kind``).
# Datetimes, strings and structured arrays are not (the call runs eagerly).
NUMERIC_KINDS = "biufc"


class Boxed(Exception):
    """An argument is already traced: an enclosing transformation is running."""


class UnsafeArgument(Exception):
    """An argument the jit cannot key safely: the call runs eagerly (``args[0]`` says why)."""


def leaf_key(value, leaves, where):
    kind = type(value)
    if kind is np.memmap:  # a file's data, computed with as any array (as eager does)
        value, kind = value.view(np.ndarray), np.ndarray
    if kind is np.ndarray:
        if value.dtype == object:
            raise TypeError(f"jit: {where} is an object array; convert it with "
                            "np.asarray(x, dtype=float), or mark it static with static_argnums.")
        if value.dtype.kind not in NUMERIC_KINDS:
            raise UnsafeArgument(
                f"{where} is an array of {value.dtype} values, which are not traced "
                "(no primitive computes on them as on numbers); pass numbers instead, such "
                "as (t - t0) / np.timedelta64(1, 's') for times, or a code per string")
        leaves.append(value)
        return (value.shape, value.dtype)
    if kind in DYNAMIC_SCALARS:
        leaves.append(value)
        return kind
    node = tree.children(value)
    if node is not None:
        parts = node[0]
        return (tree.structure_key(value),
                tuple(leaf_key(v, leaves, f"{where}[{i}]") for i, v in enumerate(parts)))
    if isbox(value):
        raise Boxed
    if _holds_mutable_state(value):
        raise UnsafeArgument(
            f"{where} is a {kind.__name__} object, compared by identity, whose attributes "
            "may change between calls (a replay would keep the first call's values); pass "
            "its arrays as arguments, register its class with jitgrad.tree.register, or "
            "mark it static (static_argnums) if it never changes")
    return static_key(value, where)


def _holds_mutable_state(value):
    """An object hashed by identity (a model, a RandomState): its state may change
    between calls without the jit seeing it. Functions, classes and modules are
    captured as constants, like globals and closures."""
    cls = type(value)
    if cls.__hash__ is not object.__hash__ or cls is object:
        return False
    return not (is_function(value) or isinstance(value, (type, types.ModuleType))
                or value is None or value is Ellipsis or value is NotImplemented)


def is_function(value):
    """Functions proper (not callable objects, which may carry data of their own)."""
    return isinstance(value, (types.FunctionType, types.MethodType, types.BuiltinFunctionType,
                              functools.partial, np.ufunc)) or hasattr(
        value, "function_key_parts")  # a Derivative or a JitFunction


def static_key(value, where):
    try:
        hash(value)
    except TypeError:
        if where.startswith("static"):
            raise TypeError(f"jit: {where} is a {type(value).__name__}, which is not hashable; "
                            "values named in static_argnums or static_argnames must be (a "
                            "tuple rather than a list), or pass it as an ordinary argument, "
                            "which is traced") from None
        problem = unsupported_array(value)
        if problem is not None:
            raise TypeError(f"jit: {where} {problem}.") from None
        raise TypeError(f"jit: {where} of type {type(value).__name__} is neither an array, "
                        "a number, a container of those, nor hashable, so calls cannot be "
                        "told apart; pass arrays, or a hashable value with static_argnums."
                        ) from None
    return ("=", type(value), value)


def map_leaves(value, f):
    """``value`` with each array and float/complex scalar replaced by ``f`` of it (the
    leaves ``leaf_key`` lists, in its order)."""
    def leaf(value):
        if type(value) is np.memmap:
            return f(value.view(np.ndarray))
        return f(value) if _is_dynamic(value) else value
    return tree.tree_map(leaf, value)


def _is_dynamic(leaf):
    return type(leaf) is np.ndarray or type(leaf) in DYNAMIC_SCALARS


def output_tree(out, trace_id):
    """The output with each traced value replaced by its graph node, every other leaf
    by a Constant; raises ``ReturnsFunction`` for functions and refuses generators."""
    def node_or_constant(leaf):
        if isbox(leaf):
            if leaf._trace == trace_id:
                return leaf._node
            raise TraceUnsupported("it returned a value traced by an inner transformation")
        if isinstance(leaf, (types.GeneratorType, types.AsyncGeneratorType)):
            raise LazyOutput("it returns a generator, whose body runs only when "
                             "iterated, after the trace")
        if is_function(leaf):
            raise ReturnsFunction()
        if not isinstance(leaf, _CONSTANT_TYPES):
            raise LazyOutput(
                f"it returns a {type(leaf).__name__} object, which a replay could not "
                "rebuild with new values (register its class with jitgrad.tree.register)")
        return Constant(leaf)
    return tree.tree_map(node_or_constant, out, is_leaf=_is_traced_container)


# Values an output may hold as they are: numbers, strings, arrays (copied per call),
# dtypes and the like. Other objects could hold traced data the plan cannot refill.
_CONSTANT_TYPES = (type(None), bool, int, float, complex, str, bytes, np.ndarray, np.generic,
                   np.dtype, type, slice, range, type(Ellipsis))


def _is_traced_container(value):
    # A traced tuple or list is one value of the graph, not a node of the tree.
    return isbox(value)


class LazyOutput(TraceUnsupported):
    """The traced output cannot be handed out: it computes later (a generator), or it
    is an object that may hold traced values: the function runs again eagerly."""


class ReturnsFunction(TraceUnsupported):
    """The output holds functions: the jit compiles those instead (``_staged_call``)."""


def pick(value, path):
    """The subtree of ``value`` at ``path``, a sequence of child positions."""
    for position in path:
        value = tree.children(value)[0][position]
    return value


def plain_tree(out):
    """``out`` with every traced value, at any depth, replaced by its plain value."""
    def plain(leaf):
        while isbox(leaf):
            leaf = leaf._value
        node = tree.children(leaf)
        return leaf if node is None else plain_tree(leaf)
    return tree.tree_map(plain, out)
