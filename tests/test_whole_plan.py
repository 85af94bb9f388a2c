"""Whole small plans compiled into one Numba function (jit/whole_plan.py): jitted
replays (2nd, 3rd calls, new values) against eager, and that the whole-plan path was
taken where it should be and not where it cannot be.

Arithmetic, products and sums are compared bit for bit (products run the BLAS routine
NumPy picks, sums NumPy's order); functions with transcendentals at 1e-12 relative
(``vmath``'s few ulp, as fused kernels)."""
import numpy
import pytest

pytest.importorskip("numba")
import jitgrad.numpy as np  # noqa: E402
from jitgrad import grad, jit  # noqa: E402

# (These tests set jit= and the settings themselves: whole plans at the first call.)
pytestmark = [pytest.mark.eager_only, pytest.mark.usefixtures("whole_plans_at_once")]
rng = numpy.random.default_rng(12)


def plans(jitted):
    return [plan for entry in jitted._cache.values() for plan in entry]


def same_bits(a, b):
    a, b = numpy.asarray(a), numpy.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def check_replays(fun, jitted, make_args, exact, calls=3):
    """Calls ``jitted`` with new values ``calls`` times, each against ``fun`` (eager)."""
    for _ in range(calls):
        args = make_args()
        expected, got = fun(*args), jitted(*args)
        for e, g in zip(_leaves(expected), _leaves(got)):
            assert type(g) is type(e)
            if exact:
                assert same_bits(g, e), (g, e)
            else:  # relative to the largest entry: cancellation can leave tiny ones
                assert numpy.shape(g) == numpy.shape(e)
                assert numpy.max(numpy.abs(g - e)) <= 1e-12 * numpy.max(numpy.abs(e)), (g, e)


def _leaves(tree):
    if isinstance(tree, (tuple, list)):
        return [leaf for part in tree for leaf in _leaves(part)]
    return [tree]


def whole(jitted):
    """Whether every plan of ``jitted`` runs as one compiled function."""
    found = plans(jitted)
    assert found
    return all(plan.whole_plan is not None for plan in found)


# -- the target workload -----------------------------------------------------
def logistic(w, X, y):
    p = 1 / (1 + np.exp(-(X @ w)))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


@pytest.mark.parametrize("shape", [(100, 10), (7, 3)])
def test_logistic_regression_replays_as_eager(shape):
    n, d = shape

    def args():
        return (0.1 * rng.standard_normal(d), rng.standard_normal((n, d)),
                (rng.random(n) > 0.5).astype(float))
    jitted = grad(logistic, jit=True)
    check_replays(grad(logistic), jitted, args, exact=False)
    assert whole(jitted)
    (plan,) = plans(jitted)
    assert plan.run is plan.whole_plan.run


def mlp(params, X, Y):
    W1, b1, W2, b2 = params
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    return np.mean(np.sum((z - Y) * (z - Y), axis=1))


def test_small_mlp_with_tanh_replays_as_eager():
    def args():
        return ((rng.standard_normal((5, 8)), rng.standard_normal(8),
                 rng.standard_normal((8, 3)), rng.standard_normal(3)),
                rng.standard_normal((6, 5)), rng.standard_normal((6, 3)))
    jitted = grad(mlp, jit=True)
    check_replays(grad(mlp), jitted, args, exact=False)
    assert whole(jitted)


# -- bit for bit: arithmetic, broadcasting, products, sums, shapes --------------
def affine(W, X, b, c):
    r = X @ W + b           # broadcast bias: its gradient is a sum over rows
    s = r * r - c * r / 3.0
    t = np.expand_dims(np.sum(s, axis=1), 1) * X
    u = np.reshape(t, (-1,))
    v = np.transpose(W) @ np.sum(t, axis=0)
    return np.sum(u * u) + np.dot(v, v) + np.mean(s, axis=0)[0] * c


def test_arithmetic_products_and_sums_bit_for_bit():
    def args():
        return (rng.standard_normal((4, 3)), rng.standard_normal((9, 4)),
                rng.standard_normal(3), float(rng.standard_normal()))
    for f in (affine, grad(affine), grad(affine, argnum=1)):
        jitted = jit(f)
        check_replays(f, jitted, args, exact=True)
        assert whole(jitted)


PRODUCT_SHAPES = [((7,), (7,)), ((5, 7), (7,)), ((7,), (7, 5)), ((5, 7), (7, 4)),
                  ((1, 7), (7, 1)), ((5, 7), (7, 1)), ((1, 7), (7, 4)), ((100, 10), (10,)),
                  ((30, 40), (40, 20))]


@pytest.mark.parametrize("product", ["matmul", "dot"])
def test_products_are_numpys_bit_for_bit(product):
    """Every shape pair in one plan (one compile): values, then gradients (products with
    transposes, vectors as matrices)."""
    op = getattr(np, product)

    def f(*ab):
        return tuple(op(a, b) * 1.5 for a, b in zip(ab[::2], ab[1::2]))

    def square(*ab):
        return sum(np.sum(r * r) for r in f(*ab))

    def args():
        return [rng.standard_normal(shape) for pair in PRODUCT_SHAPES for shape in pair]
    loss = grad(square, argnum=tuple(range(2 * len(PRODUCT_SHAPES))))
    for fun in (f, loss):
        jitted = jit(fun)
        check_replays(fun, jitted, args, exact=True)
        assert whole(jitted)


SUMS = [((6, 5), None, False), ((6, 5), 0, False), ((6, 5), 1, False), ((6, 5), -1, True),
        ((6, 5), 0, True), ((3, 4, 5), (0, 1), False), ((3, 4, 5), (1, 2), False),
        ((3, 4, 5), 2, True), ((1, 6), 0, False), ((6, 1), 0, False), ((6, 1), 1, False),
        ((300,), None, False), ((200, 3), 0, False), ((3, 200), 1, False)]


@pytest.mark.parametrize("kind", ["sum", "mean"])
def test_sums_and_means_are_numpys_bit_for_bit(kind):
    """Every case of SUMS in one plan (one compile)."""
    op = getattr(np, kind)

    def f(*xy):
        return tuple(op(x * y - 0.5, axis=axis, keepdims=keepdims)
                     for x, y, (_, axis, keepdims) in zip(xy[::2], xy[1::2], SUMS))

    def args():
        values = []
        for shape, _, _ in SUMS:
            scale = 10.0 ** rng.integers(-5, 5, shape)
            values += [rng.standard_normal(shape) * scale, rng.standard_normal(shape)]
        return values
    jitted = jit(f)
    check_replays(f, jitted, args, exact=True)
    assert whole(jitted)


def test_a_sum_of_negative_zeros_is_positive_zero_as_numpys():
    def f(x):
        return np.sum(-x, axis=0), np.sum(-x)
    jitted = jit(f)
    for _ in range(3):
        x = numpy.zeros((4, 3))
        for e, g in zip(f(x), jitted(x)):
            assert same_bits(g, e)
    assert whole(jitted)


# -- guards --------------------------------------------------------------------
def branchy(w, x):
    if np.sum(w * x) > 0:
        return np.sum(np.tanh(w * x))
    return np.sum(w * w)


def test_value_guard_that_changes_retraces_never_stale():
    jitted = grad(branchy, jit=True)
    eager = grad(branchy)
    x = rng.standard_normal(5)
    for sign in [1, 1, -1, -1, 1, -1]:
        w = sign * numpy.abs(rng.standard_normal(5)) * numpy.sign(x)
        numpy.testing.assert_allclose(jitted(w, x), eager(w, x), rtol=1e-12)
    assert len(plans(jitted)) == 2 and whole(jitted)


def counted(w, x):
    k = int(np.sum(w))            # an int guard
    scale = float(np.sum(x * x))  # a float guard: a new value retraces
    return np.sum(w * x) * k + scale


def test_int_and_float_guards_compiled_inline():
    jitted = jit(counted)
    x = rng.standard_normal(4)
    for total in [2.5, 2.7, 3.5, 2.1, -1.5]:
        w = numpy.full(4, total / 4)
        assert same_bits(jitted(w, x), counted(w, x))
    assert whole(jitted)
    x = rng.standard_normal(4)  # the float guard fails on every plan: traced anew
    w = numpy.full(4, 0.6)
    assert same_bits(jitted(w, x), counted(w, x))


# -- what stays a plan ----------------------------------------------------------
def with_max(x):
    return np.sum(np.max(x, axis=1) * x[:, 0])


def with_random(x):
    return np.sum(x * np.random.randn(*x.shape))


def test_unsupported_steps_keep_the_normal_plan():
    jitted = grad(with_max, jit=True)
    check_replays(grad(with_max), jitted, lambda: (rng.standard_normal((4, 3)),), exact=True)
    assert all(plan.whole_plan is None for plan in plans(jitted))
    jitted = jit(with_random)
    jitted(numpy.ones(3))
    assert all(plan.whole_plan is None for plan in plans(jitted))


def test_switched_off(monkeypatch):
    monkeypatch.setenv("JITGRAD_WHOLE_PLAN", "0")
    jitted = grad(logistic, jit=True)
    args = (numpy.ones(3), rng.standard_normal((5, 3)), numpy.ones(5))
    jitted(*args), jitted(*args)
    assert all(plan.whole_plan is None for plan in plans(jitted))


def test_strided_and_readonly_inputs_run_the_plans_code():
    # (Found before the compiled function is called, whose refusal costs ~40 us: the
    # plan's code computes as eager does, laid out as eager's results.)
    def f(a, b):
        return np.sum(a @ b * a[:, :1])
    jitted = jit(f)
    a, b = rng.standard_normal((5, 4)), rng.standard_normal(4)
    assert same_bits(jitted(a, b), f(a, b))
    assert whole(jitted)

    def strided_or_readonly():
        wide = rng.standard_normal((5, 8))
        readonly = rng.standard_normal((5, 4))
        readonly.flags.writeable = False
        return [wide[:, ::2], numpy.asfortranarray(wide[:, :4]), readonly]
    for _ in range(3):
        for a in strided_or_readonly():
            assert same_bits(jitted(a, b), f(a, b))
    a = rng.standard_normal((5, 4))
    assert same_bits(jitted(a, b), f(a, b))


def test_the_compiled_function_checks_its_inputs_shapes():
    jitted = jit(lambda a, b: np.sum(a @ b))
    a, b = rng.standard_normal((5, 4)), rng.standard_normal(4)
    jitted(a, b)
    (plan,) = plans(jitted)
    program, kernel = plan.whole_plan.program, plan.whole_plan.dispatcher
    buffers = [numpy.empty(shape) for _, shape in program.buffers]
    kernel(a, b, *program.constants, *buffers)
    with pytest.raises(RuntimeError, match="shape"):
        kernel(rng.standard_normal((6, 4)), b, *program.constants, *buffers)
    with pytest.raises(RuntimeError, match="shape"):
        kernel(a, rng.standard_normal(3), *program.constants, *buffers)


def test_outputs_keep_their_types_and_inputs_pass_through():
    def f(x, s):
        if s > 2.0:  # a guard, and a transposed output: the function has no other return
            return x, x
        return x, np.sum(x) * s, x * s, np.sum(x) > s, np.transpose(x * s)
    jitted = jit(f)
    for _ in range(3):
        x, s = rng.standard_normal((3, 2)), float(rng.standard_normal())
        expected, got = f(x, s), jitted(x, s)
        assert got[0] is x
        for e, g in zip(expected[1:], got[1:]):
            assert type(g) is type(e) and same_bits(g, e)
    assert whole(jitted)


def test_each_call_returns_arrays_of_its_own():
    # Array outputs are written into buffers made per call (whole_plan._wrapper): a
    # result kept from an earlier call is neither reused nor overwritten by a later one,
    # whether a loop wrote it in place (the tanh group), it was copied (a product, a
    # sum's gradient) or it is a cotangent tuple's entry.
    def loss(params, x):
        W, b = params
        h = np.tanh(x @ W + b)
        return np.sum(h * h)
    jitted = grad(loss, jit=True)
    kept = []
    for _ in range(4):
        params = (rng.standard_normal((3, 2)), rng.standard_normal(2))
        x = rng.standard_normal((5, 3))
        got = jitted(params, x)
        kept.append((got, grad(loss)(params, x)))
    assert whole(jitted)
    for got, expected in kept:  # compared after every call was made
        for g, e in zip(got, expected):
            assert numpy.max(numpy.abs(g - e)) <= 1e-12 * numpy.max(numpy.abs(e))
    firsts = [got[0] for got, _ in kept]
    assert len({id(a) for a in firsts}) == len(firsts)
    assert not any(numpy.shares_memory(a, b) for a in firsts for b in firsts if a is not b)

    def forward(x, s):
        y = np.tanh(x) * s  # an elementwise output, written in place
        return y, np.sum(y)
    jitted = jit(forward)
    results = [(jitted(x, 2.0), forward(x, 2.0))
               for x in (rng.standard_normal(4) for _ in range(3))]
    assert whole(jitted)
    for (y, total), (ey, etotal) in results:
        assert numpy.max(numpy.abs(y - ey)) <= 1e-12 * numpy.max(numpy.abs(ey))
        assert abs(total - etotal) <= 1e-12 * abs(etotal) + 1e-300
    assert results[0][0][0] is not results[1][0][0]


def test_a_rolled_loop_keeps_the_normal_plan(monkeypatch):
    from jitgrad.jit import rolling
    monkeypatch.setattr(rolling, "MIN_ROLLED_NODES", 8)
    monkeypatch.delenv("JITGRAD_ROLL", raising=False)

    def looped(x):
        for _ in range(12):
            x = np.sin(x) * 0.9 + x * 0.1 - x * x * 0.01
        return np.sum(x)
    jitted = grad(looped, jit=True)
    check_replays(grad(looped), jitted, lambda: (rng.standard_normal(4),), exact=True)
    (plan,) = plans(jitted)
    assert plan.rolled and plan.whole_plan is None


def test_plans_of_large_arrays_are_left_to_the_fused_kernels():
    def loss(x):
        return np.sum(np.tanh(x) * np.exp(-0.5 * x ** 2) + x / (2.0 + x * x))
    jitted = grad(loss, jit=True)
    check_replays(grad(loss), jitted, lambda: (rng.standard_normal(100),), exact=False)
    check_replays(grad(loss), jitted, lambda: (rng.standard_normal(5000),), exact=False)
    small, large = sorted(plans(jitted), key=lambda p: p.whole_plan is None)
    assert small.whole_plan is not None
    assert large.whole_plan is None and large.n_kernels >= 1


def test_plans_with_sin_or_cos_on_arrays_are_not_compiled_whole(monkeypatch):
    """vmath's sin/cos vectorize in fused kernels' first pass; a whole plan's loop
    would run their exact path (29.7 us against 7.1 fused for this gradient at 300
    elements): such plans are not whole. At 300 elements they stay NumPy calls (fused
    kernels below 4096 elements compute only eager's bits), at 4096 they fuse."""
    monkeypatch.setenv("JITGRAD_FUSE", "1")
    monkeypatch.setenv("JITGRAD_FUSE_AFTER", "0")

    def f(x):
        return np.mean(np.sin(x) * np.cos(x * 0.5) + np.tanh(x))

    for n, kernels in ((300, False), (4096, True)):
        jitted, eager = grad(f, jit=True), grad(f)
        rng = numpy.random.RandomState(n)
        for _ in range(4):
            x = rng.randn(n)
            got, want = jitted(x), eager(x)
            if kernels:
                numpy.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-16)
            else:
                assert same_bits(got, want)
        found = plans(jitted)  # (one per size: plans are shared by the function's jits)
        assert found and all(plan.whole_plan is None for plan in found)
        assert any(plan.n_kernels for plan in found) == kernels


def test_a_captured_matrix_and_its_transpose_compile_whole():
    # The gradient multiplies by X.T, a transposed view of the captured X: passed as X,
    # transposed in the function (a product of it as NumPy's).
    X, y = rng.standard_normal((30, 4)), rng.standard_normal(30)

    def loss(w):
        return np.sum((X @ w - y) ** 2)  # (matmul's gradient: X.T @ g)
    jitted = grad(loss, jit=True)
    check_replays(grad(loss), jitted, lambda: (rng.standard_normal(4),), exact=True)
    assert whole(jitted)


def reshaped(x, M):
    a = np.reshape(x * 2.0, (3, 4))                 # a loop's output as a matrix
    b = np.reshape(a, (12,))                        # and back to its flat view
    c = np.expand_dims(M @ x, 1)                    # a product's vector as a column
    d = np.squeeze(c, 1) + 1.0
    e = np.reshape(np.reshape(x, (12,)), (12, 1))   # a reshape to its own shape
    return b, c, d, np.sum(a * a) + np.dot(b, x) + np.sum((M.T @ d) ** 2) + np.sum(e * e)


def test_reshapes_of_flat_values_read_them_directly():
    """Reshapes to a value's own shape, and vectors reshaped back to 1-D, are the
    arrays they reshape in the compiled function (each reshape is a call there, ~30
    ns), and views nothing reads are left out; the results are eager's bit for bit."""
    def args():
        return rng.standard_normal(12), rng.standard_normal((5, 12))

    def loss(x, M):
        return reshaped(x, M)[-1]
    for fun in (reshaped, grad(loss), grad(loss, argnum=1)):
        jitted = jit(fun)
        check_replays(fun, jitted, args, exact=True)
        assert whole(jitted)
    jitted = grad(logistic, jit=True)
    check_replays(grad(logistic), jitted, lambda: (rng.standard_normal(10),
                  rng.standard_normal((100, 10)), (rng.random(100) > 0.5) * 1.0),
                  exact=False)
    (plan,) = plans(jitted)
    assert ".reshape(" not in plan.whole_plan.program.source
