"""The compiled replays (``def_replay``: gathers, their scatter-add gradients, rolls,
integer remainders) give NumPy's results to the bit and NumPy's errors, on every input;
jitted plans call them, and replay what eager computes, bit for bit."""
import warnings

import numpy
import pytest

import jitgrad
import jitgrad.numpy as np
from jitgrad import grad, kernels
from jitgrad.kernels import compiled, indexing, integers
from jitgrad.numpy.traced_index import take_traced, untake_traced
from jitgrad.trace.rules import replays

rng = numpy.random.RandomState(0)
R = rng.randn


def same_bits(got, want):
    """Same type, dtype, shape, memory order and bytes (a NaN's payload included)."""
    return (type(got) is type(want) and got.dtype == want.dtype and got.shape == want.shape
            and got.flags.c_contiguous == want.flags.c_contiguous
            and numpy.ascontiguousarray(got).tobytes() == numpy.ascontiguousarray(want).tobytes())


def _nan_payloads(a):
    """``a`` (float64) with a few NaNs of unusual payloads, which a copy must keep."""
    a = a.copy()
    bits = a.reshape(-1).view(numpy.uint64)
    bits[::7] = numpy.uint64(0x7FF0000000000123)  # a signalling NaN
    bits[1::11] = numpy.uint64(0xFFF8000000000456)
    return a


# (array, index arrays): shapes, negative and repeated indices, broadcast index arrays,
# non-contiguous arrays and indices, empty ones, dtypes the loops copy and others.
ints = rng.randint
TAKE_CASES = [
    ("2-d", R(5, 7), (ints(-5, 5, (30, 4)), ints(-7, 7, (30, 4)))),
    ("repeated", R(5, 7), (numpy.zeros((3, 3), int), numpy.full((3, 3), -1))),
    ("broadcast", R(5, 7), (ints(-5, 5, (5, 1)), ints(-7, 7, (1, 7)))),
    ("broadcast 0-d", R(5, 7), (numpy.array(2), ints(-7, 7, (4,)))),
    ("broadcast 1-d", R(5, 7), (ints(-5, 5, (3, 1)), ints(-7, 7, (4,)))),
    ("broadcast 3-d", R(5, 7), (ints(-5, 5, (2, 1, 4)), ints(-7, 7, (3, 1)))),
    ("broadcast columns", R(5, 7), (ints(-5, 5, (6, 4)), ints(-7, 7, (6, 1)))),
    ("1-d", R(9), (ints(-9, 9, (4, 3)),)),
    ("3-d", R(3, 4, 5), (ints(-3, 3, 6), ints(-4, 4, 6), ints(-5, 5, 6))),
    ("float32", R(5, 7).astype(numpy.float32), (ints(0, 5, 8), ints(0, 7, 8))),
    ("complex", R(5, 7) + 1j * R(5, 7), (ints(0, 5, 8), ints(0, 7, 8))),
    ("int8", ints(-100, 100, (5, 7)).astype(numpy.int8), (ints(0, 5, 8), ints(0, 7, 8))),
    ("bool", R(5, 7) > 0, (ints(0, 5, 8), ints(0, 7, 8))),
    ("NaN payloads", _nan_payloads(R(8, 8)), (ints(0, 8, (8, 8)), ints(0, 8, (8, 8)))),
    ("Fortran array", numpy.asfortranarray(R(5, 7)), (ints(0, 5, 8), ints(0, 7, 8))),
    ("strided array", R(10, 7)[::2], (ints(0, 5, 8), ints(0, 7, 8))),
    ("strided indices", R(5, 7), (ints(0, 5, (6, 4)).T, ints(0, 7, (6, 4)).T)),
    ("int32 indices", R(5, 7), (ints(0, 5, 8).astype(numpy.int32), ints(0, 7, 8))),
    ("big-endian", R(5, 7).astype(">f8"), (ints(0, 5, 8), ints(0, 7, 8))),
    ("empty indices", R(5, 7), (numpy.zeros((0, 3), int), numpy.zeros((0, 3), int))),
    ("empty array", R(0, 7), (numpy.zeros(0, int), numpy.zeros(0, int))),
    ("0-d indices", R(5, 7), (numpy.array(1), numpy.array(-2))),
    ("five axes", R(2, 2, 2, 2, 2), tuple(ints(0, 2, 3) for _ in range(5))),
]
OUT_OF_BOUNDS = [
    (R(5, 7), (numpy.array([0, 5]), numpy.array([0, 0]))),
    (R(5, 7), (numpy.array([0, 0]), numpy.array([-8, 0]))),
    (R(0, 7), (numpy.array([0]), numpy.array([0]))),
    (R(5, 7), (ints(0, 5, (5, 1)), numpy.array([[7]]))),
]


def _error(fun, *args):
    with pytest.raises(IndexError) as error:
        fun(*args)
    return str(error.value)


@pytest.mark.parametrize("name, a, index", TAKE_CASES, ids=[c[0] for c in TAKE_CASES])
def test_take_is_numpys(name, a, index):
    assert same_bits(indexing.take(a, index), a[index])


@pytest.mark.parametrize("a, index", OUT_OF_BOUNDS)
def test_take_raises_numpys_index_error(a, index):
    assert _error(indexing.take, a, index) == _error(a.__getitem__, index)


def _add_at(shape, index, values):
    out = numpy.zeros(shape)
    # Values broadcast by hand: NumPy 2.4.6's add.at reads memory it does not own when
    # it broadcasts them itself along a 1-d array (zeros(9), (i of shape (4, 3),), and
    # values of shape (3,)); the kernel, and fast_paths.scatter_add, broadcast right.
    index_shape = numpy.broadcast_shapes(*(numpy.shape(i) for i in index))
    numpy.add.at(out, index, numpy.broadcast_to(values, index_shape).copy())
    return out


SCATTERED = {"2-d", "repeated", "broadcast", "broadcast 1-d", "broadcast 3-d",
             "broadcast columns", "1-d", "3-d", "float32", "complex", "int8", "bool",
             "NaN payloads", "Fortran array", "strided array", "big-endian", "empty indices",
             "empty array"}


@pytest.mark.parametrize("name, a, index", TAKE_CASES, ids=[c[0] for c in TAKE_CASES])
def test_scatter_add_is_add_at_where_it_handles_the_call(name, a, index):
    shape = numpy.broadcast_shapes(*(i.shape for i in index))
    for values in (R(*shape), R(*shape[1:]), numpy.array(2.5), numpy.asfortranarray(R(*shape)),
                   numpy.asarray(R(*shape), numpy.float32), 1.5):
        if numpy.broadcast_shapes(numpy.shape(values), shape) != shape:
            continue  # (asfortranarray makes a 0-d array 1-d)
        got = indexing.add_at_zeros(a.shape, index, values)
        if name in SCATTERED and type(values) is numpy.ndarray and values.dtype == float:
            assert same_bits(got, _add_at(a.shape, index, values))
        else:  # left to the caller: int32 or strided indices, float32 values...
            assert got is None


@pytest.mark.parametrize("a, index", OUT_OF_BOUNDS)
def test_scatter_add_out_of_bounds_is_left_to_the_caller(a, index):
    values = numpy.ones(numpy.broadcast_shapes(*(i.shape for i in index)))
    assert indexing.add_at_zeros(a.shape, index, values) is None


def test_scatter_add_of_values_that_do_not_broadcast_is_left_to_the_caller():
    index = (numpy.array([0, 1]), numpy.array([0, 1]))
    assert indexing.add_at_zeros((3, 3), index, numpy.ones(3)) is None


ROLL_ARRAYS = [R(5, 7), R(4, 3, 2), R(6), R(3, 0), R(5, 7).astype(numpy.float32),
               ints(-9, 9, (4, 5)).astype(numpy.int8), R(4, 5) + 2j, R(4, 5) > 0,
               _nan_payloads(R(6, 6)), numpy.asfortranarray(R(5, 7)), R(10, 7)[::2],
               R(5, 7).astype(">f8")]


@pytest.mark.parametrize("a", ROLL_ARRAYS, ids=range(len(ROLL_ARRAYS)))
@pytest.mark.parametrize("shift", [1, -1, 12, -130, 0, numpy.int64(-5), numpy.uint8(3)])
def test_roll_is_numpys(a, shift):
    for axis in [*range(-a.ndim, a.ndim), None, numpy.int64(0)]:
        assert same_bits(indexing.roll(a, shift, axis), numpy.roll(a, shift, axis))
    assert same_bits(indexing.roll(a, (1, shift), (0, -1)), numpy.roll(a, (1, shift), (0, -1)))


def test_roll_raises_numpys_errors():
    for a, axis in [(R(2, 2), 2), (R(2, 2), -3), (numpy.array(1.0), 0)]:
        with pytest.raises(numpy.exceptions.AxisError) as want:
            numpy.roll(a, 1, axis)
        with pytest.raises(numpy.exceptions.AxisError) as got:
            indexing.roll(a, 1, axis)
        assert str(got.value) == str(want.value)


INT64 = numpy.iinfo(numpy.int64)
DIVIDENDS = [ints(-1000, 1000, (6, 7)), numpy.array([INT64.min, INT64.max, -1, 0, 1, -64, 64]),
             ints(-9, 9, (4, 6)).T, numpy.zeros((0, 3), int), numpy.array(-5),
             ints(-9, 9, 5).astype(numpy.int32), R(5)]


@pytest.mark.parametrize("x", DIVIDENDS, ids=range(len(DIVIDENDS)))
@pytest.mark.parametrize("d", [1, 2, 64, 2 ** 40, 2 ** 62, 63, -64, -1, 7, numpy.int64(64),
                               True])
def test_remainder_is_numpys(x, d):
    try:
        want = numpy.remainder(x, d)
    except OverflowError as error:  # d beyond x's integer type
        with pytest.raises(OverflowError, match=str(error)):
            integers.remainder(x, d)
    else:
        assert same_bits(integers.remainder(x, d), want)


def test_remainder_by_zero_warns_as_numpy_does():
    x = ints(-9, 9, 5)
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        got = integers.remainder(x, 0)
    with numpy.errstate(divide="ignore"):
        assert same_bits(got, numpy.remainder(x, 0))
    assert same_bits(integers.remainder(x, 4, out=numpy.empty(5, int)),
                     numpy.remainder(x, 4, out=numpy.empty(5, int)))


def test_a_kernel_that_fails_to_compile_leaves_numpy_to_compute(monkeypatch):
    def broken(source):
        raise RuntimeError("no Numba today")
    monkeypatch.setattr(compiled, "load_kernel", broken)
    kept = dict(compiled.ready)
    compiled.ready.clear()
    try:
        a, index = R(5, 7), (ints(0, 5, 8), ints(0, 7, 8))
        with pytest.warns(RuntimeWarning, match="gather kernel failed to compile"):
            assert same_bits(indexing.take(a, index), a[index])
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # said once
            assert same_bits(indexing.take(a, index), a[index])
    finally:
        compiled.ready.clear()
        compiled.ready.update(kept)


# -- jitted plans call them, and replay what eager computes --------------------------
def advect(f, u, v):
    """examples/fluidsim.py's semi-Lagrangian advection: bilinear gathers at computed,
    wrapped indices."""
    rows, cols = f.shape
    y = np.arange(rows)[:, None] - v
    x = np.arange(cols)[None, :] - u
    y0, x0 = np.floor(y), np.floor(x)
    wy, wx = y - y0, x - x0
    i0 = y0.astype(int) % rows
    j0 = x0.astype(int) % cols
    i1, j1 = (i0 + 1) % rows, (j0 + 1) % cols
    return ((1 - wy) * ((1 - wx) * f[i0, j0] + wx * f[i0, j1])
            + wy * ((1 - wx) * f[i1, j0] + wx * f[i1, j1]))


def laplacian(p):
    return (np.roll(p, 1, axis=0) + np.roll(p, -1, axis=0) + np.roll(p, 1, axis=1)
            + np.roll(p, -1, axis=1) - 4 * p)


def advect_loss(f, u, v):
    g = advect(f, u, v)
    return np.sum(laplacian(g) ** 2) + np.sum(f[np.floor(u).astype(int) % 5] * u)


def roll_loss(p, q):
    for _ in range(3):
        p = p + 0.1 * laplacian(p) * q
    return np.sum(np.roll(p, 7, 0) * np.roll(p, -3, 1))


def called(jitted):
    """The functions its plans call."""
    plans = [plan for entry in jitted._cache.values() if isinstance(entry, list)
             for plan in entry]
    return {id(f) for plan in plans for f in plan.run.__globals__.values() if callable(f)}


@pytest.mark.parametrize("loss, shapes, primitives", [
    (advect_loss, [(5, 5)] * 3, [np.roll, np.remainder, take_traced, untake_traced]),
    (roll_loss, [(6, 8)] * 2, [np.roll]),
])
def test_jitted_replays_are_eagers_bits(loss, shapes, primitives):
    jitted = grad(loss, argnum=0, jit=True)
    for call in range(4):
        args = [3 * R(*shape) for shape in shapes]
        assert numpy.array_equal(jitted(*args), grad(loss, argnum=0, jit=False)(*args)), call
    # fused plans call the compiled replays in place of the primitives' own functions
    fused, functions = kernels.fusion_enabled(), called(jitted)
    for primitive in primitives:
        own, replay = primitive.fun, replays[primitive.fun]
        assert (id(replay) in functions, id(own) in functions) == (fused, not fused), primitive


def test_jitted_gathers_out_of_bounds_raise_as_eager():
    def loss(f, i):
        return np.sum(f[i, i] ** 2)
    f = R(4, 4)
    jitted = grad(loss, jit=True)
    numpy.testing.assert_array_equal(jitted(f, numpy.array([0, 3, -4])),
                                     grad(loss)(f, numpy.array([0, 3, -4])))
    numpy.testing.assert_array_equal(jitted(f, numpy.array([1, -1, 2])),
                                     grad(loss)(f, numpy.array([1, -1, 2])))
    with pytest.raises(IndexError, match="index 4 is out of bounds for axis 0 with size 4"):
        jitted(f, numpy.array([0, 4, 1]))
