"""Derivative rules that users give through ``jitgrad.extend``, under the jit.

jitgrad's own rules are written with jitgrad.numpy, so the jit records their
arithmetic like any other. A user's rule may do anything with its arguments
(read ``.flags``, call compiled code, take ``getval``): where it would see the
jit's traced values it runs instead as one step of the plan, on plain arrays,
evaluated anew on every replay. Outside the jit, or when an outer derivative
must see through it (higher order), it runs as written.
"""
from functools import wraps

import numpy as np

from . import hooks
from .core import getval, isbox, primitive

user_rule_primitives = set()


def user_api(define_rule):
    """``define_rule(fun, ...)`` that also marks ``fun``'s rules as a user's."""
    @wraps(define_rule)
    def define_user_rule(fun, *args, **kwargs):
        define_rule(fun, *args, **kwargs)
        user_rule_primitives.add(fun)
    return define_user_rule


def runs_as_plan_step(fun, values):
    """True when ``fun`` has user rules and ``values`` are plain or traced by the
    jit alone, so the rule can run on plain values as one opaque plan step."""
    if fun not in user_rule_primitives:
        return False
    return hooks.observer() is not None and all(
        not isbox(v) or hooks.observed_only(v) for v in values)


def checked_cotangents(fun, argnums, args, vjp):
    """``vjp`` that checks each cotangent it returns has its argument's shape: a user's
    rule for a broadcasting primitive that forgets to sum over the broadcast axes
    would otherwise hand back a gradient of the wrong shape, silently."""
    shapes = [np.shape(getval(args[argnum])) for argnum in argnums]

    def checked(g):
        cotangents = tuple(vjp(g))
        for argnum, shape, cotangent in zip(argnums, shapes, cotangents):
            got = np.shape(getval(cotangent)) if not _is_sparse(cotangent) else shape
            if got != shape:
                name = getattr(fun, "__name__", "primitive")
                raise ValueError(
                    f"the VJP of {name} for argument {argnum} returned a cotangent of shape "
                    f"{got} for an argument of shape {shape}. A primitive that broadcasts "
                    "must sum its cotangent over the broadcast axes (for example with "
                    "jitgrad.numpy.numpy_vjps.unbroadcast_f(x, lambda g: ...)).")
        return cotangents
    return checked


def checked_tangent(fun, ans, tangent):
    """``tangent``, the output tangent a user's JVP rule gave, if it has the output's
    shape (a rule that forgets to broadcast gave a tangent of another shape, silently).
    A scalar tangent of an array output is taken as the shorthand it may be."""
    value = getval(ans)
    if type(value) is np.ndarray or isinstance(value, (float, np.generic)):
        got, shape = np.shape(getval(tangent)), np.shape(value)
        if got != shape and got != () and not _is_sparse(tangent):
            raise ValueError(
                f"the JVP of {getattr(fun, '__name__', 'primitive')} returned a tangent of "
                f"shape {got} for an output of shape {shape}")
    return tangent


def _is_sparse(value):
    return type(value).__name__ == "SparseObject"


_vjp_steps = {}
_jvp_steps = {}


def vjp_step(fun, vjpmaker, argnums, ans, args, kwargs):
    """``g -> cotangents`` computed by ``vjpmaker`` on plain values in one plan step."""
    key = (fun, tuple(argnums))
    step = _vjp_steps.get(key)
    if step is None:
        def user_vjp(g, ans, *args, **kwargs):
            from .vjp import densify  # a SparseObject cotangent becomes an array here
            vjp = checked_cotangents(fun, argnums, args, vjpmaker(argnums, ans, args, kwargs))
            return tuple(densify(c) for c in vjp(g))
        user_vjp.__name__ = f"vjp_of_{getattr(fun, '__name__', 'primitive')}"
        step = _vjp_steps[key] = primitive(user_vjp)
    return lambda g: step(g, ans, *args, **kwargs)


def jvp_step(fun, jvpmaker, argnums, gs, ans, args, kwargs):
    """The output tangent computed by ``jvpmaker`` on plain values in one plan step."""
    key = (fun, tuple(argnums))
    step = _jvp_steps.get(key)
    if step is None:
        def user_jvp(n_tangents, *values, **kwargs):
            gs, ans, args = values[:n_tangents], values[n_tangents], values[n_tangents + 1:]
            return jvpmaker(argnums, list(gs), ans, args, kwargs)
        user_jvp.__name__ = f"jvp_of_{getattr(fun, '__name__', 'primitive')}"
        step = _jvp_steps[key] = primitive(user_jvp)
    return step(len(gs), *gs, ans, *args, **kwargs)
