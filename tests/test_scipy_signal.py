"""jitgrad.scipy.signal: convolutions against scipy.signal's values and numerical
gradients in both inputs, every mode, 1-3 dimensions, both input orders."""
import numpy as onp
import pytest
import scipy.signal as ss

import jitgrad.scipy.signal as sig
from jitgrad.test_util import check_grads

SHAPE_PAIRS = [((5,), (3,)), ((3,), (4,)), ((4, 5), (2, 3)), ((2, 3), (4, 3)),
               ((3, 2, 4), (2, 2, 3))]
MODES = ["full", "valid", "same"]


def _pair(shapes, complex_=False):
    r = onp.random.RandomState(len(shapes[0]) + shapes[0][0])
    a, b = r.randn(*shapes[0]), r.randn(*shapes[1])
    if complex_:
        a, b = a + 1j * r.randn(*shapes[0]), b + 0.5j * r.randn(*shapes[1])
    return a, b


def _valid_defined(shapes):
    a, b = shapes
    return all(n >= m for n, m in zip(a, b)) or all(n <= m for n, m in zip(a, b))


CASES = [(name, shapes, mode) for name in ["convolve", "correlate"]
         for shapes in SHAPE_PAIRS for mode in MODES
         if mode != "valid" or _valid_defined(shapes)]


@pytest.mark.parametrize("name, shapes, mode", CASES)
def test_values_and_grads(name, shapes, mode):
    a, b = _pair(shapes)
    ours, theirs = getattr(sig, name), getattr(ss, name)
    assert onp.allclose(ours(a, b, mode), theirs(a, b, mode))
    fun = lambda x, y: ours(x, y, mode=mode)
    # Linear in each input: second order checks the rules of the backward convolutions.
    check_grads(fun, 0, modes=["fwd", "rev"], order=2)(a, b)
    check_grads(fun, 1, modes=["fwd", "rev"], order=2)(a, b)


@pytest.mark.parametrize("name", ["convolve", "correlate"])
@pytest.mark.parametrize("mode", MODES)
def test_complex(name, mode):
    a, b = _pair(((4, 3), (2, 2)), complex_=True)
    ours, theirs = getattr(sig, name), getattr(ss, name)
    assert onp.allclose(ours(a, b, mode), theirs(a, b, mode))
    check_grads(lambda x, y: ours(x, y, mode), 0, modes=["fwd", "rev"], order=1)(a, b)
    check_grads(lambda x, y: ours(x, y, mode), 1, modes=["fwd", "rev"], order=1)(a, b)


def test_fftconvolve_and_method():
    a, b = _pair(((6, 5), (3, 2)))
    assert onp.allclose(sig.fftconvolve(a, b, "same"), ss.fftconvolve(a, b, "same"))
    assert onp.allclose(sig.convolve(a, b, method="fft"), ss.convolve(a, b))
    check_grads(lambda y: sig.fftconvolve(a, y), modes=["rev"], order=1)(b)
    with pytest.raises(NotImplementedError, match="axes"):
        sig.fftconvolve(a, b, axes=[0])


CASES_2D = [(name, shapes, mode, boundary, fill)
            for name in ["convolve2d", "correlate2d"]
            for shapes in [((4, 5), (2, 3)), ((3, 3), (4, 2)), ((2, 3), (3, 4))]
            for mode in MODES for boundary, fill in
            [("fill", 0), ("fill", 1.5), ("wrap", 0), ("symm", 0)]
            if mode != "valid" or _valid_defined(shapes)]


@pytest.mark.parametrize("name, shapes, mode, boundary, fill", CASES_2D)
def test_2d(name, shapes, mode, boundary, fill):
    a, b = _pair(shapes)
    ours, theirs = getattr(sig, name), getattr(ss, name)
    assert onp.allclose(ours(a, b, mode, boundary, fill), theirs(a, b, mode, boundary, fill))
    fun = lambda x, y: ours(x, y, mode, boundary, fill)
    check_grads(fun, 0, modes=["fwd", "rev"], order=1)(a, b)
    check_grads(fun, 1, modes=["fwd", "rev"], order=1)(a, b)


def test_errors():
    a, b = _pair(((4, 5), (2, 3)))
    with pytest.raises(ValueError, match="mode"):
        sig.convolve(a, b, mode="circular")
    with pytest.raises(ValueError, match="2-D"):
        sig.convolve2d(a[0], b[0])
    with pytest.raises(ValueError, match="boundary"):
        sig.convolve2d(a, b, boundary="reflect")
