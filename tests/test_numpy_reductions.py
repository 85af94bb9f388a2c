"""Reductions: one table of functions expanded over axis (None, int, negative, tuple),
keepdims and ddof into check_grads in both modes to second order; then ties, zeros
in products, and the keyword arguments with gradient meaning (where, initial, weights)."""
import numpy as onp
import pytest

import jitgrad.numpy as np
from jitgrad import grad, make_jvp
from jitgrad.test_util import check_grads

REDUCTIONS = [np.sum, np.mean, np.prod, np.max, np.min, np.amax, np.amin, np.ptp,
              np.var, np.std]
AXES = [None, 0, -1, (0, 2), (-1, 0)]
RUNNING = [np.cumsum, np.cumprod]


def name(fun):
    return getattr(fun, "__name__", str(fun))


def check_both_modes(fun, *args, argnum=0, order=2):
    check_grads(fun, argnum, modes=["fwd", "rev"], order=order)(*args)


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("fun", REDUCTIONS, ids=name)
def test_reduction(fun, axis, keepdims):
    x = onp.random.randn(2, 3, 4)
    check_both_modes(lambda x: fun(x, axis=axis, keepdims=keepdims), x)


@pytest.mark.parametrize("shape", [(), (4,), (2, 3)], ids=str)
@pytest.mark.parametrize("fun", REDUCTIONS + RUNNING, ids=name)
def test_reduction_default_axis(fun, shape):
    check_both_modes(fun, onp.random.randn(*shape) + 0.1)


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 1, (0, 1)], ids=str)
@pytest.mark.parametrize("ddof", [0, 1, 2])
@pytest.mark.parametrize("fun", [np.var, np.std], ids=name)
def test_moments_with_ddof(fun, ddof, axis, keepdims):
    x = onp.random.randn(3, 4)
    check_both_modes(lambda x: fun(x, axis=axis, ddof=ddof, keepdims=keepdims), x)
    check_both_modes(lambda x: fun(x, axis, None, None, ddof), x)  # positional ddof


@pytest.mark.parametrize("fun", [np.var, np.std], ids=name)
def test_moments_of_complex_input(fun):
    z = onp.random.randn(2, 3) + 1j * onp.random.randn(2, 3)
    check_both_modes(lambda z: fun(z, axis=1), z)


@pytest.mark.parametrize("axis", [None, 0, 1, -1], ids=str)
@pytest.mark.parametrize("fun", RUNNING, ids=name)
def test_running(fun, axis):
    check_both_modes(lambda x: fun(x, axis=axis), onp.random.randn(2, 3, 4))


# 1-D weights need an axis; weights of the input's shape work with any axis.
@pytest.mark.parametrize("axis, weights_shape", [
    (None, None), (1, None), (None, (3, 4)), (0, (3, 4)), (-1, (3, 4)), (1, (4,)), (-1, (4,)),
    (0, (3,))], ids=str)
def test_average(axis, weights_shape):
    x = onp.random.randn(3, 4)
    if weights_shape is None:
        check_both_modes(lambda x: np.average(x, axis=axis), x)
        return
    w = onp.random.rand(*weights_shape) + 0.5
    check_both_modes(lambda x, w: np.average(x, axis=axis, weights=w), x, w, argnum=(0, 1))
    check_both_modes(lambda x, w: np.average(x, axis, w), x, w, argnum=(0, 1))


def test_average_returned_and_keepdims():
    x, w = onp.random.randn(3, 4), onp.random.rand(4) + 0.5
    avg, total = np.average(x, axis=1, weights=w, returned=True)
    expected_avg, expected_total = onp.average(x, axis=1, weights=w, returned=True)
    assert onp.allclose(avg, expected_avg) and onp.allclose(total, expected_total)
    gx, gw = grad(lambda x, w: np.sum(np.average(x, axis=1, weights=w, returned=True)[1]),
                  (0, 1))(x, w)
    assert onp.allclose(gx, 0.0) and onp.allclose(gw, 3.0)
    check_both_modes(lambda x: np.average(x, axis=0, keepdims=True), x)


@pytest.mark.parametrize("fun", [np.max, np.amax, np.min, np.amin], ids=name)
def test_extremum_ties_split_evenly(fun):
    x = onp.array([[1.0, 3.0, 3.0, -2.0], [-2.0, 0.5, -2.0, 3.0]])
    winner = 3.0 if fun in (np.max, np.amax) else -2.0
    g_all = grad(fun)(x)
    assert onp.allclose(g_all, (x == winner) / onp.sum(x == winner))
    g_rows = grad(lambda x: np.sum(fun(x, axis=1)))(x)
    hits = x == fun.fun(x, axis=1, keepdims=True)
    assert onp.allclose(g_rows, hits / hits.sum(axis=1, keepdims=True))
    tangent = make_jvp(lambda x: fun(x, axis=1))(x)(onp.ones_like(x))[1]
    assert onp.allclose(tangent, 1.0)


def test_max_initial_that_wins_gives_zero_gradient():
    x = onp.array([1.0, 2.0])
    assert onp.array_equal(grad(lambda x: np.max(x, initial=5.0))(x), [0.0, 0.0])
    assert onp.array_equal(grad(lambda x: np.max(x, initial=0.0))(x), [0.0, 1.0])


def test_ptp_ties():
    x = onp.array([1.0, 3.0, 3.0, 1.0, 2.0])
    assert onp.allclose(grad(np.ptp)(x), [-0.5, 0.5, 0.5, -0.5, 0.0])


def test_prod_with_zeros_is_exact():
    assert onp.array_equal(grad(np.prod)(onp.array([2.0, 0.0, 3.0])), [0.0, 6.0, 0.0])
    assert onp.array_equal(grad(np.prod)(onp.array([2.0, 0.0, 0.0])), [0.0, 0.0, 0.0])
    x = onp.array([[2.0, 0.0, 3.0], [4.0, 5.0, 0.5]])
    assert onp.allclose(grad(lambda x: np.sum(np.prod(x, axis=1)))(x),
                        [[0.0, 6.0, 0.0], [2.5, 2.0, 20.0]])
    assert onp.allclose(make_jvp(lambda x: np.prod(x, axis=1))(x)(onp.ones_like(x))[1],
                        [6.0, 24.5])


def test_prod_with_zeros_against_numerical_derivatives():
    # A product is a polynomial, so finite differences are exact enough at zeros too.
    one_zero = onp.array([[2.0, 0.0, 3.0], [4.0, -5.0, 0.5]])
    check_both_modes(lambda x: np.prod(x, axis=1), one_zero)
    check_both_modes(np.prod, onp.array([2.0, 0.0, 3.0, -1.5]))
    # With two zeros in a slice, first derivatives are exact (second ones are not).
    check_both_modes(np.prod, onp.array([2.0, 0.0, 0.0, 1.5]), order=1)


def test_cumprod_with_zeros():
    x = onp.array([2.0, 0.0, 3.0, 0.0, 5.0])
    assert onp.array_equal(grad(lambda x: np.sum(np.cumprod(x)))(x), [1.0, 8.0, 0.0, 0.0, 0.0])
    check_both_modes(np.cumprod, x, order=1)
    check_both_modes(lambda x: np.cumprod(x, axis=1), onp.array([[2.0, 0.0, 3.0], [0.5, 1.5, 0.0]]))
    check_both_modes(lambda x: np.cumprod(x, axis=0), onp.array([[2.0, 0.0], [0.0, 1.5]]))


def test_std_of_equal_values_gives_zero_gradient():
    for derivative in (grad(np.std)(onp.ones(3)),
                       make_jvp(np.std)(onp.ones(3))(onp.arange(3.0))[1]):
        assert onp.all(derivative == 0.0)


def test_sum_and_mean_with_where():
    x = onp.random.randn(2, 3)
    mask = onp.array([True, False, True])
    check_both_modes(lambda x: np.sum(x, axis=1, where=mask), x)
    check_both_modes(lambda x: np.mean(x, axis=1, where=mask), x)
    assert onp.allclose(grad(lambda x: np.mean(x, where=mask))(x), mask / 4.0)


def test_sum_initial_and_dtype():
    x = onp.random.randn(2, 3)
    check_both_modes(lambda x: np.sum(x, axis=0, initial=3.0), x)
    check_both_modes(lambda x: np.prod(x, axis=0, initial=3.0), x)
    check_both_modes(lambda x: np.sum(x, 1, None, None, True), x)  # positional keepdims


def test_unsupported_keywords_say_so():
    x, mask = onp.random.randn(3), onp.array([True, False, True])
    with pytest.raises(NotImplementedError, match="np.prod with where="):
        grad(lambda x: np.prod(x, where=mask))(x)
    with pytest.raises(NotImplementedError, match="np.var with where="):
        grad(lambda x: np.var(x, where=mask))(x)


def test_array_methods_reduce_with_the_same_rules():
    x = onp.random.randn(3, 4)
    check_both_modes(lambda x: x.sum(axis=0) * x.mean(1, keepdims=True)
                     + x.var(ddof=1) + x.std() + x.max(axis=1, keepdims=True)
                     + x.prod() * x.min(0) + x.cumsum(axis=1), x)
