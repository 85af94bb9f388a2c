"""Helpers forward-mode rules are written with.

``broadcast`` spreads one argument's share of a tangent to the output's shape *and*
puts it in the output's vector space. The space matters as much as the shape: a
JVP rule sums the shares of its arguments (``vspace(ans).add``), and the reverse
mode of that sum hands each share the output's cotangent unchanged. A real share
of a complex output (``x + z`` with real x) would then receive a complex
cotangent, and so would the real tangent it came from. Cast first, and the cast's
own VJP returns the real part (``astype``), as reverse mode must.
"""
import numpy as _np

from ..trace import getval, isbox
from . import numpy_wrapper as anp
from .numpy_vjps import match_complex, repeat_to_match_shape, unbroadcast  # noqa: F401

_PYTHON_SCALARS = (int, float, complex)


def _dtype(x):
    value = getval(x)
    return value.dtype if type(value) is _np.ndarray else _np.result_type(value)


def in_space_of(x, target):
    """``x`` in ``target``'s inexact dtype: real -> complex, and float widths matched.

    A complex ``x`` for a real ``target`` is left alone: that is a rule's bug to show,
    not to hide by dropping an imaginary part."""
    dtype, target_dtype = _dtype(x), _dtype(target)
    if dtype == target_dtype or dtype.kind not in "fc" or target_dtype.kind not in "fc":
        return x
    if dtype.kind == "c" and target_dtype.kind != "c":
        return x
    if isinstance(getval(x), _PYTHON_SCALARS):
        # np.astype takes arrays only. A Python scalar is weakly typed: times a NumPy
        # scalar of the target dtype it takes that dtype (also when the jit traces it).
        return target_dtype.type(x) if not isbox(x) else x * target_dtype.type(1)
    return anp.astype(x, target_dtype)


def broadcast(x, target):
    """``x`` broadcast to the shape of ``target`` and cast into its space (see above)."""
    target_shape = anp.shape(target)
    if anp.shape(x) != target_shape:
        x = anp.broadcast_to(x, target_shape)
    return in_space_of(x, target)
