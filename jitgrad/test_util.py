"""Gradient checks against numerical derivatives, for tests of primitives and rules.

``check_grads(f, modes=["fwd", "rev"], order=2)(*args)`` checks forward mode
(JVPs against central differences) and reverse mode (VJPs against JVPs through
the identity <g, J v> = <J^T g, v>), then repeats the checks on the derivative
functions themselves up to ``order``.
"""
import itertools
from functools import partial

import numpy as np

from .trace import make_jvp as _make_jvp, make_vjp as _make_vjp, vspace
from .wrap_util import get_name, unary_to_nary

TOL = 1e-6
RTOL = 1e-6
EPS = 1e-6


def scalar_close(a, b):
    return abs(a - b) < TOL or abs(a - b) / abs(a + b) < RTOL


def make_numerical_jvp(f, x):
    """Central-difference directional derivative of ``f`` at ``x``, as a function of v."""
    x_vs = vspace(x)
    y_vs = vspace(f(x))

    def shifted(v, h):
        return f(x_vs.add(x, x_vs.scalar_mul(v, h)))

    def jvp(v):
        difference = y_vs.add(shifted(v, EPS / 2), y_vs.scalar_mul(shifted(v, -EPS / 2), -1.0))
        return y_vs.scalar_mul(difference, 1.0 / EPS)
    return jvp


def check_vjp(f, x):
    """<J^T y, v> from the VJP must equal <y, J v> from numerical differences."""
    vjp, y = _make_vjp(f, x)
    jvp = make_numerical_jvp(f, x)
    x_vs, y_vs = vspace(x), vspace(y)
    x_v, y_v = x_vs.randn(), y_vs.randn()
    vjp_y = x_vs.covector(vjp(y_vs.covector(y_v)))
    assert vspace(vjp_y) == x_vs, \
        f"{get_name(f)}: VJP has space {vspace(vjp_y)}, expected {x_vs}"
    vjv_exact = x_vs.inner(x_v, vjp_y)
    vjv_numeric = y_vs.inner(y_v, jvp(x_v))
    assert scalar_close(vjv_numeric, vjv_exact), (
        f"Derivative (VJP) check of {get_name(f)} failed with arg {x}:\n"
        f"analytic: {vjv_exact}\nnumeric: {vjv_numeric}")


def check_jvp(f, x):
    """The forward-mode JVP must match numerical differences along a random tangent."""
    jvp = _make_jvp(f, x)
    jvp_numeric = make_numerical_jvp(f, x)
    x_v = vspace(x).randn()
    y, jvp_exact = jvp(x_v)
    y_vs = vspace(y)
    probe = y_vs.randn()
    exact = y_vs.inner(probe, jvp_exact)
    numeric = y_vs.inner(probe, jvp_numeric(x_v))
    assert scalar_close(exact, numeric), (
        f"Derivative (JVP) check of {get_name(f)} failed with arg {x}:\n"
        f"analytic: {exact}\nnumeric: {numeric}")


def check_equivalent(x, y):
    x_vs, y_vs = vspace(x), vspace(y)
    assert x_vs == y_vs, f"VSpace mismatch:\nx: {x_vs}\ny: {y_vs}"
    v = x_vs.randn()
    assert scalar_close(x_vs.inner(x, v), x_vs.inner(y, v)), \
        f"Value mismatch:\nx: {x}\ny: {y}"


@unary_to_nary
def check_grads(f, x, modes=("fwd", "rev"), order=2):
    """Check ``f``'s derivatives at ``x`` in the given modes, and theirs up to ``order``."""
    assert all(m in ("fwd", "rev") for m in modes), f"unknown modes {modes}"
    if "fwd" in modes:
        check_jvp(f, x)
        if order > 1:
            grad_f = lambda x, v: _make_jvp(f, x)(v)[1]
            grad_f.__name__ = f"jvp_{get_name(f)}"
            v = vspace(x).randn()
            check_grads(grad_f, (0, 1), modes, order=order - 1)(x, v)
    if "rev" in modes:
        check_vjp(f, x)
        if order > 1:
            grad_f = lambda x, v: _make_vjp(f, x)[0](v)
            grad_f.__name__ = f"vjp_{get_name(f)}"
            v = vspace(f(x)).randn()
            check_grads(grad_f, (0, 1), modes, order=order - 1)(x, v)


def combo_check(fun, *check_args, **check_kwargs):
    """``combo_check(fun, argnums, modes=..., order=...)(arg_choices..., kw=choices)``
    runs ``check_grads`` on every combination of the given argument choices."""
    def run_all(*arg_choices, **kwarg_choices):
        names = list(kwarg_choices)
        for args in itertools.product(*arg_choices):
            for values in itertools.product(*(kwarg_choices[name] for name in names)):
                check = check_grads(fun, *check_args, **check_kwargs)
                check(*args, **dict(zip(names, values)))
    return run_all


def quick_grad_check(fun, arg0, extra_args=(), kwargs={}, verbose=True,
                     eps=1e-4, rtol=1e-4, atol=1e-6, rs=None):
    """Check reverse mode of ``fun`` at ``arg0`` (autograd's older helper)."""
    check_grads(partial(fun, **kwargs), 0, modes=["rev"], order=1)(arg0, *extra_args)
    if verbose:
        print("Gradient projection OK (numeric grad and analytic grad agree).")
