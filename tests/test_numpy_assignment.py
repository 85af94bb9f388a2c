"""Assignment into arrays inside differentiated functions: ``a[idx] = v``, ``a[idx] += v``,
in-place operators, views, and the clear errors where a gradient would be lost.

Each program is written once as ``def f(np, x)`` and run with plain NumPy (the
expected value, with NumPy's own in-place semantics) and with jitgrad.numpy.
"""
import math

import numpy
from numpy.testing import assert_allclose
import pytest

import jitgrad.numpy as np
from jitgrad import elementwise_grad, grad, hessian, make_jvp, make_vjp
from jitgrad.extend import defjvp, defvjp, primitive
from jitgrad.test_util import check_grads
from jitgrad.tracer import getval

R = numpy.random.randn


def loop_fill(make):
    def f(np, x):
        out = make(np, x)
        for i in range(3):
            out[i] = np.sin(x[i]) * x[(i + 1) % 3]
        return out
    return f


PROGRAMS = [
    ("zeros_loop", loop_fill(lambda np, x: np.zeros(3))),
    ("empty_loop", loop_fill(lambda np, x: np.empty(3))),
    ("ones_loop", loop_fill(lambda np, x: np.ones(4))),
    ("full_loop", loop_fill(lambda np, x: np.full(5, 2.0))),
    ("zeros_like_loop", loop_fill(lambda np, x: np.zeros_like(x))),
    ("ones_like_loop", loop_fill(lambda np, x: np.ones_like(x))),
    ("empty_like_loop", loop_fill(lambda np, x: np.empty_like(x))),
    ("full_like_loop", loop_fill(lambda np, x: np.full_like(x, 7.0))),
    ("array_loop", loop_fill(lambda np, x: np.array([1.0, 2.0, 3.0, 4.0]))),
    ("copy_loop", loop_fill(lambda np, x: np.copy(numpy.arange(3.0)))),
    ("copy_of_traced", loop_fill(lambda np, x: np.copy(x * 2.0))),
    ("array_of_traced", loop_fill(lambda np, x: np.array(x))),
    ("method_copy", loop_fill(lambda np, x: (x ** 2).copy())),
]


def _rows(np, x):
    out = np.zeros((3, 2))
    out[0] = x[:2]
    out[1, :] = x[1:] * 2.0
    out[2] = x[0]  # broadcast into the row
    return out


def _augmented(np, x):
    y = x * 1.0
    y[1:] += x[:-1] ** 2
    y[0] -= x[2]
    y[::2] *= x[1]
    y[-1] /= 2.0 + x[0] ** 2
    return y


def _traced_array_constant_value(np, x):
    y = np.exp(x)
    y[1] = 5.0
    y[[0, 2]] = numpy.array([1.0, -1.0]) * 0.5
    return y * x


def _repeated_fancy(np, x):
    y = np.zeros(3)
    y[[0, 1, 0]] = x  # NumPy keeps the last write at a repeated index
    return y * np.sum(x)


def _repeated_fancy_broadcast(np, x):
    y = np.ones((2, 3))
    y[[1, 1], [0, 0]] = x[:2]
    y[0, [2, 2]] += x[2]  # augmented: read once, written once
    return y * x


def _bool_mask(np, x):
    y = x * 1.0
    y[y < 0] = 0.0  # a ReLU written as assignment
    y[numpy.array([True, False, False])] = x[1] ** 2
    return y


def _nested_views(np, x):
    m = np.zeros((3, 3))
    m[1][2] = x[0]
    for row in m:
        row[0] = x[1]  # rows of an ndarray are views: this writes into m
    col = m[:, 1]
    col[:] = x ** 2
    col[0] += x[2]
    m[2, 1:][0] *= 3.0  # a view of a view
    return m


def _inplace_whole(np, x):
    a = np.zeros(3)
    alias = a
    a += x
    a *= x[0]
    a -= 1.0
    a /= 2.0
    a **= 2
    return alias + a


def _fill_and_sort(np, x):
    a = np.empty(3)
    a.fill(x[0])
    b = x * numpy.array([3.0, -1.0, 2.0])
    b.sort()
    return a * b


def _ufunc_out_and_at(np, x):
    a = np.zeros(3)
    np.multiply(x, x, out=a) if np is numpy else numpy.multiply(x, x, out=a)
    np.add.at(a, [0, 0, 2], x)
    np.subtract.at(a, [1], x[2])
    return a


def _mixed_levels_in_loop(np, x):
    out = np.ones((2, 3))
    for i in range(2):
        out[i] = out[i - 1] * np.cos(x)
    return out


PROGRAMS += [
    ("rows", _rows), ("augmented", _augmented),
    ("traced_array_constant_value", _traced_array_constant_value),
    ("repeated_fancy", _repeated_fancy), ("repeated_fancy_broadcast", _repeated_fancy_broadcast),
    ("bool_mask", _bool_mask), ("nested_views", _nested_views),
    ("inplace_whole", _inplace_whole), ("fill_and_sort", _fill_and_sort),
    ("ufunc_out_and_at", _ufunc_out_and_at), ("recurrence", _mixed_levels_in_loop),
]


@pytest.mark.parametrize("name, program", PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_assignment_program(name, program):
    x = R(3)
    expected = program(numpy, x.copy())
    _, value = make_vjp(lambda x: program(np, x))(x)
    if "empty" in name:
        expected, value = expected[:3], value[:3]  # the rest of an empty array is garbage
    numpy.testing.assert_allclose(value, expected, rtol=1e-12)
    if "empty" not in name:
        check_grads(lambda x: program(np, x), modes=["fwd", "rev"], order=2)(x)
    else:
        check_grads(lambda x: program(np, x)[:3], modes=["fwd", "rev"], order=2)(x)


def test_loop_fill_gradient_value():
    def f(x):
        out = np.zeros(len(x))
        for i in range(len(x)):
            out[i] = np.tanh(x[i]) * (i + 1)
        return np.sum(out)
    x = R(4)
    numpy.testing.assert_allclose(grad(f)(x), (1 - numpy.tanh(x) ** 2) * numpy.arange(1, 5))


def test_last_write_wins_in_gradient():
    def f(x):
        y = np.zeros(2)
        y[[0, 0, 1]] = x
        return np.sum(y * numpy.array([10.0, 100.0]))
    numpy.testing.assert_allclose(grad(f)(numpy.ones(3)), [0.0, 10.0, 100.0])


def test_assigned_value_dtype_follows_the_array():
    def f(x):
        y = np.zeros(2, dtype=numpy.float32)
        y[0] = x[0]
        y[1] = x[1] * 2.0
        assert y.dtype == numpy.float32
        return np.sum(y)
    gradient = grad(f)(numpy.array([1.0, 2.0]))
    assert gradient.dtype == numpy.float64
    numpy.testing.assert_allclose(gradient, [1.0, 2.0])


def test_nested_derivatives_of_assignment():
    def f(x):
        out = np.zeros(2)
        out[0] = x ** 3
        out[1] += np.sin(x) * out[0]
        return np.sum(out)
    x = 0.7
    # f = x**3 (1 + sin x)
    expected = 6 * x * (1 + numpy.sin(x)) + 6 * x ** 2 * numpy.cos(x) - x ** 3 * numpy.sin(x)
    numpy.testing.assert_allclose(grad(grad(f))(x), expected, rtol=1e-12)
    check_grads(f, modes=["fwd", "rev"], order=3)(x)


def test_assignment_of_outer_level_values_in_an_inner_function():
    def outer(x):
        def inner(y):
            out = np.zeros(3)
            out[0] = x * y  # x is traced by the outer level, y by the inner one
            out[1] = x
            out[2] = y ** 2
            return np.sum(out * out)
        return grad(inner)(x * 2.0)
    x = 0.3
    check_grads(outer, modes=["rev", "fwd"], order=2)(x)
    hess = hessian(lambda x: _sum_of_squares_program(x))(R(3))
    assert hess.shape == (3, 3)


def test_array_assigned_in_an_inner_grad_and_used_after_it():
    def outer(x):
        out = np.zeros(2)

        def inner(y):
            out[0] = y * x  # ``out`` now depends on the inner level's y, with y = x
            return out[0] ** 2
        g = grad(inner)(x)  # 2 y x**2 at y = x
        return g + np.sum(out)  # 2 x**3 + x**2
    x = 0.5
    numpy.testing.assert_allclose(grad(outer)(x), 6 * x ** 2 + 2 * x)
    numpy.testing.assert_allclose(make_jvp(outer)(x)(1.0)[1], 6 * x ** 2 + 2 * x)
    numpy.testing.assert_allclose(grad(grad(outer))(x), 12 * x + 2)
    # Called plainly, ``out`` is a plain array and the inner grad cannot write a
    # traced value into it: the error says where to create it.
    with pytest.raises(TypeError, match="inside the differentiated function"):
        outer(x)


def _sum_of_squares_program(x):
    out = np.zeros(3)
    for i in range(3):
        out[i] = x[i] * x[(i + 1) % 3]
    return np.sum(out ** 2)


def test_forward_mode_of_assignment():
    def f(x):
        y = np.ones(3)
        y[1:] = x * 2.0
        return y
    value, tangent = make_jvp(f)(numpy.array([1.0, 2.0]))(numpy.array([1.0, -1.0]))
    numpy.testing.assert_allclose(value, [1.0, 2.0, 4.0])
    numpy.testing.assert_allclose(tangent, [0.0, 2.0, -2.0])
    assert type(tangent) is numpy.ndarray


def test_constructors_outside_traces_are_plain_arrays():
    for made in (np.zeros(2), np.ones(2), np.empty(2), np.full(2, 1.0), np.array([1.0]),
                 np.zeros_like(numpy.ones(2)), np.copy(numpy.ones(2))):
        assert type(made) is numpy.ndarray


def test_constructor_arrays_still_work_with_plain_numpy():
    def f(x):
        a = np.arange(3.0) + np.zeros(3)  # computed from a constant: plain values
        b = np.linspace(0, 1, 3) * np.ones(3)
        c = np.ones(3)
        assert numpy.asarray(c).dtype == numpy.float64  # a constant converts
        assert numpy.sum(b) == 1.5
        return np.sum(x * c * b) + a[0]
    numpy.testing.assert_allclose(grad(f)(numpy.ones(3)), [0.0, 0.5, 1.0])


def test_constructors_inside_rules_stay_plain():
    @primitive
    def double(x):
        return 2.0 * x
    defvjp(double, lambda ans, x: lambda g: g * np.full_like(x, 2.0))
    defjvp(double, lambda g, ans, x: g * np.ones_like(x) * 2.0)
    x = R(3)
    value, tangent = make_jvp(lambda x: double(x) ** 2)(x)(numpy.ones(3))
    assert type(tangent) is numpy.ndarray
    numpy.testing.assert_allclose(tangent, 8.0 * x)
    gradient = elementwise_grad(lambda x: double(x) ** 2)(x)
    assert type(gradient) is numpy.ndarray
    numpy.testing.assert_allclose(gradient, 8.0 * x)
    check_grads(lambda x: double(np.sin(x)), modes=["fwd", "rev"], order=2)(x)


def test_traced_value_into_a_plain_numpy_array_is_a_clear_error():
    def scalar_position(x):
        y = numpy.zeros(3)
        y[1] = x[0]
        return np.sum(y)

    def row(x):
        y = numpy.zeros((2, 3))
        y[0] = x
        return np.sum(y)

    def slice_of_rows(x):
        y = numpy.zeros(5)
        y[1:4] = x
        return np.sum(y)

    def augmented(x):
        y = numpy.ones(3)
        y[0] += x[1]
        return np.sum(y)
    for fun in (scalar_position, row, slice_of_rows, augmented):
        for mode in ("rev", "fwd"):
            # (a ValueError too, as autograd's boxes raise there: code catching it works)
            with pytest.raises(ValueError, match="array made by plain NumPy") as error:
                if mode == "rev":
                    grad(fun)(R(3))
                else:
                    make_jvp(fun)(R(3))(R(3))
            assert "jitgrad.numpy" in str(error.value)


def test_python_numbers_of_a_value_being_differentiated_are_errors_as_in_autograd():
    for convert in (float, complex, math.exp, lambda v: v.item(), lambda v: v.tolist()):
        with pytest.raises(TypeError, match="would drop its derivative"):
            grad(lambda x: convert(x[0]) * np.sum(x))(R(3))
        with pytest.raises(TypeError, match="would drop its derivative"):
            make_jvp(lambda x: convert(x[0]) * np.sum(x))(R(3))(R(3))


def test_conversions_that_lose_no_derivative_give_values():
    seen = []

    def f(x):
        seen.append(int(x[1] > 0))
        seen.append(int(x[1]))
        seen.append(bool(x[0] > 1.0))
        seen.append(getval(x[0]).item())           # on purpose, without derivative
        seen.append(float(np.zeros(2)[0]))           # a constant
        seen.append(numpy.asarray(x, dtype=int).tolist())  # a cast to integers
        return np.sum(x)
    x = numpy.array([1.5, -2.0, 0.5])
    grad(f)(x)
    assert seen == [0, -2, True, 1.5, 0.0, [1, -2, 0]]


def test_plain_numpy_on_a_traced_array_traces_through_object_arrays_as_autograd():
    # numpy.asarray / numpy.array of values being differentiated make object arrays of
    # traced entries (autograd does the same): plain arithmetic on them still traces.
    x = R(3)
    assert_allclose(grad(lambda x: numpy.asarray(x).sum())(x), numpy.ones(3))
    assert_allclose(grad(lambda x: np.sum(numpy.array([x, 2.0 * x]) ** 2))(x), 10.0 * x)
    assert_allclose(grad(lambda x: np.mean(numpy.array([x[0], x[1]])))(x), [0.5, 0.5, 0.0])
    with pytest.raises(TypeError, match="cannot become a plain float NumPy array"):
        grad(lambda x: numpy.asarray(x, dtype=float).sum())(x)


def test_in_place_operators_keep_shape_and_dtype_like_numpy():
    def grows(x):
        a = np.zeros(3)
        a += np.ones((2, 3)) * x
        return a

    def int_array(x):
        a = np.zeros(3, dtype=int)
        a += x
        return a
    with pytest.raises(ValueError, match="non-broadcastable output"):
        grad(lambda x: np.sum(grows(x)))(R(3))
    with pytest.raises(TypeError, match="same_kind"):
        grad(lambda x: np.sum(int_array(x)))(R(3))


def test_out_of_jitgrad_ufunc_with_traced_inputs_is_an_error():
    def f(x):
        a = np.zeros(3)
        np.multiply(x, x, out=a)
        return np.sum(a)
    with pytest.raises(TypeError, match="out="):
        grad(f)(R(3))
    a = np.zeros(2)
    np.add(numpy.ones(2), 1.0, out=a)  # plain values: NumPy's own out=
    numpy.testing.assert_array_equal(a, [2.0, 2.0])


def test_in_place_writers_of_numpy_say_to_use_assignment():
    def f(x):
        a = np.zeros(3)
        numpy.copyto(a, x)
        return np.sum(a)
    with pytest.raises(TypeError, match="item assignment"):
        grad(f)(R(3))
