"""The real FFTs (rfft, irfft, hfft, ihfft and their n-d forms) at odd and even lengths.

autograd raises NotImplementedError for rfftn of odd length; jitgrad differentiates
it. Its rules depend on the parity only through irfft's Nyquist bin (present for an
even output length, absent for an odd one), so every transform is checked at both
parities, padded and truncated, in each normalization, in both modes to order 2.
"""
import numpy
import pytest

import jitgrad.numpy as np
from jitgrad.test_util import check_grads

R = numpy.random.randn


def C(*shape):
    return R(*shape) + 1j * R(*shape)


def _one_dimensional(length, norm):
    odd = 2 * length - 1
    return [
        ("rfft", lambda x: np.fft.rfft(x, norm=norm), R(length)),
        ("rfft_padded", lambda x: np.fft.rfft(x, n=length + 1, norm=norm), R(length)),
        ("rfft_truncated", lambda x: np.fft.rfft(x, n=length - 1, norm=norm), R(length)),
        ("irfft", lambda x: np.fft.irfft(x, norm=norm), C(length)),
        ("irfft_odd_output", lambda x: np.fft.irfft(x, n=odd, norm=norm), C(length)),
        ("irfft_short_output", lambda x: np.fft.irfft(x, n=length, norm=norm), C(length)),
        ("hfft", lambda x: np.fft.hfft(x, norm=norm), C(length)),
        ("hfft_odd_output", lambda x: np.fft.hfft(x, n=odd, norm=norm), C(length)),
        ("ihfft", lambda x: np.fft.ihfft(x, norm=norm), R(length)),
    ]


def _n_dimensional(shape):
    last = shape[-1]
    return [
        ("rfftn", lambda x: np.fft.rfftn(x), R(*shape) / 10.0),
        ("rfft2", lambda x: np.fft.rfft2(x), R(*shape)),
        ("rfftn_first_axis", lambda x: np.fft.rfftn(x, axes=(0,)), R(*shape)),
        ("rfftn_s_axes", lambda x: np.fft.rfftn(x, s=(last + 1, 3), axes=(-1, 0)), R(*shape)),
        ("irfftn", lambda x: np.fft.irfftn(x), C(*shape)),
        ("irfftn_odd_output",
         lambda x: np.fft.irfftn(x, s=shape[:-1] + (2 * last - 1,), axes=range(len(shape))),
         C(*shape)),
        ("irfft2_s", lambda x: np.fft.irfft2(x, s=(5, 5)), C(*shape)),
        ("round_trip", lambda x: np.fft.irfftn(np.fft.rfftn(x), s=x.shape, axes=range(len(shape))),
         R(*shape)),
    ]


CASES = [(f"{name}_{length}_{norm}", fun, x)
         for length in (5, 6) for norm in (None, "ortho", "forward")
         for name, fun, x in _one_dimensional(length, norm)]
CASES += [(f"{name}_{'x'.join(map(str, shape))}", fun, x)
          for shape in ((5, 5, 5), (4, 4), (3, 5), (5, 4, 3), (4, 3, 6))
          for name, fun, x in _n_dimensional(shape)]


@pytest.mark.parametrize("name, fun, x", CASES, ids=[c[0] for c in CASES])
def test_real_fft_gradients(name, fun, x):
    check_grads(fun, modes=["fwd", "rev"], order=2)(x)


def test_rfftn_of_odd_length_is_differentiable():
    # autograd's test_rfftn_odd_not_implemented expects NotImplementedError here.
    x = R(5, 5, 5) / 10.0
    check_grads(np.fft.rfftn, modes=["fwd", "rev"], order=2)(x)
