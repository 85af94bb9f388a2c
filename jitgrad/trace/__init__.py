"""Tracing, common to eager differentiation and the jit. Knows nothing of Numba."""
from .core import (Box, Node, TraceLevel, getval, isbox, new_box, notrace_primitive,
                   primitive, register_notrace, trace, trace_depth)
from .vspace import VSpace, vspace
from .rules import (def_linear, def_scalar_body, defjvp, defjvp_argnum, defjvp_argnums,
                    defvjp, defvjp_argnum, defvjp_argnums, primitive_jvps, primitive_vjps,
                    scalar_bodies)
from .vjp import SparseObject, VJPNode, backward_pass, make_vjp, toposort
from .jvp import JVPNode, make_jvp
from . import containers
from .jitted import JitFunction, explain, jit
