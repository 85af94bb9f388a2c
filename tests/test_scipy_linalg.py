"""jitgrad.scipy.linalg: values against scipy.linalg and gradients of every function in
every matrix argument, both modes, single and batched matrices."""
import numpy as onp
import pytest
import scipy.linalg as sl

import jitgrad.numpy as np
import jitgrad.scipy.linalg as la
from jitgrad import grad
from jitgrad.test_util import check_grads

R = onp.random.RandomState(0)
A = R.randn(3, 3)
SPD = A @ A.T + 3 * onp.eye(3)
BATCH = R.randn(2, 3, 3)
SPD_BATCH = BATCH @ onp.swapaxes(BATCH, -1, -2) + 3 * onp.eye(3)


def sym(x):
    # cholesky reads one triangle; differentiate it as a function of symmetric input.
    return 0.5 * (x + np.swapaxes(x, -1, -2))


def _triangular(lower, batch=False):
    m = BATCH if batch else A
    return (onp.tril(m) if lower else onp.triu(m)) + 3 * onp.eye(3)


TRIANGULAR = [(trans, lower, unit, b_shape, batch)
              for trans in [0, 1, "T"] for lower in [True, False] for unit in [False, True]
              for b_shape, batch in [((3,), False), ((3, 2), False), ((2, 3, 2), True)]]


@pytest.mark.parametrize("trans, lower, unit, b_shape, batch", TRIANGULAR)
def test_solve_triangular(trans, lower, unit, b_shape, batch):
    a, b = _triangular(lower, batch), R.randn(*b_shape)
    fun = lambda a, b: la.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit)
    assert onp.allclose(fun(a, b), sl.solve_triangular(a, b, trans, lower, unit))
    check_grads(fun, 0, modes=["fwd", "rev"], order=2)(a, b)
    check_grads(fun, 1, modes=["fwd", "rev"], order=2)(a, b)


@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("spd", [SPD, SPD_BATCH])
def test_cholesky(lower, spd):
    assert onp.allclose(la.cholesky(spd, lower=lower), sl.cholesky(spd, lower=lower))
    check_grads(lambda a: la.cholesky(sym(a), lower=lower), modes=["fwd", "rev"],
                order=2)(spd)


@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("b_shape", [(3,), (3, 2)])
def test_cho_factor_and_solve(lower, b_shape):
    b = R.randn(*b_shape)
    c, low = la.cho_factor(SPD, lower=lower)
    assert low == lower
    assert onp.allclose(la.cho_solve((c, low), b), sl.cho_solve(sl.cho_factor(SPD, lower), b))
    fun = lambda a, b: la.cho_solve(la.cho_factor(sym(a), lower), b)
    check_grads(fun, 0, modes=["fwd", "rev"], order=2)(SPD, b)
    check_grads(fun, 1, modes=["fwd", "rev"], order=2)(SPD, b)


# name -> (ours, scipy's, arguments, argnums, order)
CASES = {
    "expm": (la.expm, sl.expm, [0.5 * A], [0], 2),
    "expm_batch": (la.expm, sl.expm, [0.5 * BATCH], [0], 1),
    "logm": (la.logm, sl.logm, [SPD], [0], 2),
    "sqrtm": (la.sqrtm, sl.sqrtm, [SPD], [0], 2),
    "solve_sylvester": (la.solve_sylvester, sl.solve_sylvester, [SPD, SPD + A, A],
                        [0, 1, 2], 2),
    "inv": (la.inv, sl.inv, [SPD + A], [0], 2),
    "inv_batch": (la.inv, sl.inv, [SPD_BATCH], [0], 2),
    "det": (la.det, sl.det, [SPD + A], [0], 2),
    "det_batch": (la.det, sl.det, [BATCH], [0], 2),
    "block_diag": (la.block_diag, sl.block_diag, [R.randn(2), 1.5, R.randn(2, 3)],
                   [0, 1, 2], 2),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matrix_functions(name):
    ours, theirs, args, argnums, order = CASES[name]
    assert onp.allclose(ours(*args), theirs(*args))
    for argnum in argnums:
        check_grads(ours, argnum, modes=["fwd", "rev"], order=order)(*args)


def test_cholesky_gradient_is_symmetric():
    g = grad(lambda a: la.cholesky(a, lower=True)[2, 0])(SPD)
    assert onp.allclose(g, g.T)


def test_other_names_are_reachable():
    assert onp.allclose(la.norm(A), sl.norm(A))
    with pytest.raises(NotImplementedError, match="lu_factor"):
        grad(lambda a: la.lu_factor(a)[0][0, 0])(A)
    with pytest.raises(ValueError, match="trans"):
        la.solve_triangular(A, A, trans=3)
