"""The public extension API: define your own primitives and their derivatives.

    from jitgrad.extend import primitive, defvjp, defjvp

    @primitive
    def logsumexp(x):
        m = np.max(x)
        return m + np.log(np.sum(np.exp(x - m)))

    defvjp(logsumexp, lambda ans, x: lambda g: g * np.exp(x - ans))
    defjvp(logsumexp, lambda g, ans, x: np.sum(g * np.exp(x - ans)))

A VJP maker takes ``(ans, *args, **kwargs)`` and returns ``g -> cotangent``; pass
``None`` for an argument with a zero gradient. A JVP takes ``(g, ans, *args,
**kwargs)`` and returns the output tangent. Write rules with ``jitgrad.numpy``
so that they can be differentiated again.
"""
from .trace.core import Box, notrace_primitive, primitive, register_notrace  # noqa: F401
from .trace.rules import (def_linear, defjvp, defjvp_argnum, defjvp_argnums,  # noqa: F401
                          defvjp, defvjp_argnum, defvjp_argnums)
from .trace.vjp import SparseObject  # noqa: F401
from .trace.vspace import VSpace, vspace  # noqa: F401
from .trace.jvp import JVPNode  # noqa: F401
from .trace.vjp import VJPNode  # noqa: F401
