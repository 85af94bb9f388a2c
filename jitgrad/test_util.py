"""Checks for tests: derivatives against finite differences, jitted calls against eager.

``check_grads(f, argnum=0, modes=("fwd", "rev"), order=2)(*args, **kwargs)``
compares each mode's derivative of ``f`` with a central difference along a
random direction: forward mode directly, reverse mode through the identity
<u, J v> = <J^T u, v>. Each derivative is itself a function, of the point and
the direction, so it is checked the same way in turn, down to ``order``.

``check_jit(f)(*args, **kwargs)`` runs ``f`` eagerly and through ``jitgrad.jit``,
on the arguments and then on perturbed ones, and requires the same answers.
Under ``JITGRAD_JIT=1`` check_grads does this for ``f`` and for every derivative
it evaluates, so a table of gradient checks also tests the jit's plans.
"""
import itertools
from functools import partial

import numpy as np

from .differential_operators import use_jit
from .trace import make_jvp, make_vjp, vspace
from .jit.jitted import JitFunction, jit
from .trace import tree
from .jit.signature import map_leaves
from .wrap_util import get_name, unary_to_nary

TOL = 1e-6   # how closely an analytic derivative must match the numerical one:
RTOL = 1e-6  # absolutely, or relative to the size of the two
EPS = 1e-6   # the central difference's step
JIT_RTOL = 1e-12


def scalar_close(a, b):
    """True when numbers ``a`` and ``b`` agree to TOL, or to RTOL of their size."""
    gap = abs(a - b)
    return gap < TOL or gap < RTOL * abs(a + b)


# -- derivatives, analytic and numerical -------------------------------------------

def numerical_jvp(f, x, v):
    """The derivative of ``f`` at ``x`` along ``v`` by a central difference:
    ``(f(x + v EPS/2) - f(x - v EPS/2)) / EPS``, in f's output space."""
    x_vs = vspace(x)
    ahead, behind = (f(x_vs.add(x, x_vs.scalar_mul(v, t))) for t in (EPS / 2, -EPS / 2))
    y_vs = vspace(ahead)
    return y_vs.scalar_mul(y_vs.add(ahead, y_vs.scalar_mul(behind, -1.0)), 1.0 / EPS)


def make_numerical_jvp(f, x):
    """``numerical_jvp`` as a function of the direction alone (autograd's name)."""
    return partial(numerical_jvp, f, x)


def _named(fun, prefix, of):
    fun.__name__ = f"{prefix}_{get_name(of)}"
    return fun


def _forward_derivative(f):
    """``(x, v) -> J_f(x) v``: f's forward-mode derivative, as one function of a pair."""
    def jvp(point):
        x, v = point
        return make_jvp(f, x)(v)[1]
    return _named(jvp, "jvp", f)


def _reverse_derivative(f):
    """``(x, u) -> J_f(x)^T u``: f's reverse-mode derivative, as one function of a pair."""
    def vjp(point):
        x, u = point
        return make_vjp(f, x)[0](u)
    return _named(vjp, "vjp", f)


def _require_close(what, f, x, analytic, numeric):
    if not scalar_close(analytic, numeric):
        raise AssertionError(
            f"Derivative ({what}) check of {get_name(f)} failed: projected on random "
            f"directions, the {what} gives {analytic} and a central difference "
            f"{numeric}, at x =\n{x}")


# Each check compares one derivative of f at x with a finite difference, evaluating
# the derivative with ``evaluate(derivative, point)`` (a plain call, or one that also
# checks the jit). It returns the derivative, a function of (x, direction), and the
# vector space its directions come from, for the next order's check.

def _check_forward(f, x, evaluate):
    x_vs = vspace(x)
    v = x_vs.randn()
    jvp = _forward_derivative(f)
    tangent = evaluate(jvp, (x, v))
    out_vs = vspace(tangent)
    probe = out_vs.randn()
    _require_close("JVP", f, x, out_vs.inner(probe, tangent),
                   out_vs.inner(probe, numerical_jvp(f, x, v)))
    return jvp, x_vs


def _check_reverse(f, x, evaluate):
    x_vs, y_vs = vspace(x), vspace(f(x))
    v, u = x_vs.randn(), y_vs.randn()
    vjp = _reverse_derivative(f)
    pulled_back = x_vs.covector(evaluate(vjp, (x, y_vs.covector(u))))
    if vspace(pulled_back) != x_vs:
        raise AssertionError(f"{get_name(f)}: VJP has space {vspace(pulled_back)}, "
                             f"expected {x_vs}")
    _require_close("VJP", f, x, x_vs.inner(v, pulled_back),
                   y_vs.inner(u, numerical_jvp(f, x, v)))
    return vjp, y_vs


_CHECKS = {"fwd": _check_forward, "rev": _check_reverse}


def _call(fun, arg):
    return fun(arg)


def _call_checking_jit(fun, arg):
    return _compare_with_jit(fun, (arg,), {})[0]


def check_jvp(f, x):
    """Forward mode: f's JVP at ``x`` along a random direction, against a finite difference."""
    _check_forward(f, x, _call_checking_jit if use_jit(None) else _call)


def check_vjp(f, x):
    """Reverse mode: <u, J v> from f's VJP against the same from a finite difference."""
    _check_reverse(f, x, _call_checking_jit if use_jit(None) else _call)


@unary_to_nary
def check_grads(f, x, modes=("fwd", "rev"), order=2):
    """Check ``f``'s derivatives at ``x`` in each of ``modes`` ("fwd", "rev"), then
    those of the derivatives themselves, up to ``order``.

    Under JITGRAD_JIT=1, ``f`` and every derivative evaluated also go through
    ``jitgrad.jit`` and must give eager's answers (see ``check_jit``)."""
    unknown = [m for m in modes if m not in _CHECKS]
    if unknown:
        raise ValueError(f"check_grads: unknown modes {unknown}; use 'fwd' and/or 'rev'")
    jitting = use_jit(None)
    evaluate = _call_checking_jit if jitting else _call
    if jitting:
        _compare_with_jit(f, (x,), {})
    # Depth first, from a stack of (function, point, orders left, mode): a derivative
    # is checked, at a fresh random direction, right after the check that made it.
    # Suites seed NumPy per test, and some of their checks (derivatives of
    # ill-conditioned functions) pass or fail by the directions drawn; this order
    # and these draws are autograd's, so such tests see autograd's directions.
    pending = [(f, x, order, mode) for mode in reversed(modes)]
    while pending:
        fun, point, orders_left, mode = pending.pop()
        derivative, direction_space = _CHECKS[mode](fun, point, evaluate)
        if orders_left > 1:
            deeper = (point, direction_space.randn())
            pending.extend((derivative, deeper, orders_left - 1, m) for m in reversed(modes))


def check_equivalent(x, y):
    """``x`` and ``y`` lie in the same vector space and agree along a random direction."""
    x_vs, y_vs = vspace(x), vspace(y)
    if x_vs != y_vs:
        raise AssertionError(f"check_equivalent: x is in {x_vs}, y in {y_vs}")
    direction = x_vs.randn()
    along_x, along_y = x_vs.inner(x, direction), x_vs.inner(y, direction)
    if not scalar_close(along_x, along_y):
        raise AssertionError(f"check_equivalent: x and y differ along a random direction "
                             f"({along_x} and {along_y})\nx: {x}\ny: {y}")


def combo_check(fun, *check_args, **check_kwargs):
    """``combo_check(fun, argnum, modes=..., order=...)(choices, ..., name=choices)``
    runs ``check_grads`` at every combination of one choice per argument."""
    def run_all(*arg_choices, **kwarg_choices):
        names = list(kwarg_choices)
        combinations = itertools.product(itertools.product(*arg_choices),
                                         itertools.product(*kwarg_choices.values()))
        for args, values in combinations:
            check_grads(fun, *check_args, **check_kwargs)(*args, **dict(zip(names, values)))
    return run_all


def quick_grad_check(fun, arg0, extra_args=(), kwargs={}, verbose=True,
                     eps=1e-4, rtol=1e-4, atol=1e-6, rs=None):
    """Check reverse mode of ``fun`` at ``arg0`` (autograd's older helper; the
    tolerance arguments are accepted and ignored, as autograd does)."""
    check_grads(partial(fun, **kwargs), 0, modes=["rev"], order=1)(arg0, *extra_args)
    if verbose:
        print("Gradient projection OK (numeric grad and analytic grad agree).")


# -- jitted against eager ---------------------------------------------------------

def check_jit(f, rtol=JIT_RTOL):
    """``check_jit(f)(*args, **kwargs)``: ``jitgrad.jit(f)`` gives eager ``f``'s answers.

    The jitted f is called three times: on the arguments (it traces), on them again
    (it replays its plan), and on perturbed copies (float leaves moved by about
    0.1%, same shapes and dtypes; ints, bools and other values unchanged), where it
    replays, or traces again if a guard fails. Each answer must match eager f's on
    the same arguments: the same containers, shapes and dtypes, values to ``rtol``,
    nan where eager gives nan, zeros of the same sign. Both runs of each call start
    from the same NumPy random state. Returns the jitted function, whose ``stats``
    count its traces and replays."""
    def run(*args, **kwargs):
        return _compare_with_jit(f, args, kwargs, rtol=rtol)[1]
    return run


def _compare_with_jit(f, args, kwargs, rtol=JIT_RTOL):
    """Compare jit(f) with eager f on three calls: the trace, a replay, and a replay
    on perturbed arguments. Returns eager f's first answer and the jitted function."""
    # trace_after=0: the first call traces, whatever JITGRAD_TRACE_AFTER says, so
    # that the second and third calls are replays.
    if isinstance(f, JitFunction):
        eager = f.fun
        jitted = JitFunction(eager, f.static_argnums, f.static_argnames, trace_after=0)
    else:
        eager, jitted = f, jit(f, trace_after=0)
    moved_args, moved_kwargs = _perturbed((args, kwargs))
    calls = [("1 (trace)", args, kwargs), ("2 (replay)", args, kwargs),
             ("3 (replay with perturbed arguments)", moved_args, moved_kwargs)]
    answers = []
    for label, call_args, call_kwargs in calls:
        where = f"check_jit({get_name(eager)}), call {label}"
        answers.append(_agree_once(eager, jitted, call_args, call_kwargs, where, rtol,
                                   may_fail=call_args is moved_args))
    return answers[0], jitted


def _agree_once(eager, jitted, args, kwargs, where, rtol, may_fail):
    """One call of each, from the same random state; raises if they differ, and
    returns eager's answer. Where eager f raises, the jitted call must raise the same
    kind of error; that is accepted when ``may_fail`` (perturbed arguments may have
    left f's domain), and eager's error is raised otherwise."""
    state = np.random.get_state()
    try:
        expected = eager(*_fresh(args), **_fresh(kwargs))
    except Exception as error:
        np.random.set_state(state)
        try:
            jitted(*_fresh(args), **_fresh(kwargs))
        except type(error):
            if may_fail:
                return None
            raise error from None
        raise AssertionError(f"{where}: eager f raised {type(error).__name__}: {error}; "
                             "the jitted call did not") from error
    np.random.set_state(state)
    try:
        got = jitted(*_fresh(args), **_fresh(kwargs))
    except Exception as error:
        raise AssertionError(f"{where}: the jitted call raised {type(error).__name__}: "
                             f"{error}; eager f did not") from error
    found = _difference(expected, got, rtol)
    if found is not None:
        path, problem = found
        raise AssertionError(f"{where}: output{path} {problem}\n"
                             f"eager:  {_short(expected)}\njitted: {_short(got)}")
    return expected


def _fresh(value):
    # Each call gets its own copies, in case f writes into its arguments.
    return map_leaves(value, lambda leaf: leaf.copy() if type(leaf) is np.ndarray else leaf)


def _perturbed(value, seed=0):
    """``value`` with every float or complex leaf moved by about 0.1% (a zero to a small
    positive number); shapes, dtypes and everything else kept."""
    rs = np.random.RandomState(seed)

    def move(leaf):
        array = np.asarray(leaf)
        if array.dtype.kind not in "fc":
            return leaf
        scale = max(1e-3, 16 * float(np.finfo(array.dtype).eps))
        size = rs.uniform(0.5, 1.0, array.shape) * scale
        sign = rs.choice([-1.0, 1.0], array.shape)
        moved = np.where(array == 0, size, array * (1.0 + sign * size)).astype(array.dtype)
        return moved if type(leaf) is np.ndarray else type(leaf)(moved[()])
    return map_leaves(value, move)


def _difference(expected, got, rtol, path=""):
    """``(path, what)`` of the first leaf where ``got`` differs from ``expected``, or None."""
    expected_node, got_node = tree.children(expected), tree.children(got)
    if expected_node is None and got_node is None:
        problem = _leaf_difference(expected, got, rtol)
        return None if problem is None else (path, problem)
    if type(expected) is not type(got):
        return path, f"is a {type(got).__name__}, eager's a {type(expected).__name__}"
    if tree.structure_key(expected) != tree.structure_key(got):
        return path, (f"has structure {tree.structure_key(got)}, eager's "
                      f"{tree.structure_key(expected)}")
    labels = list(expected) if isinstance(expected, dict) else range(len(expected_node[0]))
    for label, e, g in zip(labels, expected_node[0], got_node[0]):
        found = _difference(e, g, rtol, f"{path}[{label!r}]")
        if found is not None:
            return found
    return None


def _is_number(value):
    return isinstance(value, (np.ndarray, np.generic, int, float, complex))


def _leaf_difference(expected, got, rtol):
    if not (_is_number(expected) and _is_number(got)):
        try:
            same = bool(expected == got)
        except Exception:
            same = expected is got
        return None if same else f"is {got!r}, eager's {expected!r}"
    if isinstance(expected, np.ndarray) != isinstance(got, np.ndarray):
        # (a Python float and a NumPy scalar may differ: np.float64 is a float)
        return f"is a {type(got).__name__}, eager's a {type(expected).__name__}"
    e, g = np.asarray(expected), np.asarray(got)
    if e.shape != g.shape:
        return f"has shape {g.shape}, eager's {e.shape}"
    if e.dtype != g.dtype:
        return f"has dtype {g.dtype}, eager's {e.dtype}"
    if e.dtype.kind in "fc":
        parts = [("", np.real(e), np.real(g))]
        if e.dtype.kind == "c":
            parts = [("real part ", np.real(e), np.real(g)),
                     ("imaginary part ", np.imag(e), np.imag(g))]
        for name, a, b in parts:
            bad = ~_floats_agree(a, b, rtol)
            if bad.any():
                return _first_mismatch(name, a, b, bad)
        return None
    bad = e != g
    return _first_mismatch("", e, g, bad) if np.any(bad) else None


def _floats_agree(a, b, rtol):
    """Elementwise: equal with the same sign (so -0.0 is not 0.0), both nan, or finite
    and within ``rtol`` of the larger."""
    with np.errstate(invalid="ignore", over="ignore"):
        exact = (a == b) & (np.signbit(a) == np.signbit(b))
        both_nan = np.isnan(a) & np.isnan(b)
        near = (np.isfinite(a) & np.isfinite(b) & (a != b)
                & (np.abs(a - b) <= rtol * np.maximum(np.abs(a), np.abs(b))))
    return exact | both_nan | near


def _first_mismatch(name, a, b, bad):
    index = tuple(int(i) for i in np.argwhere(bad)[0]) if np.ndim(bad) else ()
    where = f"at index {index} " if index else ""
    more = int(np.sum(bad)) - 1
    also = (f" ({more} more element{'s differ' if more > 1 else ' differs'})"
            if more else "")
    return (f"{name}{where}is {np.asarray(b)[index].item()!r}, eager's "
            f"{np.asarray(a)[index].item()!r}{also}")


def _short(value, limit=300):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
