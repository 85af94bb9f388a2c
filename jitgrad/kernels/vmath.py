"""Vectorizable float64 math for fused kernels.

Numba lowers ``math.exp`` and friends to one libm call per element, which stops LLVM's
loop vectorizer. These functions are branch-free (selects, not jumps), call nothing, and
use only arithmetic and integer bit operations, so a loop calling them compiles to packed
SIMD code. Each is written from the math: a Cody-Waite range reduction (constants split so
that ``k * part`` is exact), a minimax polynomial, a reconstruction by exponent bits.
``vmath_coefficients.py`` derives every constant (in ``vmath_core.py``, with the
helpers; sin and cos are in ``vmath_trig.py``, re-exported here).

Errors are in ulps of the correctly rounded result (the reference is NumPy's long double,
64-bit significand), measured on 10**6 points over each function's whole range
(``tests/test_vmath.py``). Polynomials use ``llvm.fmuladd``: fused on CPUs with FMA,
separate multiply and add elsewhere (errors measured with FMA).

``sin`` and ``cos`` reduce exactly only for ``|x| <= TRIG_MAX``. ``sin``/``cos`` take the
exact path (libm) beyond it, which stops vectorization of the loop; fused kernels use
``sin_fast``/``cos_fast`` and ``trig_slow`` instead (see ``sin_fast``).

Kernels call these as ``vmath.exp(x)`` from plain ``@numba.njit(error_model="numpy")``
loops; they compile with ``fastmath=False`` whatever the kernel's flags, so their results
are the same bit for bit in a fastmath kernel. Importing this module imports Numba: import
it from generated kernels only. A kernel cached on disk holds these modules' machine code:
key its cache entry with ``fingerprint()``.
"""
import hashlib
import math
import os

# The constants are vmath's public face (tests check them against the derivation).
from .vmath_core import (  # noqa: F401
    INV_LN2, LN2_HI, LN2_LO, TWO_OVER_PI, PIO2_A, PIO2_B, PIO2_C, PIO2_D, EXPM1_P,
    LOG_P, SIN_P, TANH_P, SINH_P, COS_P, TANH_SMALL, SINH_SMALL, TRIG_MAX, LN2, SHIFT,
    SHIFT_BITS, SIGN, SQRT_HALF_BITS, MANTISSA, TINY, MIN_NORMAL, _bits, _copysign,
    _float, _fmuladd, _horner, _pow2, _round, _to_float, _vec, wide_vectors)
from .vmath_trig import cos, cos_fast, sin, sin_fast, trig_slow  # noqa: F401

_SOURCES = ("vmath.py", "vmath_core.py", "vmath_trig.py")


def fingerprint():
    """A hash of vmath's sources, for the keys of cached kernels that inline it."""
    digest = hashlib.sha256()
    for name in _SOURCES:
        with open(os.path.join(os.path.dirname(__file__), name), "rb") as source:
            digest.update(source.read())
    return digest.hexdigest()[:16]


# -- exp family ----------------------------------------------------------------------

@_vec
def _exp_core(x):
    """(u, ul, k) with exp(x) = 2**k * (1 + u + ul), |u| < 0.42, ul below ulp(u): the
    double-double u + ul is expm1 of the reduced argument to ~2**-60 relative;
    for -1100 < x < 1100."""
    kf, k = _round(x * INV_LN2)
    hi = x - kf * LN2_HI  # exact: kf * LN2_HI is, and the two are within a factor 2
    lo = kf * LN2_LO
    r = hi - lo
    c = (hi - r) - lo  # the rounding error of r
    q = r * (r * _horner(r, EXPM1_P))  # expm1(r) - r, |q| < |r| / 5
    u = r + q
    ul = (r - u) + q  # exact rounding error of u, as |r| > |q|
    return u, _fmuladd(c, 1.0 + u, ul), k  # expm1(r + c) = expm1(r) + c * exp(r)


@_vec
def _scale(y, k):
    """y * 2**k for -2044 <= k <= 2046, rounded once (into denormals or to inf)."""
    half = k >> 1
    return y * _pow2(half) * _pow2(k - half)


@_vec
def _expm1_small_k(u, ul, k):
    """2**k * (1 + u + ul) - 1 for k < 1023 (2**k normal); accurate for k <= 60."""
    s = _pow2(k)
    return _fmuladd(s, ul, _fmuladd(s, u, s - 1.0))


@_vec
def exp(x):
    """exp(x); max error 1.0 ulp (measured: 0.85)."""
    x = -746.0 if x < -746.0 else x  # NaN passes the clamps
    x = 710.0 if x > 710.0 else x
    u, ul, k = _exp_core(x)
    return _scale(1.0 + (u + ul), k)


@_vec
def expm1(x):
    """expm1(x) = exp(x) - 1; max error 1.5 ulp (measured: 1.17)."""
    xc = -60.0 if x < -60.0 else x
    xc = 710.0 if xc > 710.0 else xc
    u, ul, k = _exp_core(xc)
    y = _expm1_small_k(u, ul, k if k < 60 else 60) if k < 60 else _scale(1.0 + u, k)
    return x if abs(x) < TINY else y  # keeps -0.0


@_vec
def sinh(x):
    """sinh(x); max error 1.5 ulp (measured: 1.36)."""
    a = abs(x)
    a = 711.0 if a > 711.0 else a
    u, ul, k = _exp_core(a)
    t = _expm1_small_k(u, ul, k if k < 60 else 60)  # expm1(a), while a < 22
    y = 0.5 * (t + t / (t + 1.0)) if a < 22.0 else _scale(1.0 + u, k - 1)
    z = a * a
    y = _fmuladd(a, z * _horner(z, SINH_P), a) if a < SINH_SMALL else y
    return _copysign(y, x)


@_vec
def cosh(x):
    """cosh(x); max error 1.5 ulp (measured: 1.29)."""
    a = abs(x)
    a = 711.0 if a > 711.0 else a
    u, ul, k = _exp_core(a)
    w = _scale(1.0 + (u + ul), k - 1)  # exp(a) / 2
    return w + 0.25 / w


@_vec
def tanh(x):
    """tanh(x); max error 2.0 ulp (measured: 1.49)."""
    a = abs(x)
    a = 20.0 if a > 20.0 else a  # tanh rounds to 1 from 19.1 on
    u, ul, k = _exp_core(2.0 * a)
    t = _expm1_small_k(u, ul, k)  # expm1(2a)
    z = a * a
    # Below TANH_SMALL, t / (t + 2) rounds three times relative to a small result.
    y = _fmuladd(a, z * _horner(z, TANH_P), a) if a < TANH_SMALL else t / (t + 2.0)
    return _copysign(y, x)


@_vec
def sech2(x):
    """1 / cosh(x)**2, the derivative of tanh; max error 2.5 ulp (measured: 2.17)."""
    a = abs(x)
    a = 380.0 if a > 380.0 else a
    q = exp(-2.0 * a)
    d = 1.0 + q
    dl = (1.0 - d) + q  # d + dl = 1 + q exactly
    return 4.0 * q / _fmuladd(d, d, 2.0 * d * dl)


@_vec
def sigmoid(x):
    """1 / (1 + exp(-x)) (scipy.special.expit); max error 2.5 ulp (measured: 2.16)."""
    e = exp(-abs(x))
    return (1.0 if x >= 0.0 else e) / (1.0 + e)


# -- log family ----------------------------------------------------------------------

@_vec
def _log_reduced(v, e_adjust, low):
    """log(v * 2**e_adjust) + low for v > 0 normal, low a small correction (log1p's
    rounding error of 1 + x, divided by 1 + x)."""
    # Adding 1 - sqrt(1/2) to the mantissa carries into the exponent when it is
    # >= sqrt(2): then m = mantissa / 2 and e one more.
    shifted = _bits(v) + (0x3FF0000000000000 - SQRT_HALF_BITS)
    e = _to_float((shifted >> 52) - 1023 + e_adjust)
    f = _float((shifted & MANTISSA) + SQRT_HALF_BITS) - 1.0  # exact, in [-0.29, 0.42)
    s = f / (2.0 + f)
    z = s * s
    big_r = z * _horner(z, LOG_P)  # ~ (2*atanh(s) - 2*s) / s
    hfsq = 0.5 * f * f
    # log1p(f) = 2*atanh(s) = f - hfsq + s*(hfsq + R), summed small to large.
    return e * LN2_HI - ((hfsq - _fmuladd(s, hfsq + big_r, _fmuladd(e, LN2_LO, low))) - f)


@_vec
def log(x):
    """Natural log; max error 1.0 ulp (measured: 0.79). log(0) = -inf, log(x < 0) = nan."""
    sub = x < MIN_NORMAL  # denormals (and 0, negatives) scaled into the normal range
    y = _log_reduced(x * 18014398509481984.0 if sub else x, -54 if sub else 0, 0.0)
    special = -math.inf if x == 0.0 else (x if x >= 0.0 else math.nan)
    return y if (x > 0.0 and x < math.inf) else special


@_vec
def log1p(x):
    """log(1 + x); max error 1.0 ulp (measured: 0.79). log1p(-1) = -inf, log1p(x < -1) = nan."""
    u = 1.0 + x
    c = (1.0 - (u - x)) if x > 1.0 else (x - (u - 1.0))  # exact: 1 + x = u + c
    y = _log_reduced(u, 0, c / u)
    y = x if abs(x) < TINY else y  # keeps -0.0
    special = -math.inf if x == -1.0 else (x if x >= 0.0 else math.nan)
    return y if (x > -1.0 and x < math.inf) else special


@_vec
def softplus(x):
    """log(1 + exp(x)) = logaddexp(x, 0); max error 2.0 ulp (measured: 1.45)."""
    return (x if x > 0.0 else 0.0) + log1p(exp(-abs(x)))


@_vec
def logaddexp(a, b):
    """log(exp(a) + exp(b)), by NumPy's formula; max error 2.0 ulp of max(|a|, |b|, result)
    (measured: 1.51, as NumPy's own: near a zero of the result both lose digits alike)."""
    big = a if a > b else b
    y = big + log1p(exp(-abs(a - b)))
    y = a + LN2 if a == b else y  # equal infinities
    return y if (a == a and b == b) else a + b
