"""jitgrad.scipy.special: gradients of every covered function in both modes, values
of the functions jitgrad reimplements, and clear errors for order arguments."""
import numpy as onp
import pytest
import scipy.special as ss

import jitgrad.scipy.special as sp
from jitgrad import grad, make_jvp
from jitgrad.test_util import check_grads

R = onp.random.RandomState(1)
POS = onp.array([0.7, 1.3, 2.6])          # positive reals
REAL = onp.array([-1.4, 0.3, 1.9])        # anywhere on the line
UNIT = onp.array([0.15, 0.5, 0.85])       # inside (0, 1)
MAT = R.randn(2, 3)

# name -> (function, arguments, differentiable argnums)
CASES = {
    "gamma": (sp.gamma, [POS], [0]),
    "gammaln": (sp.gammaln, [onp.array([-1.5, 0.7, 3.2])], [0]),
    "loggamma": (sp.loggamma, [POS], [0]),
    "rgamma": (sp.rgamma, [POS], [0]),
    "digamma": (sp.digamma, [POS], [0]),
    "psi": (sp.psi, [POS], [0]),
    "polygamma0": (lambda x: sp.polygamma(0, x), [POS], [0]),
    "polygamma2": (lambda x: sp.polygamma(2, x), [POS], [0]),
    "polygamma_array_n": (lambda x: sp.polygamma(onp.array([0, 1, 3]), x), [POS], [0]),
    "multigammaln": (lambda a: sp.multigammaln(a, 3), [POS + 1.5], [0]),
    "multigammaln_scalar": (lambda a: sp.multigammaln(a, 2), [2.3], [0]),
    "beta": (sp.beta, [POS, POS[::-1]], [0, 1]),
    "beta_broadcast": (sp.beta, [POS[:, None], POS[:2] + 0.5], [0, 1]),
    "betaln": (sp.betaln, [POS, POS[::-1]], [0, 1]),
    "gammainc": (sp.gammainc, [POS + 1, POS], [1]),
    "gammaincc": (sp.gammaincc, [POS + 1, POS], [1]),
    "gammaincinv": (sp.gammaincinv, [POS + 1, UNIT], [1]),
    "gammainccinv": (sp.gammainccinv, [POS + 1, UNIT], [1]),
    "betainc": (sp.betainc, [POS + 1, POS[::-1] + 1, UNIT], [2]),
    "betainc_broadcast": (sp.betainc, [2.5, POS[:, None] + 1, UNIT[:2]], [2]),
    "betaincc": (sp.betaincc, [POS + 1, POS[::-1] + 1, UNIT], [2]),
    "betaincinv": (sp.betaincinv, [POS + 1, POS[::-1] + 1, UNIT], [2]),
    "stdtr": (sp.stdtr, [POS + 2, REAL], [1]),
    "stdtrit": (sp.stdtrit, [POS + 2, UNIT], [1]),
    "erf": (sp.erf, [REAL], [0]),
    "erfc": (sp.erfc, [REAL], [0]),
    "erfinv": (sp.erfinv, [UNIT - 0.4], [0]),
    "erfcinv": (sp.erfcinv, [UNIT + 0.3], [0]),
    "erfcx": (sp.erfcx, [REAL], [0]),
    "ndtr": (sp.ndtr, [REAL], [0]),
    "log_ndtr": (sp.log_ndtr, [onp.array([-12.0, -1.0, 0.5, 3.0])], [0]),
    "ndtri": (sp.ndtri, [UNIT], [0]),
    "expit": (sp.expit, [REAL], [0]),
    "logit": (sp.logit, [UNIT], [0]),
    "log_expit": (sp.log_expit, [REAL], [0]),
    "log1p": (sp.log1p, [UNIT - 0.5], [0]),
    "expm1": (sp.expm1, [REAL], [0]),
    "exp2": (sp.exp2, [REAL], [0]),
    "exp10": (sp.exp10, [REAL / 2], [0]),
    "cbrt": (sp.cbrt, [POS], [0]),
    "entr": (sp.entr, [POS], [0]),
    "xlogy": (sp.xlogy, [REAL, POS], [0, 1]),
    "xlog1py": (sp.xlog1py, [REAL, UNIT - 0.5], [0, 1]),
    "j0": (sp.j0, [POS], [0]),
    "j1": (sp.j1, [POS], [0]),
    "jn": (lambda x: sp.jn(2, x), [POS], [0]),
    "jv": (lambda x: sp.jv(1.5, x), [POS], [0]),
    "y0": (sp.y0, [POS], [0]),
    "y1": (sp.y1, [POS], [0]),
    "yn": (lambda x: sp.yn(2, x), [POS], [0]),
    "yv": (lambda x: sp.yv(0.5, x), [POS], [0]),
    "i0": (sp.i0, [REAL], [0]),
    "i1": (sp.i1, [REAL], [0]),
    "i0e": (sp.i0e, [REAL], [0]),
    "i1e": (sp.i1e, [REAL], [0]),
    "iv": (lambda x: sp.iv(1.5, x), [POS], [0]),
    "ive": (lambda x: sp.ive(2, x), [REAL], [0]),
    "k0": (sp.k0, [POS], [0]),
    "k1": (sp.k1, [POS], [0]),
    "kv": (lambda x: sp.kv(0.5, x), [POS], [0]),
    "logsumexp": (sp.logsumexp, [MAT], [0]),
    "logsumexp_axis": (lambda a: sp.logsumexp(a, axis=1), [MAT], [0]),
    "logsumexp_axes": (lambda a: sp.logsumexp(a, axis=(0, 1), keepdims=True), [MAT], [0]),
    "logsumexp_keepdims": (lambda a: sp.logsumexp(a, axis=0, keepdims=True), [MAT], [0]),
    "logsumexp_b": (lambda a, b: sp.logsumexp(a, axis=-1, b=b), [MAT, POS], [0, 1]),
    "logsumexp_sign": (lambda a, b: sp.logsumexp(a, axis=1, b=b, return_sign=True)[0],
                       [MAT, onp.array([1.0, -3.0, 0.5])], [0, 1]),
    "logsumexp_scalar": (sp.logsumexp, [1.3], [0]),
    "softmax": (sp.softmax, [MAT], [0]),
    "softmax_axis": (lambda x: sp.softmax(x, axis=1), [MAT], [0]),
    "log_softmax": (sp.log_softmax, [MAT], [0]),
    "log_softmax_axis": (lambda x: sp.log_softmax(x, axis=0), [MAT], [0]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_grads(name):
    fun, args, argnums = CASES[name]
    for argnum in argnums:
        check_grads(fun, argnum, modes=["fwd", "rev"], order=2)(*args)


@pytest.mark.parametrize("kwargs", [
    {}, {"axis": 0}, {"axis": (0, 1)}, {"axis": 1, "keepdims": True},
    {"axis": 1, "b": onp.array([1.0, 2.0, 0.5])},
])
def test_logsumexp_values(kwargs):
    assert onp.allclose(sp.logsumexp(MAT, **kwargs), ss.logsumexp(MAT, **kwargs))


def test_logsumexp_return_sign():
    b = onp.array([1.0, -3.0, 0.5])
    value, sign = sp.logsumexp(MAT, axis=1, b=b, return_sign=True)
    expected_value, expected_sign = ss.logsumexp(MAT, axis=1, b=b, return_sign=True)
    assert onp.allclose(value, expected_value) and onp.array_equal(sign, expected_sign)
    assert onp.any(sign < 0)  # the case exercises a negative sum


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_softmax_values(axis):
    assert onp.allclose(sp.softmax(MAT, axis=axis), ss.softmax(MAT, axis=axis))
    assert onp.allclose(sp.log_softmax(MAT, axis=axis), ss.log_softmax(MAT, axis=axis))


def test_wrapped_values_and_names():
    for name in ["gamma", "erf", "jn", "xlogy", "gammasgn", "sph_harm_y", "zeta"]:
        assert hasattr(sp, name), name
    assert sp.gamma(POS).dtype == onp.float64
    assert onp.allclose(sp.polygamma(1, POS), ss.polygamma(1, POS))
    assert onp.allclose(sp.multigammaln(POS + 1.5, 3), ss.multigammaln(POS + 1.5, 3))


def test_gammasgn_is_constant():
    assert grad(lambda x: sp.gammasgn(x) * x)(-1.5) == ss.gammasgn(-1.5)


@pytest.mark.parametrize("fun, args, argnum, argname", [
    (sp.polygamma, (1.0, 2.0), 0, "n"),
    (sp.gammainc, (1.5, 2.0), 0, "a"),
    (sp.gammaincc, (1.5, 2.0), 0, "a"),
    (sp.betainc, (1.5, 2.0, 0.3), 0, "a"),
    (sp.betainc, (1.5, 2.0, 0.3), 1, "b"),
    (sp.jv, (1.5, 2.0), 0, "v"),
    (sp.iv, (1.5, 2.0), 0, "v"),
    (sp.stdtr, (3.0, 0.5), 0, "df"),
])
def test_order_arguments_raise(fun, args, argnum, argname):
    with pytest.raises(NotImplementedError, match=f"'{argname}'"):
        grad(fun, argnum)(*args)
    with pytest.raises(NotImplementedError, match=f"'{argname}'"):
        make_jvp(fun, argnum)(*args)(1.0)
