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


def _tensor_reference(A, B, axes, dot_axes, mode):
    """Loops of scipy.signal.convolve over the outer-product axes, summed over dot axes."""
    (a_conv, b_conv), (a_dot, b_dot) = axes, dot_axes
    a_other = [a for a in range(A.ndim) if a not in a_conv + a_dot]
    b_other = [b for b in range(B.ndim) if b not in b_conv + b_dot]
    A2 = onp.transpose(A, a_other + a_dot + a_conv)
    B2 = onp.transpose(B, b_dot + b_other + b_conv)
    lead_a, lead_b = A2.shape[:len(a_other)], B2.shape[len(b_dot):len(b_dot) + len(b_other)]
    dots = int(onp.prod(A2.shape[len(a_other):len(a_other) + len(a_dot)]))
    A3 = A2.reshape((-1, dots) + A2.shape[len(a_other) + len(a_dot):])
    B3 = onp.moveaxis(B2.reshape((dots,) + B2.shape[len(b_dot):]), 0, len(b_other))
    B3 = B3.reshape((-1, dots) + B3.shape[len(b_other) + 1:])
    out = onp.array([[sum(ss.convolve(A3[i, d], B3[j, d], mode) for d in range(dots))
                      for j in range(B3.shape[0])] for i in range(A3.shape[0])])
    return out.reshape(lead_a + lead_b + out.shape[2:])


TENSOR_CASES = [  # (A shape, B shape, axes, dot_axes)
    ((2, 3, 5, 6), (3, 4, 2, 3), ([2, 3], [2, 3]), ([1], [0])),   # a convolutional layer
    ((4, 2, 3, 5), (3, 2, 2, 2), ([3, 0], [1, 3]), ([2, 1], [0, 2])),  # interleaved axes
    ((3, 5), (4, 3), ([1], [0]), ([], [])),                       # outer product
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shapes_a, shapes_b, axes, dot_axes", TENSOR_CASES)
def test_tensor_convolve(shapes_a, shapes_b, axes, dot_axes, mode):
    r = onp.random.RandomState(3)
    A, B = r.randn(*shapes_a), r.randn(*shapes_b)
    fun = lambda A, B: sig.convolve(A, B, axes=axes, dot_axes=dot_axes, mode=mode)
    assert onp.allclose(fun(A, B), _tensor_reference(A, B, axes, dot_axes, mode))
    order = 2 if len(shapes_a) == 2 else 1
    check_grads(fun, 0, modes=["fwd", "rev"], order=order)(A, B)
    check_grads(fun, 1, modes=["fwd", "rev"], order=order)(A, B)


def test_tensor_convolve_autograd_positional_order():
    r = onp.random.RandomState(4)
    A, B = r.randn(2, 3, 5, 6), r.randn(3, 4, 2, 3)
    axes, dot_axes = ([2, 3], [2, 3]), ([1], [0])
    assert onp.allclose(sig.convolve(A, B, axes, dot_axes, "valid"),
                        _tensor_reference(A, B, axes, dot_axes, "valid"))
    with pytest.raises(ValueError, match="at least as large"):
        sig.convolve(B, A, axes, ([0], [1]), "valid")
