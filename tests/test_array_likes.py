"""Array-likes that hold traced values, where NumPy accepts array-likes: lists and
tuples of traced numbers, traced lists, object arrays made by plain NumPy, np.r_/np.c_.
Each is checked against NumPy's value, against numerical derivatives, and jitted."""
import numpy
import pytest
from numpy.testing import assert_allclose

import jitgrad.numpy as np
from jitgrad import grad, jit
from jitgrad.test_util import check_grads

R = numpy.random.randn

LIST_CASES = {
    "mean of a list": lambda x: np.mean([x[0], x[1] + 2.0, x[2] * x[0]]),
    "std of a tuple": lambda x: np.std((x[0], x[1] + 2.0, x[2])),
    "var of a list": lambda x: np.var([x[0], x[1] * 3.0, 1.0]),
    "norm of a list": lambda x: np.linalg.norm([x[0], x[1] + 2.0]),
    "dot with a list": lambda x: np.dot([x[0], x[1]], numpy.array([2.0, -1.0])),
    "sum of a nested list": lambda x: np.sum([[x[0], 1.0], [x[1], x[2]]], axis=0),
    "plain numpy.array of entries": lambda x: np.sum(numpy.array([x[0], x[1] * 2.0]) ** 2),
    "plain numpy.asarray of an array": lambda x: np.prod(numpy.asarray(x) + 1.0),
    "r_ of arrays and a constant": lambda x: np.r_[x, numpy.ones(2), x ** 2],
    "r_ with a range": lambda x: np.r_[x, 1:4] * 2.0,
    "r_ with an axis directive": lambda x: np.r_["0,2", x, x * 3.0],
    "c_ of vectors": lambda x: np.c_[x, numpy.arange(3.0), np.sin(x)],
}


@pytest.mark.parametrize("name", LIST_CASES)
def test_array_likes_of_traced_values(name):
    fun = LIST_CASES[name]
    x = R(3)
    assert_allclose(fun(x), _plain(name, x), rtol=1e-12)
    check_grads(fun, modes=["fwd", "rev"], order=2)(x)


def _plain(name, x):
    """The same expression in plain NumPy (np.r_ and np.c_ are NumPy's own here)."""
    import numpy as plain
    with_numpy = dict(LIST_CASES)
    fun = with_numpy[name]
    globals_ = dict(fun.__globals__, np=plain)
    return type(fun)(fun.__code__, globals_)(x)


@pytest.mark.parametrize("name", ["mean of a list", "plain numpy.array of entries",
                                  "r_ of arrays and a constant", "c_ of vectors"])
def test_array_likes_jitted_replays_match_eager(name):
    fun = LIST_CASES[name]
    loss = lambda x: np.sum(fun(x) ** 2)
    jitted_value, jitted_grad = jit(fun), grad(loss, jit=True)
    for _ in range(3):
        x = R(3)
        assert_allclose(jitted_value(x), fun(x), rtol=1e-12)
        assert_allclose(jitted_grad(x), grad(loss, jit=False)(x), rtol=1e-12)


def test_append_of_nested_lists_differentiates_into_lists():
    A = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    B = [[7.0, 8.0, 9.0]]
    check_grads(np.append, argnum=(0, 1))(A, B, axis=0)
    gradient = grad(lambda A: np.sum(np.append(A, B, axis=0) ** 2))(A)
    assert type(gradient) is list and type(gradient[0]) is list
    assert_allclose(gradient, 2.0 * numpy.array(A))


def test_cast_to_integers_by_a_numpy_type_gives_plain_integers():
    def fun(W):
        rows = np.int64(numpy.abs(W[:, -1]) * 0.0 + numpy.arange(3))
        assert rows.dtype == numpy.int64
        return np.sum(W[rows, :-1] ** 2)
    W = R(3, 4)
    check_grads(fun, modes=["rev"])(W)
