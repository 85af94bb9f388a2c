"""Functions of several arguments whose arguments live in different vector spaces.

A real and a complex operand (or float32 and float64) give an output in the wider
space. Forward mode must still hand each argument's tangent back in the argument's
own space when the JVP is itself differentiated (order 2 of ``check_grads``), and
reverse mode must give each argument a cotangent of its own dtype. Each case is run
with every operand differentiated at once (argnums all), in both modes, to order 2.
"""
import operator

import numpy
import pytest

import jitgrad.numpy as np
from jitgrad import grad, make_jvp, make_vjp
from jitgrad.test_util import check_grads

R = numpy.random.randn


def _real(*shape):
    return R(*shape) if shape else float(R())


def _complex(*shape):
    return _real(*shape) + 1j * _real(*shape)


# (name, function, argument makers): each maker returns one argument value.
CASES = [
    ("add_real_complex", np.add, [lambda: _real(), lambda: _complex()]),
    ("add_complex_real", np.add, [lambda: _complex(3, 2), lambda: _real(1, 2)]),
    ("add_array_complex_scalar", np.add, [lambda: _real(2), lambda: 0.6 + 0.3j]),
    ("op_add", operator.add, [lambda: _real(2), lambda: _complex(3, 2)]),
    ("subtract_real_complex", np.subtract, [lambda: _real(3, 2), lambda: _complex()]),
    ("op_sub_complex_real", operator.sub, [lambda: _complex(), lambda: _real(2)]),
    ("multiply", np.multiply, [lambda: _real(3, 2), lambda: _complex(2)]),
    ("true_divide", np.true_divide, [lambda: _complex(2), lambda: _real(3, 2) + 3.0]),
    ("power_complex_base", np.power, [lambda: _complex(2), lambda: _real(2)]),
    ("where", lambda x, y: np.where(numpy.array([True, False]), x, y),
     [lambda: _real(2), lambda: _complex(3, 2)]),
    ("dot", np.dot, [lambda: _real(3, 2), lambda: _complex(2)]),
    ("matmul", np.matmul, [lambda: _complex(2, 3), lambda: _real(3, 2)]),
    ("tensordot", lambda a, b: np.tensordot(a, b, 1), [lambda: _real(2, 3), lambda: _complex(3)]),
    ("inner", np.inner, [lambda: _complex(3), lambda: _real(2, 3)]),
    ("outer", np.outer, [lambda: _real(3), lambda: _complex(2)]),
    ("kron", np.kron, [lambda: _complex(2), lambda: _real(2, 2)]),
    ("einsum", lambda a, b: np.einsum("ij,j->i", a, b), [lambda: _real(2, 3), lambda: _complex(3)]),
    ("concatenate", lambda a, b: np.concatenate([a, b]), [lambda: _real(2), lambda: _complex(3)]),
    ("stack", lambda a, b: np.stack([a, b]), [lambda: _complex(2), lambda: _real(2)]),
    ("sum_of_three", lambda a, b, c: a + b * c - a * c,
     [lambda: _real(2), lambda: _complex(2), lambda: _real()]),
]


@pytest.mark.parametrize("name, fun, makers", CASES, ids=[c[0] for c in CASES])
def test_real_and_complex_operands(name, fun, makers):
    args = [make() for make in makers]
    check_grads(fun, tuple(range(len(args))), modes=["fwd", "rev"], order=2)(*args)


# Real-valued outputs of mixed operands (the usual way a complex intermediate ends).
REAL_OF_MIXED = [
    ("abs_of_sum", lambda x, z: np.sum(np.abs(x + z))),
    ("real_of_difference", lambda x, z: np.sum(np.real((x - z) * z))),
]


@pytest.mark.parametrize("name, fun", REAL_OF_MIXED, ids=[c[0] for c in REAL_OF_MIXED])
def test_real_output_of_mixed_operands(name, fun):
    check_grads(fun, (0, 1), modes=["fwd", "rev"], order=2)(_real(3), _complex(3))


BINARY_UFUNCS = [np.add, np.subtract, np.multiply, np.true_divide, np.power,
                 np.maximum, np.minimum, np.logaddexp, np.arctan2, np.hypot, np.remainder]


@pytest.mark.parametrize("fun", BINARY_UFUNCS, ids=lambda f: f.__name__)
def test_float32_and_float64_operands(fun):
    # Central differences are too coarse in float32 for check_grads: compare with the
    # same derivatives computed in float64, and check every dtype on the way back.
    x64 = numpy.abs(R(3)) + 0.5
    x32 = x64.astype(numpy.float32)
    y = numpy.abs(R(2, 3)) + 0.5
    u, v = R(3), R(2, 3)

    def jvp_of(x, y, u, v):
        return make_jvp(lambda xy: fun(*xy))((x, y))((u, v))[1]

    tangent32, tangent64 = jvp_of(x32, y, u.astype(numpy.float32), v), jvp_of(x64, y, u, v)
    assert tangent32.dtype == numpy.float64
    numpy.testing.assert_allclose(tangent32, tangent64, rtol=1e-5)
    # Reverse mode over the JVP: the tangent argument u gets a float32 cotangent.
    vjp, _ = make_vjp(lambda u: jvp_of(x32, y, u, v))(u.astype(numpy.float32))
    du = vjp(numpy.ones((2, 3)))
    assert du.dtype == numpy.float32
    dx = grad(lambda x: np.sum(fun(x, y)))(x32)
    assert dx.dtype == numpy.float32
    numpy.testing.assert_allclose(dx, grad(lambda x: np.sum(fun(x, y)))(x64), rtol=1e-5)


@pytest.mark.parametrize("fun", [np.add, np.subtract, np.multiply],
                         ids=lambda f: f.__name__)
def test_tangent_of_real_argument_of_complex_output_is_complex(fun):
    # The JVP's result lives in the output's space, whichever argument is perturbed.
    ans, tangent = make_jvp(lambda x: fun(x, 1.0 + 2.0j))(1.5)(1.0)
    assert numpy.iscomplexobj(ans) and numpy.iscomplexobj(tangent)
