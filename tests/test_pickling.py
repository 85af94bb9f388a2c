"""Jitted functions and operators' results pickle and deep-copy; a copy starts with an
empty plan cache and gives the same answers."""
import copy
import pickle

import numpy
import pytest
from numpy.testing import assert_allclose

import jitgrad.numpy as np
from jitgrad import grad, jacobian, jit
import pickling_targets as targets

cloudpickle = pytest.importorskip("cloudpickle", reason="cloudpickle is not installed")
X = numpy.linspace(-1.0, 1.0, 5)


def _round_trips(fun):
    yield "cloudpickle", cloudpickle.loads(cloudpickle.dumps(fun))
    yield "deepcopy", copy.deepcopy(fun)


@pytest.mark.eager_only
@pytest.mark.parametrize("make", [
    lambda: jit(targets.loss),
    lambda: grad(targets.loss, jit=True),
    lambda: jacobian(lambda x: x ** 2 * targets.loss(x), jit=True),
    lambda: jit(lambda x: x * 2.0 + 1.0),
], ids=["jit", "grad jit", "jacobian of a lambda, jit", "jit of a lambda"])
def test_jitted_functions_pickle_and_copy(make):
    fun = make()
    expected = fun(X)
    for how, copied in _round_trips(fun):
        assert copied is not fun, how
        assert copied.stats["traces"] == 0, how  # a fresh cache
        assert_allclose(copied(X), expected, rtol=1e-12, err_msg=how)
        assert_allclose(copied(X + 1.0), fun(X + 1.0), rtol=1e-12, err_msg=how)


@pytest.mark.parametrize("make", [lambda: grad(targets.loss), lambda: jacobian(targets.loss)],
                         ids=["grad", "jacobian"])
def test_operators_pickle_and_copy(make):
    fun = make()
    for how, copied in _round_trips(fun):
        assert_allclose(copied(X), fun(X), rtol=1e-12, err_msg=how)


def test_module_level_jitted_function_pickles_by_name():
    targets.jitted_loss(X)
    assert pickle.loads(pickle.dumps(targets.jitted_loss)) is targets.jitted_loss


def test_jit_of_an_importable_function_pickles_with_plain_pickle():
    fun = jit(targets.loss)
    fun(X)
    copied = pickle.loads(pickle.dumps(fun))
    assert copied.stats["traces"] == 0
    assert_allclose(copied(X), fun(X), rtol=1e-12)


@pytest.mark.parametrize("make, x", [
    (lambda: grad(targets.loss), X), (lambda: jacobian(targets.loss, 0), X),
    (lambda: grad(grad(targets.loss_of_scalar)), 0.3), (lambda: grad(targets.loss, jit=True), X),
], ids=["grad", "jacobian", "grad of grad", "grad jit"])
def test_operators_of_importable_functions_pickle_with_plain_pickle(make, x):
    fun = make()
    copied = pickle.loads(pickle.dumps(fun))
    assert_allclose(copied(x), fun(x), rtol=1e-12)
    assert getattr(copied, "__name__", None) == getattr(fun, "__name__", None)


def test_a_derivative_binds_as_a_method_like_a_function():
    class Model:
        gradient = grad(lambda self, x: np.sum(self.scale * x ** 2), 1)
        scale = 3.0
    assert_allclose(Model().gradient(X), 6.0 * X)
