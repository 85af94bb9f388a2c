"""The faster routines give NumPy's answers to the bit (roll, scatter-add), and the
gradients built on them check numerically, eagerly and jitted."""
import numpy
import pytest
from numpy.testing import assert_allclose

import jitgrad.numpy as np
from jitgrad import grad
from jitgrad.numpy.fast_paths import roll, scatter_add
from jitgrad.test_util import check_grads

R = numpy.random.randn


@pytest.mark.parametrize("shape, shift, axis", [
    ((5, 7), 1, 0), ((5, 7), -1, 1), ((5, 7), 12, -1), ((5, 7), 0, 0), ((5, 7), 3, None),
    ((5, 7), (1, -2), (0, 1)), ((3, 0), 1, 1), ((4, 3, 2), numpy.int64(-5), -3), ((6,), 2, 0),
])
def test_roll_is_numpys(shape, shift, axis):
    for x in (R(*shape), numpy.asfortranarray(R(*shape)), R(*shape)[::-1]):
        got, want = roll(x, shift, axis), numpy.roll(x, shift, axis)
        assert got.dtype == want.dtype and numpy.array_equal(got, want)
    with pytest.raises(numpy.exceptions.AxisError):
        roll(R(2, 2), 1, 2)


@pytest.mark.parametrize("dtype", [numpy.float64, numpy.float32, numpy.complex128])
def test_scatter_add_is_add_at(dtype):
    rng = numpy.random.RandomState(0)
    i, j = rng.randint(-5, 5, (30, 4)), rng.randint(-7, 7, (30, 4))
    for values in (rng.randn(30, 4).astype(dtype), dtype(2.5), rng.randn(4).astype(dtype)):
        want = numpy.zeros((5, 7), dtype)
        numpy.add.at(want, (i, j), values)
        got = scatter_add(numpy.zeros((5, 7), dtype), (i, j), values)
        assert got.dtype == want.dtype and numpy.array_equal(got, want)
    rows = rng.randn(30, 7).astype(dtype)  # an index for the first axis only: add.at's path
    want = numpy.zeros((5, 7), dtype)
    numpy.add.at(want, (i[:, 0],), rows)
    assert numpy.array_equal(scatter_add(numpy.zeros((5, 7), dtype), (i[:, 0],), rows), want)


def advect(field, u, v):
    """A semi-Lagrangian gather at computed integer positions, as in fluid simulations."""
    rows, cols = field.shape
    i = np.floor(numpy.arange(rows)[:, None] - v).astype(int) % rows
    j = np.floor(numpy.arange(cols)[None, :] - u).astype(int) % cols
    return field[i, j] * 0.5 + np.roll(field, 1, axis=0) * 0.25 + np.roll(field, -1, 1) * 0.25


def test_gradients_through_gathers_and_rolls():
    field, u, v = R(6, 5), 3.0 * R(6, 5), 3.0 * R(6, 5)
    check_grads(lambda f: advect(f, u, v), modes=["fwd", "rev"], order=2)(field)
    loss = lambda f: np.sum(advect(f, u, v) ** 2)
    jitted = grad(loss, jit=True)
    for _ in range(3):
        field = R(6, 5)
        assert_allclose(jitted(field), grad(loss, jit=False)(field), rtol=1e-12)


def test_scatter_add_broadcasts_values_itself_for_numpys_add_at():
    """NumPy 2.4's add.at, broadcasting values of shape (3,) along a (4, 3) index into
    a 1-d array, read memory it does not own: scatter_add broadcasts them first."""
    from jitgrad.numpy.fast_paths import scatter_add
    index = numpy.array([[0, 1, 2], [3, 4, 5], [6, 7, 8], [0, 1, 2]])
    for dtype in (numpy.float32, numpy.complex128, numpy.float64):
        values = numpy.array([1.0, 2.0, 3.0], dtype)
        out = scatter_add(numpy.zeros(9, dtype), (index,), values)
        assert numpy.array_equal(out, numpy.array([2, 4, 6, 1, 2, 3, 1, 2, 3], dtype))
