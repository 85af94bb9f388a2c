"""Vectorizable float64 math for fused kernels.

Numba lowers ``math.exp`` and friends to one libm call per element, which stops LLVM's
loop vectorizer. These functions are branch-free (selects, not jumps), call nothing, and
use only arithmetic and integer bit operations, so a loop calling them compiles to packed
SIMD code. Each is written from the math: a Cody-Waite range reduction (constants split so
that ``k * part`` is exact), a minimax polynomial, a reconstruction by exponent bits.
``vmath_coefficients.py`` derives every constant below; run it to check them.

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
it from generated kernels only. A kernel cached on disk holds this module's machine code:
key its cache entry with ``fingerprint()``.
"""
import hashlib
import math

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

# Constants: the output of ``python -m jitgrad.kernels.vmath_coefficients``.
INV_LN2 = 1.4426950408889634
LN2_HI = 0.6931471806019545
LN2_LO = -4.2009150726810846e-11
TWO_OVER_PI = 0.6366197723675814
PIO2_A = 1.5707963276654482
PIO2_B = -8.705515692000731e-10
PIO2_C = -3.503434396954818e-19
PIO2_D = -1.1351118607522202e-28
# max rel err of the rounded fit: 9.23e-19
EXPM1_P = (
    0.5,
    0.16666666666666677,
    0.04166666666666651,
    0.0083333333333217,
    0.0013888888888962312,
    0.00019841269885939705,
    2.480158717261545e-05,
    2.755724440351416e-06,
    2.7557402609470635e-07,
    2.5108967723713903e-08,
    2.0875330333456968e-09,
)
# max rel err of the rounded fit: 1.23e-18
LOG_P = (
    0.6666666666666734,
    0.3999999999941705,
    0.28571428741891225,
    0.2222219862181313,
    0.181835618943157,
    0.15314110720783136,
    0.14795365425515852,
)
# max rel err of the rounded fit: 4.05e-19
SIN_P = (
    -0.16666666666666666,
    0.008333333333333042,
    -0.0001984126984096092,
    2.7557319072865055e-06,
    -2.5052070560566643e-08,
    1.6054257406079363e-10,
    -7.386423866427342e-13,
)
# max rel err of the rounded fit: 6.95e-19
TANH_P = (
    -0.3333333333333326,
    0.13333333333306657,
    -0.05396825393536203,
    0.02186948657230383,
    -0.008863170538237822,
    0.0035908705923000245,
    -0.0014416308074335612,
    0.0005023824029649374,
)
# max rel err of the rounded fit: 3.71e-19
SINH_P = (
    0.16666666666666666,
    0.008333333333333573,
    0.00019841269841060598,
    2.755731931043858e-06,
    2.505208931030992e-08,
    1.606135468035956e-10,
    7.502098583306753e-13,
    6.509840791604589e-15,
)
# max rel err of the rounded fit: 6.47e-20
COS_P = (
    0.041666666666666595,
    -0.0013888888888873333,
    2.4801587288993162e-05,
    -2.755731421366461e-07,
    2.0875704851057514e-09,
    -1.1358717319163802e-11,
)

# tanh's and sinh's polynomials serve |x| below these (vmath_coefficients.py too)
TANH_SMALL = 0.3
SINH_SMALL = 1.0
TRIG_MAX = 1048576.0  # 2**20: n = round(2x/pi) < 2**23 keeps n * PIO2_* exact
LN2 = 0.6931471805599453
# Adding SHIFT to |t| < 2**51 rounds t to an integer, held in the low bits of the sum.
SHIFT = 6755399441055744.0  # 1.5 * 2**52
SHIFT_BITS = 0x4338000000000000
SIGN = -0x8000000000000000  # the sign bit, as an int64
SQRT_HALF_BITS = 0x3FE6A09E667F3BCD  # log's mantissa is reduced into [sqrt(1/2), sqrt(2))
MANTISSA = 0x000FFFFFFFFFFFFF
TINY = 2.0 ** -54  # below this, expm1(x), log1p(x), sin(x) round to x
MIN_NORMAL = 2.2250738585072014e-308

# forceinline: LLVM inlines every call, so the caller's loop vectorizes (Numba's own
# inline="always" does the same at its IR level, but retypes the body at every call:
# 0.2 s of compile per call against ~0 here). Flags are explicit because a callee
# inherits unset ones from its caller: fastmath's nnan/ninf/reassoc would break the
# special-value selects and the rounding tricks, error_model="python" adds branches.
# cache: a new process compiles a new kernel in 0.1 s instead of 1 s.
# No cache=True: Numba's own cache lies outside the trust checks of jitgrad's kernel
# cache (kernels/cache.py); kernels inline these functions and are cached there.
_vec = numba.njit(forceinline=True, error_model="numpy", fastmath=False)


def fingerprint():
    """A hash of this module's source, for the keys of cached kernels that inline it."""
    with open(__file__, "rb") as source:
        return hashlib.sha256(source.read()).hexdigest()[:16]


@intrinsic
def _fmuladd(typingctx, a, b, c):
    """a * b + c: one fused rounding where the CPU has FMA, two elsewhere."""
    double = ir.DoubleType()

    def codegen(context, builder, signature, args):
        fn = builder.module.declare_intrinsic("llvm.fmuladd", [double],
                                              ir.FunctionType(double, [double] * 3))
        return builder.call(fn, [context.cast(builder, value, argument, types.float64)
                                 for value, argument in zip(args, signature.args)])
    return types.float64(a, b, c), codegen


@intrinsic
def wide_vectors(typingctx):
    """Called first in a kernel, lets LLVM vectorize its loops 512 bits wide (8 doubles)
    on AVX-512 CPUs, where its default is 256 (to spare older CPUs' AVX-512 clock
    throttling); no effect elsewhere. Only loops in the calling function itself: a
    compiled callee's loops were vectorized when it compiled. Sets the kernel function's ``prefer-vector-width``
    attribute, which llvmlite has no API for: the name is added to its attribute set
    directly, past the set's list of known attribute names."""
    def codegen(context, builder, signature, args):
        set.add(builder.function.attributes, '"prefer-vector-width"="512"')
        return context.get_dummy_value()
    return types.none(), codegen


def _libm(name):
    @intrinsic
    def call(typingctx, x):
        """libm's ``name``(x), as a plain call: unlike Numba's ``math.sin`` (the llvm.sin
        intrinsic) LLVM may not hoist it out of a branch into every vector lane."""
        double = ir.DoubleType()

        def codegen(context, builder, signature, args):
            fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(double, [double]),
                                                name)
            return builder.call(fn, [context.cast(builder, args[0], signature.args[0],
                                                  types.float64)])
        return types.float64(x), codegen
    return call


_libm_sin = _libm("sin")
_libm_cos = _libm("cos")


@_vec
def _bits(x):
    return np.float64(x).view(np.int64)


@_vec
def _float(i):
    return np.int64(i).view(np.float64)


@_vec
def _pow2(k):
    """2.0**k for integer -1022 <= k <= 1023."""
    return _float((k + 1023) << 52)


@_vec
def _round(t):
    """round(t), as a float and as an int64, for |t| < 2**51 (ties to even).
    A conversion instruction would do, but AVX2 has none for int64."""
    shifted = t + SHIFT
    return shifted - SHIFT, _bits(shifted) - SHIFT_BITS


@_vec
def _to_float(k):
    """float(k) for |k| < 2**51, by the same trick."""
    return _float(k + SHIFT_BITS) - SHIFT


@_vec
def _copysign(magnitude, sign):
    return _float((_bits(magnitude) & ~SIGN) | (_bits(sign) & SIGN))


@_vec
def _horner(x, c):
    """sum(c[j] * x**j), by Horner's rule in x*x over pairs c[j] + c[j+1]*x: half the
    chain of dependent operations, which bounds a long fused loop body more than the
    operation count does (log1p(exp(x)) 15% faster than plain Horner)."""
    n = len(c)
    x2 = x * x
    p = c[n - 1] if n % 2 else _fmuladd(c[n - 1], x, c[n - 2])
    for j in range(n - 3 + n % 2 - 1, -1, -2):
        p = _fmuladd(p, x2, _fmuladd(c[j + 1], x, c[j]))
    return p


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


# -- sin, cos ------------------------------------------------------------------------

@_vec
def _two_sum(a, b):
    """(s, e) with s = fl(a + b) and s + e = a + b exactly."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


@_vec
def _sincos(x):
    """(sin(r), cos(r), n) with r = x - n*pi/2, |r| <= pi/4, for |x| <= TRIG_MAX."""
    nf, n = _round(x * TWO_OVER_PI)
    # r as a double-double r + rl, every product exact and every difference's rounding
    # error kept: a plain Cody-Waite difference costs up to 1 ulp in sin, and 14 ulps
    # near a multiple of pi/2 where r is tiny.
    r, e1 = _two_sum(x - nf * PIO2_A, -nf * PIO2_B)
    r, e2 = _two_sum(r, -nf * PIO2_C)
    r, rl = _two_sum(r, (e1 + e2) - nf * PIO2_D)
    z = r * r
    # sin(r + rl) = sin(r) + rl*cos(r), cos(r + rl) = cos(r) - rl*sin(r), to first
    # order in rl (below ulp(r)), with cos(r) to 3e-4 and sin(r) to 0.1.
    s = r + _fmuladd(r, z * _horner(z, SIN_P), rl * _fmuladd(z, -0.5, 1.0))
    half_z = 0.5 * z
    w = 1.0 - half_z  # 1 - z/2 and its rounding error, then the small terms
    c = w + (((1.0 - w) - half_z) + _fmuladd(z * z, _horner(z, COS_P), -r * rl))
    return s, c, n


@_vec
def _flip(y, bit):
    """-y if bit else y, for bit 0 or 1."""
    return _float(_bits(y) ^ (bit << 63))


@_vec
def sin_fast(x):
    """sin(x) for |x| <= TRIG_MAX (nan for inf and nan, garbage beyond TRIG_MAX); max
    error 1.0 ulp (measured: 0.76). A fused kernel computes its elements with ``sin_fast``
    and ``cos_fast`` in a loop that also ORs ``trig_slow`` of their arguments together,
    and only if that flag is set recomputes them with ``sin``/``cos``: so the common loop
    vectorizes, and costs 1.00-1.04x the loop without the flag."""
    s, c, n = _sincos(x)
    y = _flip(c if n & 1 else s, (n >> 1) & 1)
    return x if abs(x) < TINY else y  # keeps -0.0


@_vec
def cos_fast(x):
    """cos(x) for |x| <= TRIG_MAX; max error 1.0 ulp (measured: 0.74). See ``sin_fast``."""
    s, c, n = _sincos(x)
    return _flip(s if n & 1 else c, ((n + 1) >> 1) & 1)


@_vec
def trig_slow(x):
    """Whether sin_fast(x) and cos_fast(x) are wrong: TRIG_MAX < |x| < inf."""
    return abs(x) > TRIG_MAX and abs(x) < math.inf


@_vec
def sin(x):
    """sin(x), exact for all x (libm beyond TRIG_MAX); max error 1.0 ulp (measured: 0.76)."""
    return sin_fast(x) if abs(x) <= TRIG_MAX else _libm_sin(x)


@_vec
def cos(x):
    """cos(x), exact for all x (libm beyond TRIG_MAX); max error 1.0 ulp (measured: 0.74)."""
    return cos_fast(x) if abs(x) <= TRIG_MAX else _libm_cos(x)
