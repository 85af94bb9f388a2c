"""Tuples, lists and dicts of arrays as inputs and outputs, jitgrad.builtins, flatten."""
from collections import OrderedDict

import numpy
import pytest

import jitgrad.builtins as jb
import jitgrad.numpy as np
from jitgrad import grad, jacobian, make_jvp, make_vjp, value_and_grad
from jitgrad.extend import defjvp, defvjp, primitive
from jitgrad.misc import flatten, flatten_func
from jitgrad.test_util import check_grads

BOTH = ["fwd", "rev"]


def three_deep():
    """dict -> list -> tuple/dict -> arrays and scalars."""
    return {"layers": [(numpy.random.randn(2), 0.7), {"w": (numpy.random.randn(3),)}],
            "scale": 1.5}


def loss(params):
    (u, s), inner = params["layers"]
    return np.sum(u * s) ** 2 + np.sum(np.sin(inner["w"][0])) * params["scale"]


def test_gradient_comes_back_in_the_same_nested_structure():
    params = three_deep()
    gradient = grad(loss)(params)
    assert type(gradient) is dict and list(gradient) == ["layers", "scale"]
    assert type(gradient["layers"]) is list and type(gradient["layers"][0]) is tuple
    assert type(gradient["layers"][1]) is dict and type(gradient["layers"][1]["w"]) is tuple
    (u, s), inner = params["layers"]
    (du, ds), dinner = gradient["layers"]
    total = numpy.sum(u * s)
    numpy.testing.assert_allclose(du, 2 * total * s)
    assert ds == pytest.approx(2 * total * numpy.sum(u))
    numpy.testing.assert_allclose(dinner["w"][0], numpy.cos(inner["w"][0]) * params["scale"])
    assert gradient["scale"] == pytest.approx(numpy.sum(numpy.sin(inner["w"][0])))


def test_nested_input_check_grads_both_modes():
    check_grads(loss, modes=BOTH, order=2)(three_deep())


def test_unused_entries_get_zero_gradients_of_their_shape():
    params = {"used": numpy.ones(2), "unused": [numpy.ones((2, 2)), 3.0]}
    gradient = grad(lambda p: np.sum(p["used"] ** 2))(params)
    numpy.testing.assert_array_equal(gradient["unused"][0], numpy.zeros((2, 2)))
    assert gradient["unused"][1] == 0.0 and isinstance(gradient["unused"], list)


def nested_output(x):
    return {"out": [(np.sin(x), x ** 2), {"total": np.sum(x), "list": [np.exp(x)]}]}


def test_nested_outputs_forward_and_reverse():
    x = numpy.random.randn(2)
    value, tangent = make_jvp(nested_output)(x)(numpy.ones(2))
    numpy.testing.assert_allclose(value["out"][1]["list"][0], numpy.exp(x))
    numpy.testing.assert_allclose(tangent["out"][0][0], numpy.cos(x))
    numpy.testing.assert_allclose(tangent["out"][0][1], 2 * x)
    assert tangent["out"][1]["total"] == pytest.approx(2.0)
    vjp, value = make_vjp(nested_output)(x)
    cotangent = {"out": [(numpy.ones(2), numpy.zeros(2)),
                         {"total": 2.0, "list": [numpy.ones(2)]}]}
    numpy.testing.assert_allclose(vjp(cotangent), numpy.cos(x) + 2.0 + numpy.exp(x))
    check_grads(nested_output, modes=BOTH, order=2)(x)


def test_containers_in_and_out():
    def swap(pair):
        a, (b, c) = pair
        return [{"c": c * a}, (b,)]
    check_grads(swap, modes=BOTH, order=2)((numpy.random.randn(2), (1.3, numpy.random.randn(2))))


def test_argnum_tuple_differentiates_with_respect_to_a_tuple():
    f = lambda a, b: np.sum(a * b["x"][0])
    a, b = numpy.random.randn(3), {"x": [numpy.random.randn(3)]}
    da, db = grad(f, (0, 1))(a, b)
    numpy.testing.assert_allclose(da, b["x"][0])
    numpy.testing.assert_allclose(db["x"][0], a)


def test_builtins_make_traced_containers():
    seen = {}

    def f(x):
        pair = jb.tuple([np.sin(x), x])
        items = jb.list([pair, x * 2])
        table = jb.dict(first=items, second=x)
        seen.update(tuple=jb.isinstance(pair, tuple), list=jb.isinstance(items, list),
                    dict=jb.isinstance(table, dict), types=(jb.type(pair), jb.type(items),
                                                            jb.type(table)),
                    jb_tuple=isinstance(pair, jb.tuple), not_list=jb.isinstance(pair, list))
        return np.sum(table["first"][0][0]) + np.sum(table["first"][1]) + np.sum(table["second"])
    x = numpy.random.randn(2)
    numpy.testing.assert_allclose(grad(f)(x), numpy.cos(x) + 3.0)
    assert seen == dict(tuple=True, list=True, dict=True, types=(tuple, list, dict),
                        jb_tuple=True, not_list=False)


def test_builtins_on_plain_values():
    assert jb.tuple([1, 2]) == (1, 2) and type(jb.tuple([1])) is tuple
    assert jb.list((1, 2)) == [1, 2] and type(jb.list()) is list
    assert jb.dict([("a", 1)], b=2) == {"a": 1, "b": 2}
    assert jb.isinstance(3.0, float) and not jb.isinstance(3.0, dict)
    assert jb.type(numpy.ones(2)) is numpy.ndarray


def test_traced_container_returned_and_passed_to_a_primitive():
    @primitive
    def pair_dot(pair):
        return numpy.dot(pair[0], pair[1])
    defvjp(pair_dot, lambda ans, pair: lambda g: (g * pair[1], g * pair[0]))
    defjvp(pair_dot, lambda g, ans, pair: np.dot(g[0], pair[1]) + np.dot(pair[0], g[1]))
    x = numpy.random.randn(3)
    f = lambda x: pair_dot(jb.tuple([x, np.sin(x)]))
    numpy.testing.assert_allclose(grad(f)(x), numpy.sin(x) + x * numpy.cos(x))
    check_grads(f, modes=BOTH, order=1)(x)
    da, db = grad(pair_dot)((x, 2 * x))
    numpy.testing.assert_allclose(da, 2 * x)
    numpy.testing.assert_allclose(db, x)


def test_sequence_and_dict_box_methods():
    def f(pair):
        a, b = pair
        longer = pair + (a,)
        return len(longer) * np.sum(longer[2] * longer[-2]) + np.sum(pair[0:1][0])
    a, b = numpy.random.randn(2), numpy.random.randn(2)
    da, db = grad(f)((a, b))
    numpy.testing.assert_allclose(da, 3 * b + 1)
    numpy.testing.assert_allclose(db, 3 * a)

    def g(d):
        total = 0.0
        for key, value in d.items():
            total = total + np.sum(value) * (2.0 if "x" in d else 1.0)
        return total + d.get("y", 0.0) + np.sum(jb.list(d.values())[0]) + len(list(d.keys()))
    gradient = grad(g)({"x": numpy.ones(2), "y": 3.0})
    numpy.testing.assert_allclose(gradient["x"], [3.0, 3.0])
    assert gradient["y"] == pytest.approx(3.0)


def test_value_and_grad_with_ordered_dict():
    params = OrderedDict([("b", numpy.ones(2)), ("a", 2.0)])
    value, gradient = value_and_grad(lambda p: p["a"] * np.sum(p["b"] ** 2))(params)
    assert value == pytest.approx(4.0)
    assert type(gradient) is OrderedDict and list(gradient) == ["b", "a"]
    numpy.testing.assert_allclose(gradient["b"], [4.0, 4.0])


def test_flatten_unflatten_round_trip():
    value = three_deep()
    vector, unflatten = flatten(value)
    assert vector.shape == (2 + 1 + 3 + 1,)
    back = unflatten(vector)
    again, _ = flatten(back)
    numpy.testing.assert_array_equal(again, vector)
    assert type(back["layers"]) is list and type(back["layers"][0]) is tuple
    numpy.testing.assert_array_equal(back["layers"][1]["w"][0], value["layers"][1]["w"][0])
    assert numpy.ndim(back["scale"]) == 0
    shifted = unflatten(vector + 1.0)
    numpy.testing.assert_allclose(shifted["layers"][0][0], value["layers"][0][0] + 1.0)


def test_flatten_edge_cases():
    vector, unflatten = flatten({"a": [], "b": ()})
    assert vector.shape == (0,) and unflatten(vector) == {"a": [], "b": ()}
    ordered = OrderedDict([("z", 1.0), ("a", numpy.arange(2.0))])
    vector, unflatten = flatten(ordered)
    numpy.testing.assert_array_equal(vector, [1.0, 0.0, 1.0])
    assert type(unflatten(vector)) is OrderedDict and list(unflatten(vector)) == ["z", "a"]
    matrix = numpy.arange(6.0).reshape(2, 3)
    vector, unflatten = flatten(matrix)
    numpy.testing.assert_array_equal(unflatten(vector), matrix)


def test_flatten_and_unflatten_are_differentiable():
    value = three_deep()
    _, unflatten = flatten(value)
    # through flatten of a traced container
    gradient = grad(lambda p: np.sum(flatten(p)[0] ** 2))(value)
    numpy.testing.assert_allclose(flatten(gradient)[0], 2 * flatten(value)[0])
    # through unflatten of a traced vector
    vector = numpy.random.randn(7)
    numpy.testing.assert_allclose(jacobian(lambda v: flatten(unflatten(v))[0])(vector),
                                  numpy.eye(7))
    check_grads(lambda v: loss(unflatten(v)), modes=BOTH, order=2)(vector)
    # of a container built from traced values
    x = numpy.random.randn(2)
    numpy.testing.assert_allclose(
        grad(lambda x: np.sum(flatten(jb.tuple([x, jb.list([x * 2.0])]))[0] ** 2))(x), 10 * x)


def test_flatten_func():
    def f(params, power):
        (u, s), inner = params["layers"]
        return {"y": (u ** power, s * inner["w"][0])}
    example = three_deep()
    flat_f, unflatten, flat_example = flatten_func(f, example)
    numpy.testing.assert_array_equal(flat_example, flatten(example)[0])
    out = flat_f(flat_example, 2)
    numpy.testing.assert_allclose(out, flatten(f(example, 2))[0])
    assert jacobian(flat_f)(flat_example, 2).shape == (5, 7)


def test_unused_entries_of_a_tuple_get_fresh_writable_zeros():
    import numpy
    from jitgrad import grad
    import jitgrad.numpy as np
    params = (numpy.ones(3), numpy.ones((2, 2)), numpy.ones(4))
    loss = lambda p: np.sum(p[0] ** 2) + np.sum(p[0] * 3.0)  # noqa: E731
    first = grad(loss)(params)
    numpy.testing.assert_allclose(first[0], 5.0 * numpy.ones(3))
    for unused, shape in ((first[1], (2, 2)), (first[2], (4,))):
        assert type(unused) is numpy.ndarray and unused.shape == shape and not unused.any()
        unused += 1.0  # the caller owns its result
    second = grad(lambda p: loss(p) + np.sum(p[1]))(params)
    numpy.testing.assert_allclose(second[1], numpy.ones((2, 2)))
    numpy.testing.assert_allclose(second[2], numpy.zeros(4))


def test_unflatten_gives_each_leaf_its_own_dtype_as_autograd():
    """A float32 leaf among float64 ones comes back float32, and a Python float as a
    0-d array (autograd 1.9.1 gives exactly these), also through an optimizer."""
    value = {"c": 3.5, "d": [numpy.float32(2.0), numpy.ones(2, dtype=numpy.float32)]}
    vector, unflatten = flatten(value)
    back = unflatten(vector * 2.0)
    assert type(back["c"]) is numpy.ndarray and back["c"].shape == () and back["c"] == 7.0
    assert [leaf.dtype for leaf in back["d"]] == [numpy.float32, numpy.float32]
    numpy.testing.assert_array_equal(back["d"][1], [2.0, 2.0])
    from jitgrad.misc.optimizers import sgd
    result = sgd(grad(lambda p, i: (p["b"] - 1.0) ** 2 + np.sum(p["w"] ** 2)),
                 {"w": numpy.ones(2, dtype=numpy.float32), "b": 0.0}, num_iters=3)
    assert result["w"].dtype == numpy.float32 and type(result["b"]) is numpy.ndarray
