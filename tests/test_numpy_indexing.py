"""Indexing (basic, fancy, boolean), take, choose, and sorting: values against NumPy,
gradients in both modes to order 2, and accumulation at repeated indices."""
import numpy
import pytest

import jitgrad.numpy as np
from jitgrad import grad, make_vjp
from jitgrad.test_util import check_grads

R = numpy.random.randn
MASK = numpy.array([True, False, True, True])

# (name, function of (np, x), shape of x)
CASES = [
    ("int", lambda np, x: x[1], (3, 2)),
    ("negative_int", lambda np, x: x[-1, 0], (3, 2)),
    ("slice", lambda np, x: x[1:3], (4, 2)),
    ("step_slice", lambda np, x: x[::-2, 1:], (5, 3)),
    ("ellipsis", lambda np, x: x[..., 0], (2, 3, 2)),
    ("newaxis", lambda np, x: x[None, :, 1], (3, 2)),
    ("empty_tuple", lambda np, x: x[()], (2, 2)),
    ("fancy", lambda np, x: x[[0, 2, 0]], (3, 2)),
    ("fancy_repeated_pairs", lambda np, x: x[[0, 0, 1, 0], [1, 1, 2, 1]], (2, 3)),
    ("fancy_2d_index", lambda np, x: x[numpy.array([[0, 1], [1, 1]])], (3,)),
    ("fancy_column", lambda np, x: x[:, [2, 2, 0]], (2, 3)),
    ("fancy_and_slice", lambda np, x: x[[1, 0, 1], 1:], (2, 3)),
    ("fancy_negative", lambda np, x: x[[-1, -1, 0]], (3,)),
    ("bool_mask", lambda np, x: x[MASK], (4,)),
    ("bool_mask_rows", lambda np, x: x[MASK, 1], (4, 2)),
    ("bool_mask_2d", lambda np, x: x[x > 0], (3, 3)),
    ("take", lambda np, x: np.take(x, [0, 2, 2]), (2, 2)),
    ("take_axis", lambda np, x: np.take(x, [[1, 0], [1, 1]], axis=1), (2, 3)),
    ("take_wrap", lambda np, x: np.take(x, [4, -5, 1], mode="wrap"), (3,)),
    ("take_clip", lambda np, x: np.take(x, [7, -1, 1], axis=0, mode="clip"), (3, 2)),
    ("take_scalar", lambda np, x: np.take(x, 3), (2, 2)),
    ("take_method", lambda np, x: x.take([1, 1], axis=-1), (2, 2)),
    ("take_along_axis", lambda np, x: np.take_along_axis(
        x, numpy.array([[0, 0], [2, 1]]), axis=1), (2, 3)),
    ("take_along_axis_none", lambda np, x: np.take_along_axis(
        x, numpy.array([5, 0, 5]), axis=None), (2, 3)),
    ("sort", lambda np, x: np.sort(x), (5,)),
    ("sort_axis0", lambda np, x: np.sort(x, axis=0), (3, 2)),
    ("sort_none", lambda np, x: np.sort(x, axis=None), (2, 3)),
    ("sort_3d", lambda np, x: np.sort(x, axis=1, kind="stable"), (2, 3, 2)),
    ("sort_complex", lambda np, x: np.sort_complex(x), (4,)),
    ("partition", lambda np, x: np.partition(x, 2), (5,)),
    ("partition_several", lambda np, x: np.partition(x, [0, 2], axis=0), (4, 2)),
    ("partition_none", lambda np, x: np.partition(x, 3, axis=None), (2, 3)),
]


@pytest.mark.parametrize("name, fun, shape", CASES, ids=[c[0] for c in CASES])
def test_indexing_and_sorting(name, fun, shape):
    x = R(*shape)
    expected = fun(numpy, x)
    _, value = make_vjp(lambda x: fun(np, x))(x)
    if name.startswith("partition"):
        # Only the kth positions are fixed; the rest is partitioned around them.
        numpy.testing.assert_array_equal(numpy.sort(value, axis=None),
                                         numpy.sort(expected, axis=None))
    else:
        numpy.testing.assert_array_equal(value, expected)
    check_grads(lambda x: fun(np, x), modes=["fwd", "rev"], order=2)(x)


def test_partition_places_the_kth_element():
    x = R(7)
    _, value = make_vjp(lambda x: np.partition(x, 3))(x)
    assert value[3] == numpy.sort(x)[3]
    assert numpy.all(value[:3] <= value[3]) and numpy.all(value[4:] >= value[3])
    gradient = grad(lambda x: np.partition(x, 3)[3])(x)
    numpy.testing.assert_array_equal(gradient, (x == numpy.sort(x)[3]).astype(float))


@pytest.mark.parametrize("index, expected", [
    ([0, 0, 1], [2.0, 1.0, 0.0]),
    (numpy.array([2, 2, 2, 0]), [1.0, 0.0, 3.0]),
    ((numpy.array([0, 0, -3]),), [3.0, 0.0, 0.0]),
])
def test_repeated_indices_accumulate(index, expected):
    for mode in ("rev", "fwd"):
        if mode == "rev":
            gradient = grad(lambda x: np.sum(x[index]))(numpy.ones(3))
        else:
            gradient = [make_jvp_value(lambda x: np.sum(x[index]), numpy.ones(3), e)
                        for e in numpy.eye(3)]
        numpy.testing.assert_allclose(gradient, expected)


def make_jvp_value(f, x, v):
    from jitgrad import make_jvp
    return make_jvp(f)(x)(v)[1]


def test_take_and_choose_accumulate():
    x = numpy.ones(3)
    numpy.testing.assert_allclose(grad(lambda x: np.sum(np.take(x, [1, 1, 1, 2])))(x),
                                  [0.0, 3.0, 1.0])
    a, b = R(4), R(4)
    index = numpy.array([0, 1, 1, 0])
    expected = numpy.choose(index, [a, b])
    assert numpy.array_equal(make_vjp(lambda a: np.choose(index, [a, b]))(a)[1], expected)
    ga, gb = grad(lambda a, b: np.sum(np.choose(index, [a, b]) * 2.0), (0, 1))(a, b)
    numpy.testing.assert_allclose(ga, 2.0 * (index == 0))
    numpy.testing.assert_allclose(gb, 2.0 * (index == 1))


@pytest.mark.parametrize("mode", ["raise", "wrap", "clip"])
def test_choose(mode):
    index = numpy.array([[0, 2], [1, 4]]) if mode != "raise" else numpy.array([[0, 2], [1, 0]])
    choices = [R(2, 2), R(2), R(1, 2)]
    expected = numpy.choose(index, choices, mode=mode)
    _, value = make_vjp(lambda c: np.choose(index, c, mode=mode))(choices)
    numpy.testing.assert_array_equal(value, expected)
    check_grads(lambda *c: np.choose(index, c, mode=mode), (0, 1, 2),
                modes=["fwd", "rev"], order=2)(*choices)


def test_choose_out_of_range_raises():
    with pytest.raises(ValueError, match="invalid entry"):
        grad(lambda a: np.sum(np.choose([0, 3], [a, a])))(R(2))


def test_index_with_traced_integers_and_lists():
    x = R(4)
    index = numpy.array([3, 1])

    def f(x):
        i = np.array(index)  # a constant box inside the trace
        return np.sum(x[i]) + x[np.argmax(x)] + x[[i[0], 0]][1]
    expected = numpy.zeros(4)
    numpy.add.at(expected, [3, 1, int(numpy.argmax(x)), 0], 1.0)
    numpy.testing.assert_allclose(grad(f)(x), expected)


def test_numpy_sort_on_a_box_traces():
    x = R(4)
    gradient = grad(lambda x: numpy.sum(numpy.sort(x) * numpy.arange(4.0)))(x)
    numpy.testing.assert_allclose(gradient, numpy.argsort(numpy.argsort(x)).astype(float))
