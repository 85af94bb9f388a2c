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

An elementwise primitive may also tell the jit how to fuse it into its compiled loops,
with its scalar body (Numba-compilable; ``{0}``, ``{1}``... are its arguments):

    @primitive
    def ratio(x, y):
        return x / y

    def_scalar_body(ratio, "({0} / {1})", exact=True)

``array_body=`` gives another expression for array loops (None: arrays stay calls of
the primitive); ``exact=True`` declares the body one correctly rounded IEEE operation
(``+ - * /``), which lets float32 regions take it too (they must match NumPy's float32
loops bit for bit). Leave it False for calls (``math.exp``) or several operations.
"""
from .trace.core import Box, notrace_primitive, primitive, register_notrace  # noqa: F401
from .trace import rules as _rules
from .trace.rules import def_scalar_body  # noqa: F401  (lets the jit's fuser compile it)
from .trace.user_rules import user_api as _user_api

# Rules given here are a user's: under the jit they run on plain values (user_rules).
defvjp = _user_api(_rules.defvjp)
defvjp_argnum = _user_api(_rules.defvjp_argnum)
defvjp_argnums = _user_api(_rules.defvjp_argnums)
defjvp = _user_api(_rules.defjvp)
defjvp_argnum = _user_api(_rules.defjvp_argnum)
defjvp_argnums = _user_api(_rules.defjvp_argnums)
def_linear = _user_api(_rules.def_linear)
from .trace.vjp import SparseObject  # noqa: F401
from .trace.vspace import VSpace, vspace  # noqa: F401
from .trace.jvp import JVPNode  # noqa: F401
from .trace.vjp import VJPNode  # noqa: F401
