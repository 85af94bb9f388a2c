"""NumPy's namespace with every function wrapped for tracing.

Functions whose output does not depend differentiably on their inputs (shape
queries, comparisons, rounding, arg-sorts) unbox their arguments and are never
recorded. Every other function is a primitive: differentiating through it uses
its rules when it has them, and otherwise says so by name.
"""
import types as _types

import numpy as _np

from ..kernels import blas_threads
from ..trace import notrace_primitive, primitive
from ..trace.core import keeps_traced_ints
from ..trace.rules import def_dtype_from_values, def_shape_from_values
from .array_likes import array_likes

# Functions with no derivative (piecewise constant, integer-valued or metadata).
NOTRACE_NAMES = """
    shape ndim size result_type iscomplexobj isrealobj iscomplex isreal isscalar
    isfinite isinf isnan isneginf isposinf isclose allclose array_equal array_equiv
    argmax argmin argsort argpartition argwhere nonzero flatnonzero count_nonzero
    searchsorted digitize bincount histogram histogram2d histogramdd histogram_bin_edges
    unique unique_all unique_counts unique_inverse unique_values
    zeros_like ones_like empty_like
    floor ceil round around rint fix trunc sign signbit floor_divide
    logical_and logical_or logical_not logical_xor all any
    greater greater_equal less less_equal equal not_equal
    bitwise_and bitwise_or bitwise_xor bitwise_not invert left_shift right_shift
    gcd lcm isin in1d intersect1d union1d setdiff1d setxor1d
    can_cast min_scalar_type promote_types issubdtype common_type mintypecode
    iterable ndindex nditer shares_memory may_share_memory einsum_path
    """.split()

# Of those, the ones whose result depends only on shapes and dtypes, which the
# jit's signature already fixes (so it need not record them).
METADATA_NAMES = set("""
    shape ndim size result_type iscomplexobj isrealobj isscalar can_cast min_scalar_type
    promote_types issubdtype common_type mintypecode iterable shares_memory may_share_memory
    einsum_path
    """.split())

# Functions whose result's shape can depend on their arguments' values, not only on
# their shapes (see ``def_shape_from_values``). ``where`` is one with a single
# argument only (the indices where it holds), and is declared below.
SHAPE_FROM_VALUES_NAMES = set("""
    nonzero argwhere flatnonzero unique unique_all unique_counts unique_inverse
    unique_values compress extract trim_zeros setdiff1d intersect1d union1d setxor1d
    bincount arange linspace logspace geomspace zeros ones empty full eye identity tri
    repeat resize delete insert histogram histogram_bin_edges
    """.split())

# Functions whose result's dtype can depend on their arguments' values (real or
# complex: see ``def_dtype_from_values``; linalg's eig and eigvals are declared there).
DTYPE_FROM_VALUES_NAMES = {"roots", "real_if_close"}

UFUNC_ATTRIBUTES = ("reduce", "accumulate", "reduceat", "outer", "at", "nin", "nout",
                    "nargs", "ntypes", "types", "identity", "signature")


def wrap_namespace(source, target):
    """Fill dict ``target`` with ``source``'s public names, functions wrapped.

    Returns the names filled in."""
    names = []
    for name, obj in source.items():
        if name.startswith("_"):
            continue
        if isinstance(obj, _np.ufunc) or (callable(obj) and isinstance(
                obj, (_types.FunctionType, _types.BuiltinFunctionType))) or (
                type(obj).__name__ == "_ArrayFunctionDispatcher"):
            target[name] = wrap(obj, notrace=name in NOTRACE_NAMES)
            if name in METADATA_NAMES:
                target[name].metadata_only = True
            if name in SHAPE_FROM_VALUES_NAMES:
                def_shape_from_values(target[name])
            if name in DTYPE_FROM_VALUES_NAMES:
                def_dtype_from_values(target[name])
        elif not isinstance(obj, _types.ModuleType):
            target[name] = obj
        else:
            continue
        names.append(name)
    return names


_wrappers = {}
_BLAS_LIMITED = {_np.dot: blas_threads.dot, _np.matmul: blas_threads.matmul}


def wrap(fun, notrace=False):
    """One wrapper per NumPy function, so aliases (abs, absolute) share rules."""
    if id(fun) in _wrappers:
        return _wrappers[id(fun)]
    # dot and matmul run small products on one BLAS thread (eagerly and in plans), and
    # NumPy's and SciPy's linear algebra small problems
    raw = _BLAS_LIMITED.get(fun, fun)
    if raw is fun and _uses_lapack(fun):
        raw = blas_threads.limited(fun)
    wrapped = _wrappers[id(fun)] = (notrace_primitive(raw, array_likes) if notrace
                                    else primitive(raw, array_likes))
    if isinstance(fun, _np.ufunc):
        for attribute in UFUNC_ATTRIBUTES:
            setattr(wrapped, attribute, getattr(fun, attribute))
        keeps_traced_ints(wrapped)  # elementwise: an integer is just a value
    return wrapped


def _uses_lapack(fun):
    module = getattr(fun, "__module__", None) or ""
    return module.startswith(("numpy.linalg", "scipy.linalg")) and callable(fun)


__all__ = wrap_namespace(_np.__dict__, globals())
def_shape_from_values(globals()["where"], when=lambda args: len(args) == 1)
