"""Derives the constants of ``vmath_core.py``: run ``python -m jitgrad.kernels.vmath_coefficients``.

Each polynomial is a minimax fit (Remez exchange, weighted for relative error of the
function it serves) computed with mpmath at 100 digits, then rounded to doubles; the
printed ``max rel err`` is that of the *rounded* polynomial, measured on a dense grid.
Range-reduction constants are the high-precision values split into doubles whose low
bits are zero, so that ``k * part`` is exact for the ``k`` each reduction can produce.
The output is the constant block of ``vmath_core.py``, pasted there verbatim;
``tests/test_vmath.py`` checks that the two agree (when mpmath is installed).
"""
import mpmath
from mpmath import mp, mpf

mp.dps = 100
TANH_SMALL = 0.3  # as in vmath_core.py
SINH_SMALL = 1.0


def remez(target, weight, a, b, n, iterations=30, grid=3000):
    """Coefficients c[0..n-1] of the polynomial sum c[j] z**j minimizing
    max |weight(z) * (target(z) - p(z))| over [a, b]."""
    points = [a + (b - a) * (1 - mpmath.cos(mp.pi * i / n)) / 2 for i in range(n + 1)]
    samples = [a + (b - a) * (1 - mpmath.cos(mp.pi * i / grid)) / 2 for i in range(grid + 1)]
    for _ in range(iterations):
        rows = [[z ** j for j in range(n)] + [(-1) ** i / weight(z)]
                for i, z in enumerate(points)]
        solution = mpmath.lu_solve(mpmath.matrix(rows), mpmath.matrix([target(z) for z in points]))
        coefficients = [solution[j] for j in range(n)]
        level = abs(solution[n])

        def error(z):
            return weight(z) * (target(z) - mpmath.polyval(coefficients[::-1], z))

        values = [error(z) for z in samples]
        # One extremum per run of equal sign: the new reference.
        extrema, best = [], 0
        for i in range(1, len(samples)):
            if (values[i] > 0) != (values[best] > 0):
                extrema.append(best)
                best = i
            elif abs(values[i]) > abs(values[best]):
                best = i
        extrema.append(best)
        while len(extrema) > n + 1:  # drop the smaller end
            if abs(values[extrema[0]]) < abs(values[extrema[-1]]):
                extrema.pop(0)
            else:
                extrema.pop()
        if len(extrema) < n + 1:
            break
        points = [samples[i] for i in extrema]
        if max(abs(v) for v in values) < level * (1 + mpf(10) ** -6):
            break
    return coefficients


def remez_rounded(target, weight, a, b, n, fixed=2):
    """Like ``remez``, rounding to doubles as it goes: the first ``fixed`` coefficients
    are rounded one at a time and the rest refitted around them, so the fit absorbs
    the rounding of the large leading terms."""
    rounded = []
    for m in range(fixed):
        def shifted_target(z, m=m):
            z = _off_zero(z)
            return (target(z) - sum(c * z ** j for j, c in enumerate(rounded))) / z ** m

        def shifted_weight(z, m=m):
            z = _off_zero(z)
            return weight(z) * abs(z) ** m

        c = remez(shifted_target, shifted_weight, a, b, n - m)
        rounded.append(mpf(float(c[0])))
    return rounded + c[1:]


def _off_zero(z):
    tiny = mpf(10) ** -30
    return z if abs(z) > tiny else (tiny if z >= 0 else -tiny)


def rounded_error(target, weight, a, b, coefficients, grid=20000):
    doubles = [mpf(float(c)) for c in coefficients]
    return max(abs(weight(z) * (target(z) - mpmath.polyval(doubles[::-1], z)))
               for z in mpmath.linspace(a, b, grid))


def split(value, bits, parts):
    """``parts`` doubles summing to ``value``, all but the last holding ``bits`` bits."""
    result = []
    rest = value
    for _ in range(parts - 1):
        exponent = mpmath.floor(mpmath.log(abs(rest), 2)) + 1
        scale = mpf(2) ** (bits - exponent)
        head = mpmath.nint(rest * scale) / scale
        result.append(float(head))
        rest -= mpf(float(head))
    result.append(float(rest))
    return result


def odd_fit(fun, amax, n):
    """P with fun(a) = a + a*(z*P(z)) for |a| <= amax, z = a*a, minimizing relative error;
    and that error, for P rounded to doubles."""
    tiny = mpf(10) ** -30

    def target(z):
        a = mp.sqrt(z if z > tiny else tiny)
        return (fun(a) - a) / (a * a * a)

    def weight(z):  # error of a*z*P relative to fun(a)
        a = mp.sqrt(z if z > tiny else tiny)
        return a * a * a / fun(a)

    c = remez_rounded(target, weight, mpf(0), amax ** 2, n)
    return c, rounded_error(target, weight, mpf(0), amax ** 2, c)


def fits():
    """(name, coefficients, max relative error of the rounded fit) for each polynomial."""
    tiny = mpf(10) ** -30
    out = []

    # expm1(r) = r + r*r*P(r) for |r| <= ln2/2 (plus slack for the rounded k).
    half = mp.ln2 / 2 * (1 + mpf(2) ** -20)

    def expm1_target(r):
        r = r if abs(r) > tiny else tiny
        return (mpmath.expm1(r) - r) / r ** 2

    def expm1_weight(r):
        r = r if abs(r) > tiny else tiny
        return r ** 2 / abs(mpmath.expm1(r))

    c = remez_rounded(expm1_target, expm1_weight, -half, half, 11, fixed=1)
    out.append(("EXPM1_P", c, rounded_error(expm1_target, expm1_weight, -half, half, c)))

    # log1p(f) = f - hfsq + s*(hfsq + z*P(z)), s = f/(2+f), z = s*s,
    # f in [sqrt(1/2)-1, sqrt(2)-1]: z*P(z) stands for (2*atanh(s) - 2*s)/s.
    smax = (mp.sqrt(2) - 1) / (mp.sqrt(2) + 1)
    zmax = smax ** 2 * (1 + mpf(2) ** -20)

    def log_target(z):
        z = z if z > tiny else tiny
        s = mp.sqrt(z)
        return (2 * mpmath.atanh(s) - 2 * s) / s / z

    def log_weight(z):
        z = z if z > tiny else tiny
        s = mp.sqrt(z)
        return s * z / (2 * mpmath.atanh(s))  # error of s*z*P relative to log1p(f)

    c = remez_rounded(log_target, log_weight, mpf(0), zmax, 7)
    out.append(("LOG_P", c, rounded_error(log_target, log_weight, mpf(0), zmax, c)))

    # Odd functions: f(a) = a + a*(z*P(z)), z = a*a, for |a| <= amax (plus slack).
    # sin on the reduced argument (|r| <= pi/4); tanh and sinh on small |a|, where their formulas from
    # expm1 round three times relative to a small result (2.4 ulp).
    for name, fun, amax, n in [("SIN_P", mpmath.sin, mp.pi / 4, 7),
                               ("TANH_P", mpmath.tanh, mpf(TANH_SMALL), 8),
                               ("SINH_P", mpmath.sinh, mpf(SINH_SMALL), 8)]:
        c, error = odd_fit(fun, amax * (1 + mpf(2) ** -12), n)
        out.append((name, c, error))

    # cos(r) = 1 - z/2 + z*z*P(z), z = r*r, |r| <= pi/4 (plus slack).
    rmax = mp.pi / 4 * (1 + mpf(2) ** -12)

    def cos_target(z):
        z = z if z > tiny else tiny
        return (mpmath.cos(mp.sqrt(z)) - 1 + z / 2) / (z * z)

    def cos_weight(z):
        z = z if z > tiny else tiny
        return z * z / mpmath.cos(mp.sqrt(z))

    c = remez_rounded(cos_target, cos_weight, mpf(0), rmax ** 2, 6)
    out.append(("COS_P", c, rounded_error(cos_target, cos_weight, mpf(0), rmax ** 2, c)))
    return out


def constants():
    """The reduction constants: (name, value) pairs."""
    ln2_hi, ln2_lo = split(mp.ln2, 32, 2)  # k * LN2_HI exact for |k| < 2**21
    pio2 = split(mp.pi / 2, 30, 4)  # n * part exact for |n| < 2**23
    return [
        ("INV_LN2", float(1 / mp.ln2)),
        ("LN2_HI", ln2_hi),
        ("LN2_LO", ln2_lo),
        ("TWO_OVER_PI", float(2 / mp.pi)),
        ("PIO2_A", pio2[0]),
        ("PIO2_B", pio2[1]),
        ("PIO2_C", pio2[2]),
        ("PIO2_D", pio2[3]),
    ]


def block():
    lines = []
    for name, value in constants():
        lines.append(f"{name} = {value!r}")
    for name, coefficients, error in fits():
        lines.append(f"# max rel err of the rounded fit: {float(error):.3g}")
        values = ",\n    ".join(repr(float(c)) for c in coefficients)
        lines.append(f"{name} = (\n    {values},\n)")
    return "\n".join(lines)


if __name__ == "__main__":
    print(block())
