"""``fixed_point``: differentiate the limit of an iteration without its history.

At the limit ``x* = f(a)(x*)``, so (implicit function theorem) the cotangent of
``a`` is ``w J_a`` where ``w = g + w J_x`` is itself a fixed point, and the
tangent ``t = J_a da + J_x t`` is one too. Both are found by iterating, with the
same ``distance`` and ``tol``: memory does not grow with the number of steps.
"""
import inspect

from ..builtins import tuple as traced_tuple
from ..differential_operators import make_jvp as nary_make_jvp
from ..trace import defjvp, defvjp, make_vjp, primitive, vspace


def _stepper(f, a):
    """autograd's convention is curried, ``f(a)(x)``; ``f(a, x)`` is accepted too."""
    if _takes_two_arguments(f):
        return lambda x: f(a, x)
    return f(a)


def _takes_two_arguments(f):
    try:
        parameters = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):
        return False
    required = [p for p in parameters if p.default is p.empty and p.kind in (
        p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(required) == 2  # f(a, x); a curried f(a, option=...) has one


@primitive
def fixed_point(f, a, x0, distance, tol):
    """Iterate ``x = f(a)(x)`` from ``x0`` until ``distance(x, x_prev) < tol``.

    Differentiable with respect to ``a`` (both modes); the gradient solves the
    adjoint fixed point rather than differentiating through the iterations."""
    step = _stepper(f, a)
    x, x_prev = step(x0), x0
    while distance(x, x_prev) >= tol:
        x, x_prev = step(x), x
    return x


def _adjoint_iteration(f):
    """``params = (a, x_star, g)`` -> the map ``w -> g + w J_x`` at ``x_star``."""
    def adjoint_step(params):
        a, x_star, g = params
        vjp_x, _ = make_vjp(_stepper(f, a), x_star)
        vs = vspace(x_star)
        return lambda w: vs.add(g, vjp_x(w))
    return adjoint_step


def _fixed_point_vjp(ans, f, a, x0, distance, tol):
    vjp_a, _ = make_vjp(lambda a: _stepper(f, a)(ans), a)

    def vjp(g):
        w = fixed_point(_adjoint_iteration(f), traced_tuple((a, ans, g)),
                        vspace(ans).zeros(), distance, tol)
        return vjp_a(w)
    return vjp


def _tangent_iteration(f):
    """``params = (a, x_star, da)`` -> the map ``t -> J_a da + J_x t`` at ``x_star``."""
    def tangent_step(params):
        a, x_star, da = params
        jvp = nary_make_jvp(lambda a, x: _stepper(f, a)(x), (0, 1), jit=False)(a, x_star)
        return lambda t: jvp(traced_tuple((da, t)))[1]
    return tangent_step


def _fixed_point_jvp(g, ans, f, a, x0, distance, tol):
    return fixed_point(_tangent_iteration(f), traced_tuple((a, ans, g)),
                       vspace(ans).zeros(), distance, tol)


defvjp(fixed_point, None, _fixed_point_vjp, None, None, None)
defjvp(fixed_point, None, _fixed_point_jvp, None, None, None)
