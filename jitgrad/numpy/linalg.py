"""``jitgrad.numpy.linalg``: numpy.linalg, traced. Rules come with the NumPy-surface work."""
import numpy.linalg as _linalg

from .numpy_wrapper import wrap_namespace

__all__ = wrap_namespace(_linalg.__dict__, globals())
