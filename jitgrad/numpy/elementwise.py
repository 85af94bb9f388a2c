"""Rules of the elementwise primitives (NumPy ufuncs and friends).

A unary function is defined by its derivative ``dfdx(ans, x)``: its VJP is
``g * dfdx`` and its JVP is ``g * dfdx`` (autograd's complex convention makes the
two the same expression for holomorphic functions). A binary function is defined
by its two partial derivatives; the VJP sums back over broadcast axes and the
JVP spreads each argument's share to the output's shape and dtype (a real share of
a complex output becomes complex: see ``numpy_jvps.broadcast``).

Constants in rules are Python floats (``math.log(2)``, not ``np.log(2)``): Python
scalars are "weak" in NumPy's promotion, so float32 stays float32. Conventions at
non-differentiable points are listed in README.md.
"""
import math
import operator

import numpy as _np

from ..kernels import integers
from ..trace import def_replay, def_scalar_body, defjvp, defvjp, getval, primitive
from ..trace.core import keeps_traced_ints
from . import numpy_wrapper as anp
from .numpy_jvps import broadcast
from .numpy_vjps import balanced_eq, match_complex, replace_zero, unbroadcast_f

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_PYTHON_SCALARS = (int, float, complex)


def _reads(reads, names):
    """Which of ``names`` a derivative reads, as declared by ``reads``. A VJP closure
    holds only those (the others are passed as None), so eager reverse mode lets the
    rest go as soon as the forward pass moves on: a loop of ``0.9 * x + 0.1 * sin(x)``
    keeps one array per step, as autograd does, not four."""
    return [name in reads.split() for name in names]


def _times(d, values):
    return lambda g: g * d(*values)


def _over(d, values):
    return lambda g: g / d(*values)


def def_unary(fun, dfdx, body=None, reads="ans x", array_body="same", exact=False):
    """``body`` is the scalar expression the jit's fuser compiles (``{0}`` is x), and
    ``array_body`` the one for array loops; ``exact`` says the body is exact IEEE
    arithmetic (see ``trace.rules.def_scalar_body``); ``reads`` declares which of
    ``ans`` and ``x`` the derivative uses."""
    read_ans, read_x = _reads(reads, ("ans", "x"))
    defvjp(fun, lambda ans, x: _times(dfdx, (ans if read_ans else None,
                                             x if read_x else None)))
    defjvp(fun, lambda g, ans, x: g * dfdx(ans, x))
    if body is not None:
        def_scalar_body(fun, body, array_body, exact)


def def_unary_quotient(fun, inverse_dfdx, body=None, reads="ans x", array_body="same",
                       exact=False):
    """A unary function whose derivative is ``1 / inverse_dfdx(ans, x)``: its rules
    divide by that instead of multiplying by its reciprocal (one pass fewer)."""
    read_ans, read_x = _reads(reads, ("ans", "x"))
    defvjp(fun, lambda ans, x: _over(inverse_dfdx, (ans if read_ans else None,
                                                    x if read_x else None)))
    defjvp(fun, lambda g, ans, x: g / inverse_dfdx(ans, x))
    if body is not None:
        def_scalar_body(fun, body, array_body, exact)


def def_binary(fun, dfdx, dfdy, body=None, reads=("ans x y", "ans x y"), exact=False):
    """``dfdx(ans, x, y)``; ``None`` for a partial derivative that is always zero.
    ``body`` is the scalar expression the jit's fuser compiles (``{0}``, ``{1}``), and
    ``exact`` says it is exact IEEE arithmetic (``trace.rules.def_scalar_body``);
    ``reads`` declares which of ``ans x y`` each partial derivative uses."""
    if body is not None:
        def_scalar_body(fun, body, exact=exact)
    def vjp(d, argnum):
        if d is None:
            return None
        read_ans, read_x, read_y = _reads(reads[argnum], ("ans", "x", "y"))
        return lambda ans, x, y: unbroadcast_f((x, y)[argnum], _times(d, (
            ans if read_ans else None, x if read_x else None, y if read_y else None)))

    def jvp(d):
        if d is None:
            return None
        return lambda g, ans, x, y: broadcast(g * d(ans, x, y), ans)
    defvjp(fun, vjp(dfdx, 0), vjp(dfdy, 1))
    defjvp(fun, jvp(dfdx), jvp(dfdy))


def def_binary_linear_x(fun, dfdy):
    """A binary function whose partial derivative in x is 1 (add, mod, fmod...)."""
    defvjp(fun, lambda ans, x, y: unbroadcast_f(x, lambda g: g),
           None if dfdy is None else
           lambda ans, x, y: unbroadcast_f(y, lambda g: g * dfdy(ans, x, y)))
    defjvp(fun, lambda g, ans, x, y: broadcast(g, ans),
           None if dfdy is None else
           lambda g, ans, x, y: broadcast(g * dfdy(ans, x, y), ans))


# Linear ones, written out to skip a multiplication by one.
defvjp(anp.add, lambda ans, x, y: unbroadcast_f(x, lambda g: g),
       lambda ans, x, y: unbroadcast_f(y, lambda g: g))
defjvp(anp.add, lambda g, ans, x, y: broadcast(g, ans),
       lambda g, ans, x, y: broadcast(g, ans))
defvjp(anp.subtract, lambda ans, x, y: unbroadcast_f(x, lambda g: g),
       lambda ans, x, y: unbroadcast_f(y, lambda g: -g))
defjvp(anp.subtract, lambda g, ans, x, y: broadcast(g, ans),
       lambda g, ans, x, y: broadcast(-g, ans))
defvjp(anp.negative, lambda ans, x: lambda g: -g)
defjvp(anp.negative, lambda g, ans, x: -g)
def_scalar_body(anp.add, "({0} + {1})", exact=True)
def_scalar_body(anp.subtract, "({0} - {1})", exact=True)
def_scalar_body(anp.negative, "(-{0})", exact=True)
defvjp(anp.positive, lambda ans, x: lambda g: g)
defjvp(anp.positive, lambda g, ans, x: g)

# Arithmetic.
def_binary(anp.multiply, lambda ans, x, y: y, lambda ans, x, y: x, body="({0} * {1})",
           reads=("y", "x"), exact=True)
def_binary(anp.true_divide, lambda ans, x, y: 1.0 / y, lambda ans, x, y: -ans / y,
           body="({0} / {1})", exact=True)
# Reverse mode divides by y rather than multiplying by 1 / y: one pass fewer.
defvjp(anp.true_divide, lambda ans, x, y: unbroadcast_f(x, lambda g: g / y),
       lambda ans, x, y: unbroadcast_f(y, lambda g: -g * ans / y))
def_unary(anp.reciprocal, lambda ans, x: -ans * ans, body="(1.0 / {0})", reads="ans",
          exact=True)
def_unary(anp.square, lambda ans, x: 2.0 * x, body="({0} * {0})", reads="x", exact=True)


# Where eager code computes on Python or NumPy scalars with scalar code (``1 if y == 0
# else y - 1``, math.log, np.float64.__pow__), the traced rule must compute the same on
# every replay: a step of its own, not the ufuncs that would round differently.
@keeps_traced_ints  # elementwise: a traced integer is just a value (as for ufuncs)
@primitive
def _scalar_exponent_minus_one(y):
    return y - 1 if y != 0 else y - y + 1  # 1, of the type y - 1 has


@keeps_traced_ints
@primitive
def _scalar_log_abs(x):
    return math.log(abs(x)) if x != 0 else 0.0


def _nonzero_part(g, x):
    return g * (x != 0)


defvjp(_scalar_exponent_minus_one, lambda ans, y: lambda g: _nonzero_part(g, y))
defjvp(_scalar_exponent_minus_one, lambda g, ans, y: _nonzero_part(g, y))
defvjp(_scalar_log_abs, lambda ans, x: lambda g: _nonzero_part(g / replace_zero(x, 1), x))
defjvp(_scalar_log_abs, lambda g, ans, x: _nonzero_part(g / replace_zero(x, 1), x))


def _power_exponent_minus_one(y):
    # y - 1, except 1 where y == 0, so that d(x**0)/dx is 0 * x**1 = 0 at x = 0, not 0 * inf.
    if isinstance(getval(y), _PYTHON_SCALARS):
        return _scalar_exponent_minus_one(y)  # a weak Python scalar stays one
    return anp.where(y == 0, 1, y - 1)


def _log_base(ans, x):
    """log(x) for the exponent's partial ``ans * log(x)`` of ``x ** y``.

    For real x < 0 (integer y) this is log|x|: the derivative of the real continuation
    |x|**y * cos(pi*y), which equals x**y at every integer y (and is the real part of
    the complex derivative). At x = 0 it is log(1) = 0, the limit of 0**y log 0 for y > 0.
    """
    if anp.iscomplexobj(ans):
        return anp.log(match_complex(ans, replace_zero(x, 1)))
    if isinstance(getval(x), _PYTHON_SCALARS):
        return _scalar_log_abs(x)
    return anp.log(anp.abs(replace_zero(x, 1)))


def _power_dx(ans, x, y):
    if isinstance(y, _PYTHON_SCALARS) and y == 2:
        return 2 * x  # the common square, without computing x ** 1
    return y * power_operator(x, _power_exponent_minus_one(y))


# ``**`` calls pow, which rounds unlike NumPy's float32 power in ~20% of elements here:
# not exact, so float32 regions leave it to NumPy (float64 ones fuse it, a few ulp off
# as transcendentals are).
def_binary(anp.power, _power_dx,
           lambda ans, x, y: ans * _log_base(ans, x), body="({0} ** {1})")
# ``x ** y`` on NumPy scalars (no array involved) is NumPy's scalar code,
# np.float64.__pow__, which rounds unlike the np.power ufunc in about 5% of cases.
# Eager code on NumPy scalars computes with it, so traced code must too.
scalar_power = keeps_traced_ints(primitive(operator.pow))
def_binary(scalar_power, _power_dx,
           lambda ans, x, y: ans * _log_base(ans, x), body="({0} ** {1})")


def power_operator(x, y):
    """``x ** y`` computed as eager code computes it on the values inside: NumPy's
    scalar ``**`` when a NumPy scalar meets no array, else ``np.power`` (on Python
    numbers too: traced, they follow NumPy, as under autograd)."""
    vx, vy = getval(x), getval(y)
    if vy is not y and _is_int(vy) and _is_int(vx) and y < 0:  # (the sign guarded)
        # A traced Python int exponent (``10 ** -p``, p an argument of a jitted
        # function): Python's int ** negative int is a float, where NumPy's raises.
        return power_operator(anp.multiply(x, 1.0), y)
    if type(vx) is int and type(vy) is int:
        return python_int_power(x, y)  # (a negative exponent's float made above)
    if (isinstance(vx, _np.generic) or isinstance(vy, _np.generic)) and not (
            isinstance(vx, _np.ndarray) or isinstance(vy, _np.ndarray)):
        return scalar_power(x, y)
    return anp.power(x, y)


# NumPy's scalar * of two complex numbers rounds differently from np.multiply (its
# loop fuses multiply-adds): about 40% of products differ in the last bit. Where eager
# code multiplies complex scalars with * (``g * y`` in a rule), traced code does too.
scalar_multiply = primitive(operator.mul)
def_binary(scalar_multiply, lambda ans, x, y: y, lambda ans, x, y: x, reads=("y", "x"))


_COMPLEX_SCALARS = (complex, _np.complexfloating)


# Python ints (a jitted function's int arguments are traced) compute as Python does,
# with no bound: through NumPy they would be int64, wrapping past 2**63 (``n * n`` at
# n = 2**40 gave 0) or failing to convert (2**70). The operators of the ints' boxes
# call these; like NumPy's ints they have no derivative.
_PYTHON_INT_OPERATORS = {
    "add": operator.add, "subtract": operator.sub, "multiply": operator.mul,
    "true_divide": operator.truediv, "floor_divide": operator.floordiv,
    "mod": operator.mod, "equal": operator.eq, "not_equal": operator.ne,
    "less": operator.lt, "less_equal": operator.le, "greater": operator.gt,
    "greater_equal": operator.ge}
python_int_operators = {name: keeps_traced_ints(primitive(op))
                        for name, op in _PYTHON_INT_OPERATORS.items()}
python_int_negative = keeps_traced_ints(primitive(operator.neg))
python_int_power = keeps_traced_ints(primitive(operator.pow))


def binary_operator(ufunc_name, x, y):
    """``x <op> y`` for the box operators, as eager code computes it on the values
    inside: Python's arithmetic on two Python ints, NumPy's (or Python's) scalar product
    of two complex scalars, else the ufunc."""
    vx, vy = getval(x), getval(y)
    if type(vx) is int and type(vy) is int and ufunc_name in python_int_operators:
        return python_int_operators[ufunc_name](x, y)
    if ufunc_name == "multiply" and isinstance(vx, _COMPLEX_SCALARS) and \
            isinstance(vy, _COMPLEX_SCALARS):
        return scalar_multiply(x, y)
    return getattr(anp, ufunc_name)(x, y)


def negative_operator(x):
    return python_int_negative(x) if type(getval(x)) is int else anp.negative(x)


def _is_int(value):
    return (type(value) is int or isinstance(value, _np.integer) or
            type(value) is _np.ndarray and value.ndim == 0 and value.dtype.kind in "iu")


# float_power computes in float64 (or complex128); unbroadcast casts cotangents back.
def_binary(anp.float_power,
           lambda ans, x, y: y * anp.float_power(x, _power_exponent_minus_one(y)),
           lambda ans, x, y: ans * _log_base(ans, x))

# Exponentials and logarithms.
def_unary(anp.exp, lambda ans, x: ans, body="math.exp({0})", reads="ans",
          array_body="vmath.exp({0})")
def_unary(anp.exp2, lambda ans, x: ans * _LN2)
def_unary(anp.expm1, lambda ans, x: ans + 1.0, body="math.expm1({0})", reads="ans",
          array_body="vmath.expm1({0})")
def_unary_quotient(anp.log, lambda ans, x: x, body="math.log({0})", reads="x",
                   array_body="vmath.log({0})")
def_unary(anp.log2, lambda ans, x: 1.0 / (x * _LN2))
def_unary(anp.log10, lambda ans, x: 1.0 / (x * _LN10))
def_unary_quotient(anp.log1p, lambda ans, x: x + 1.0, body="math.log1p({0})", reads="x",
                   array_body="vmath.log1p({0})")
def_unary(anp.sqrt, lambda ans, x: 0.5 / ans, body="math.sqrt({0})", reads="ans")
def_unary(anp.cbrt, lambda ans, x: 1.0 / (3.0 * ans * ans))
def_binary(anp.logaddexp, lambda ans, x, y: anp.exp(x - ans), lambda ans, x, y: anp.exp(y - ans))
def_binary(anp.logaddexp2, lambda ans, x, y: anp.exp2(x - ans),
           lambda ans, x, y: anp.exp2(y - ans))

# Trigonometric and hyperbolic functions.
# Array kernels calling vmath.sin/cos run in two passes (kernels/fused.py): a
# vectorized one, and the exact one only when an argument is beyond vmath.TRIG_MAX.
def_unary(anp.sin, lambda ans, x: anp.cos(x), body="math.sin({0})", reads="x",
          array_body="vmath.sin({0})")
def_unary(anp.cos, lambda ans, x: -anp.sin(x), body="math.cos({0})", reads="x",
          array_body="vmath.cos({0})")
def_unary(anp.tan, lambda ans, x: 1.0 + ans * ans, body="math.tan({0})", reads="ans",
          array_body=None)
def_unary(anp.arcsin, lambda ans, x: 1.0 / anp.sqrt(1.0 - x * x))
def_unary(anp.arccos, lambda ans, x: -1.0 / anp.sqrt(1.0 - x * x))
def_unary(anp.arctan, lambda ans, x: 1.0 / (1.0 + x * x), body="math.atan({0})", reads="x",
          array_body=None)
def_unary(anp.sinh, lambda ans, x: anp.cosh(x), body="math.sinh({0})", reads="x",
          array_body="vmath.sinh({0})")
def_unary(anp.cosh, lambda ans, x: anp.sinh(x), body="math.cosh({0})", reads="x",
          array_body="vmath.cosh({0})")
def_unary(anp.tanh, lambda ans, x: 1.0 - ans * ans, body="math.tanh({0})", reads="ans",
          array_body="vmath.tanh({0})")
def_unary(anp.arcsinh, lambda ans, x: 1.0 / anp.sqrt(x * x + 1.0))
# The product of two roots keeps the principal branch for complex z, unlike sqrt(z*z - 1).
def_unary(anp.arccosh, lambda ans, x: 1.0 / (anp.sqrt(x - 1.0) * anp.sqrt(x + 1.0)))
def_unary(anp.arctanh, lambda ans, x: 1.0 / (1.0 - x * x))
def_unary(anp.deg2rad, lambda ans, x: math.pi / 180.0)
def_unary(anp.radians, lambda ans, x: math.pi / 180.0)
def_unary(anp.rad2deg, lambda ans, x: 180.0 / math.pi)
def_unary(anp.degrees, lambda ans, x: 180.0 / math.pi)


def _over_radius_squared(v, x1, x2):
    # v / (x1*x1 + x2*x2), divided twice by the radius: the sum of squares underflows
    # to 0 for tiny arguments (1e-300) and overflows for huge ones; hypot does neither.
    # At the origin arctan2 jumps; the gradient there is 0 (0 / 1), not 0 / 0.
    radius = replace_zero(anp.hypot(x1, x2), 1.0)
    return v / radius / radius


# arctan2(x1, x2) is the angle of the point (x2, x1).
def_binary(anp.arctan2, lambda ans, x1, x2: _over_radius_squared(x2, x1, x2),
           lambda ans, x1, x2: _over_radius_squared(-x1, x1, x2))
# hypot is a norm: at the origin its gradient is the smallest subgradient, 0.
def_binary(anp.hypot, lambda ans, x, y: x / replace_zero(ans, 1.0),
           lambda ans, x, y: y / replace_zero(ans, 1.0))


def _sinc_derivative(ans, x):
    # (cos(pi x) - sinc(x)) / x loses all its digits to cancellation as x -> 0 (0/0 at 0);
    # near 0 use its Taylor polynomial, whose own derivatives are right at 0 too.
    near_zero = anp.abs(x) < 1e-3
    safe_x = anp.where(near_zero, 1.0, x)
    series = x * (-math.pi ** 2 / 3.0 + (math.pi ** 4 / 30.0) * x * x)
    return anp.where(near_zero, series, (anp.cos(math.pi * x) - ans) / safe_x)


def_unary(anp.sinc, _sinc_derivative)

# |x|: the subgradient at 0 is 0; for complex x the gradient follows conj(x)/|x|.
defvjp(anp.abs, lambda ans, x: lambda g:
       g * replace_zero(anp.conj(x), 0.0) / replace_zero(ans, 1.0))
defjvp(anp.abs, lambda g, ans, x:
       anp.real(g * replace_zero(anp.conj(x), 0.0)) / replace_zero(ans, 1.0))
# fabs is real-only; sign(0) = 0 gives the same subgradient at 0 as abs.
def_unary(anp.fabs, lambda ans, x: anp.sign(x))


def _tie_weight(x, ans, y):
    """1 where x alone gave ``ans``, 0.5 where x and y tie, else 0 — in ans's float dtype."""
    weight = balanced_eq(x, ans, y)
    dtype = anp.result_type(ans, 1.0)
    if anp.result_type(weight) == dtype:
        return weight
    if isinstance(weight, _PYTHON_SCALARS):
        return weight  # a weak Python float never promotes
    return anp.astype(weight, dtype)


# maximum and friends: at a tie each argument gets half the gradient (autograd's choice).
# fmax/fmin ignore a NaN argument, and the weights follow: the other argument gets it all.
for _fun in (anp.maximum, anp.minimum, anp.fmax, anp.fmin):
    def_binary(_fun, lambda ans, x, y: _tie_weight(x, ans, y),
               lambda ans, x, y: _tie_weight(y, ans, x))


# mod/remainder: x - floor(x / y) * y; fmod: x - trunc(x / y) * y. Both are piecewise
# x - k*y with an integer k: d/dx = 1 (the jumps are ignored) and d/dy = -k.
def_binary_linear_x(anp.remainder, lambda ans, x, y: -anp.floor_divide(x, y))
def_replay(anp.remainder, integers.remainder)  # int64 % int (wrapped grid indices) compiled
def_binary_linear_x(anp.fmod, lambda ans, x, y: -anp.rint((x - ans) / y))
# copysign(x, y) = |x| with y's sign: a sign flip of x, and flat in y.
def_binary(anp.copysign, lambda ans, x, y: anp.sign(x) * anp.sign(ans), None)
# ldexp(x, i) = x * 2**i, with integer i.
def_binary(anp.ldexp, lambda ans, x, i: anp.ldexp(anp.ones_like(ans), i), None)

# where(cond, x, y): the condition is a plain boolean array.
defvjp(anp.where, None,
       lambda ans, c, x=None, y=None: unbroadcast_f(x, lambda g: anp.where(c, g, 0)),
       lambda ans, c, x=None, y=None: unbroadcast_f(y, lambda g: anp.where(c, 0, g)))
defjvp(anp.where, None,
       lambda g, ans, c, x=None, y=None: anp.where(c, g, anp.zeros_like(ans)),
       lambda g, ans, c, x=None, y=None: anp.where(c, anp.zeros_like(ans), g))


def _clip_bounds(a_min, a_max, kwargs):
    # NumPy 2 also spells the bounds min= and max=.
    lo = kwargs.get("min") if a_min is None else a_min
    hi = kwargs.get("max") if a_max is None else a_max
    return lo, hi


def _clip_masks(a, a_min, a_max, kwargs):
    """Boolean masks (inside, at_lower, at_upper) saying who each output element came from.

    clip is minimum(maximum(a, lo), hi). At a bound the bound wins, so a clipped to
    [0, 1] has gradient 0 at exactly 0 and 1 (autograd's choice), and the three masks
    always sum to one (also when lo > hi, where NumPy gives hi).
    """
    lo, hi = _clip_bounds(a_min, a_max, kwargs)
    upper = False
    if hi is not None:
        upper = anp.logical_or(a >= hi, False if lo is None else lo > hi)
    lower = False
    if lo is not None:
        lower = anp.logical_and(anp.logical_not(upper), a <= lo)
    inside = anp.logical_not(anp.logical_or(upper, lower))
    return inside, lower, upper


def _clip_vjp(which):
    def vjp_maker(ans, a, a_min=None, a_max=None, out=None, **kwargs):
        mask = _clip_masks(a, a_min, a_max, kwargs)[which]
        return unbroadcast_f((a, a_min, a_max)[which], lambda g: anp.where(mask, g, 0))
    return vjp_maker


def _clip_jvp(which):
    def jvp(g, ans, a, a_min=None, a_max=None, out=None, **kwargs):
        mask = _clip_masks(a, a_min, a_max, kwargs)[which]
        return broadcast(anp.where(mask, g, 0), ans)
    return jvp


defvjp(anp.clip, _clip_vjp(0), _clip_vjp(1), _clip_vjp(2))
defjvp(anp.clip, _clip_jvp(0), _clip_jvp(1), _clip_jvp(2))

# nan_to_num replaces nan and infinities by constants: their gradient is 0.
defvjp(anp.nan_to_num, lambda ans, x, *args, **kwargs: lambda g:
       anp.where(anp.isfinite(x), g, 0))
defjvp(anp.nan_to_num, lambda g, ans, x, *args, **kwargs: anp.where(anp.isfinite(x), g, 0))

# Complex parts.
defvjp(anp.real, lambda ans, x: lambda g: match_complex(x, g))
defjvp(anp.real, "same")
defvjp(anp.imag, lambda ans, x: lambda g: match_complex(x, -1j * g))
defjvp(anp.imag, "same")
defvjp(anp.conj, lambda ans, x: lambda g: anp.conj(g))
defjvp(anp.conj, "same")
