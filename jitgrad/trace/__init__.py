"""Automatic differentiation by tracing: boxes, nodes, vector spaces, the rule tables,
reverse and forward mode. Knows nothing of the jit (it talks to it through ``hooks``)
nor of Numba."""
from .core import (Box, Node, TraceLevel, getval, isbox, new_box, notrace_primitive,
                   primitive, register_notrace, trace, trace_depth)
from .vspace import VSpace, vspace
from .rules import (def_linear, def_replay, def_scalar_body, defjvp, defjvp_argnum,
                    defjvp_argnums, defvjp, defvjp_argnum, defvjp_argnums, primitive_jvps,
                    primitive_vjps, scalar_bodies)
from .vjp import SparseObject, VJPNode, backward_pass, make_vjp, toposort
from .jvp import JVPNode, make_jvp
from . import containers
