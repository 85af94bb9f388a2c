"""The machinery of ``vmath``: its constants, compile flags and bit-level helpers.

The constant block is the output of ``python -m jitgrad.kernels.vmath_coefficients``,
pasted verbatim. ``vmath.py`` (exp and log families) and ``vmath_trig.py`` (sin, cos)
build on these; kernels call them through ``vmath``, whose ``fingerprint()`` covers
all three files.
"""
import numba
import numpy as np
from llvmlite import ir
from numba import types
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
