"""``const_graph``: trace a function once, then replay its recorded steps.

autograd's ``const_graph`` caches the graph of primitives a function calls, for
functions whose Python control flow does not depend on their inputs. jitgrad's
jit already does this, and more safely: a call with new shapes or dtypes, or one
that takes another branch, is traced again instead of replaying a stale graph.
So both names are thin wrappers around ``jitgrad.jit``, tracing at the first call as
autograd's do (not after an eager first call, the jit's default tier).
"""
import functools

from ..jit.jitted import jit
from ..wrap_util import wraps


def const_graph_unary(fun):
    """``fun(x)`` traced on the first call and replayed on later ones."""
    return jit(fun, trace_after=0)


def const_graph(fun, *args, **kwargs):
    """``fun`` with ``args``/``kwargs`` bound as constants (``functools.partial``),
    traced on the first call and replayed on later ones (Python side effects of
    ``fun`` happen only while tracing)."""
    replay = jit(functools.partial(fun, *args, **kwargs), trace_after=0)

    @wraps(fun)
    def cached(*call_args):
        return replay(*call_args)
    return cached
