"""odeint with extra arguments that are nested lists/tuples of arrays (a neural ODE's
parameters): values, gradients in both modes, and jitted replays against eager."""
import numpy
from numpy.testing import assert_allclose

import jitgrad.numpy as np
from jitgrad import grad
from jitgrad.misc import flatten
from jitgrad.scipy.integrate import odeint
from jitgrad.test_util import check_grads

TIMES = numpy.linspace(0.0, 1.0, 5)


def dynamics(y, t, layers, scale):
    h = y
    for W, b in layers:
        h = np.tanh(np.dot(h, W) + b)
    return scale * h


def loss(layers, y0, scale=1.0):
    return np.sum(odeint(dynamics, y0, TIMES, args=(layers, scale)) ** 2)


def _layers(seed):
    rng = numpy.random.RandomState(seed)
    return [(0.3 * rng.randn(2, 3), 0.1 * rng.randn(3)), (0.3 * rng.randn(3, 2), 0.1 * rng.randn(2))]


Y0 = numpy.array([0.5, -0.3])


def test_structured_args_give_the_plain_solution():
    import scipy.integrate
    layers = _layers(0)
    flat, unflatten = flatten(layers)
    plain = scipy.integrate.odeint(lambda y, t, v: dynamics(y, t, unflatten(v), 1.0), Y0, TIMES,
                                   args=(flat,))
    assert_allclose(odeint(dynamics, Y0, TIMES, args=(layers, 1.0)), plain, rtol=1e-10)


def test_structured_args_differentiate():
    layers = _layers(1)
    gradient = grad(loss)(layers, Y0)
    assert type(gradient) is list and type(gradient[0]) is tuple
    check_grads(loss, modes=["fwd", "rev"], order=1)(layers, Y0)
    check_grads(loss, argnum=1, modes=["fwd", "rev"], order=1)(layers, Y0)


def test_structured_args_jitted_replays_match_eager():
    jitted = grad(loss, jit=True)
    for seed in (2, 3, 4):
        layers = _layers(seed)
        got, want = flatten(jitted(layers, Y0))[0], flatten(grad(loss, jit=False)(layers, Y0))[0]
        assert_allclose(got, want, rtol=1e-10)
