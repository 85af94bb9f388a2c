"""jitgrad.extend: user-defined primitives and their derivative rules."""
import numpy
import pytest

import jitgrad.numpy as np
from jitgrad import deriv, elementwise_grad, grad, hessian, jacobian, make_jvp
from jitgrad.extend import (JVPNode, SparseObject, VJPNode, VSpace, def_linear, defjvp,
                            defjvp_argnum, defjvp_argnums, defvjp, defvjp_argnum,
                            defvjp_argnums, notrace_primitive, primitive, register_notrace,
                            vspace)
from jitgrad.test_util import check_grads

BOTH = ["fwd", "rev"]


@primitive
def logsumexp(x):
    m = numpy.max(x)
    return m + numpy.log(numpy.sum(numpy.exp(x - m)))


defvjp(logsumexp, lambda ans, x: lambda g: g * np.exp(x - ans))
defjvp(logsumexp, lambda g, ans, x: np.sum(g * np.exp(x - ans)))


def test_custom_primitive_values_and_second_order_both_modes():
    x = numpy.random.randn(4)
    softmax = numpy.exp(x) / numpy.sum(numpy.exp(x))
    assert logsumexp(x) == pytest.approx(numpy.log(numpy.sum(numpy.exp(x))))
    numpy.testing.assert_allclose(grad(logsumexp)(x), softmax)
    numpy.testing.assert_allclose(deriv(logsumexp)(x), 1.0)  # tangent of ones: sum(softmax)
    numpy.testing.assert_allclose(hessian(logsumexp)(x),
                                  numpy.diag(softmax) - numpy.outer(softmax, softmax))
    check_grads(logsumexp, modes=BOTH, order=2)(x)
    check_grads(lambda x: logsumexp(np.sin(x) * 3.0), modes=BOTH, order=2)(x)


def test_the_body_of_a_primitive_runs_on_plain_values():
    seen = []

    @primitive
    def spy(x):
        seen.append(type(x))
        return x * 2.0
    defvjp(spy, lambda ans, x: lambda g: 2.0 * g)
    grad(lambda x: np.sum(spy(x)))(numpy.ones(2))
    assert seen == [numpy.ndarray]


@primitive
def scale_by(x, n):
    return x * n


defvjp(scale_by, lambda ans, x, n: lambda g: g * n, None)
defjvp(scale_by, lambda g, ans, x, n: g * n, None)


def test_none_marks_a_non_differentiable_argument():
    x = numpy.random.randn(3)
    numpy.testing.assert_allclose(elementwise_grad(scale_by)(x, 3.0), 3.0)
    assert grad(lambda n: np.sum(scale_by(x, n)))(3.0) == 0.0
    assert deriv(lambda n: np.sum(scale_by(x, n)))(3.0) == 0.0
    da, dn = grad(lambda x, n: np.sum(scale_by(x, n)), (0, 1))(x, 3.0)
    numpy.testing.assert_allclose(da, 3.0)
    assert dn == 0.0


def test_defvjp_with_argnums_keyword():
    @primitive
    def weighted(w, x):
        return w * x
    defvjp(weighted, lambda ans, w, x: lambda g: g * w, argnums=[1])
    assert grad(weighted, 1)(2.0, 5.0) == 2.0
    with pytest.raises(NotImplementedError, match="defvjp"):
        grad(weighted, 0)(2.0, 5.0)


@primitive
def product3(a, b, c):
    return a * b * c


def _product3_vjp_argnum(argnum, ans, args, kwargs):
    others = [arg for i, arg in enumerate(args) if i != argnum]
    return lambda g: g * others[0] * others[1]


def _product3_jvp_argnum(argnum, g, ans, args, kwargs):
    others = [arg for i, arg in enumerate(args) if i != argnum]
    return g * others[0] * others[1]


defvjp_argnum(product3, _product3_vjp_argnum)
defjvp_argnum(product3, _product3_jvp_argnum)


@primitive
def product3_all(a, b, c):
    return a * b * c


def _product3_vjp_argnums(argnums, ans, args, kwargs):
    a, b, c = args
    partials = {0: lambda g: g * b * c, 1: lambda g: g * a * c, 2: lambda g: g * a * b}
    return lambda g: tuple(partials[argnum](g) for argnum in argnums)


def _product3_jvp_argnums(argnums, gs, ans, args, kwargs):
    a, b, c = args
    partials = {0: b * c, 1: a * c, 2: a * b}
    return sum(g * partials[argnum] for argnum, g in zip(argnums, gs))


defvjp_argnums(product3_all, _product3_vjp_argnums)
defjvp_argnums(product3_all, _product3_jvp_argnums)


@pytest.mark.parametrize("fun", [product3, product3_all], ids=["argnum", "argnums"])
def test_argnum_and_argnums_rule_makers(fun):
    a, b, c = 2.0, 3.0, 5.0
    assert grad(fun, (0, 1, 2))(a, b, c) == (15.0, 10.0, 6.0)
    assert deriv(fun, 2)(a, b, c) == 6.0
    # all three arguments traced at once, in both modes, twice
    check_grads(lambda x: fun(x[0], x[1], x[2]), modes=BOTH, order=2)(numpy.array([a, b, c]))
    # only some arguments traced: the others are constants
    check_grads(lambda b: fun(a, b, np.sin(b)), modes=BOTH, order=2)(b)


@primitive
def cumulative(x):
    return numpy.cumsum(x)


def_linear(cumulative)
defvjp(cumulative, lambda ans, x: lambda g: cumulative(g[::-1])[::-1])


def test_def_linear_gives_the_forward_rule():
    x, v = numpy.random.randn(4), numpy.random.randn(4)
    value, tangent = make_jvp(cumulative)(x)(v)
    numpy.testing.assert_allclose(tangent, numpy.cumsum(v))
    numpy.testing.assert_allclose(jacobian(cumulative)(x), numpy.tril(numpy.ones((4, 4))))
    check_grads(lambda x: cumulative(x ** 2), modes=BOTH, order=2)(x)

    @primitive
    def weighted_sum(w, x):
        return numpy.sum(w * x)
    def_linear(weighted_sum)  # bilinear: linear in each argument separately
    w, x = numpy.random.randn(3), numpy.random.randn(3)
    assert deriv(weighted_sum, 1)(w, x) == pytest.approx(numpy.sum(w))
    assert deriv(lambda t: weighted_sum(t * w, t * x))(1.0) == pytest.approx(2 * w @ x)


@primitive
def pick(x, i):
    return x[i]


def _pick_vjp(ans, x, i):
    vs = vspace(x)

    def vjp(g):
        def add_into(dense):
            dense[i] += g
            return dense
        return SparseObject(vs, add_into)
    return vjp


defvjp(pick, _pick_vjp, None)


def test_sparse_object_cotangents():
    x = numpy.random.randn(5)
    numpy.testing.assert_array_equal(grad(pick)(x, 2), numpy.eye(5)[2])
    # sparse + sparse, sparse + dense, and repeated indices accumulate
    f = lambda x: pick(x, 1) * 3.0 + pick(x, 1) + pick(x, 4) + np.sum(x ** 2)
    numpy.testing.assert_allclose(grad(f)(x), 2 * x + numpy.array([0, 4.0, 0, 0, 1.0]))
    check_grads(f, modes=["rev"], order=1)(x)


def test_register_notrace_skips_forward_mode_for_a_reverse_only_primitive():
    @primitive
    def stop_gradient_forward(x):
        return x
    defvjp(stop_gradient_forward, lambda ans, x: lambda g: g)
    f = lambda x: x * stop_gradient_forward(x)
    with pytest.raises(NotImplementedError, match="defjvp"):
        deriv(f)(3.0)
    register_notrace(JVPNode, stop_gradient_forward)
    assert deriv(f)(3.0) == 3.0  # forward mode treats it as a constant
    assert grad(f)(3.0) == 6.0   # reverse mode still uses its VJP


def test_notrace_primitive_runs_on_plain_values_and_is_not_recorded():
    seen = []

    @notrace_primitive
    def sign_of(x):
        seen.append(type(x))
        return numpy.sign(x)
    f = lambda x: sign_of(x) * x ** 2
    assert grad(f)(-2.0) == pytest.approx(4.0)
    assert deriv(f)(-2.0) == pytest.approx(4.0)
    assert grad(grad(f))(-2.0) == pytest.approx(-2.0)
    assert all(t in (float, numpy.float64) for t in seen)


def test_rules_written_with_jitgrad_numpy_differentiate_to_third_order():
    @primitive
    def softplus(x):
        return numpy.log1p(numpy.exp(x))
    sigmoid = lambda x: 1.0 / (1.0 + np.exp(-x))
    defvjp(softplus, lambda ans, x: lambda g: g * sigmoid(x))
    defjvp(softplus, lambda g, ans, x: g * sigmoid(x))
    x = 0.3
    s = 1 / (1 + numpy.exp(-x))
    assert grad(grad(grad(softplus)))(x) == pytest.approx(s * (1 - s) * (1 - 2 * s))
    assert deriv(deriv(deriv(softplus)))(x) == pytest.approx(s * (1 - s) * (1 - 2 * s))


def test_vspace_of_common_values():
    vs = vspace(numpy.ones((2, 3)))
    assert vs.shape == (2, 3) and vs.size == 6 and not vs.iscomplex
    numpy.testing.assert_array_equal(vs.zeros(), numpy.zeros((2, 3)))
    assert len(list(vs.standard_basis())) == 6
    assert vspace(1.0 + 2j).iscomplex and vspace(1.0 + 2j).size == 2
    assert vspace(numpy.ones(2)) == vspace(numpy.zeros(2)) != vspace(numpy.zeros(3))
    nested = vspace({"a": (1.0, numpy.ones(2))})
    assert nested.size == 3 and isinstance(nested, VSpace)
    zeros = nested.zeros()
    assert list(zeros) == ["a"] and zeros["a"][0] == 0.0
    numpy.testing.assert_array_equal(zeros["a"][1], numpy.zeros(2))
    assert vs.inner(numpy.ones((2, 3)), 2 * numpy.ones((2, 3))) == 12.0
    assert VJPNode is not JVPNode


@pytest.mark.parametrize("define", [
    lambda f: defvjp(f, lambda ans, x: lambda g: 100.0 * g),
    lambda f: defjvp(f, lambda g, ans, x: 100.0 * g)], ids=["defvjp", "defjvp"])
def test_a_rule_for_a_function_that_is_not_a_primitive_is_an_error(define):
    """A rule for a plain function would never be used (its calls are not traced): the
    gradient silently ignored it."""
    def plain(x):
        return x * 2.0
    with pytest.raises(TypeError, match="plain is not a jitgrad primitive"):
        define(plain)


def test_a_jvp_rule_returning_none_or_the_wrong_shape_is_an_error():
    """Like a VJP's cotangent, a JVP rule's tangent is checked: None was summed as no
    share (a zero tangent) and a wrong shape passed through, silently."""
    x = numpy.array([1.0, 2.0, 3.0])

    @primitive
    def wrong_shape(x):
        return x * 2.0
    defjvp(wrong_shape, lambda g, ans, x: np.ones(5))
    with pytest.raises(ValueError, match=r"tangent of shape \(5,\) for an output of shape \(3,\)"):
        make_jvp(wrong_shape)(x)(x)

    @primitive
    def returns_none(x):
        return x * 2.0
    defjvp(returns_none, lambda g, ans, x: None)
    with pytest.raises(TypeError, match="for argument 0 returned None"):
        make_jvp(returns_none)(x)(x)
