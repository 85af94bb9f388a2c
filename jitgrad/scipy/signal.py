"""``jitgrad.scipy.signal``: N-dimensional convolution and correlation, differentiable
in both inputs.

One primitive, ``scipy.signal.convolve``, carries the rules. The cotangent of a
convolution with respect to one input is a convolution of the output cotangent
with the other input flipped along every axis (no conjugate: convolution is
holomorphic in each input); which mode that convolution takes depends on the
forward mode. Correlation is convolution with the conjugated, flipped kernel, and
the 2-D functions' boundaries are a padding of the first input.
"""
import numpy as _np
import scipy.signal as _signal

from ..numpy import numpy_wrapper as anp
from ..numpy.numpy_wrapper import wrap_namespace
from ..trace import defjvp, defvjp, primitive

__all__ = wrap_namespace(_signal.__dict__, globals())


def _flip(x):
    return x[(slice(None, None, -1),) * anp.ndim(x)]


@primitive
def _embed(x, shape, start):
    """Zeros of ``shape`` with ``x`` placed at offset ``start``."""
    out = _np.zeros(shape, _np.result_type(x))
    out[_window(start, _np.shape(x))] = x
    return out


def _window(start, shape):
    return tuple(slice(s, s + n) for s, n in zip(start, shape))


defvjp(_embed, lambda ans, x, shape, start: lambda g: g[_window(start, anp.shape(x))])
defjvp(_embed, "same")


@primitive
def _convolve(in1, in2, mode, method):
    return _signal.convolve(in1, in2, mode=mode, method=method)


def _covers(a, b):
    return all(n >= m for n, m in zip(anp.shape(a), anp.shape(b)))


def _convolve_vjp(argnum):
    def vjp_maker(ans, in1, in2, mode, method):
        this, other = (in1, in2) if argnum == 0 else (in2, in1)
        kernel = _flip(other)
        if mode == "full":
            return lambda g: _convolve(g, kernel, "valid", method)
        if mode == "valid":
            # The larger input sees a full convolution, the smaller a valid one.
            back_mode = "full" if _covers(this, other) else "valid"
            return lambda g: _convolve(g, kernel, back_mode, method)
        # "same" is the centre of the full output, as large as in1.
        full_shape = tuple(n + m - 1 for n, m in zip(anp.shape(in1), anp.shape(in2)))
        start = tuple((m - 1) // 2 for m in anp.shape(in2))
        return lambda g: _convolve(_embed(g, full_shape, start), kernel, "valid", method)
    return vjp_maker


defvjp(_convolve, _convolve_vjp(0), _convolve_vjp(1))
defjvp(_convolve, "same", "same")


def _check_mode(mode):
    if mode not in ("full", "valid", "same"):
        raise ValueError(f"mode must be 'full', 'valid' or 'same', not {mode!r}")


def convolve(in1, in2, mode="full", method="auto", axes=None, dot_axes=((), ())):
    """N-dimensional convolution as scipy.signal.convolve, differentiable in both inputs.

    With ``axes`` or ``dot_axes`` (autograd's generalised convolve, also accepted in
    autograd's positional order ``convolve(A, B, axes, dot_axes, mode)``), convolves
    over ``axes``, contracts over ``dot_axes`` and takes the outer product over the
    other axes; see jitgrad.scipy.tensor_convolve."""
    if not isinstance(mode, str):
        # Positions 3-5 are autograd's (axes, dot_axes, mode).
        autograd_mode = axes if isinstance(axes, str) else "full"
        axes, mode = mode, autograd_mode
        if not isinstance(method, str):
            dot_axes, method = method, "auto"
    if axes is not None or any(len(d) if _np.ndim(d) else 1 for d in dot_axes):
        from .tensor_convolve import tensor_convolve
        return tensor_convolve(in1, in2, axes, dot_axes, mode)
    _check_mode(mode)
    return _convolve(in1, in2, mode, method)


def _kernel_of_correlation(in2):
    kernel = _flip(in2)
    return anp.conj(kernel) if anp.iscomplexobj(in2) else kernel


def correlate(in1, in2, mode="full", method="auto"):
    """N-dimensional cross-correlation as scipy.signal.correlate, differentiable in both
    inputs."""
    _check_mode(mode)
    return _convolve(in1, _kernel_of_correlation(in2), mode, method)


def fftconvolve(in1, in2, mode="full", axes=None):
    """scipy.signal.fftconvolve over all axes (``axes=None`` only)."""
    if axes is not None:
        raise NotImplementedError("jitgrad.scipy.signal.fftconvolve supports axes=None "
                                  "only; convolve all axes or use convolve per slice.")
    _check_mode(mode)
    return _convolve(in1, in2, mode, "fft")


def _padding_index(lo, hi, n, boundary):
    """Indices into an axis of length n for positions lo..hi-1 beyond its ends."""
    i = _np.arange(lo, hi)
    if boundary == "wrap":
        return i % n
    j = i % (2 * n)  # "symm": mirror images with the edge repeated
    return _np.where(j >= n, 2 * n - 1 - j, j)


def _check_2d(in1, in2, mode):
    if anp.ndim(in1) != 2 or anp.ndim(in2) != 2:
        raise ValueError("convolve2d and correlate2d take 2-D inputs; use "
                         "jitgrad.scipy.signal.convolve for other dimensions.")
    _check_mode(mode)


def _convolve2d(in1, kernel, mode, boundary, fillvalue, same_start):
    """2-D convolution with ``kernel`` after padding ``in1`` as ``boundary`` says.

    Output index k of the full convolution reads in1 at k - j for kernel index j,
    so the padded input spans [k_lo - (m - 1), k_hi] and a valid convolution of it
    gives outputs k_lo..k_hi."""
    if boundary not in ("fill", "wrap", "symm"):
        raise ValueError(f"boundary must be 'fill', 'wrap' or 'symm', not {boundary!r}")
    if mode == "valid":
        return _convolve(in1, kernel, "valid", "direct")
    in_shape, k_shape = anp.shape(in1), anp.shape(kernel)
    k_lo = [0, 0] if mode == "full" else [same_start(m) for m in k_shape]
    k_hi = [n + m - 2 for n, m in zip(in_shape, k_shape)] if mode == "full" else [
        lo + n - 1 for lo, n in zip(k_lo, in_shape)]
    los = [lo - (m - 1) for lo, m in zip(k_lo, k_shape)]
    if boundary == "fill":
        padded_shape = tuple(hi + 1 - lo for lo, hi in zip(los, k_hi))
        start = tuple(-lo for lo in los)
        padded = _embed(in1, padded_shape, start)
        if fillvalue != 0:
            outside = 1.0 - _embed(_np.ones(in_shape), padded_shape, start)
            padded = padded + fillvalue * outside
    else:
        rows, cols = (_padding_index(lo, hi + 1, n, boundary)
                      for lo, hi, n in zip(los, k_hi, in_shape))
        padded = in1[_np.ix_(rows, cols)]
    return _convolve(padded, kernel, "valid", "direct")


def convolve2d(in1, in2, mode="full", boundary="fill", fillvalue=0):
    """2-D convolution as scipy.signal.convolve2d, differentiable in both inputs."""
    _check_2d(in1, in2, mode)
    if boundary == "fill" and fillvalue == 0:
        return _convolve(in1, in2, mode, "direct")
    return _convolve2d(in1, in2, mode, boundary, fillvalue, lambda m: (m - 1) // 2)


def correlate2d(in1, in2, mode="full", boundary="fill", fillvalue=0):
    """2-D cross-correlation as scipy.signal.correlate2d, differentiable in both inputs."""
    _check_2d(in1, in2, mode)
    # scipy centres correlate2d's "same" output at m // 2, convolve2d's at (m - 1) // 2.
    return _convolve2d(in1, _kernel_of_correlation(in2), mode, boundary, fillvalue,
                       lambda m: m // 2)
