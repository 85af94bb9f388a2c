"""Compatibility: the vector spaces third-party code imports from
``autograd.numpy.numpy_vspaces`` (jitgrad keeps them in ``jitgrad.trace.vspace``)."""
from ..trace.vspace import ArrayVSpace, ComplexArrayVSpace  # noqa: F401
