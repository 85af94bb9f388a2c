"""kernels/vmath: each function against NumPy over sweeps (10**5 points by default, 10**6
under -m long) and a table of edge cases, within the ulp error its docstring states;
its loop vectorizes; the two-pass trig kernel shape is exact for huge arguments."""
import functools
import math
import platform
import re

import numpy
import pytest

numba = pytest.importorskip("numba")
from jitgrad.kernels import vmath  # noqa: E402  (imports Numba)

L = numpy.longdouble
EXTENDED = numpy.finfo(L).nmant >= 63  # x86: long double references are exact enough
rng = numpy.random.default_rng(12)


def logu(lo, hi, n):
    """n magnitudes log-uniform in [lo, hi], random signs."""
    return numpy.exp(rng.uniform(math.log(lo), math.log(hi), n)) * rng.choice([-1.0, 1.0], n)


def ulps(y, ref):
    """|y - ref| in ulps of ref rounded to double; 0 where they agree (nan with nan),
    inf where only one is inf or nan."""
    with numpy.errstate(all="ignore"):
        r64 = ref.astype(numpy.float64)
        spacing = numpy.spacing(numpy.abs(r64)).astype(L)
        err = numpy.abs(y.astype(L) - ref.astype(L)) / spacing
    same = (y == r64) | (numpy.isnan(y) & numpy.isnan(r64))
    special = ~same & ~(numpy.isfinite(y) & numpy.isfinite(r64))
    return numpy.where(special, numpy.inf, numpy.where(same, 0, err)).astype(numpy.float64)


def _sech2(x):
    return 1 / numpy.cosh(x) ** 2


def _sigmoid(x):
    return 1 / (1 + numpy.exp(-x))


def _softplus(x):
    return numpy.logaddexp(x, x.dtype.type(0))


# name: (max ulp error stated in the docstring, samples(n), NumPy function, NumPy float64
# agrees within the bound + 1 ulp)
FUNCTIONS = {
    "exp": (1.0, lambda n: numpy.r_[logu(1e-300, 746, n // 2), rng.uniform(-746, 710, n // 2)],
            numpy.exp, True),
    "expm1": (1.5, lambda n: numpy.r_[logu(1e-300, 710, n // 2), rng.uniform(-40, 40, n // 2)],
              numpy.expm1, True),
    "log": (1.0, lambda n: numpy.abs(numpy.r_[logu(5e-324, 1e308, n // 2),
                                              rng.uniform(0, 4, n // 2)]), numpy.log, True),
    "log1p": (1.0, lambda n: numpy.r_[numpy.abs(logu(1e-300, 1e300, n // 4)),
                                      -numpy.abs(logu(1e-300, 1, n // 4)),
                                      rng.uniform(-1, 3, n // 2)], numpy.log1p, True),
    "tanh": (2.0, lambda n: numpy.r_[logu(1e-300, 30, n // 2), rng.uniform(-5, 5, n // 2)],
             numpy.tanh, True),
    "sinh": (1.5, lambda n: numpy.r_[logu(1e-300, 711, n // 2), rng.uniform(-25, 25, n // 2)],
             numpy.sinh, True),
    "cosh": (1.5, lambda n: numpy.r_[logu(1e-300, 711, n // 2), rng.uniform(-25, 25, n // 2)],
             numpy.cosh, True),
    # NumPy's float64 1/cosh**2 and 1/(1+exp(-x)) underflow early: long double only.
    "sech2": (2.5, lambda n: numpy.r_[logu(1e-300, 380, n // 2), rng.uniform(-25, 25, n // 2)],
              _sech2, False),
    "sigmoid": (2.5, lambda n: numpy.r_[logu(1e-300, 745, n // 2), rng.uniform(-40, 40, n // 2)],
                _sigmoid, False),
    "softplus": (2.0, lambda n: numpy.r_[logu(1e-300, 1e300, n // 2),
                                         rng.uniform(-40, 40, n // 2)], _softplus, True),
    "sin": (1.0, lambda n: numpy.r_[logu(1e-300, 1e6, n // 2), rng.uniform(-10, 10, n // 2)],
            numpy.sin, True),
    "cos": (1.0, lambda n: numpy.r_[logu(1e-300, 1e6, n // 2), rng.uniform(-10, 10, n // 2)],
            numpy.cos, True),
}


@functools.lru_cache(maxsize=None)
def loop(name):
    """A compiled loop applying vmath.<name> to an array."""
    f = getattr(vmath, name)

    @numba.njit(error_model="numpy")
    def apply(x, out):
        for i in range(out.shape[0]):
            out[i] = f(x[i])
    return apply


def evaluate(name, x):
    out = numpy.empty_like(x)
    loop(name)(x, out)
    return out


def check(name, x, bound, reference, against_float64):
    y = evaluate(name, x)
    with numpy.errstate(all="ignore"):
        if EXTENDED:
            err = ulps(y, reference(x.astype(L)))
            worst = numpy.argmax(err)
            assert err[worst] <= bound, (name, x[worst], y[worst], err[worst])
        if against_float64:
            err = ulps(y, reference(x))
            worst = numpy.argmax(err)
            assert err[worst] <= bound + 1, (name, x[worst], y[worst], err[worst])


@pytest.mark.parametrize("n", [10 ** 5, pytest.param(10 ** 6, marks=pytest.mark.long)])
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_sweep_within_stated_ulps(name, n):
    bound, samples, reference, against_float64 = FUNCTIONS[name]
    check(name, samples(n), bound, reference, against_float64)


def test_docstrings_state_the_tested_bound():
    for name, (bound, *_) in FUNCTIONS.items():
        doc = getattr(vmath, name).__doc__
        stated = float(re.search(r"max error ([\d.]+) ulp", doc).group(1))
        assert stated == bound, name


EDGES = [0.0, -0.0, 5e-324, -5e-324, 1e-310, -1e-310, 2.2250738585072014e-308,
         -2.2250738585072014e-308, 1e-300, -1e-300, 2.0 ** -54, 1e-16, -1e-16, 1e-8, 0.5, -0.5,
         1.0, -1.0, 2.0, -2.0, 10.0, -10.0, 19.1, 20.0, -20.0, 22.0, -22.0, 37.0, -37.0,
         -38.0, 60.0, -60.0, -61.0, 100.0, -100.0, 380.0, -380.0, 700.0, -700.0,
         709.782712893384, 709.7827128933841, 710.0, 710.4758600739439, 710.475860073944,
         -708.3964185322641, -708.4, -745.1332191019411, -745.1332191019412, -746.0, 1e5,
         1e300, -1e300, 1.7976931348623157e308, -1.7976931348623157e308, math.inf,
         -math.inf, math.nan]
SPECIFIC_EDGES = {
    "log": [4.9e-324, 1.4142135623730951, 0.7071067811865476, 0.7071067811865475,
            1.0000000000000002, 0.9999999999999999],
    "log1p": [-1.0 + 2 ** -53, -0.9999999, -0.5, 1e-30, -1e-30, 1.0000000000000002, -1.5,
              -2.0],
    "sin": [math.pi, math.pi / 2, 3 * math.pi / 2, 1e6, vmath.TRIG_MAX,
            numpy.nextafter(vmath.TRIG_MAX, math.inf), 2.0 ** 30, 1e22, 2.0 ** 1000],
}
SPECIFIC_EDGES["cos"] = SPECIFIC_EDGES["sin"]


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_edge_cases_match_numpy(name):
    bound, _, reference, _ = FUNCTIONS[name]
    x = numpy.array(EDGES + SPECIFIC_EDGES.get(name, []) +
                    [-v for v in SPECIFIC_EDGES.get(name, [])])
    y = evaluate(name, x)
    with numpy.errstate(all="ignore"):
        expected = reference(x.astype(L)) if EXTENDED else reference(x)
        err = ulps(y, expected)
        rounded = expected.astype(numpy.float64)
    for xi, yi, ei, want in zip(x, y, err, rounded):
        if want == 0 or not numpy.isfinite(want):  # exactly: ±0, ±inf, nan
            assert (yi == want and numpy.signbit(yi) == numpy.signbit(want)) or \
                (numpy.isnan(yi) and numpy.isnan(want)), (name, xi, yi, want)
        else:
            assert ei <= bound, (name, xi, yi, want, ei)


def test_logaddexp_agrees_with_numpy():
    a = rng.uniform(-50, 50, 10 ** 5)
    b = numpy.r_[a[:50000] + logu(1e-20, 60, 50000), rng.uniform(-50, 50, 50000)]
    edges = [0.0, -0.0, 1.0, math.inf, -math.inf, math.nan, 1e308, -1e308]
    a = numpy.r_[a, numpy.repeat(edges, len(edges))]
    b = numpy.r_[b, numpy.tile(edges, len(edges))]

    @numba.njit(error_model="numpy")
    def apply(a, b, out):
        for i in range(out.shape[0]):
            out[i] = vmath.logaddexp(a[i], b[i])
    y = numpy.empty_like(a)
    apply(a, b, y)
    with numpy.errstate(all="ignore"):
        expected = numpy.logaddexp(a, b)
    finite = numpy.isfinite(expected)
    numpy.testing.assert_array_equal(y[~finite], expected[~finite])
    # Near a zero of the result both lose digits alike: measure in ulps of the inputs.
    scale = numpy.nanmax(numpy.where(numpy.isfinite([a, b, expected]),
                                     numpy.abs([a, b, expected]), 0), axis=0)
    with numpy.errstate(invalid="ignore"):
        err = numpy.abs(y - expected)[finite] / numpy.spacing(scale[finite])
    assert err.max() <= 2.0


@pytest.mark.parametrize("name", ["sin", "cos"])
def test_trig_reduction_near_multiples_of_pi_half(name):
    """The hardest arguments: doubles nearest n*pi/2 (the result is tiny or ±1)."""
    if not EXTENDED:
        pytest.skip("needs an extended long double reference")
    n = numpy.unique(numpy.r_[numpy.arange(1, 2000), rng.integers(1, 2 * vmath.TRIG_MAX / math.pi,
                                                                  20000)])
    x = (n.astype(L) * L("1.5707963267948966192313216916397514")).astype(numpy.float64)
    x = numpy.r_[x, numpy.nextafter(x, 0), numpy.nextafter(x, numpy.inf)]
    x = x[numpy.abs(x) <= vmath.TRIG_MAX]
    check(name, numpy.r_[x, -x], FUNCTIONS[name][0], FUNCTIONS[name][2], False)


def two_pass_kernel():
    """The shape a fused kernel with sin/cos takes: the fast loop flags arguments beyond
    TRIG_MAX; only then a second loop recomputes everything with the exact sin/cos."""
    @numba.njit(error_model="numpy")
    def kernel(x, out):
        slow = False
        for i in range(out.shape[0]):
            t0 = x[i] * 3.0
            out[i] = vmath.sin_fast(t0) * vmath.cos_fast(x[i])
            slow |= vmath.trig_slow(t0) | vmath.trig_slow(x[i])
        if slow:
            for i in range(out.shape[0]):
                t0 = x[i] * 3.0
                out[i] = vmath.sin(t0) * vmath.cos(x[i])
    return kernel


def test_two_pass_kernel_is_exact_for_huge_arguments():
    x = numpy.r_[rng.uniform(-10, 10, 1000), 1e22, -3e5, 1e300, 2e6, math.inf, math.nan]
    y = numpy.empty_like(x)
    two_pass_kernel()(x, y)
    with numpy.errstate(invalid="ignore"):
        expected = numpy.sin(x * 3.0) * numpy.cos(x)
    numpy.testing.assert_allclose(y, expected, rtol=1e-15, atol=1e-300)
    assert numpy.isnan(y[-2:]).all()
    assert vmath.sin(1e22) == math.sin(1e22) and vmath.cos(1e300) == math.cos(1e300)


def packed_double_ops(dispatcher):
    """Packed float64 arithmetic instructions in the compiled loop (x86 only)."""
    asm = dispatcher.inspect_asm(dispatcher.signatures[0])
    return len(re.findall(r"\bv?(?:mul|add|sub|div|fmadd\w*|fnmadd\w*)pd\b", asm))


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="x86 assembly")
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_loop_vectorizes(name):
    """No branch and no call in the loop: LLVM emits packed (SIMD) double arithmetic."""
    fast = {"sin": "sin_fast", "cos": "cos_fast"}.get(name, name)
    evaluate(fast, numpy.linspace(-1, 1, 64))
    assert packed_double_ops(loop(fast)) >= 8, name


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="x86 assembly")
def test_two_pass_kernel_vectorizes():
    kernel = two_pass_kernel()
    kernel(numpy.ones(64), numpy.empty(64))
    assert packed_double_ops(kernel) >= 16


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="x86 assembly")
def test_wide_vectors_asks_llvm_for_512_bit_vectors():
    """wide_vectors() reaches past llvmlite's attribute API: pin that it still compiles,
    computes the same, and on AVX-512 CPUs gives 512-bit (zmm) arithmetic."""
    @numba.njit(error_model="numpy")
    def kernel(x, out):
        vmath.wide_vectors()
        for i in range(out.shape[0]):
            out[i] = vmath.exp(x[i])
    x = rng.uniform(-700, 700, 1000)
    y = numpy.empty_like(x)
    kernel(x, y)
    numpy.testing.assert_array_equal(y, evaluate("exp", x))
    if numba.core.config.CPU_NAME is None and _host_features():  # compiled for this CPU
        asm = kernel.inspect_asm(kernel.signatures[0])
        assert re.search(r"\tv\w+pd\t.*zmm", asm)


def _host_features():
    import llvmlite.binding
    return "+avx512f" in llvmlite.binding.get_host_cpu_features().flatten()


def test_results_are_the_same_inside_fastmath_kernels():
    """vmath compiles with fastmath=False even when its caller has fastmath on."""
    x = numpy.r_[rng.uniform(-800, 800, 1000), EDGES]
    for name in ("exp", "expm1", "log1p", "tanh", "sin", "cos_fast", "sigmoid"):
        f = getattr(vmath, name)

        @numba.njit(error_model="numpy", fastmath=True)
        def apply(x, out):
            for i in range(out.shape[0]):
                out[i] = f(x[i])
        y = numpy.empty_like(x)
        with numpy.errstate(all="ignore"):
            apply(x, y)
            expected = evaluate(name, x)
        numpy.testing.assert_array_equal(y.view(numpy.int64), expected.view(numpy.int64), name)


def test_fingerprint_follows_the_source():
    assert re.fullmatch(r"[0-9a-f]{16}", vmath.fingerprint())


def test_constants_are_what_the_derivation_prints():
    mpmath = pytest.importorskip("mpmath")  # noqa: F841
    from jitgrad.kernels import vmath_coefficients
    for name, value in vmath_coefficients.constants():
        assert getattr(vmath, name) == value, name
    assert (vmath.TANH_SMALL, vmath.SINH_SMALL) == (vmath_coefficients.TANH_SMALL,
                                                    vmath_coefficients.SINH_SMALL)


@pytest.mark.long
def test_polynomials_are_what_the_derivation_prints():
    pytest.importorskip("mpmath")
    from jitgrad.kernels import vmath_coefficients
    for name, coefficients, _ in vmath_coefficients.fits():
        assert getattr(vmath, name) == tuple(float(c) for c in coefficients), name
