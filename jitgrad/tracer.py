"""Compatibility: the names third-party code imports from ``autograd.tracer``."""
from .trace.core import (Box, Node, isbox, new_box, notrace_primitive,  # noqa: F401
                         primitive, register_notrace, trace)
from .trace.vjp import toposort  # noqa: F401
from .trace.core import user_getval as getval  # noqa: F401,E402  (jit-aware)
