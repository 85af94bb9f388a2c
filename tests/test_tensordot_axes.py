"""np.tensordot in every spelling of ``axes``, against NumPy and in both modes to order 2.

NumPy takes an int N (the last N axes of a with the first N of b), a pair of ints, or
a pair of sequences (lists or tuples, nested either way) pairing axes in order, which
may be any order and negative. A VJP that assumes the pairs are sorted gets the
transpose wrong only when the contracted axes are listed out of order.
"""
import numpy
import pytest

import jitgrad.numpy as np
from jitgrad import make_vjp
from jitgrad.test_util import check_grads

R = numpy.random.randn

# (name, shape of a, shape of b, axes)
CASES = [
    ("int_0", (2, 3), (4,), 0),
    ("int_1", (2, 3), (3, 4), 1),
    ("int_2", (2, 3, 4), (3, 4, 2), 2),
    ("pair_of_ints_list", (2, 6), (6, 3), [-1, 0]),
    ("pair_of_ints_tuple", (2, 3), (2, 2), (0, 1)),
    ("lists_of_one", (2, 6), (6, 3), [[-1], [0]]),
    ("tuples_of_one", (1, 3), (3, 4, 2), [(1,), (0,)]),
    ("tuples_in_order", (2, 3, 4), (2, 3, 4, 5), ((0, 1), (0, 1))),
    ("tuples_out_of_order", (2, 3), (1, 2, 3), [(1, 0), (2, 1)]),
    ("lists_out_of_order", (2, 3, 4), (2, 2, 3, 4), [[1, 0], [2, 1]]),
    ("reversed_all_axes", (1, 2, 3), (3, 2, 1), [[0, 1, 2], [2, 1, 0]]),
    ("negative_out_of_order", (4, 3, 2), (2, 5, 3), ([-1, 1], [0, -1])),
    ("tuple_of_lists", (3, 4, 2), (2, 3), ([0, 2], [1, 0])),
    ("square_out_of_order", (3, 3, 2), (3, 3), [(1, 0), (0, 1)]),
]


@pytest.mark.parametrize("name, a_shape, b_shape, axes", CASES, ids=[c[0] for c in CASES])
def test_tensordot_axes(name, a_shape, b_shape, axes):
    a, b = R(*a_shape), R(*b_shape)
    _, value = make_vjp(lambda a, b: np.tensordot(a, b, axes), (0, 1))(a, b)
    numpy.testing.assert_allclose(value, numpy.tensordot(a, b, axes), rtol=1e-12)
    check_grads(lambda a, b: np.tensordot(a, b, axes), (0, 1),
                modes=["fwd", "rev"], order=2)(a, b)


@pytest.mark.parametrize("name, a_shape, b_shape, axes", CASES[-5:], ids=[c[0] for c in CASES[-5:]])
def test_tensordot_axes_by_keyword_and_complex(name, a_shape, b_shape, axes):
    a = R(*a_shape) + 1j * R(*a_shape)
    b = R(*b_shape)
    check_grads(lambda a, b: np.tensordot(a, b, axes=axes), (0, 1),
                modes=["fwd", "rev"], order=2)(a, b)
