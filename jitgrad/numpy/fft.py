"""``jitgrad.numpy.fft``: numpy.fft, traced, with derivative rules.

Every transform is linear, so its JVP is the transform of the tangent and its VJP
is its transpose (autograd's convention for complex-linear maps: no conjugate). The
DFT matrix is symmetric, so the transpose of fft/ifft (any ``norm``) is the same
transform; padding or truncation by ``n``/``s`` transposes to truncation or
zero-padding back to the input's length. The real transforms need more care:
rfft keeps half the spectrum, so its transpose zero-extends the cotangent to the
full length; irfft counts each interior bin twice (it and its mirror image) and
ignores the imaginary part of the DC and Nyquist bins, so its transpose weights
interior bins by 2. hfft and ihfft are irfft and rfft of the conjugate, as in NumPy.
"""
import inspect

import numpy as _np
import numpy.fft as _fft

from ..trace import defjvp, defvjp, isbox
from . import numpy_wrapper as anp
from .assembly import concatenate
from .numpy_vjps import match_complex
from .numpy_wrapper import wrap, wrap_namespace

__all__ = wrap_namespace(_fft.__dict__, globals())
(fft, ifft, fftn, ifftn, fft2, ifft2, rfft, irfft, rfftn, irfftn, rfft2, irfft2,
 fftshift, ifftshift, fftfreq, rfftfreq) = map(wrap, (
     _fft.fft, _fft.ifft, _fft.fftn, _fft.ifftn, _fft.fft2, _fft.ifft2, _fft.rfft,
     _fft.irfft, _fft.rfftn, _fft.irfftn, _fft.rfft2, _fft.irfft2, _fft.fftshift,
     _fft.ifftshift, _fft.fftfreq, _fft.rfftfreq))

_SWAPPED_NORM = {None: "forward", "backward": "forward", "ortho": "ortho",
                 "forward": "backward"}


def _arguments(fun, a, args, kwargs):
    """The call's arguments by name, defaults filled in."""
    bound = inspect.signature(fun.fun).bind(a, *args, **kwargs)
    bound.apply_defaults()
    return bound.arguments


def _axes_and_lengths(a, arguments, real_output):
    """(axes, transform lengths) of a call; real_output: irfft's default n is 2(m - 1)."""
    ndim, shape = anp.ndim(a), anp.shape(a)
    if "axis" in arguments:  # a one-dimensional transform
        axes, lengths = [arguments["axis"]], None if arguments["n"] is None else [
            arguments["n"]]
    else:
        axes, lengths = arguments["axes"], arguments["s"]
        if axes is None:
            axes = range(ndim) if lengths is None else range(ndim - len(lengths), ndim)
    axes = [axis % ndim for axis in axes]
    if lengths is None:
        lengths = [shape[axis] for axis in axes]
        if real_output:
            lengths[-1] = 2 * (shape[axes[-1]] - 1)
    lengths = [shape[axis] if n == -1 else n for axis, n in zip(axes, lengths)]
    return axes, lengths


def _fit(x, axis, length):
    """x truncated or zero-padded along ``axis`` to ``length``."""
    size = anp.shape(x)[axis]
    if size == length:
        return x
    if size > length:
        return x[(slice(None),) * axis + (slice(0, length),)]
    pad_shape = list(anp.shape(x))
    pad_shape[axis] = length - size
    return concatenate([x, _np.zeros(pad_shape, anp.result_type(x))], axis=axis)


def _fit_all(x, axes, like):
    for axis in axes:
        x = _fit(x, axis, anp.shape(like)[axis])
    return x


def _complex_vjp(fun, inverse, ans, a, args, kwargs):
    """fft-type transforms: the transpose is the same transform at the output's length."""
    arguments = _arguments(fun, a, args, kwargs)
    axes, _ = _axes_and_lengths(a, arguments, False)
    transform = ifftn if inverse else fftn
    return lambda g: match_complex(
        a, _fit_all(transform(g, axes=axes, norm=arguments["norm"]), axes, a))


def _rfft_vjp(fun, ans, a, args, kwargs):
    """rfft keeps bins 0..n//2: extend the cotangent by zeros, then transpose the fft."""
    arguments = _arguments(fun, a, args, kwargs)
    axes, lengths = _axes_and_lengths(a, arguments, False)
    return lambda g: anp.real(_fit_all(
        fftn(_fit(g, axes[-1], lengths[-1]), axes=axes, norm=arguments["norm"]), axes, a))


def _irfft_vjp(fun, ans, a, args, kwargs):
    """irfft reads bins 0..n//2, counting each interior bin twice, so the transpose is
    conj(rfft) of the cotangent (at the swapped normalization) weighted 1, 2, ..., 2, 1."""
    arguments = _arguments(fun, a, args, kwargs)
    axes, lengths = _axes_and_lengths(a, arguments, True)
    n, axis, norm = lengths[-1], axes[-1], arguments["norm"]
    weights = _np.full(n // 2 + 1, 2.0, dtype=anp.result_type(ans))
    weights[0] = 1.0
    if n % 2 == 0:
        weights[-1] = 1.0
    weights = weights.reshape((-1,) + (1,) * (anp.ndim(a) - 1 - axis))

    def vjp(g):
        c = weights * anp.conj(rfft(g, n=n, axis=axis, norm=_SWAPPED_NORM[norm]))
        if len(axes) > 1:
            c = ifftn(c, axes=axes[:-1], norm=norm)
        return match_complex(a, _fit_all(c, axes, a))
    return vjp


def _def_transform(fun, vjp, *options):
    defvjp(fun, lambda ans, a, *args, **kwargs: vjp(fun, *options, ans, a, args, kwargs))
    defjvp(fun, "same")


for _fun in (fft, fftn, fft2):
    _def_transform(_fun, _complex_vjp, False)
for _fun in (ifft, ifftn, ifft2):
    _def_transform(_fun, _complex_vjp, True)
for _fun in (rfft, rfftn, rfft2):
    _def_transform(_fun, _rfft_vjp)
for _fun in (irfft, irfftn, irfft2):
    _def_transform(_fun, _irfft_vjp)

defvjp(fftshift, lambda ans, x, axes=None: lambda g: ifftshift(g, axes))
defjvp(fftshift, "same")
defvjp(ifftshift, lambda ans, x, axes=None: lambda g: fftshift(g, axes))
defjvp(ifftshift, "same")
# fftfreq(n, d) = k / (n d): differentiable in the sample spacing d.
defvjp(fftfreq, None, lambda ans, n, d=1.0, **kwargs: lambda g: -anp.sum(g * ans) / d)
defjvp(fftfreq, None, lambda g, ans, n, d=1.0, **kwargs: -ans * g / d)
defvjp(rfftfreq, None, lambda ans, n, d=1.0, **kwargs: lambda g: -anp.sum(g * ans) / d)
defjvp(rfftfreq, None, lambda g, ans, n, d=1.0, **kwargs: -ans * g / d)


def hfft(a, n=None, axis=-1, norm=None, out=None):
    """numpy.fft.hfft: the irfft of conj(a) at the swapped normalization (traced)."""
    if not isbox(a):
        return _fft.hfft(a, n, axis, norm, out)
    n = 2 * (anp.shape(a)[axis] - 1) if n is None else n
    return irfft(anp.conj(a), n, axis, norm=_SWAPPED_NORM[norm])


def ihfft(a, n=None, axis=-1, norm=None, out=None):
    """numpy.fft.ihfft: conj of the rfft at the swapped normalization (traced)."""
    if not isbox(a):
        return _fft.ihfft(a, n, axis, norm, out)
    return anp.conj(rfft(a, n, axis, norm=_SWAPPED_NORM[norm]))
