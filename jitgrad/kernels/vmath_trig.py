"""sin and cos for fused kernels (see ``vmath``): a vectorizable pass exact up to
``TRIG_MAX``, and libm beyond it."""
import math

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from .vmath_core import (COS_P, PIO2_A, PIO2_B, PIO2_C, PIO2_D, SIN_P, TINY, TRIG_MAX,
                         TWO_OVER_PI, _bits, _float, _fmuladd, _horner, _round, _vec)


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
