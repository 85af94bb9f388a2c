"""Compatibility: the names third-party code imports from ``autograd.core``."""
from .trace.core import (Box, Node, getval, isbox, primitive, register_notrace,  # noqa: F401
                         toposort, trace)
from .trace.jvp import JVPNode, make_jvp  # noqa: F401
from .trace.rules import (def_linear, defjvp, defjvp_argnum, defjvp_argnums,  # noqa: F401
                          defvjp, defvjp_argnum, defvjp_argnums, primitive_jvps,
                          primitive_vjps)
from .trace.vjp import SparseObject, VJPNode, backward_pass, make_vjp  # noqa: F401
from .trace.vspace import VSpace, vspace  # noqa: F401
