"""jitgrad.numpy.fft: every transform with n/s, axis/axes and each norm, gradients in
both modes to second order, real and complex inputs, values against NumPy."""
import numpy as onp
import pytest

import jitgrad.numpy as np
from jitgrad import grad, value_and_grad
from jitgrad.test_util import check_grads

F = np.fft
R = onp.random.randn


def crandn(*shape):
    return R(*shape) + 1j * R(*shape)


NORMS = [None, "ortho", "forward"]
# (name, call given (module, x, norm), input maker, shape). Lengths exercise padding
# (n larger than the input), truncation (smaller), and odd and even real lengths.
TRANSFORMS = (
    [(f"fft_n{n}", lambda m, x, norm, n=n: m.fft(x, n, axis=0, norm=norm), crandn, (5, 2))
     for n in (None, 3, 7)]
    + [(f"ifft_n{n}", lambda m, x, norm, n=n: m.ifft(x, n, norm=norm), crandn, (2, 5))
       for n in (None, 3, 7)]
    + [(f"fftn_s{s}", lambda m, x, norm, s=s: m.fftn(x, s, axes=(0, 2), norm=norm),
        crandn, (4, 2, 5)) for s in (None, (3, 6))]
    + [(f"ifftn_s{s}", lambda m, x, norm, s=s: m.ifftn(x, s, axes=(2, 0), norm=norm),
        crandn, (4, 2, 5)) for s in (None, (3, 6))]
    + [("fft2", lambda m, x, norm: m.fft2(x, norm=norm), crandn, (2, 3, 4)),
       ("ifft2_s", lambda m, x, norm: m.ifft2(x, (3, 5), norm=norm), crandn, (3, 4))]
    + [(f"rfft_n{n}", lambda m, x, norm, n=n: m.rfft(x, n, norm=norm), R, (2, 5))
       for n in (None, 3, 4, 7, 8)]
    + [(f"irfft_n{n}", lambda m, x, norm, n=n: m.irfft(x, n, axis=0, norm=norm), crandn,
        (4, 2)) for n in (None, 3, 4, 7, 8)]
    + [(f"rfftn_s{s}", lambda m, x, norm, s=s: m.rfftn(x, s, axes=(0, 2), norm=norm),
        R, (4, 2, 5)) for s in (None, (3, 6), (4, 3))]
    + [(f"irfftn_s{s}", lambda m, x, norm, s=s: m.irfftn(x, s, axes=(0, 2), norm=norm),
        crandn, (4, 2, 5)) for s in (None, (3, 6), (4, 3))]
    + [("rfft2", lambda m, x, norm: m.rfft2(x, norm=norm), R, (3, 4)),
       ("irfft2_odd", lambda m, x, norm: m.irfft2(x, (4, 5), norm=norm), crandn, (3, 4))]
    + [(f"hfft_n{n}", lambda m, x, norm, n=n: m.hfft(x, n, norm=norm), crandn, (2, 5))
       for n in (None, 7)]
    + [(f"ihfft_n{n}", lambda m, x, norm, n=n: m.ihfft(x, n, norm=norm), R, (6,))
       for n in (None, 5)]
)


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("name,call,rand,shape", TRANSFORMS, ids=[t[0] for t in TRANSFORMS])
def test_fft_gradients(name, call, rand, shape, norm):
    x = rand(*shape)
    fun = lambda x: call(F, x, norm)  # noqa: E731
    expected = call(onp.fft, x, norm)
    # Traced values are NumPy's (hfft/ihfft are compositions when traced).
    value, _ = value_and_grad(lambda x: np.sum(np.abs(fun(x)) ** 2))(x)
    onp.testing.assert_allclose(value, onp.sum(onp.abs(expected) ** 2))
    check_grads(fun, modes=["fwd", "rev"], order=2)(x)


@pytest.mark.parametrize("name,call,rand,shape", [
    ("fft_real_input", lambda m, x: m.fft(x, 7), R, (5,)),
    ("fftn_real_input", lambda m, x: m.fftn(x), R, (3, 4)),
    ("irfft_real_input", lambda m, x: m.irfft(x), R, (5,)),
    ("hfft_real_input", lambda m, x: m.hfft(x), R, (4,)),
])
def test_real_inputs_get_real_gradients(name, call, rand, shape):
    x = rand(*shape)
    check_grads(lambda x: call(F, x), modes=["fwd", "rev"], order=2)(x)
    g = grad(lambda x: np.sum(np.abs(call(F, x)) ** 2))(x)
    assert g.dtype == onp.float64


def test_parseval_gradient():
    """sum |fft(x)|^2 = n sum |x|^2, so its gradient is 2 n conj(x) (autograd's convention)."""
    z = crandn(6)
    g = grad(lambda z: np.sum(np.abs(F.fft(z)) ** 2))(z)
    onp.testing.assert_allclose(g, 2 * 6 * onp.conj(z))


@pytest.mark.parametrize("fun,inverse", [(F.fftshift, F.ifftshift), (F.ifftshift, F.fftshift)])
def test_shifts(fun, inverse):
    x = R(3, 5)
    onp.testing.assert_allclose(inverse(fun(x, axes=1), axes=1), x)
    check_grads(lambda x: fun(x, axes=1), modes=["fwd", "rev"], order=2)(x)
    check_grads(fun, modes=["fwd", "rev"], order=2)(crandn(4, 5))


@pytest.mark.parametrize("fun", [F.fftfreq, F.rfftfreq])
def test_frequencies_in_the_spacing(fun):
    onp.testing.assert_allclose(fun(6, 0.3), getattr(onp.fft, fun.__name__)(6, 0.3))
    check_grads(lambda d: fun(6, d), modes=["fwd", "rev"], order=2)(0.3)


def test_float32_transforms_keep_single_precision():
    x = R(8).astype(onp.float32)
    assert F.rfft(x).dtype == onp.complex64
    assert grad(lambda x: np.sum(np.abs(F.rfft(x)) ** 2))(x).dtype == onp.float32
    assert grad(lambda x: np.sum(F.irfft(F.rfft(x))))(x).dtype == onp.float32
