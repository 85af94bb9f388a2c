"""Fusion facts are declared next to a primitive (``jitgrad.extend.def_scalar_body``):
a user's elementwise primitive fuses, float32 regions take it only when declared exact,
and kernels/ reads the plan through its own protocol (``kernels.ops``)."""
import ast
import pathlib

import numpy
import pytest

import jitgrad
import jitgrad.numpy as np
from jitgrad import grad, jit
from jitgrad.extend import def_scalar_body, defjvp, defvjp, primitive
from jitgrad.test_util import check_grads

pytestmark = [pytest.mark.eager_only,  # these tests set jit= and fusion themselves
              pytest.mark.usefixtures("small_kernels_and_private_cache")]
rng = numpy.random.default_rng(7)


@primitive
def ratio(x, y):
    return x / y


defvjp(ratio, lambda ans, x, y: lambda g: g / y, lambda ans, x, y: lambda g: -g * ans / y)
defjvp(ratio, lambda g, ans, x, y: g / y, lambda g, ans, x, y: -g * ans / y)
def_scalar_body(ratio, "({0} / {1})", exact=True)  # one IEEE division: float32 too


@primitive
def blend(x, y):
    return (x * y + 1.0) / (1.0 + y * y)


defvjp(blend, lambda ans, x, y: lambda g: g * y / (1.0 + y * y),
       lambda ans, x, y: lambda g: g * (x - 2.0 * y * ans) / (1.0 + y * y))
defjvp(blend, lambda g, ans, x, y: g * y / (1.0 + y * y),
       lambda g, ans, x, y: g * (x - 2.0 * y * ans) / (1.0 + y * y))
# Several operations with float64 literals: in float32 Numba would round once at the
# end where NumPy rounds each step, so it is not declared exact.
def_scalar_body(blend, "(({0} * {1} + 1.0) / (1.0 + {1} * {1}))")


def fused_names(jitted):
    return [s.name for entry in jitted._cache.values() for plan in entry
            for kernel in plan.kernels for s in kernel.region.steps]


def assert_same_bits(got, want):
    got, want = numpy.asarray(got), numpy.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype
    assert got.tobytes() == want.tobytes(), (got, want)


@pytest.mark.parametrize("dtype", [numpy.float64, numpy.float32])
@pytest.mark.parametrize("fun", [ratio, blend], ids=["exact", "not_exact"])
def test_a_user_primitive_with_a_scalar_body_fuses_as_declared(fun, dtype):
    def f(x, y):
        return fun(x * 0.5, y + 2.0) * x - y
    jitted = jit(f)
    for _ in range(3):  # the trace, then replays with new values
        x, y = (rng.standard_normal(40).astype(dtype) for _ in range(2))
        assert_same_bits(jitted(x, y), f(x, y))
    names = fused_names(jitted)
    assert "multiply" in names  # the region exists either way
    # float32 regions take only bodies declared exact IEEE arithmetic.
    assert (fun.__name__ in names) == (dtype == numpy.float64 or fun is ratio)


def test_float32_regions_leave_power_to_numpy():
    # pow in a Numba loop rounded unlike NumPy's float32 power in ~20% of elements.
    def f(x, y):
        return (x * 1.5 + y) ** 2.5 - x
    jitted = jit(f)
    for _ in range(3):
        x, y = (rng.uniform(0.5, 2.0, 200).astype(numpy.float32) for _ in range(2))
        assert_same_bits(jitted(x, y), f(x, y))
    names = fused_names(jitted)
    assert "multiply" in names and "power" not in names


def test_the_gradient_through_a_fused_user_primitive_matches_eager():
    def loss(x, y):
        return np.sum(blend(np.tanh(x), y) + ratio(x, y + 3.0) * y)
    jitted, eager = grad(loss, (0, 1), jit=True), grad(loss, (0, 1), jit=False)
    for _ in range(3):
        x, y = rng.standard_normal(50), rng.standard_normal(50)
        for got, want in zip(jitted(x, y), eager(x, y)):
            numpy.testing.assert_allclose(got, want, rtol=1e-13)
    assert {"blend", "ratio"} <= set(fused_names(jitted))
    x, y = rng.standard_normal(5), rng.standard_normal(5)
    check_grads(blend, modes=["fwd", "rev"], order=2)(x, y)
    check_grads(ratio, modes=["fwd", "rev"], order=2)(x, y + 3.0)


def test_kernels_import_nothing_from_the_jit_nor_the_tracer():
    kernels = pathlib.Path(jitgrad.__file__).parent / "kernels"
    for path in kernels.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                module = "." * node.level + (node.module or "")
                assert not module.startswith(("..jit", "..trace", "jitgrad.jit",
                                              "jitgrad.trace")), (path.name, module)
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith(("jitgrad.jit", "jitgrad.trace"))
                               for a in node.names), path.name


def test_a_reduction_is_a_sum_or_a_mean():
    from jitgrad.trace.rules import def_reduction
    with pytest.raises(ValueError, match="'sum' or a 'mean'"):
        def_reduction(blend, "max")
