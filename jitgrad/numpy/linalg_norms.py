"""Rules of norm, vector_norm and matrix_norm, for every ord and axis form.

Each norm n(x) has a coefficient array C (x's shape) with dn = sum(Re(C dx)) over
the reduced axes: the VJP is g * C and the JVP is that sum. At a zero vector or
matrix C is 0 (the smallest subgradient); ties of max/min-type norms split evenly.
"""
import numpy as _np
import numpy.linalg as _linalg

from ..trace import defjvp, defvjp
from . import numpy_wrapper as anp
from .linalg_util import col, conj, mm, real, row, svd
from .numpy_wrapper import wrap

norm = wrap(_linalg.norm)
vector_norm = wrap(_linalg.vector_norm) if hasattr(_linalg, "vector_norm") else None
matrix_norm = wrap(_linalg.matrix_norm) if hasattr(_linalg, "matrix_norm") else None


def _norm_kind(x, ord, axis):
    """("vector" or "matrix", ord, the reduced axes) of a call of norm."""
    ndim = anp.ndim(x)
    if axis is None:
        if ord is None or ndim == 1:
            return "vector", 2 if ord is None else ord, tuple(range(ndim))
        axis = tuple(range(ndim))
    elif _np.ndim(axis) == 0:
        axis = (axis,)
    axis = tuple(int(a) % ndim for a in axis)
    if len(axis) == 1:
        return "vector", 2 if ord is None else ord, axis
    return "matrix", "fro" if ord is None else ord, axis


def _kept(x, ans, axes):
    """The norm broadcast against x (its reduced axes kept with size 1)."""
    shape = tuple(1 if i in axes else size for i, size in enumerate(anp.shape(x)))
    return anp.reshape(ans, shape)


def _evenly(mask, axes, x):
    """mask / (number of True along axes): ties share the gradient (in x's precision:
    float32 stays float32)."""
    share = anp.astype(mask, _np.finfo(anp.result_type(x)).dtype)
    return share / anp.sum(share, axis=axes, keepdims=True)


def _singular_coefficient(x, ord, axes):
    """conj(U W V^H) for the matrices on ``axes``: W picks the singular values in n."""
    others = [i for i in range(anp.ndim(x)) if i not in axes]
    order = others + list(axes)
    U, s, Vh = svd(anp.transpose(x, order), full_matrices=False)
    if ord == "nuc":
        W = mm(U, Vh)
    else:
        i = 0 if ord == 2 else -1
        W = col(U[..., :, i]) * row(Vh[..., i, :])
    return conj(anp.transpose(W, tuple(_np.argsort(order))))


def norm_coefficient(x, ans, kind, ord, axes):
    n = _kept(x, ans, axes)
    absx = anp.abs(x)
    unit = conj(x) / anp.where(absx == 0, 1, absx)  # x/|x| conjugated, 0 at 0
    if kind == "matrix" and ord == "fro":
        kind, ord = "vector", 2
    if kind == "vector":
        if ord == 2:
            return conj(x) / anp.where(n == 0, 1, n)
        if ord == 1:
            return unit
        if ord in (_np.inf, -_np.inf):
            return unit * _evenly(absx == n, axes, x)
        if ord == 0:
            return anp.zeros_like(x)
        safe_n = anp.where(n == 0, 1, n)
        return unit * (absx / safe_n) ** (ord - 1)
    row_axis, col_axis = axes
    if ord in (1, -1, _np.inf, -_np.inf):
        # 1: the largest column sum (over rows); inf: the largest row sum.
        summed, other = (row_axis, col_axis) if ord in (1, -1) else (col_axis, row_axis)
        sums = anp.sum(absx, axis=summed, keepdims=True)
        return unit * _evenly(sums == n, (other,), x)
    if ord in ("nuc", 2, -2):
        return anp.where(n == 0, 0, _singular_coefficient(x, ord, axes))
    raise ValueError(f"norm: invalid ord {ord!r} for a matrix norm.")


def _def_norm(fun, kind_of):
    """Rules of a norm primitive whose (kind, ord, axes, keepdims) are ``kind_of(x, ...)``."""
    def vjp_maker(ans, x, *args, **kwargs):
        kind, ord, axes, _ = kind_of(x, *args, **kwargs)
        C = norm_coefficient(x, ans, kind, ord, axes)
        return lambda g: _kept(x, g, axes) * C

    def jvp(g, ans, x, *args, **kwargs):
        kind, ord, axes, keepdims = kind_of(x, *args, **kwargs)
        C = norm_coefficient(x, ans, kind, ord, axes)
        return anp.sum(real(C * g), axis=axes, keepdims=keepdims)

    defvjp(fun, vjp_maker)
    defjvp(fun, jvp)


def _norm_args(x, ord=None, axis=None, keepdims=False):
    return _norm_kind(x, ord, axis) + (keepdims,)


def _vector_norm_args(x, axis=None, keepdims=False, ord=2):
    axes = (range(anp.ndim(x)) if axis is None else
            (axis,) if _np.ndim(axis) == 0 else axis)
    return "vector", ord, tuple(int(a) % max(anp.ndim(x), 1) for a in axes), keepdims


def _matrix_norm_args(x, keepdims=False, ord="fro"):
    return "matrix", ord, (anp.ndim(x) - 2, anp.ndim(x) - 1), keepdims


_def_norm(norm, _norm_args)
if vector_norm is not None:
    _def_norm(vector_norm, _vector_norm_args)
if matrix_norm is not None:
    _def_norm(matrix_norm, _matrix_norm_args)
