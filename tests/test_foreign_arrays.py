"""Array-likes of other libraries that handle NumPy's ufuncs themselves (xarray's
DataArray): an operator with a traced value on the left gives way to them, so they
hold traced values and differentiate, as under autograd."""
import numpy
import pytest
from numpy.testing import assert_allclose

import jitgrad.numpy as np
from jitgrad import grad
from jitgrad.test_util import check_grads

xr = pytest.importorskip("xarray", reason="xarray is not installed")

BASE = numpy.array([0.5, -1.0, 1.5])
CASES = {
    "traced * DataArray": lambda x: np.sum((x * xr.DataArray(BASE)).data),
    "DataArray * traced": lambda x: np.sum((xr.DataArray(BASE) * x).data),
    "traced - DataArray": lambda x: np.sum((x - xr.DataArray(BASE)).data ** 2),
    "traced / DataArray": lambda x: np.sum((x / xr.DataArray(BASE)).data),
    "traced ** DataArray": lambda x: np.sum((x ** xr.DataArray(numpy.array([1.0, 2.0, 3.0]))).data),
    "ufunc of a DataArray holding traced values":
        lambda x: np.sum(np.sin(x * xr.DataArray(BASE)).data),
    "traced * DataArray holding traced": lambda x: np.sum((x * (xr.DataArray(BASE) * x)).data),
}


@pytest.mark.parametrize("name", CASES)
def test_dataarray_with_traced_values(name):
    fun = CASES[name]
    x = 0.7
    check_grads(fun, modes=["fwd", "rev"], order=2)(x)


def test_dataarray_gradient_value():
    assert_allclose(grad(CASES["traced * DataArray holding traced"])(2.0), 4.0 * BASE.sum())
