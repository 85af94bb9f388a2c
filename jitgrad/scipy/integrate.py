"""``jitgrad.scipy.integrate.odeint``: ODE solutions differentiable in the initial
state, the times and the extra arguments.

Reverse mode uses the adjoint method: the adjoint ``a = dL/dy`` obeys
``da/dt = -a J_y`` and the parameters' cotangent accumulates ``-a J_args``; both are
solved backwards, interval by interval, together with ``y`` itself, by another
call of ``odeint``. Forward mode solves the sensitivity equation
``ds/dt = J_y s + J_args dargs`` alongside ``y``. The augmented dynamics get their
Jacobian products from jitgrad's own ``make_vjp``/``make_jvp`` of ``func``, and the
augmented solves are calls of the same primitive, so the rules differentiate again.
"""
import warnings

import numpy as _np
import scipy.integrate as _integrate

from ..numpy import numpy_wrapper as anp
from ..numpy import asarray, concatenate, stack
from ..trace.hooks import refuse_replay
from ..trace import (defjvp_argnums, defvjp_argnums, getval, isbox, make_jvp, make_vjp,
                     primitive)

__all__ = ["odeint", "solve_ivp"]

# Solver settings that also make sense for the augmented (adjoint or tangent) problems.
_SHARED_OPTIONS = ("rtol", "atol", "hmax", "hmin", "h0", "mxstep", "mxordn", "mxords")
_FIRST_ARG = 3  # func, y0, t, then the extra arguments


@primitive
def _odeint(func, y0, t, *args, **options):
    return _integrate.odeint(func, y0, t, args=args, **options)


def _call_quietly(transform, fun, x):
    # An ODE whose right side ignores some input is fine; don't warn on every step.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return transform(fun, x)


def _pack(parts):
    return concatenate([anp.ravel(p) for p in parts])


def _unpack(flat, templates):
    parts, start = [], 0
    for template in templates:
        size = int(_np.size(template))
        parts.append(anp.reshape(flat[start:start + size], _np.shape(template)))
        start += size
    return parts


def _split_args(args, indices):
    """A function of (y, chosen args) with the remaining args held fixed."""
    def with_chosen(func, t):
        def fun(y_and_chosen):
            full = list(args)
            for i, value in zip(indices, y_and_chosen[1:]):
                full[i] = value
            return func(y_and_chosen[0], t, *full)
        return fun
    return with_chosen


def _adjoint_dynamics(func, y_template, chosen):
    """Right side of the backward problem in z = [y, a, a_args], for args ``chosen``."""
    n = int(_np.size(y_template))

    def dynamics(z, t, *args):
        y = anp.reshape(z[:n], _np.shape(y_template))
        a = anp.reshape(z[n:2 * n], _np.shape(y_template))
        fun = _split_args(args, chosen)(func, t)
        vjp, dydt = _call_quietly(make_vjp, fun, (y, *[args[i] for i in chosen]))
        cotangents = vjp(a)
        return _pack([dydt] + [-c for c in cotangents])
    return dynamics


def _odeint_vjp(argnums, ans, args, kwargs):
    func, y0, t, extra = args[0], args[1], args[2], args[_FIRST_ARG:]
    chosen = [argnum - _FIRST_ARG for argnum in argnums if argnum >= _FIRST_ARG]
    options = {k: v for k, v in kwargs.items() if k in _SHARED_OPTIONS}
    dynamics = _adjoint_dynamics(func, y0, chosen)
    n = int(_np.size(y0))
    times = len(t)
    f_at = [func(ans[i], t[i], *extra) for i in range(times)] if 2 in argnums else None

    def vjp(g):
        a = g[times - 1]
        a_args = [anp.zeros_like(extra[i]) for i in chosen]
        for i in range(times - 1, 0, -1):
            z0 = _pack([ans[i], a] + a_args)
            z = _odeint(dynamics, z0, stack([t[i], t[i - 1]]), *extra, **options)[-1]
            a = anp.reshape(z[n:2 * n], _np.shape(y0)) + g[i - 1]
            a_args = _unpack(z[2 * n:], [extra[i] for i in chosen])
        cotangents = {1: a}
        for argnum, a_arg in zip((c + _FIRST_ARG for c in chosen), a_args):
            cotangents[argnum] = a_arg
        if 2 in argnums:
            # Moving t_i moves y(t_i) along f; moving t_0 shifts the trajectory after
            # it (not y(t_0) = y0 itself, hence a - g[0]).
            dt = [anp.sum(g[i] * f_at[i]) for i in range(1, times)]
            cotangents[2] = stack([-anp.sum((a - g[0]) * f_at[0])] + dt)
        return tuple(cotangents[argnum] for argnum in argnums)
    return vjp


def _sensitivity_dynamics(func, y_template, chosen, n_extra):
    """Right side of the forward problem in z = [y, s]; the args' tangents follow the
    args among the solver's extra arguments."""
    n = int(_np.size(y_template))

    def dynamics(z, t, *args_and_tangents):
        args, tangents = args_and_tangents[:n_extra], args_and_tangents[n_extra:]
        y = anp.reshape(z[:n], _np.shape(y_template))
        s = anp.reshape(z[n:], _np.shape(y_template))
        fun = _split_args(args, chosen)(func, t)
        primal = (y, *[args[i] for i in chosen])
        dydt, dsdt = _call_quietly(make_jvp, fun, primal)((s, *tangents))
        return _pack([dydt, dsdt])
    return dynamics


def _odeint_jvp(argnums, gs, ans, args, kwargs):
    func, y0, t, extra = args[0], args[1], args[2], args[_FIRST_ARG:]
    tangents = dict(zip(argnums, gs))
    chosen = [argnum - _FIRST_ARG for argnum in argnums if argnum >= _FIRST_ARG]
    options = {k: v for k, v in kwargs.items() if k in _SHARED_OPTIONS}
    n = int(_np.size(y0))
    s0 = tangents.get(1, anp.zeros_like(y0))
    if 2 in tangents:
        s0 = s0 - func(y0, t[0], *extra) * tangents[2][0]
    dynamics = _sensitivity_dynamics(func, y0, chosen, len(extra))
    chosen_tangents = [tangents[c + _FIRST_ARG] for c in chosen]
    z = _odeint(dynamics, _pack([y0, s0]), t, *extra, *chosen_tangents, **options)
    out = anp.reshape(z[:, n:], anp.shape(ans))
    if 2 in tangents:
        dt = tangents[2]
        out = out + stack([func(ans[i], t[i], *extra) * dt[i] for i in range(len(t))])
    return out


defvjp_argnums(_odeint, _odeint_vjp)
defjvp_argnums(_odeint, _odeint_jvp)


@primitive
def _ivp(func, y0, t, *args, **options):
    """solve_ivp's solution at the times ``t`` (from t[0]), laid out as odeint's."""
    solution = _integrate.solve_ivp(lambda s, y, *a: func(y, s, *a), (t[0], t[-1]), y0,
                                    t_eval=t, args=args or None, **options)
    return solution.y.T


# The same adjoint and sensitivity problems, solved by odeint, serve solve_ivp.
defvjp_argnums(_ivp, _odeint_vjp)
defjvp_argnums(_ivp, _odeint_jvp)


def _with_flat_args(func, args):
    """Arguments that are (nested) lists, tuples or dicts of arrays, such as a neural
    ODE's parameters, travel through the solver as flat vectors; ``func`` sees them
    rebuilt. Returns the function taking the flat arguments, and those arguments."""
    from ..misc.flatten import flatten
    if not any(isinstance(getval(a), (list, tuple, dict)) for a in args):
        return func, args
    flat_args, rebuilders = [], []
    for arg in args:
        if isinstance(getval(arg), (list, tuple, dict)):
            vector, unflatten = flatten(arg)
            flat_args.append(vector)
            rebuilders.append(unflatten)
        else:
            flat_args.append(arg)
            rebuilders.append(None)

    def with_structured_args(y, t, *flat):
        rebuilt = [part if rebuild is None else rebuild(part)
                   for rebuild, part in zip(rebuilders, flat)]
        return func(y, t, *rebuilt)
    return with_structured_args, tuple(flat_args)


# scipy.integrate.odeint's solver settings after full_output, in its order, with their
# defaults: passed on where given.
_ODEINT_SETTINGS = (("ml", None), ("mu", None), ("rtol", None), ("atol", None),
                    ("tcrit", None), ("h0", 0.0), ("hmax", 0.0), ("hmin", 0.0), ("ixpr", 0),
                    ("mxstep", 0), ("mxhnil", 0), ("mxordn", 12), ("mxords", 5),
                    ("printmessg", 0))


def odeint(func, y0, t, args=(), Dfun=None, col_deriv=0, full_output=0, *settings,
           tfirst=False, **options):
    """scipy.integrate.odeint, differentiable in ``y0``, ``t`` and ``args``.

    ``func(y, t, *args)`` (``func(t, y, *args)`` with ``tfirst``) must be written with
    ``jitgrad.numpy``; ``y0`` is a 1-D array and ``t`` a monotonic sequence of times."""
    if full_output:
        raise NotImplementedError(
            "jitgrad.scipy.integrate.odeint does not return full_output; call "
            "scipy.integrate.odeint directly on plain arrays for solver diagnostics.")
    if len(settings) > len(_ODEINT_SETTINGS) + 1:
        raise TypeError(f"odeint takes at most {8 + len(_ODEINT_SETTINGS)} positional "
                        f"arguments ({7 + len(settings)} given)")
    for (name, default), value in zip(_ODEINT_SETTINGS, settings):
        if name in options:
            raise TypeError(f"odeint got multiple values for argument {name!r}")
        if value is not default:
            options[name] = value
    if len(settings) > len(_ODEINT_SETTINGS):  # scipy's last positional one
        tfirst = settings[-1]
    # A traced tuple (differentiating with respect to args) is unpacked like a tuple.
    args = tuple(args) if isinstance(getval(args), tuple) else (args,)
    func, args = _with_flat_args(func, args)
    if tfirst:
        user_func = func
        func = lambda y, t, *a: user_func(t, y, *a)  # noqa: E731
    if Dfun is not None:
        # The user's Jacobian speeds up the forward solve only.
        user_dfun = Dfun
        options["Dfun"] = (lambda y, t, *a: user_dfun(t, y, *a)) if tfirst else user_dfun
        options["col_deriv"] = col_deriv
    return _odeint(func, asarray(y0), asarray(t), *args, **options)


def solve_ivp(fun, t_span, y0, method="RK45", t_eval=None, dense_output=False,
              events=None, vectorized=False, args=None, **options):
    """scipy.integrate.solve_ivp, with ``.y`` differentiable in ``y0``, ``args``,
    ``t_span[0]`` and ``t_eval``.

    ``fun(t, y, *args)`` must be written with ``jitgrad.numpy``. The result is scipy's,
    with ``y`` replaced by a traced value when an input is traced; the adjoint and
    sensitivity problems are solved with odeint (LSODA) at the given ``rtol``/``atol``.
    Differentiating solves the forward problem twice: once for scipy's result, once
    as a traced primitive at the times of that result."""
    args = () if args is None else (tuple(args) if isinstance(args, (tuple, list)) else (args,))
    # scipy's result object (times, step counts, status) is computed from plain values.
    refuse_replay("solve_ivp returns scipy's result object, computed from plain values")
    plain = [getval(a) for a in args]
    solution = _integrate.solve_ivp(
        fun, tuple(getval(t) for t in t_span), getval(y0), method=method,
        t_eval=None if t_eval is None else getval(t_eval), dense_output=dense_output,
        events=events, vectorized=vectorized, args=tuple(plain) or None, **options)
    traced = [x for x in (y0, t_eval, t_span[0], *args) if isbox(x)]
    if not traced:
        return solution
    times = asarray(solution.t) if t_eval is None else asarray(t_eval)
    starts_at_t0 = anp.size(times) and getval(times)[0] == getval(t_span[0])
    if not starts_at_t0:
        times = concatenate([anp.reshape(t_span[0], (1,)), times])
    ys = _ivp(lambda y, t, *a: fun(t, y, *a), asarray(y0), times, *args,
              method=method, **options)
    solution.y = anp.transpose(ys if starts_at_t0 else ys[1:])
    return solution
