"""The unclear cases of issue 13 item 6. Running sums and boolean masks of 0-d values
mean what NumPy gives them (a 1-element array), and their gradients come back 0-d, as the
argument (they raised ZeroDivisionError, or gave a gradient of shape (1,)). np.matrix and
masked arrays under the jit are refused by name, with the fix."""
import warnings

import numpy
import pytest

import jitgrad.numpy as np
from jitgrad import grad, jit, value_and_grad
from jitgrad.test_util import check_grads

X0 = numpy.array(1.5)


@pytest.mark.parametrize("running", [np.cumsum, np.cumprod], ids=["cumsum", "cumprod"])
@pytest.mark.parametrize("axis", [-1, 0])
def test_running_functions_of_a_0d_value_along_an_axis(running, axis):
    fun = lambda s: np.sum(running(s, axis=axis) * 3.0)  # noqa: E731
    assert numpy.shape(running(X0, axis=axis)) == (1,)  # NumPy's meaning, kept
    for jitted in (False, True):
        gradient = grad(fun, jit=jitted)(X0)
        assert numpy.shape(gradient) == () and gradient == 3.0
    assert grad(fun)(1.5) == 3.0
    check_grads(fun, modes=["fwd", "rev"], order=2)(X0)


@pytest.mark.parametrize("jitted", [False, True], ids=["eager", "jit"])
def test_boolean_mask_of_a_0d_value(jitted):
    kept = grad(lambda x: np.sum(x[x > 0] * 2.0), jit=jitted)
    dropped = grad(lambda x: np.sum(x[x < 0] * 2.0), jit=jitted)
    negative = numpy.array(-1.5)  # (-X0 would be a NumPy scalar, which has no [])
    for gradient, want in [(kept(X0), 2.0), (dropped(X0), 0.0), (kept(negative), 0.0),
                           (dropped(negative), 2.0)]:
        assert numpy.shape(gradient) == () and gradient == want
    assert grad(lambda x: np.sum(x[None] * 2.0), jit=jitted)(X0) == 2.0


MATRIX = "np.matrix, on which \\* is a matrix product.*np.asarray and write matrix products with @"
MASKED = "masked array: .* would drop its mask silently.*np.ma.getdata.*np.where"


def matrix():
    with pytest.warns(PendingDeprecationWarning):
        return numpy.matrix([[1.0, 2.0]])


@pytest.mark.parametrize("operator", [jit, lambda f: grad(lambda x: np.sum(f(x)), jit=True)],
                         ids=["jit", "grad jit"])
def test_matrix_and_masked_arguments_under_the_jit(operator):
    fun = operator(lambda x: x * 2.0)
    with pytest.raises(TypeError, match="jit: argument 0 is an " + MATRIX):
        fun(matrix())
    with pytest.raises(TypeError, match="jit: argument 0 is a " + MASKED):
        fun(numpy.ma.masked_array([1.0, 2.0], mask=[False, True]))


@pytest.mark.parametrize("jitted", [False, True], ids=["eager", "jit"])
def test_matrix_and_masked_constants_in_a_traced_computation(jitted):
    constant = matrix()
    with pytest.raises(TypeError, match="gave a matrix: it is an " + MATRIX):
        grad(lambda x: np.sum(x * constant), jit=jitted)(numpy.ones((1, 2)))
    masked = numpy.ma.masked_array([1.0, 2.0], mask=[False, True])
    with pytest.raises(TypeError, match="gave a MaskedArray: it is a " + MASKED):
        grad(lambda x: np.sum(x * masked), jit=jitted)(numpy.ones(2))


def test_jit_names_an_object_array_argument_also_after_float_calls():
    """The jit's fast key for positional arrays must not let an object array of a cached
    float signature's shape reach a plan: the error names it and the fix."""
    f = jit(lambda x: np.sum(x ** 2))
    floats = numpy.array([1.0, 2.0])
    for _ in range(3):  # eager, trace, replay: the float signature is cached
        assert f(floats) == 5.0
    with pytest.raises(TypeError, match="argument 0 is an object array.*dtype=float"):
        f(numpy.array([1.0, None]))
    assert f(floats * 2) == 20.0


@pytest.mark.parametrize("f, message", [
    (lambda x: None, "returned None \\(a missing return\\?\\)"),
    (lambda x: "loss", "returned a str, not a number"),
    (lambda x: [x[0], x[1]], "returned a list of 2 values"),
    (lambda x: {"a": x[0], "b": x[1]}, "returned a dict of 2 values")])
def test_grad_of_a_function_returning_no_number_says_what_it_returned(f, message):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (None and str do not depend on x)
        for operator in (grad, value_and_grad):
            with pytest.raises(TypeError, match=message):
                operator(f)(numpy.ones(3))


@pytest.mark.parametrize("options, error, message", [
    (dict(static_argnums=(5,)), ValueError, "takes 2 positional arguments"),
    (dict(static_argnums="n"), TypeError, "takes ints"),
    (dict(static_argnums=1.5), TypeError, "static_argnums takes an int or a tuple"),
    (dict(static_argnames=("zz",)), ValueError, "'zz', which is not a parameter"),
    (dict(trace_after=-1), ValueError, "trace_after=-1 takes a whole number"),
    (dict(trace_after="a"), ValueError, "takes a whole number")])
def test_jit_options_are_checked_when_made(options, error, message):
    """A static argument that is not one would silently be traced."""
    with pytest.raises(error, match=message):
        jit(lambda x, n: x * n, **options)


def test_jit_of_a_non_function_and_a_negative_static_argnum():
    with pytest.raises(TypeError, match="jit takes a function, not a int"):
        jit(3)
    last_static = jit(lambda x, n: x * len(n), static_argnums=-1)
    assert last_static(2.0, "abc") == 6.0 and last_static(2.0, "ab") == 4.0
    with pytest.raises(TypeError, match="is a list, which is not hashable"):
        last_static(2.0, [1, 2])
