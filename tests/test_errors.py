"""Every clear error of the core: what went wrong, named, and how to fix it."""
import numpy
import pytest

import jitgrad.numpy as np
from jitgrad import deriv, elementwise_grad, grad, grad_and_aux, jacobian, value_and_grad
from jitgrad.extend import primitive
from jitgrad.test_util import check_grads
from jitgrad.trace import primitive_vjps


def test_grad_of_a_non_scalar_output_names_the_alternatives():
    with pytest.raises(TypeError) as error:
        grad(lambda x: x ** 2)(numpy.ones(3))
    message = str(error.value)
    assert "scalar" in message and "(3,)" in message
    assert "jacobian" in message and "elementwise_grad" in message
    # the suggested operators do work on it
    numpy.testing.assert_allclose(elementwise_grad(lambda x: x ** 2)(numpy.ones(3)), 2.0)
    assert jacobian(lambda x: x ** 2)(numpy.ones(3)).shape == (3, 3)


@pytest.mark.parametrize("operator", [value_and_grad, grad_and_aux])
def test_other_scalar_operators_refuse_non_scalar_outputs(operator):
    fun = (lambda x: (x ** 2, None)) if operator is grad_and_aux else (lambda x: x ** 2)
    with pytest.raises(TypeError, match="jacobian.*elementwise_grad"):
        operator(fun)(numpy.ones(2))


def test_grad_of_a_complex_output_points_to_holomorphic_grad():
    with pytest.raises(TypeError, match="complex.*holomorphic_grad"):
        grad(lambda x: x * 1j)(1.0)


@pytest.mark.parametrize("argnum", [2, -3, (0, 5)])
def test_argnum_out_of_range(argnum):
    with pytest.raises(IndexError) as error:
        grad(lambda x, y: x * y, argnum)(1.0, 2.0)
    message = str(error.value)
    assert f"argnum={argnum!r}" in message and "out of range" in message
    assert "2 positional arguments" in message and "between 0 and 1" in message


def test_argnum_of_the_wrong_type():
    with pytest.raises(TypeError, match="argnum must be an int or a tuple of ints"):
        grad(lambda x, y: x * y, "y")(1.0, 2.0)


@pytest.mark.parametrize("make, message", [
    (lambda: grad(numpy.sin, jit=True, trace_after=0),
     r"grad: got an unexpected keyword argument 'trace_after'.*jit\(grad\(fun\), trace_after"),
    (lambda: grad(numpy.sin, 0, 1), r"grad: too many positional arguments \(grad takes fun, argnum=0\)"),
    (lambda: jacobian(numpy.sin, foo=1), "jacobian: got an unexpected keyword argument 'foo'"),
    (lambda: check_grads(numpy.sin, mode=["rev"]), r"check_grads: .*'mode'.*modes="),
])
def test_arguments_an_operator_does_not_take_fail_when_it_is_made(make, message):
    with pytest.raises(TypeError, match=message):
        make()


@pytest.mark.parametrize("value, fix", [
    (numpy.arange(3), "x.astype(float)"),
    (3, "float(x)"),
    (numpy.int32(3), "float(x)"),
])
def test_integer_inputs_say_how_to_fix(value, fix):
    for operator in (grad, deriv):
        with pytest.raises(TypeError) as error:
            operator(lambda x: np.sum(x * 2.0))(value)
        message = str(error.value)
        assert "integer" in message and fix in message and "argument 0" in message


def test_integer_inside_a_container_is_located():
    with pytest.raises(TypeError, match=r"\['a'\]\[1\] is an integer.*float\(x\)"):
        grad(lambda p: p["a"][0] * 2.0)({"a": [1.0, 2]})


@pytest.mark.parametrize("value", [True, numpy.ones(2, dtype=bool)])
def test_boolean_inputs(value):
    with pytest.raises(TypeError, match="boolean.*astype\\(float\\)"):
        grad(lambda x: np.sum(x * 2.0))(value)


@pytest.mark.parametrize("value, type_name", [("abc", "str"), (None, "NoneType"),
                                              (object(), "object")])
def test_non_numeric_inputs_say_what_can_be_differentiated(value, type_name):
    with pytest.raises(TypeError) as error:
        grad(lambda x: 2.0)(value)
    message = str(error.value)
    assert f"type {type_name}" in message and "float arrays" in message
    assert "VSpace.register" in message


def test_object_array_input():
    with pytest.raises(TypeError, match="object array.*dtype=float"):
        grad(lambda x: 2.0)(numpy.array([1.0, None]))


def test_non_differentiable_argument_elsewhere_is_fine():
    # only the argument being differentiated must be a float
    assert grad(lambda x, n, flag: x ** n if flag else x, 0)(2.0, 3, True) == 12.0


def test_a_primitive_without_a_gradient_rule_is_named():
    @primitive
    def mystery(x):
        return x * 2.0
    with pytest.raises(NotImplementedError) as error:
        grad(mystery)(1.0)
    message = str(error.value)
    assert "mystery" in message and "jitgrad.extend.defvjp(mystery" in message
    with pytest.raises(NotImplementedError, match=r"mystery.*jitgrad\.extend\.defjvp\(mystery"):
        deriv(mystery)(1.0)


# NumPy functions that have no VJP in jitgrad yet; the test uses the first that still
# lacks one, so it keeps testing the message as rules are added.
UNRULED_CANDIDATES = [
    ("interp", lambda f, y: f(numpy.array([0.25, 1.5]), numpy.array([0.0, 1.0, 2.0]), y)),
    ("polyfit", lambda f, y: f(numpy.array([0.0, 1.0, 2.0]), y, 1)),
    ("nanpercentile", lambda f, y: f(y, 50.0)),
]


def test_a_numpy_function_without_a_gradient_rule_is_named():
    for name, call in UNRULED_CANDIDATES:
        fun = getattr(np, name, None)
        if fun is not None and fun not in primitive_vjps:
            break
    else:
        pytest.skip("every candidate has a VJP now; add a new candidate")
    with pytest.raises(NotImplementedError) as error:
        grad(lambda y: np.sum(call(fun, y)))(numpy.array([1.0, 2.0, 4.0]))
    message = str(error.value)
    assert f"{name} has no gradient rule" in message
    assert f"jitgrad.extend.defvjp({name}" in message


def _assignment_into_traced_array_works():
    def f(x):
        x = x * 1.0
        x[0] = 0.0
        return np.sum(x)
    try:
        grad(f)(numpy.ones(2))
    except TypeError:
        return False
    return True


def test_assignment_into_a_traced_array():
    def assign(x):
        y = x * 2.0
        y[0] = 5.0
        return np.sum(y)
    if not _assignment_into_traced_array_works():
        with pytest.raises(TypeError) as error:
            grad(assign)(numpy.ones(3))
        message = str(error.value)
        assert "Assignment into a traced array" in message
        assert "np.stack" in message or "np.where" in message or "np.concatenate" in message
        return
    # Once assignment is supported, it differentiates correctly...
    numpy.testing.assert_allclose(grad(assign)(numpy.ones(3)), [0.0, 2.0, 2.0])

    def into_jitgrad_zeros(x):
        y = np.zeros(3)
        y[1] = x
        return np.sum(y * 3.0)
    assert grad(into_jitgrad_zeros)(2.0) == 3.0

    # ...and a traced value written into a plain numpy array, which would silently
    # lose its gradient, is an error that says to use jitgrad.numpy instead.
    def into_numpy_zeros(x):
        y = numpy.zeros(3)
        y[1] = x
        return np.sum(y * x)
    with pytest.raises(TypeError) as error:
        grad(into_numpy_zeros)(2.0)
    assert "jitgrad.numpy" in str(error.value) or "np.zeros" in str(error.value)


def test_percent_formatting_a_differentiated_value_points_to_an_f_string():
    with pytest.raises(TypeError, match=r"%-formatting .*f'\{x:.3f\}'"):
        grad(lambda x: len("%.3f" % x) * x)(0.5)
    assert grad(lambda x: len(f"{x:.3f}") * x)(0.5) == 5.0
