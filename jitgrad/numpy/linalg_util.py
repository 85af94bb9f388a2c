"""Matrix helpers for the linalg rules, written with traced primitives so that the
rules built from them differentiate again. Stacks of matrices (..., M, N) throughout."""
import numpy as _np
import numpy.linalg as _linalg

from ..trace import defjvp_argnums, defvjp_argnum, getval, primitive, vspace
from ..trace.containers import container_take
from . import numpy_wrapper as anp
from .numpy_wrapper import wrap

# The traced numpy.linalg functions (the same objects as jitgrad.numpy.linalg's).
inv, solve, eigh, eig, svd, qr = map(
    wrap, (_linalg.inv, _linalg.solve, _linalg.eigh, _linalg.eig, _linalg.svd, _linalg.qr))

mm = anp.matmul


def T(x):
    return anp.swapaxes(x, -1, -2)


def conj(x):
    return anp.conj(x) if anp.iscomplexobj(x) else x


def H(x):
    return conj(T(x))


def real(x):
    return anp.real(x) if anp.iscomplexobj(x) else x


def real_dtype(x):
    return _np.empty(0, anp.result_type(x)).real.dtype


def eye_like(n, x):
    return _np.eye(n, dtype=real_dtype(x))


def diag(x):
    return anp.einsum("...ii->...i", x)


def diag_embed(v):
    return anp.einsum("...i,ij->...ij", v, eye_like(anp.shape(v)[-1], v))


def col(v):
    """(..., n) -> (..., n, 1): multiplying by it scales rows."""
    return anp.expand_dims(v, -1)


def row(v):
    """(..., n) -> (..., 1, n): multiplying by it scales columns."""
    return anp.expand_dims(v, -2)


def matrix_scale(v):
    """One scalar per matrix of a stack: (...) -> (..., 1, 1)."""
    return anp.expand_dims(anp.expand_dims(v, -1), -1)


def tril(x, k=0):
    m, n = anp.shape(x)[-2:]
    return x * _np.tri(m, n, k, dtype=real_dtype(x))


def triu(x, k=0):
    m, n = anp.shape(x)[-2:]
    return x * (1 - _np.tri(m, n, k - 1, dtype=real_dtype(x)))


def trace_of_product(a, b):
    return anp.einsum("...ij,...ji->...", a, b)


def inverse_gaps(w):
    """F[i, j] = 1 / (w[j] - w[i]) off the diagonal, 0 on it (w distinct)."""
    eye = eye_like(anp.shape(w)[-1], w)
    return 1.0 / (row(w) - col(w) + eye) - eye


@primitive
def make_named_tuple(tuple_type, *parts):
    return tuple_type(*parts)


defvjp_argnum(make_named_tuple, lambda argnum, ans, args, kwargs:
              lambda g: container_take(g, argnum - 1))
defjvp_argnums(make_named_tuple, lambda argnums, gs, ans, args, kwargs: make_named_tuple(
    args[0], *[gs[argnums.index(i)] if i in argnums else vspace(part).zeros()
               for i, part in enumerate(args[1:], 1)]))


def like_result(ans, *parts):
    """A tangent of a decomposition: ``ans``'s named-tuple type holding ``parts``, traced
    as one container when the parts are (so that it can be differentiated again)."""
    return make_named_tuple(type(getval(ans)), *parts)
