"""kernels/vmath sin and cos as fused kernels call them: 10**6 points against NumPy, an
edge-case table, arguments near multiples of pi/2 beyond the fast reduction's range
(where the exact path takes over), and jitted sin/cos chains (and their gradients,
which read cos and -sin) fused into one two-pass kernel whose replays match eager."""
import math

import numpy
import pytest

numba = pytest.importorskip("numba")
import jitgrad.numpy as np  # noqa: E402
from jitgrad import grad, jit  # noqa: E402
from jitgrad.kernels import vmath  # noqa: E402

pytestmark = pytest.mark.eager_only  # these tests set jit= and fusion themselves
rng = numpy.random.default_rng(7)
STATED = {"sin": 1.0, "cos": 1.0}  # the docstrings' bounds, in ulps of the rounded result


@pytest.fixture(autouse=True)
def small_kernels_and_private_cache(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("JITGRAD_FUSE", "1")
    monkeypatch.setenv("JITGRAD_FUSE_MIN_SIZE", "8")
    monkeypatch.setenv("JITGRAD_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@numba.njit(error_model="numpy")
def _apply_sin(x, out):
    for i in range(out.shape[0]):
        out[i] = vmath.sin(x[i])


@numba.njit(error_model="numpy")
def _apply_cos(x, out):
    for i in range(out.shape[0]):
        out[i] = vmath.cos(x[i])


def evaluate(name, x):
    out = numpy.empty_like(x)
    {"sin": _apply_sin, "cos": _apply_cos}[name](x, out)
    return out


def ulps_from_numpy(y, expected):
    """|y - expected| in ulps of ``expected``; 0 where both are the same nan or value."""
    with numpy.errstate(all="ignore"):
        err = numpy.abs(y - expected) / numpy.spacing(numpy.abs(expected))
    same = (y == expected) | (numpy.isnan(y) & numpy.isnan(expected))
    return numpy.where(same, 0.0, err)


def million_points():
    """Magnitudes log-uniform from 1e-300 to 1e300 (past the fast range: the exact
    path) and uniform in [-10, 10] and [-TRIG_MAX, TRIG_MAX], random signs."""
    n = 10 ** 6 // 3
    signs = rng.choice([-1.0, 1.0], n)
    return numpy.r_[numpy.exp(rng.uniform(math.log(1e-300), math.log(1e300), n)) * signs,
                    rng.uniform(-10, 10, n), rng.uniform(-vmath.TRIG_MAX, vmath.TRIG_MAX, n)]


@pytest.mark.parametrize("name", ["sin", "cos"])
def test_million_points_within_stated_ulps_of_numpy(name):
    x = million_points()
    assert x.size >= 999_999
    err = ulps_from_numpy(evaluate(name, x), getattr(numpy, name)(x))
    worst = numpy.argmax(err)
    # NumPy's float64 result is itself within 0.5 ulp of the true value (glibc), vmath
    # within its stated bound: they differ by at most the sum.
    assert err[worst] <= STATED[name] + 0.5, (name, x[worst], err[worst])
    big = numpy.abs(x) > vmath.TRIG_MAX  # the exact path is libm's: NumPy's bits
    assert numpy.array_equal(evaluate(name, x[big]), getattr(numpy, name)(x[big]))


EDGES = [0.0, -0.0, 5e-324, -5e-324, 1e-310, -1e-310, 2.2250738585072014e-308,
         -2.2250738585072014e-308, 1e-300, 2.0 ** -54, -(2.0 ** -27), 1e-8, 0.5, 1.0,
         math.pi / 4, math.pi / 2, math.pi, 3 * math.pi / 2, 2 * math.pi, 1e5,
         vmath.TRIG_MAX, numpy.nextafter(vmath.TRIG_MAX, math.inf), -vmath.TRIG_MAX,
         2.0 ** 30, 1e22, -1e22, 2.0 ** 1000, 1e300, 1.7976931348623157e308,
         -1.7976931348623157e308, math.inf, -math.inf, math.nan]


@pytest.mark.parametrize("name", ["sin", "cos"])
def test_edge_cases(name):
    x = numpy.array(EDGES)
    y = evaluate(name, x)
    with numpy.errstate(invalid="ignore"):
        expected = getattr(numpy, name)(x)
    for xi, yi, want in zip(x, y, expected):
        if want == 0 or not numpy.isfinite(want) or abs(xi) < 1e-8 or abs(xi) > vmath.TRIG_MAX:
            # exact: signed zeros, nan for ±inf and nan, x itself for tiny x, libm's
            # bits beyond the fast range (1e22 included)
            assert (yi == want and numpy.signbit(yi) == numpy.signbit(want)) or \
                (numpy.isnan(yi) and numpy.isnan(want)), (name, xi, yi, want)
        else:
            assert ulps_from_numpy(numpy.array([yi]), numpy.array([want]))[0] <= 1.5, \
                (name, xi, yi, want)


@pytest.mark.parametrize("name", ["sin", "cos"])
def test_near_multiples_of_pi_half_at_large_arguments(name):
    """Doubles nearest n*pi/2 just below TRIG_MAX (fast path, the hardest reduction) and
    far beyond it up to 2**60 (exact path): the result is tiny or ±1 there."""
    half_pi = numpy.longdouble("1.5707963267948966192313216916397514")
    n = numpy.r_[numpy.arange(int(vmath.TRIG_MAX / 1.5707963) - 2000,
                              int(vmath.TRIG_MAX / 1.5707963)),
                 rng.integers(2 ** 20, 2 ** 60, 20000, dtype=numpy.int64)]
    x = (n.astype(numpy.longdouble) * half_pi).astype(numpy.float64)
    x = numpy.r_[x, numpy.nextafter(x, 0), numpy.nextafter(x, numpy.inf)]
    x = numpy.r_[x, -x]
    y, expected = evaluate(name, x), getattr(numpy, name)(x)
    err = ulps_from_numpy(y, expected)
    assert err.max() <= STATED[name] + 0.5, (x[numpy.argmax(err)], err.max())
    big = numpy.abs(x) > vmath.TRIG_MAX
    assert big.sum() > 10000 and numpy.array_equal(y[big], expected[big])


def plans(jitted):
    return [plan for entry in jitted._cache.values() for plan in entry]


def trig_chain(x):
    return np.sin(x) * np.cos(x * 3.0) + np.sin(x * x) - 0.25 * np.cos(x)


def test_sin_and_cos_fuse_into_a_two_pass_kernel_matching_eager():
    jitted = jit(trig_chain)
    for scale in (1.0, 30.0, 1e4):  # replays with new values
        x = rng.standard_normal(300) * scale
        numpy.testing.assert_allclose(jitted(x), trig_chain(x), rtol=1e-13, atol=1e-15)
    (kernel,) = plans(jitted)[0].kernels
    assert len(kernel.region.steps) == 10  # 4 trig calls, 6 arithmetic steps
    assert "vmath.sin_fast(" in kernel.source and "vmath.cos_fast(" in kernel.source
    assert "vmath.trig_slow(" in kernel.source and "if slow:" in kernel.source


def test_huge_arguments_take_the_exact_path_in_fused_kernels():
    """Elements past TRIG_MAX (1e22, 1e300, x*x of 1e12), infinities and nan: the second
    pass recomputes everything with libm, as NumPy gives."""
    jitted = jit(trig_chain)
    x = rng.standard_normal(64)
    jitted(x)
    for huge in ([1e22, -3e6, 1e300, 1e12], [math.inf, -math.inf, math.nan, 2e6]):
        y = x.copy()
        y[[3, 17, 40, 63]] = huge
        with numpy.errstate(invalid="ignore"):
            got, want = jitted(y), trig_chain(y)
        numpy.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)
        assert numpy.array_equal(numpy.isnan(got), numpy.isnan(want))


def test_gradients_of_sin_and_cos_fuse_and_match_eager():
    loss = lambda x: np.sum(trig_chain(x) ** 2)  # noqa: E731
    jitted = grad(loss, jit=True)
    for _ in range(3):
        x = rng.standard_normal(200) * 2.0
        numpy.testing.assert_allclose(jitted(x), grad(loss)(x), rtol=1e-12, atol=1e-14)
    sources = "".join(k.source for k in plans(jitted)[0].kernels)
    assert "vmath.cos_fast(" in sources and "vmath.sin_fast(" in sources
    assert "sin" not in plans(jitted)[0].source.replace("k0", "")  # no NumPy sin call left
