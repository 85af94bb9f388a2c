"""``jitgrad.numpy.fft``: numpy.fft, traced. Rules come with the NumPy-surface work."""
import numpy.fft as _fft

from .numpy_wrapper import wrap_namespace

__all__ = wrap_namespace(_fft.__dict__, globals())
