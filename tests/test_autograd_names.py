"""Names that autograd 1.9.1's own test suite imports, and their behaviour: const_graph,
the scipy.stats samplers, make_diagonal, np.where's calling conventions, the VSpace
arithmetic, the deprecated primitive methods, derivative names, and the TypeError for
bool/int outputs."""
import warnings

import numpy
import pytest
import scipy.stats

import jitgrad.numpy as np
import jitgrad.scipy.stats as stats
from jitgrad import elementwise_grad, grad, jacobian, jit, value_and_grad
from jitgrad.core import VSpace, primitive, vspace
from jitgrad.misc import const_graph, const_graph_unary
from jitgrad.scipy.integrate import odeint
from jitgrad.scipy.linalg import solve_banded
from jitgrad.test_util import check_grads


# ---- const_graph: traced once, replayed afterwards ----
def test_const_graph_runs_python_once_and_replays():
    calls = []

    def f(x, y):
        calls.append(None)
        return grad(lambda x: np.sin(x) * x)(x * y)
    cached = const_graph(f)
    for x, y in [(0.3, 2.0), (1.0, 0.5), (-2.0, 0.25)]:
        assert cached(x, y) == pytest.approx(f(x, y))
    assert len(calls) == 3 + 1  # three direct calls, one trace
    assert cached.__name__ == "f"


def test_const_graph_binds_constants_and_replays_primitives_only():
    seen = []

    @primitive
    def tag(value, name):
        seen.append(name)
        return value
    cached = const_graph(lambda x, y, z: tag(x, "x") + 2 * tag(y, "y") + 3 * z, 1.0, z=3.0)
    assert cached(2.0) == 14.0 and seen == ["x", "y"]
    del seen[:]
    assert cached(5.0) == 20.0 and seen == ["y"]  # the constant's call was folded


def test_const_graph_traces_again_for_a_new_shape():
    cached = const_graph_unary(lambda x: np.sum(x ** 2))
    assert cached(numpy.ones(2)) == 2.0
    assert cached(numpy.ones(3)) == 3.0  # not a stale replay of the 2-element graph


# ---- scipy.stats samplers ----
RVS_CASES = [("norm", (1.0, 2.0)), ("t", (3.0,)), ("beta", (2.0, 3.0)), ("gamma", (2.0,)),
             ("chi2", (3.0,)), ("expon", ()), ("laplace", ()), ("poisson", (3.0,)),
             ("dirichlet", (numpy.array([1.0, 2.0, 3.0]),)),
             ("multivariate_normal", (numpy.zeros(2), numpy.eye(2)))]


@pytest.mark.parametrize("name, params", RVS_CASES, ids=[c[0] for c in RVS_CASES])
def test_rvs_forwards_to_scipy(name, params):
    numpy.random.seed(1)
    ours = getattr(stats, name).rvs(*params, size=4)
    numpy.random.seed(1)
    numpy.testing.assert_array_equal(ours, getattr(scipy.stats, name).rvs(*params, size=4))


@pytest.mark.eager_only
def test_rvs_draws_anew_on_each_jit_replay():
    noisy = jit(lambda loc: stats.norm.rvs(loc, 1.0, size=3))
    first, second = noisy(numpy.zeros(3)), noisy(numpy.zeros(3))
    assert noisy.stats["hits"] == 1 and not numpy.allclose(first, second)


# ---- make_diagonal, __version__, linalg._dot ----
@pytest.mark.parametrize("shape", [(4,), (3, 4), (2, 1, 3)])
@pytest.mark.parametrize("offset, axis1, axis2", [(0, 0, 1), (0, -1, -2), (1, 0, -1),
                                                  (-2, -1, 0), (2, 1, 0)])
def test_make_diagonal_inverts_diagonal(shape, offset, axis1, axis2):
    D = numpy.random.randn(*shape)
    A = np.make_diagonal(D, offset, axis1, axis2)
    numpy.testing.assert_array_equal(numpy.diagonal(A, offset, axis1, axis2), D)
    assert numpy.count_nonzero(A) == D.size and A.ndim == D.ndim + 1
    check_grads(lambda D: np.make_diagonal(D, offset, axis1, axis2),
                modes=["fwd", "rev"], order=2)(D)


def test_make_diagonal_is_diagonals_adjoint():
    A, D = numpy.random.randn(3, 4, 4), numpy.random.randn(3, 4)
    inner = numpy.sum(np.diagonal(A, 0, -1, -2) * D)
    assert inner == pytest.approx(numpy.sum(A * np.make_diagonal(D, 0, -1, -2)))
    check_grads(lambda A: np.diagonal(A, 1, -1, -2), modes=["fwd", "rev"], order=2)(A)


@pytest.mark.parametrize("D, axes, message", [(1.0, (0, 1), "at least one axis"),
                                              (numpy.ones(3), (0, -2), "same axis")])
def test_make_diagonal_errors_say_what_to_pass(D, axes, message):
    with pytest.raises(ValueError, match=message):
        np.make_diagonal(D, 0, *axes)


def test_numpy_version_and_batched_dot():
    assert np.__version__ == numpy.__version__
    x = numpy.random.randn(2, 4, 3)
    numpy.testing.assert_allclose(np.linalg._dot(np.linalg.T(x), x),
                                  numpy.einsum("bji,bjk->bik", x, x))
    check_grads(lambda x: np.linalg._dot(np.linalg.T(x), x), modes=["fwd", "rev"])(x)


# ---- np.where: keywords, and Python values in, Python values out ----
@pytest.mark.parametrize("condition, x, y, expected", [
    (True, 1, 2, 1), (True, 3.0, 4.0, 3.0), (False, 1, 2.0, 2.0),
    ([True, False], [1, 2], [3, 4], [1, 4])])
def test_where_on_python_values_returns_python_values(condition, x, y, expected):
    result = np.where(condition, x, y)
    assert result == expected and type(result) is type(expected)


def test_where_keywords_and_arrays():
    x, y, condition = numpy.array([1.0, 2.0, 3.0]), numpy.array([4.0, 5.0, 6.0]), [True, False, True]
    for result in (np.where(condition, x, y), np.where(condition=condition, x=x, y=y),
                   np.where(condition, x, y=y)):
        assert type(result) is numpy.ndarray
        numpy.testing.assert_array_equal(result, [1.0, 5.0, 3.0])
    numpy.testing.assert_array_equal(np.where(condition)[0], [0, 2])
    assert np.where(True, numpy.float32(1.0), numpy.float32(2.0)).dtype == numpy.float32
    with pytest.raises(ValueError, match="y is missing; pass both x and y"):
        np.where(condition, x)


def test_where_is_differentiable_through_keywords():
    condition, y = numpy.array([True, False, True]), numpy.random.randn(3)
    check_grads(lambda x: np.where(condition=condition, x=x, y=y) ** 2,
                modes=["fwd", "rev"], order=2)(numpy.random.randn(3))
    check_grads(lambda y: np.sin(np.where(condition, 2.0, y=y)),
                modes=["fwd", "rev"], order=2)(numpy.random.randn(3))


# ---- the VSpace arithmetic ----
SPACE_EXAMPLES = [numpy.zeros((3, 2)), 0.0, 1j * numpy.zeros((2, 1)),
                  [1.0, numpy.zeros((2, 1))], {"x": [0.0, numpy.zeros(3)], "y": ({"a": 0j},)}]


@pytest.mark.parametrize("example", SPACE_EXAMPLES, ids=["array", "scalar", "complex", "list",
                                                         "nested"])
def test_vspace_arithmetic_and_its_derivatives(example):
    vs = vspace(example)
    x, y, a = vs.randn(), vs.randn(), 0.7
    assert VSpace.inner is VSpace.inner_prod  # one primitive, two names
    assert vs.inner_prod(vs.add(x, y), x) == pytest.approx(
        vs.inner_prod(x, x) + vs.inner_prod(y, x))
    assert vs.inner_prod(vs.scalar_mul(x, a), y) == pytest.approx(a * vs.inner_prod(x, y))
    assert vs.inner_prod(x, y) == pytest.approx(vs.inner_prod(y, x))
    total = sum(vs.inner_prod(basis, vs.ones()) for basis in vs.standard_basis())
    assert total == pytest.approx(vs.size)  # ones() is the sum of the basis
    assert vspace(vs.mut_add(vs.zeros(), x)) == vs
    for fun, args in [(vs.add, (x, y)), (vs.scalar_mul, (x, a)), (vs.inner_prod, (x, y)),
                      (vs.covector, (x,))]:
        check_grads(fun, tuple(range(len(args))), modes=["fwd", "rev"], order=2)(*args)


def test_vspace_subclass_written_for_autograd_overrides_the_hooks():
    class Celsius(float):
        pass

    class CelsiusSpace(VSpace):  # autograd's hook names: _add, _inner_prod ...
        size = 1

        def zeros(self):
            return Celsius(0.0)

        def _add(self, x, y):
            return Celsius(float(x) + float(y))

        def _inner_prod(self, x, y):
            return 2.0 * float(x) * float(y)
    CelsiusSpace.register(Celsius)
    vs = vspace(Celsius(1.0))
    assert type(vs.add(Celsius(1.0), Celsius(2.0))) is Celsius
    assert vs.inner_prod(Celsius(1.5), Celsius(2.0)) == 6.0
    with pytest.raises(NotImplementedError, match="CelsiusSpace does not define ones"):
        vs.ones()


# ---- the deprecated methods of primitives ----
def _product():
    @primitive
    def product(x, y):
        return x * y
    return product


@pytest.mark.parametrize("register", [
    lambda f: (f.defgrad(lambda ans, x, y: lambda g: y * g),
               f.defgrad(lambda ans, x, y: lambda g: x * g, argnum=1)),
    lambda f: (f.defvjp(lambda g, ans, vs, gvs, x, y: y * g),
               f.defvjp(lambda g, ans, vs, gvs, x, y: x * g, argnum=1))],
    ids=["defgrad", "defvjp"])
def test_deprecated_registration_warns_and_registers(register):
    product = _product()
    with pytest.warns(DeprecationWarning, match=r"product\.def\w+\(\.\.\.\) is autograd's "
                                                r"deprecated API; write defvjp\(product"):
        register(product)
    check_grads(product, (0, 1), modes=["rev"])(numpy.random.randn(2, 2),
                                                 numpy.random.randn(2, 2))


def test_deprecated_defvjp_is_zero_merges_with_other_rules():
    product = _product()
    with pytest.warns(DeprecationWarning, match="defgrad"):
        product.defgrad(lambda ans, x, y: lambda g: y * g)
    with pytest.warns(DeprecationWarning, match="defvjp_is_zero"):
        product.defvjp_is_zero([1])
    x, y = numpy.random.randn(3), numpy.random.randn(3)
    gx, gy = grad(lambda x, y: np.sum(product(x, y)), (0, 1))(x, y)
    numpy.testing.assert_allclose(gx, y)
    numpy.testing.assert_array_equal(gy, numpy.zeros(3))


# ---- names and docs of derivatives ----
def test_derivatives_are_named_after_operator_function_and_argnum():
    def foo(x, y):
        return x * y
    assert grad.__name__ == "grad" and grad.__doc__.startswith("\n    Returns a function which")
    for operator in (grad, elementwise_grad, jacobian):
        derivative = operator(foo, 1)
        name = f"{operator.__name__}_of_foo_wrt_argnum_1"
        assert derivative.__name__ == name and name in repr(derivative)
        assert derivative.__doc__.startswith(f"    {operator.__name__} of function foo with")


# ---- bool and integer outputs have no gradient ----
@pytest.mark.parametrize("operator", [grad, value_and_grad, elementwise_grad, jacobian])
@pytest.mark.parametrize("fun, kind", [(lambda x: np.allclose(x, x * 3.0 / 3.0), "a boolean"),
                                       (lambda x: x > 0, "a boolean"),
                                       (lambda x: np.argmax(x), "an integer"),
                                       (lambda x: 3, "an integer")])
def test_bool_and_integer_outputs_are_a_type_error(operator, fun, kind):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Output seems independent of input."
        with pytest.raises(TypeError, match=f"returned {kind} .* which has no gradient. "
                                            "Return the floating-point quantity"):
            operator(fun)(numpy.array([1.0, 2.0, 3.0]))


def test_a_constant_float_output_still_has_a_zero_gradient():
    with pytest.warns(UserWarning, match="independent of input"):
        assert grad(lambda x: 3.0)(2.0) == 0.0


# ---- scipy functions autograd's test_scipy.py differentiates ----
@pytest.mark.parametrize("l_and_u", [(1, 1), (2, 0), (0, 2), (1, 2)])
@pytest.mark.parametrize("columns", [(), (2,)])
def test_solve_banded(l_and_u, columns):
    lower, upper = l_and_u
    ab = numpy.random.randn(lower + upper + 1, 5)
    ab[upper] += 6.0  # a well-conditioned main diagonal
    b = numpy.random.randn(5, *columns)
    dense = sum(numpy.diag(ab[upper - k, max(k, 0):5 + min(k, 0)], k)
                for k in range(-lower, upper + 1))
    numpy.testing.assert_allclose(solve_banded(l_and_u, ab, b), numpy.linalg.solve(dense, b))
    check_grads(solve_banded, (1, 2), modes=["fwd", "rev"], order=2)(l_and_u, ab, b)


def test_odeint_differentiates_a_traced_args_tuple():
    def decay(y, t, rate, shift):
        return -rate * y + shift

    t = numpy.linspace(0.0, 0.5, 4)
    check_grads(lambda args: odeint(decay, numpy.ones(2), t, args), modes=["rev"], order=1)(
        (numpy.array([0.5, 1.0]), numpy.array([0.1, -0.2])))


# ---- autograd's module paths: numpy_vspaces, misc.tracers ----
def test_autograd_module_paths_import_and_work():
    from jitgrad.misc.tracers import const_graph as tracers_const_graph, full_graph
    from jitgrad.numpy.numpy_vspaces import ArrayVSpace, ComplexArrayVSpace
    assert type(vspace(numpy.ones(2))) is ArrayVSpace
    assert type(vspace(numpy.ones(2) * 1j)) is ComplexArrayVSpace
    assert tracers_const_graph(lambda x: x * 3.0)(2.0) == 6.0
    node = full_graph(lambda x, y: np.sin(x) * y, 0.5, 2.0)
    assert node.value == pytest.approx(numpy.sin(0.5) * 2.0)
    fun, _, _, parents = node.recipe
    assert fun is np.multiply and [argnum for argnum, _ in parents] == [0, 1]
    assert parents[0][1].value == pytest.approx(numpy.sin(0.5))


# ---- signatures and module attributes as autograd's --------------------------------
def test_autograds_modules_are_attributes_after_import():
    import jitgrad
    import jitgrad.misc
    assert jitgrad.extend.defvjp and jitgrad.core.primitive and jitgrad.tracer.getval
    assert jitgrad.util.quick_grad_check and jitgrad.misc.tracers.const_graph


def test_optimizers_take_x0_by_name_and_unflatten_optimizer_makes_one():
    from jitgrad.misc.optimizers import adam, rmsprop, sgd, unflatten_optimizer
    grad_of = lambda x, i: {"w": 2 * x["w"], "b": [2 * x["b"][0]]}  # noqa: E731
    start = {"w": numpy.ones(2), "b": [numpy.full(3, -1.0)]}
    for optimizer in (adam, rmsprop, sgd):
        out = optimizer(grad_of, x0=start, num_iters=5)
        assert out["w"].shape == (2,) and out["b"][0].shape == (3,)

    @unflatten_optimizer
    def plain_descent(grad, x, callback=None, num_iters=3, step_size=0.25):
        for i in range(num_iters):
            g = grad(x, i)
            if callback:
                callback(x, i, g)
            x = x - step_size * g
        return x
    seen = []
    out = plain_descent(grad_of, start, lambda x, i, g: seen.append(sorted(x)))
    numpy.testing.assert_allclose(out["w"], 0.125 * numpy.ones(2))
    numpy.testing.assert_allclose(out["b"][0], -0.125 * numpy.ones(3))
    assert seen == [["b", "w"]] * 3


def test_odeint_takes_scipys_positional_settings():
    import scipy.integrate
    f = lambda y, t, a: -a * y  # noqa: E731
    t = numpy.linspace(0.0, 1.0, 4)
    settings = (None, None, 1e-11, 1e-11)  # ml, mu, rtol, atol
    ours = odeint(f, numpy.ones(2), t, (0.5,), None, 0, 0, *settings)
    numpy.testing.assert_allclose(
        ours, scipy.integrate.odeint(f, numpy.ones(2), t, (0.5,), None, 0, 0, *settings))
    check_grads(lambda a: odeint(f, numpy.ones(2), t, (a,), None, 0, 0, *settings),
                modes=["rev"], order=1)(0.5)
    with pytest.raises(TypeError, match="multiple values for argument 'rtol'"):
        odeint(f, numpy.ones(2), t, (0.5,), None, 0, 0, *settings, rtol=1e-3)


def test_empty_like_takes_prototype_by_name():
    assert np.empty_like(prototype=numpy.ones((2, 3))).shape == (2, 3)


def test_numpy_random_bit_generators_are_reexported():
    import jitgrad.numpy.random as npr
    for name in ("BitGenerator", "MT19937", "PCG64", "Philox", "SFC64"):
        assert getattr(npr, name) is getattr(numpy.random, name)
    ours = npr.Generator(npr.PCG64(5)).standard_normal(3)
    numpy.testing.assert_array_equal(ours, numpy.random.Generator(numpy.random.PCG64(5))
                                     .standard_normal(3))
