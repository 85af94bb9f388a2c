"""Elementwise primitives: one table of functions and input domains, expanded over
shapes (scalars, 1-D, 2-D, broadcasting pairs) into check_grads in both modes to
second order; then the conventions at non-differentiable points, one test each."""
import math

import numpy as onp
import pytest

import jitgrad.numpy as np
from jitgrad import elementwise_grad, grad, holomorphic_grad, make_jvp
from jitgrad.differential_operators import use_jit
from jitgrad.test_util import check_grads


# Input domains: each draws a float64 array (a Python float for shape ()).
def real(shape):
    return onp.random.randn(*shape)


def positive(shape):
    return onp.random.rand(*shape) + 0.5


def unit(shape):
    return onp.random.uniform(-0.9, 0.9, shape)


def above_one(shape):
    return onp.random.rand(*shape) + 1.5


def nonzero(shape):
    return onp.random.choice([-1.0, 1.0], shape) * (onp.random.rand(*shape) + 0.5)


def complex_(shape):
    return onp.random.randn(*shape) + 1j * onp.random.randn(*shape)


UNARY = [
    (np.exp, real), (np.exp2, real), (np.expm1, real), (np.log, positive),
    (np.log2, positive), (np.log10, positive), (np.log1p, positive), (np.sqrt, positive),
    (np.cbrt, nonzero), (np.square, real), (np.reciprocal, nonzero),
    (np.sin, real), (np.cos, real), (np.tan, unit), (np.arcsin, unit), (np.arccos, unit),
    (np.arctan, real), (np.sinh, real), (np.cosh, real), (np.tanh, real),
    (np.arcsinh, real), (np.arccosh, above_one), (np.arctanh, unit), (np.sinc, real),
    (np.deg2rad, real), (np.rad2deg, real), (np.radians, real), (np.degrees, real),
    (np.absolute, nonzero), (np.abs, nonzero), (np.fabs, nonzero), (np.negative, real),
    (np.positive, real), (np.nan_to_num, real), (np.real, real), (np.conj, real),
]

BINARY = [
    (np.add, real, real), (np.subtract, real, real), (np.multiply, real, real),
    (np.true_divide, real, nonzero), (np.divide, real, nonzero),
    (np.power, positive, real), (np.float_power, positive, real),
    (np.arctan2, real, real), (np.hypot, real, real),
    (np.logaddexp, real, real), (np.logaddexp2, real, real),
    (np.maximum, real, real), (np.minimum, real, real), (np.fmax, real, real),
    (np.fmin, real, real), (np.mod, real, nonzero), (np.remainder, real, nonzero),
    (np.fmod, real, nonzero), (np.copysign, nonzero, nonzero),
]

SHAPES = [(), (3,), (2, 3)]
SHAPE_PAIRS = [((), ()), ((3,), (3,)), ((2, 3), (3,)), ((3,), (2, 3)),
               ((2, 1), (1, 3)), ((), (2, 3))]

HOLOMORPHIC = [np.exp, np.exp2, np.expm1, np.log, np.log2, np.log10, np.log1p, np.sqrt,
               np.square, np.reciprocal, np.sin, np.cos, np.tan, np.arcsin, np.arccos,
               np.arctan, np.sinh, np.cosh, np.tanh, np.arcsinh, np.arccosh, np.arctanh,
               np.negative, np.positive]


# Cases whose jitted derivatives differ from eager (check_grads compares them under
# JITGRAD_JIT=1): (function name, shape of x) -> the bug. (Fixed: copysign at scalars,
# whose replay gave np.float64 for a 0-d array: the plan added a copy of a container
# cotangent's placeholder zeros, which eager skips; tests/test_jit_fuzz_findings.py.)
JIT_BUGS = {}


def name(fun):
    return getattr(fun, "__name__", str(fun))


def mark_jit_bug(request, *key):
    if use_jit(None) and key in JIT_BUGS:
        request.applymarker(pytest.mark.xfail(strict=True, reason=JIT_BUGS[key]))


def check_both_modes(fun, *args, argnum=0, order=2):
    check_grads(fun, argnum, modes=["fwd", "rev"], order=order)(*args)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("fun, domain", UNARY, ids=[name(f) for f, _ in UNARY])
def test_unary(fun, domain, shape):
    check_both_modes(fun, domain(shape))


@pytest.mark.parametrize("shapes", SHAPE_PAIRS, ids=str)
@pytest.mark.parametrize("fun, domain_x, domain_y", BINARY,
                         ids=[name(f) for f, _, _ in BINARY])
def test_binary(fun, domain_x, domain_y, shapes, request):
    mark_jit_bug(request, name(fun), shapes[0])
    x, y = domain_x(shapes[0]), domain_y(shapes[1])
    check_both_modes(fun, x, y, argnum=(0, 1))


@pytest.mark.parametrize("shape", [(), (3,)], ids=str)
@pytest.mark.parametrize("fun", HOLOMORPHIC, ids=name)
def test_holomorphic_complex(fun, shape):
    check_both_modes(fun, complex_(shape))


def test_holomorphic_grad_is_the_complex_derivative():
    z = 0.3 + 0.4j
    assert onp.allclose(holomorphic_grad(np.sin)(z), onp.cos(z))
    assert onp.allclose(holomorphic_grad(np.log)(z), 1 / z)
    assert onp.allclose(holomorphic_grad(lambda z: z ** 3)(z), 3 * z ** 2)
    h = 1e-6  # a central difference along the real axis is the complex derivative
    for fun in (np.arccosh, np.arcsin, np.tan):
        numeric = (fun(z + h) - fun(z - h)) / (2 * h)
        assert onp.isclose(holomorphic_grad(fun)(z), numeric)


@pytest.mark.parametrize("fun", [np.add, np.subtract, np.multiply, np.divide, np.power],
                         ids=name)
def test_binary_complex(fun):
    check_both_modes(fun, complex_((3,)), complex_((2, 3)) + 2.0, argnum=(0, 1))


def test_real_input_times_complex_constant_has_real_gradient():
    c = complex_((3,))
    f = lambda x: np.abs(np.sum(x * c)) ** 2
    x = real((3,))
    check_both_modes(f, x)
    assert grad(f)(x).dtype == onp.float64


@pytest.mark.parametrize("fun", [np.abs, np.real, np.imag, np.conj,
                                 lambda z: np.abs(z) ** 2, lambda z: np.real(z * np.conj(z))],
                         ids=["abs", "real", "imag", "conj", "abs2", "zconjz"])
def test_complex_non_holomorphic(fun):
    check_both_modes(fun, complex_((3,)))


def test_grad_of_abs_squared_of_complex_follows_autograd_convention():
    # f(x + iy) = x^2 + y^2: grad = df/dx - i df/dy = 2 conj(z).
    z = 0.3 - 1.2j
    assert onp.allclose(grad(lambda z: np.abs(z) ** 2)(z), 2 * onp.conj(z))


# Conventions at non-differentiable points (see README.md), each in both modes.
def both_mode_derivatives(fun, x):
    """(reverse-mode gradient, forward-mode derivative) of an elementwise function."""
    return elementwise_grad(fun)(x), make_jvp(fun)(x)(onp.ones_like(x))[1]


def test_abs_and_fabs_at_zero_give_zero():
    x = onp.array([-2.0, 0.0, 3.0])
    for fun in (np.abs, np.fabs):
        for derivative in both_mode_derivatives(fun, x):
            assert onp.array_equal(derivative, [-1.0, 0.0, 1.0])


def test_sign_has_zero_gradient():
    x = onp.array([-2.0, 0.0, 3.0])
    assert onp.array_equal(grad(lambda x: np.sum(np.sign(x) * x))(x), [-1.0, 0.0, 1.0])
    assert onp.array_equal(elementwise_grad(lambda x: np.sign(x) + 0 * x)(x), [0.0, 0.0, 0.0])


@pytest.mark.parametrize("fun", [np.maximum, np.minimum, np.fmax, np.fmin], ids=name)
def test_ties_split_evenly(fun):
    x = onp.array([1.0, 2.0, 3.0])
    y = onp.array([1.0, 0.0, 5.0])
    gx, gy = grad(lambda x, y: np.sum(fun(x, y)), (0, 1))(x, y)
    assert gx[0] == gy[0] == 0.5
    assert onp.array_equal(gx + gy, [1.0, 1.0, 1.0])
    tangent = make_jvp(lambda x: fun(x, y))(x)(onp.ones(3))[1]
    assert onp.array_equal(tangent, gx)


def test_fmax_ignores_nan():
    assert grad(lambda x: np.fmax(x, onp.nan))(2.0) == 1.0
    assert grad(lambda y: np.fmin(onp.nan, y))(2.0) == 1.0


def test_power_negative_base_integer_exponent():
    x = onp.array([-2.0, -0.5, 1.5])
    for exponent in (3, 2.0, -1, onp.array([1, 2, 3])):
        check_both_modes(lambda x: np.power(x, exponent), x)
        assert onp.allclose(elementwise_grad(lambda x: x ** exponent)(x),
                            exponent * x ** (onp.asarray(exponent) - 1.0))


def test_power_exponent_gradient_at_negative_base_is_log_abs():
    # Not NaN: the derivative of |x|**y * cos(pi y), which equals x**y at integer y.
    gy = grad(lambda y: np.power(-2.0, y))(3.0)
    assert onp.isclose(gy, -8.0 * math.log(2.0))
    gx, gy = grad(lambda x, y: np.sum(x ** y), (0, 1))(onp.array([-2.0, 3.0]),
                                                       onp.array([3.0, 2.0]))
    assert onp.all(onp.isfinite(gx)) and onp.all(onp.isfinite(gy))


def test_power_at_zero_base():
    for exponent, expected in ((0.0, 0.0), (1.0, 1.0), (2.0, 0.0), (3, 0.0)):
        assert grad(lambda x: x ** exponent)(0.0) == expected
        assert make_jvp(lambda x: x ** exponent)(0.0)(1.0)[1] == expected
    assert grad(lambda y: np.power(0.0, y))(2.0) == 0.0
    assert grad(grad(lambda x: x ** 2.0))(0.0) == 2.0


def test_clip_at_the_bounds_and_bound_gradients():
    x = onp.array([0.0, 0.5, 1.0, 2.0, -1.0])
    for derivative in both_mode_derivatives(lambda x: np.clip(x, 0.0, 1.0), x):
        assert onp.array_equal(derivative, [0.0, 1.0, 0.0, 0.0, 0.0])
    glo, ghi = grad(lambda lo, hi: np.sum(np.clip(x, lo, hi)), (0, 1))(0.0, 1.0)
    assert (glo, ghi) == (2.0, 2.0)  # lower: 0.0 and -1.0; upper: 1.0 and 2.0
    assert onp.array_equal(elementwise_grad(lambda x: np.clip(x, None, 1.0))(x),
                           [1.0, 1.0, 0.0, 0.0, 1.0])
    assert onp.array_equal(elementwise_grad(lambda x: x.clip(0.0, None))(x),
                           [0.0, 1.0, 1.0, 1.0, 0.0])


def test_clip_with_broadcast_bounds():
    x, lo, hi = real((2, 3)), real((3,)) - 1.0, real((2, 1)) + 1.0
    check_both_modes(np.clip, x, lo, hi, argnum=(0, 1, 2))


@pytest.mark.parametrize("fun", [np.hypot, np.arctan2], ids=name)
def test_at_the_origin_gives_zero(fun):
    assert grad(lambda x, y: fun(x, y), (0, 1))(0.0, 0.0) == (0.0, 0.0)


def test_sinc_at_zero():
    assert grad(np.sinc)(0.0) == 0.0
    assert onp.isclose(grad(grad(np.sinc))(0.0), -math.pi ** 2 / 3)


def test_mod_and_fmod_gradients():
    assert grad(lambda x: np.mod(x, 2.0))(-5.3) == 1.0
    assert grad(lambda y: np.mod(-5.3, y))(2.0) == 3.0  # -floor(-5.3 / 2)
    assert grad(lambda y: np.fmod(-5.3, y))(2.0) == 2.0  # -trunc(-5.3 / 2)
    assert grad(lambda y: np.fmod(5.3, y))(2.0) == -2.0


def test_nan_to_num_has_zero_gradient_at_replaced_values():
    x = onp.array([1.0, onp.inf, -onp.inf, onp.nan])
    for derivative in both_mode_derivatives(np.nan_to_num, x):
        assert onp.array_equal(derivative, [1.0, 0.0, 0.0, 0.0])


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3))], ids=str)
def test_where(shapes):
    x, y = real(shapes[0]), real(shapes[1])
    cond = onp.random.rand(*onp.broadcast_shapes(*shapes)) > 0.5
    check_both_modes(lambda x, y: np.where(cond, x, y), x, y, argnum=(0, 1))


def test_ldexp():
    i = onp.array([0, 1, -2])
    check_both_modes(lambda x: np.ldexp(x, i), real((3,)))
    assert onp.array_equal(elementwise_grad(lambda x: np.ldexp(x, i))(onp.ones(3)),
                           [1.0, 2.0, 0.25])


def test_operators_use_the_same_rules():
    x, y = real((2, 3)), nonzero((3,))
    check_both_modes(lambda x, y: (-x + y * x - y / 2.0) ** 2 / y % 3.0 + abs(x),
                     x, y, argnum=(0, 1))
    check_both_modes(lambda x: 2.0 ** x + 1.0 / (1.0 + x * x), x)
