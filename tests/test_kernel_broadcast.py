"""Fused regions with broadcasting operands and float32 regions: jit replays against eager,
bit for bit (arithmetic kernels compute each element as NumPy's loops do), and kernel
sources keyed by broadcast pattern and dtype, never by sizes."""
import numpy
import pytest

import jitgrad.numpy as np
from jitgrad import grad, jit
from jitgrad.jit import clear_shared_plans
from jitgrad.kernels.source import Layout

pytestmark = [pytest.mark.eager_only,  # these tests set jit= and fusion themselves
              pytest.mark.usefixtures("small_kernels_and_private_cache")]
rng = numpy.random.default_rng(5)


def plans(jitted):
    return [plan for entry in jitted._cache.values() for plan in entry]


def kernels(jitted):
    return [k for p in plans(jitted) for k in p.kernels]


def largest(jitted):
    return max(kernels(jitted), key=lambda k: len(k.region.steps))


def assert_same_bits(got, want):
    assert type(got) is type(want)
    got, want = numpy.asarray(got), numpy.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype
    assert got.tobytes() == want.tobytes(), (got, want)


def column_times_row(c, r, x):
    return (c * r + x) * 0.5 - x * c / (1.0 + r * r)


def row_and_scalar_array(x, r, s):
    return x * r - s * x + (r - s) * 3.0


def three_axes(a, b, x):
    return (x - a) * b + a * b - x * x


# name: (function, argument shapes)
CASES = {
    "column_times_row": (column_times_row, [(6, 1), (1, 7), (6, 7)]),
    "row_and_scalar_array": (row_and_scalar_array, [(5, 9), (9,), ()]),
    "three_axes": (three_axes, [(3, 1, 4), (1, 5, 1), (3, 5, 4)]),
    "leading_axes_of_one": (three_axes, [(1, 1, 12), (12,), (2, 3, 12)]),
}


def draw(shapes, dtype=numpy.float64):
    return [numpy.asarray(rng.standard_normal(shape), dtype) for shape in shapes]


@pytest.mark.parametrize("name", sorted(CASES))
def test_broadcasting_operands_fuse_and_replay_as_eager_bitwise(name):
    f, shapes = CASES[name]
    jitted = jit(f)
    for _ in range(3):  # the trace, then replays with new values
        args = draw(shapes)
        assert_same_bits(jitted(*args), f(*args))
    assert len(largest(jitted).region.steps) >= 4


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients_with_broadcasting_operands_replay_as_eager_bitwise(name):
    f, shapes = CASES[name]
    loss = lambda *args: np.sum(f(*args) ** 2)  # noqa: E731
    argnums = tuple(range(len(shapes)))
    jitted = grad(loss, argnums, jit=True)
    for _ in range(3):
        args = draw(shapes)
        for got, want in zip(jitted(*args), grad(loss, argnums)(*args)):
            assert_same_bits(got, want)
    assert kernels(jitted)


def test_sizes_are_not_in_the_source_broadcast_patterns_are():
    found = []
    for shapes in ([(6, 1), (1, 7), (6, 7)],
                   [(9, 1), (1, 13), (9, 13)],     # other sizes, same pattern
                   [(1, 7), (6, 1), (6, 7)]):      # the pattern swapped
        clear_shared_plans()  # jits of one function share plans: keep them apart
        jitted = jit(column_times_row)
        jitted(*draw(shapes))
        found.append(largest(jitted))
    k1, k2, k3 = found
    assert k1.source == k2.source and k1.dispatcher is k2.dispatcher
    assert k1.source != k3.source
    assert "in0[i0, 0]" in k1.source and "in1[0, i1]" in k1.source


def test_layout_merges_axes_of_the_same_pattern_and_drops_axes_of_one():
    layout = Layout((3, 5, 4), [(3, 1, 4), (1, 5, 1), (3, 5, 4)])
    assert layout.shape == (3, 5, 4) and layout.broadcast[2] == (False,) * 3
    layout = Layout((2, 3, 12), [(1, 1, 12), (12,), (2, 3, 12)])
    assert layout.shape == (6, 12)
    assert layout.input_shapes == [(1, 12), (1, 12), (6, 12)]
    layout = Layout((1, 8, 1), [(1, 8, 1), ()])
    assert layout.shape == (8,) and layout.input_shapes == [(8,), (1,)]
    assert Layout((1, 1), [(1, 1)]).shape == (1,)


def test_non_contiguous_inputs_are_read_as_eager_reads_them():
    f = column_times_row
    jitted = jit(f)
    base = draw([(6, 1), (1, 7), (7, 6)])
    jitted(base[0], base[1], base[2].T)
    for _ in range(2):
        c, r, x = draw([(12, 1), (1, 14), (7, 6)])
        args = (c[::2], r[:, ::2], x.T)  # strided and transposed views
        assert_same_bits(jitted(*args), f(*args))


def float32_chain(x, y):
    return (x * 2.5 + y) / (1.0 + x * x) - y * 0.1


def test_float32_regions_compute_in_float32_as_numpy_does():
    jitted = jit(float32_chain)
    for _ in range(3):
        x, y = draw([(40,), (40,)], numpy.float32)
        got = jitted(x, y)
        assert got.dtype == numpy.float32
        assert_same_bits(got, float32_chain(x, y))
    (kernel,) = kernels(jitted)
    assert "np.float32(2.5)" in kernel.source and len(kernel.region.steps) == 7


def test_float32_broadcasting_and_mixed_dtypes():
    f = lambda a, b, c: (a * b + 1.5) * c - a  # noqa: E731  (c float64: widens)
    jitted = jit(f)
    for _ in range(3):
        a, b = draw([(8, 1), (1, 9)], numpy.float32)
        (c,) = draw([(8, 9)])
        assert_same_bits(jitted(a, b, c), f(a, b, c))
    assert kernels(jitted)


def test_float32_transcendentals_stay_numpy_calls():
    """vmath is float64: NumPy's float32 exp and sin give other bits."""
    f = lambda x: np.exp(x) * 2.0 + np.sin(x) * x  # noqa: E731
    jitted = jit(f)
    for _ in range(3):
        (x,) = draw([(30,)], numpy.float32)
        assert_same_bits(jitted(x), f(x))
    assert all("vmath" not in k.source for k in kernels(jitted))


def test_float32_gradient_replays_as_eager():
    loss = lambda x, y: np.sum(float32_chain(x, y) ** 2)  # noqa: E731
    jitted = grad(loss, (0, 1), jit=True)
    for _ in range(3):
        x, y = draw([(64,), (64,)], numpy.float32)
        for got, want in zip(jitted(x, y), grad(loss, (0, 1))(x, y)):
            assert_same_bits(got, want)
