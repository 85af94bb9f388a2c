"""Shape and assembly functions: values against NumPy, gradients in both modes to order 2.

Each case is written once as ``lambda np, *args`` and run with plain NumPy (the
expected value) and with jitgrad.numpy (traced value and gradients).
"""
import numpy
import pytest

import jitgrad.numpy as np
from jitgrad import grad, make_vjp
from jitgrad.trace import getval
from jitgrad.test_util import check_grads

R = numpy.random.randn

# (name, function of (np, x), shape of x)
UNARY = [
    ("reshape", lambda np, x: np.reshape(x, (3, 4)), (2, 6)),
    ("reshape_F", lambda np, x: np.reshape(x, (4, 3), order="F"), (2, 6)),
    ("reshape_method", lambda np, x: x.reshape(-1, 2), (2, 3, 2)),
    ("reshape_method_tuple", lambda np, x: x.reshape((6,)), (2, 3)),
    ("ravel", lambda np, x: np.ravel(x), (2, 3)),
    ("ravel_F", lambda np, x: np.ravel(x, "F"), (2, 3, 2)),
    ("flatten", lambda np, x: x.flatten(), (3, 2)),
    ("transpose", lambda np, x: np.transpose(x), (2, 3, 4)),
    ("transpose_axes", lambda np, x: np.transpose(x, (1, -1, 0)), (2, 3, 4)),
    ("transpose_method", lambda np, x: x.transpose(2, 0, 1), (2, 3, 4)),
    ("T", lambda np, x: x.T, (2, 3)),
    ("permute_dims", lambda np, x: np.permute_dims(x, (2, 0, 1)), (2, 3, 4)),
    ("matrix_transpose", lambda np, x: np.matrix_transpose(x), (2, 3, 4)),
    ("moveaxis", lambda np, x: np.moveaxis(x, 0, -1), (2, 3, 4)),
    ("moveaxis_several", lambda np, x: np.moveaxis(x, (0, 1), (2, 0)), (2, 3, 4)),
    ("swapaxes", lambda np, x: np.swapaxes(x, 0, 2), (2, 3, 4)),
    ("rollaxis", lambda np, x: np.rollaxis(x, 2), (2, 3, 4)),
    ("rollaxis_start", lambda np, x: np.rollaxis(x, 0, 2), (2, 3, 4)),
    ("rollaxis_negative", lambda np, x: np.rollaxis(x, -1, -2), (2, 3, 4)),
    ("expand_dims", lambda np, x: np.expand_dims(x, (0, -1)), (2, 3)),
    ("squeeze", lambda np, x: np.squeeze(x, 1), (2, 1, 3)),
    ("squeeze_all", lambda np, x: np.squeeze(x), (1, 3, 1)),
    ("broadcast_to", lambda np, x: np.broadcast_to(x, (4, 2, 3)), (2, 1)),
    ("repeat", lambda np, x: np.repeat(x, 2), (2, 3)),
    ("repeat_axis", lambda np, x: np.repeat(x, 3, axis=1), (2, 3)),
    ("repeat_counts", lambda np, x: np.repeat(x, [1, 0, 2], axis=-1), (2, 3)),
    ("repeat_counts_flat", lambda np, x: np.repeat(x, [1, 2, 0, 3]), (2, 2)),
    ("repeat_scalar", lambda np, x: np.repeat(x, 3), ()),
    ("tile", lambda np, x: np.tile(x, 2), (3,)),
    ("tile_grows_ndim", lambda np, x: np.tile(x, (2, 1, 3)), (2, 3)),
    ("tile_fewer_reps", lambda np, x: np.tile(x, 2), (2, 2, 2)),
    ("roll", lambda np, x: np.roll(x, 2), (2, 3)),
    ("roll_axes", lambda np, x: np.roll(x, (1, -1), axis=(0, 1)), (2, 3)),
    ("flip", lambda np, x: np.flip(x), (2, 3)),
    ("flip_axis", lambda np, x: np.flip(x, 1), (2, 3, 2)),
    ("fliplr", lambda np, x: np.fliplr(x), (2, 3)),
    ("flipud", lambda np, x: np.flipud(x), (2, 3)),
    ("rot90", lambda np, x: np.rot90(x), (2, 3)),
    ("rot90_k_axes", lambda np, x: np.rot90(x, 3, axes=(1, 2)), (2, 3, 4)),
    ("pad_constant", lambda np, x: np.pad(x, ((1, 2), (0, 1)), constant_values=3.0), (2, 3)),
    ("pad_edge", lambda np, x: np.pad(x, 2, mode="edge"), (3,)),
    ("pad_reflect", lambda np, x: np.pad(x, (2, 3), mode="reflect"), (3, 4)),
    ("pad_symmetric", lambda np, x: np.pad(x, 1, mode="symmetric"), (2, 3)),
    ("pad_wrap", lambda np, x: np.pad(x, ((0, 0), (2, 4)), mode="wrap"), (2, 3)),
    ("diag_of_vector", lambda np, x: np.diag(x, 1), (3,)),
    ("diag_of_matrix", lambda np, x: np.diag(x, -1), (3, 4)),
    ("diagonal", lambda np, x: np.diagonal(x), (3, 3)),
    ("diagonal_axes", lambda np, x: np.diagonal(x, 1, 0, 2), (3, 2, 4)),
    ("diagonal_method", lambda np, x: x.diagonal(-1, 1, 2), (2, 3, 3)),
    ("trace", lambda np, x: np.trace(x), (3, 3)),
    ("trace_axes", lambda np, x: np.trace(x, -1, 2, 0), (3, 2, 4)),
    ("trace_method", lambda np, x: x.trace(), (2, 3)),
    ("tril", lambda np, x: np.tril(x), (3, 4)),
    ("triu_batched", lambda np, x: np.triu(x, 1), (2, 3, 3)),
    ("copy", lambda np, x: np.copy(x), (2, 3)),
    ("copy_method", lambda np, x: x.copy(), (2, 3)),
    ("ascontiguousarray", lambda np, x: np.ascontiguousarray(x.T), (2, 3)),
    ("astype_complex", lambda np, x: x.astype(complex) * (1 + 2j), (2, 3)),
    ("atleast_1d", lambda np, x: np.atleast_1d(x), ()),
    ("atleast_2d", lambda np, x: np.atleast_2d(x), (3,)),
    ("atleast_3d_1d", lambda np, x: np.atleast_3d(x), (3,)),
    ("atleast_3d_2d", lambda np, x: np.atleast_3d(x), (2, 3)),
    ("atleast_3d_scalar", lambda np, x: np.atleast_3d(x), ()),
    ("full_like_traced", lambda np, x: np.full_like(numpy.ones((2, 3)), x[0]), (2,)),
    ("full_traced", lambda np, x: np.full((2, 2), x, dtype=float), ()),
    ("array_of_box", lambda np, x: np.array(x, ndmin=3), (2,)),
    ("asarray_of_box", lambda np, x: np.asarray(x) * 2, (2,)),
]

# Functions of several arrays: (name, function of (np, *args), shapes of args).
NARY = [
    ("concatenate", lambda np, a, b: np.concatenate([a, b]), [(2, 3), (1, 3)]),
    ("concatenate_axis", lambda np, a, b: np.concatenate((a, b, a), axis=-1), [(2, 3), (2, 1)]),
    ("concatenate_none", lambda np, a, b: np.concatenate([a, b], axis=None), [(2, 3), (4,)]),
    ("concatenate_with_plain", lambda np, a, b: np.concatenate([a, numpy.ones(2), b]),
     [(2,), (3,)]),
    ("concat", lambda np, a, b: np.concat([a, b], axis=1), [(2, 1), (2, 2)]),
    ("stack", lambda np, a, b: np.stack([a, b]), [(2, 3), (2, 3)]),
    ("stack_axis", lambda np, a, b: np.stack((a, b, a), axis=-1), [(2, 3), (2, 3)]),
    ("hstack_1d", lambda np, a, b: np.hstack([a, b]), [(2,), (3,)]),
    ("hstack_2d", lambda np, a, b: np.hstack([a, b]), [(2, 1), (2, 3)]),
    ("vstack", lambda np, a, b: np.vstack([a, b]), [(3,), (2, 3)]),
    ("dstack", lambda np, a, b: np.dstack([a, b]), [(2, 3), (2, 3, 2)]),
    ("column_stack", lambda np, a, b: np.column_stack([a, b]), [(3,), (3, 2)]),
    ("append", lambda np, a, b: np.append(a, b), [(2, 2), (3,)]),
    ("append_axis", lambda np, a, b: np.append(a, b, axis=0), [(2, 2), (1, 2)]),
    ("block", lambda np, a, b: np.block([[a, b], [b, a]]), [(2, 1), (2, 2)]),
    ("block_1d", lambda np, a, b: np.block([a, 1.0, b]), [(2,), (3,)]),
    ("block_promotes", lambda np, a, b: np.block([[[a]], [[b]]]), [(2,), (2,)]),
    ("broadcast_arrays", lambda np, a, b: np.stack(np.broadcast_arrays(a, b)),
     [(2, 1), (3,)]),
    ("select", lambda np, a, b: np.select([a > 0, b > 0], [a, b * 2], default=-1.0),
     [(2, 3), (2, 3)]),
    ("select_broadcast", lambda np, a, b: np.select([a > 0], [b], a), [(2, 3), (3,)]),
    ("array_of_list", lambda np, a, b: np.array([[a[0], b[1]], [b[0] * 2, 3.0]]),
     [(2,), (2,)]),
    ("array_of_boxes", lambda np, a, b: np.array([a, b, a * b]), [(2,), (2,)]),
    ("array_dtype", lambda np, a, b: np.array([a, b], dtype=complex), [(2,), (2,)]),
]


def _values(shapes):
    return [R(*shape) if shape else float(R()) for shape in shapes]


def _check_case(fun, args):
    expected = fun(numpy, *args)
    _, traced_value = make_vjp(lambda *a: fun(np, *a), tuple(range(len(args))))(*args)
    numpy.testing.assert_allclose(traced_value, expected, rtol=1e-12)
    assert numpy.result_type(traced_value) == numpy.result_type(expected)
    argnums = 0 if len(args) == 1 else tuple(range(len(args)))
    check_grads(lambda *a: fun(np, *a), argnums, modes=["fwd", "rev"], order=2)(*args)


@pytest.mark.parametrize("name, fun, shape", UNARY, ids=[c[0] for c in UNARY])
def test_unary_shape_function(name, fun, shape):
    _check_case(fun, _values([shape]))


@pytest.mark.parametrize("name, fun, shapes", NARY, ids=[c[0] for c in NARY])
def test_assembly_function(name, fun, shapes):
    _check_case(fun, _values(shapes))


SPLITS = [
    ("split", lambda np, x: np.split(x, 3), (6,)),
    ("split_indices", lambda np, x: np.split(x, [1, 4], axis=1), (2, 5)),
    ("array_split", lambda np, x: np.array_split(x, 3, axis=-1), (2, 7)),
    ("hsplit", lambda np, x: np.hsplit(x, 2), (3, 4)),
    ("vsplit", lambda np, x: np.vsplit(x, [1]), (3, 2)),
    ("dsplit", lambda np, x: np.dsplit(x, 2), (2, 1, 4)),
    ("unstack", lambda np, x: np.unstack(x, axis=1), (2, 3)),
]


@pytest.mark.parametrize("name, fun, shape", SPLITS, ids=[c[0] for c in SPLITS])
def test_split_function(name, fun, shape):
    x = R(*shape)
    expected = fun(numpy, x)
    pieces = []
    grad(lambda x: pieces.extend(fun(np, x)) or np.sum(x))(x)
    assert len(pieces) == len(expected)
    for piece, want in zip(pieces, expected):
        numpy.testing.assert_array_equal(getval(piece), want)
    weights = [R(*numpy.shape(piece)) for piece in expected]

    def weighted(x):
        return sum(np.sum(w * np.sin(piece)) for w, piece in zip(weights, fun(np, x)))
    check_grads(weighted, modes=["fwd", "rev"], order=2)(x)


@pytest.mark.parametrize("fun", [
    lambda np, x: np.reshape(x, (2, 3)), lambda np, x: np.transpose(x),
    lambda np, x: np.concatenate([x, x]), lambda np, x: np.stack([x, np.ones_like(x)]),
    lambda np, x: np.pad(x, 1), lambda np, x: np.repeat(x, 2, axis=0),
    lambda np, x: np.tile(x, 2), lambda np, x: np.diagonal(np.reshape(x, (2, 3))),
    lambda np, x: np.array([x[0], x[1]]), lambda np, x: np.sort(x),
    lambda np, x: np.full((2,), x[0]),
])
@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
def test_dtypes_are_kept(fun, dtype):
    x = R(3, 2).astype(dtype)
    expected = fun(numpy, x)
    gradient = grad(lambda x: np.sum(fun(np, x) ** 2))(x)
    _, value = make_vjp(lambda x: fun(np, x))(x)
    assert value.dtype == expected.dtype == dtype
    assert gradient.dtype == dtype


def test_concatenate_gradient_keeps_each_input_dtype():
    a, b = R(2).astype(numpy.float32), R(3)
    ga, gb = grad(lambda a, b: np.sum(np.concatenate([a, b]) ** 2), (0, 1))(a, b)
    assert ga.dtype == numpy.float32 and gb.dtype == numpy.float64
    numpy.testing.assert_allclose(ga, 2 * a, rtol=1e-6)
    real, cplx = R(2), R(2) + 1j * R(2)
    g_real = grad(lambda r: np.sum(np.abs(np.concatenate([r, cplx])) ** 2))(real)
    assert g_real.dtype == numpy.float64
    numpy.testing.assert_allclose(g_real, 2 * real)


def test_pad_modes_without_a_rule_say_so():
    with pytest.raises(NotImplementedError, match="mode='mean'"):
        grad(lambda x: np.sum(np.pad(x, 1, mode="mean")))(R(3))
    with pytest.raises(NotImplementedError, match="reflect_type"):
        grad(lambda x: np.sum(np.pad(x, 1, mode="reflect", reflect_type="odd")))(R(3))


def test_plain_inputs_take_numpy_paths():
    a, b = numpy.ones(2), numpy.zeros(2)
    assert type(np.concatenate([a, b])) is numpy.ndarray
    assert type(np.stack([a, b])) is numpy.ndarray
    assert [type(p) for p in np.split(numpy.arange(4.0), 2)] == [numpy.ndarray] * 2
    assert type(np.array([1.0, 2.0])) is numpy.ndarray
    assert np.atleast_2d(1.0).shape == (1, 1)
