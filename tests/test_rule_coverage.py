"""Forward mode exists wherever reverse mode does, and the rules added for it work.

``test_every_vjp_has_a_jvp`` walks the rule tables after importing every module of
jitgrad.numpy and jitgrad.scipy, and names each primitive with a VJP but no JVP.
The cases below check the finite-difference and sampling primitives (diff,
gradient, linspace) against NumPy and numerically, in both modes, to order 2.
"""
import importlib
import pkgutil
import sys

import numpy
import pytest

import jitgrad.numpy as np
import jitgrad.scipy
from jitgrad import make_vjp
from jitgrad.test_util import check_grads
from jitgrad.trace import getval
from jitgrad.trace.rules import primitive_jvps, primitive_vjps

R = numpy.random.randn

# Primitives that may have a VJP and no JVP, each with the reason forward mode cannot
# exist for it. None so far: every rule we have is a linear map or a derivative that
# forward mode can apply as well as reverse mode.
VJP_ONLY = {}


def _jitgrad_primitives():
    """Every primitive with a rule that jitgrad itself defines, after importing all of
    jitgrad.numpy and jitgrad.scipy (primitives that tests define are left out)."""
    for package in (np, jitgrad.scipy):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            importlib.import_module(module.name)
    found = {f for f in primitive_vjps
             if getattr(f, "__module__", "").partition(".")[0] == "jitgrad"}
    for name, module in list(sys.modules.items()):
        if name.partition(".")[0] == "jitgrad":
            found.update(value for value in vars(module).values()
                         if callable(value) and _hashable(value) and value in primitive_vjps)
    return found


def _hashable(value):
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _name(fun):
    fun = getattr(fun, "fun", fun)
    return f"{getattr(fun, '__module__', None)}.{getattr(fun, '__qualname__', repr(fun))}"


def test_every_vjp_has_a_jvp():
    primitives = _jitgrad_primitives()
    assert len(primitives) > 150  # the walk found jitgrad's primitives
    missing = sorted(_name(f) for f in primitives
                     if f not in primitive_jvps and _name(f) not in VJP_ONLY)
    assert not missing, (
        f"{len(missing)} primitive(s) have a VJP but no JVP (forward mode would fail): "
        + ", ".join(missing))


# (name, function, argument shapes, keyword arguments)
CASES = [
    ("diff", np.diff, [(5,)], {}),
    ("diff_n2_axis0", np.diff, [(5, 5)], dict(n=2, axis=0)),
    ("diff_axis1_3d", np.diff, [(5, 5, 5)], dict(axis=1)),
    ("diff_n0", np.diff, [(3, 2)], dict(n=0)),
    ("diff_n_past_length", np.diff, [(2, 3)], dict(n=3, axis=0)),
    ("diff_length_one", np.diff, [(1, 1)], dict(axis=0)),
    ("diff_length_one_last", np.diff, [(3, 1)], dict(axis=1)),
    ("diff_prepend_scalar", np.diff, [(3, 4)], dict(prepend=1.5)),
    ("diff_append_array", np.diff, [(3, 4)], dict(n=2, axis=0, append=numpy.ones((2, 4)))),
    ("diff_both_ends", np.diff, [(4,)], dict(n=2, prepend=[0.0, 1.0], append=2.0)),
    ("gradient_1d", np.gradient, [(10,)], {}),
    ("gradient_length_2", np.gradient, [(2,)], {}),
    ("gradient_length_3_order_2", np.gradient, [(3,)], dict(edge_order=2)),
    ("gradient_2d_all_axes", np.gradient, [(5, 4)], {}),
    ("gradient_3d_axis", np.gradient, [(5, 5, 5)], dict(axis=1)),
    ("gradient_3d_negative_axis", np.gradient, [(5, 4, 3)], dict(axis=-1, edge_order=2)),
    ("gradient_3d_axes", np.gradient, [(5, 4, 3)], dict(axis=(0, -1))),
    ("gradient_spacing", lambda f: np.gradient(f, 0.25), [(6, 3)], {}),
    ("gradient_spacing_per_axis", lambda f: np.gradient(f, 0.5, 2.0, edge_order=2),
     [(4, 5)], {}),
    ("gradient_coordinates", lambda f: np.gradient(
        f, numpy.array([0.0, 0.1, 0.5, 0.6, 1.5, 2.0]), edge_order=2), [(6,)], {}),
    ("gradient_coordinates_axis", lambda f: np.gradient(
        f, numpy.array([0.0, 1.0, 1.5, 3.0]), axis=1), [(2, 4)], {}),
    ("gradient_complex", lambda f: np.gradient(f * (1.0 + 2.0j)), [(5,)], {}),
    ("linspace", lambda a, b: np.linspace(a, b, 5), [(), ()], {}),
    ("linspace_num_0", lambda a, b: np.linspace(a, b, 0), [(), ()], {}),
    ("linspace_num_1", lambda a, b: np.linspace(a, b, 1), [(), ()], {}),
    ("linspace_no_endpoint", lambda a, b: np.linspace(a, b, 4, endpoint=False), [(), ()], {}),
    ("linspace_arrays_axis", lambda a, b: np.linspace(a, b, 3, axis=-1), [(2, 1), (3,)], {}),
    ("linspace_retstep", lambda a, b: np.linspace(a, b, 4, retstep=True), [(2,), (2,)], {}),
    ("linspace_retstep_one_sample", lambda a, b: np.linspace(a, b, 1, retstep=True)[0],
     [(2,), ()], {}),
    ("linspace_positional", lambda a, b: np.linspace(a, b, 3, False, False, None, 1),
     [(2,), (2,)], {}),
]


def _args(shapes):
    return [R(*shape) if shape else float(R()) for shape in shapes]


@pytest.mark.parametrize("name, fun, shapes, kwargs", CASES, ids=[c[0] for c in CASES])
def test_new_rules(name, fun, shapes, kwargs):
    args = _args(shapes)
    argnums = tuple(range(len(args))) if len(args) > 1 else 0
    check_grads(fun, argnums, modes=["fwd", "rev"], order=2)(*args, **kwargs)


PLAIN = {"diff": numpy.diff, "gradient": numpy.gradient}


@pytest.mark.parametrize("name, fun, shapes, kwargs",
                         [c for c in CASES if c[1] in (np.diff, np.gradient)],
                         ids=[c[0] for c in CASES if c[1] in (np.diff, np.gradient)])
def test_values_match_numpy(name, fun, shapes, kwargs):
    x = R(*shapes[0])
    _, traced = make_vjp(lambda x: fun(x, **kwargs))(x)
    expected = PLAIN[fun.__name__](x, **kwargs)
    numpy.testing.assert_allclose(numpy.asarray(traced), numpy.asarray(expected), rtol=1e-12)


def test_gradient_vjp_is_linear_time():
    # The transpose works on three shifted copies, not an n x n matrix.
    x = R(200_000)
    vjp, _ = make_vjp(np.gradient)(x)
    g = R(200_000)
    got = vjp(g)
    # <g, D x> == <D^T g, x> for the map D that gradient is.
    assert numpy.isclose(numpy.dot(g, numpy.gradient(x)), numpy.dot(got, x), rtol=1e-9)


def test_gradient_float32_keeps_dtype():
    x = R(6).astype(numpy.float32)
    vjp, _ = make_vjp(np.gradient)(x)
    assert vjp(numpy.ones(6, numpy.float32)).dtype == numpy.float32


def test_differentiating_gradient_spacing_is_refused():
    with pytest.raises(NotImplementedError, match="gradient"):
        make_vjp(lambda h: np.gradient(numpy.arange(5.0) ** 2, h))(0.5)[0](numpy.ones(5))


def _scalar_loss(fun, kwargs):
    def loss(*args):
        out = fun(*args, **kwargs)
        several = isinstance(getval(out), (tuple, list))  # (a traced tuple is a box)
        outs = [out[i] for i in range(len(getval(out)))] if several else [out]
        total = 0.0
        for part in outs:
            total = total + np.sum(np.sin(np.real(part)))
        return total
    return loss


JIT_CASES = [c for c in CASES if c[0] in (
    "diff_n2_axis0", "diff_both_ends", "gradient_2d_all_axes", "gradient_coordinates",
    "gradient_3d_negative_axis", "linspace_arrays_axis", "linspace_retstep")]


@pytest.mark.parametrize("name, fun, shapes, kwargs", JIT_CASES, ids=[c[0] for c in JIT_CASES])
def test_new_rules_under_the_jit(name, fun, shapes, kwargs):
    from jitgrad import grad, jit
    from jitgrad import make_jvp as jvp_of
    args = _args(shapes)
    argnums = tuple(range(len(args)))
    loss = _scalar_loss(fun, kwargs)
    eager = grad(loss, argnums, jit=False)(*args)
    for _ in range(2):  # the second call replays the plan
        jitted = grad(loss, argnums, jit=True)(*args)
        for e, j in zip(eager, jitted):
            numpy.testing.assert_allclose(j, e, rtol=1e-10)
    tangents = tuple(_args(shapes))
    forward = lambda args, tangents: jvp_of(lambda a: loss(*a))(args)(tangents)[1]  # noqa: E731
    numpy.testing.assert_allclose(jit(forward)(tuple(args), tangents),
                                  forward(tuple(args), tangents), rtol=1e-10)
