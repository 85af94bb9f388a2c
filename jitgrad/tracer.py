"""Compatibility: the names third-party code imports from ``autograd.tracer``."""
from .trace.core import (Box, Node, getval, isbox, new_box, notrace_primitive,  # noqa: F401
                         primitive, register_notrace, toposort, trace)
