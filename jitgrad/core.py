"""Compatibility: the names third-party code imports from ``autograd.core``."""
from .trace.core import (Box, Node, isbox, primitive, register_notrace,  # noqa: F401
                         trace)
from .trace.jvp import JVPNode, make_jvp  # noqa: F401
from .trace.rules import primitive_jvps, primitive_vjps  # noqa: F401
from .extend import (def_linear, defjvp, defjvp_argnum, defjvp_argnums,  # noqa: F401
                     defvjp, defvjp_argnum, defvjp_argnums)
from .trace.vjp import (SparseObject, VJPNode, backward_pass, make_vjp,  # noqa: F401
                        toposort)
from .trace.vspace import VSpace, vspace  # noqa: F401
from .trace.core import user_getval as getval  # noqa: F401,E402  (jit-aware)
