"""``jitgrad.scipy.special``: scipy.special with every function traced, and its rules.

Each rule is written with jitgrad primitives (often other special functions:
digamma's derivative is ``polygamma(1, x)``), so derivatives differentiate again.
Arguments that are orders or shape parameters with no closed-form derivative
(the ``n`` of ``polygamma``, the ``a`` of ``gammainc``) raise a
NotImplementedError naming the argument when they are traced.
"""
import numpy as _np
import scipy.special as _special

from ..numpy import numpy_wrapper as anp
from ..numpy.numpy_jvps import broadcast
from ..numpy.numpy_vjps import unbroadcast_f
from ..numpy.numpy_wrapper import wrap, wrap_namespace
from ..trace import defjvp, defvjp, notrace_primitive, primitive

__all__ = wrap_namespace(_special.__dict__, globals())

# Callables that wrap_namespace leaves alone (scipy's multi-ufuncs).
for _name, _obj in _special.__dict__.items():
    if type(_obj).__name__ == "MultiUFunc":
        globals()[_name] = wrap(_obj)

# Piecewise constant: the sign of the gamma function.
gammasgn = notrace_primitive(_special.gammasgn)

_SQRT_PI = float(_np.sqrt(_np.pi))  # Python floats: float32 inputs keep their dtype
_SQRT_2PI = float(_np.sqrt(2 * _np.pi))


def _not_differentiable(fun_name, arg_name, why):
    """A VJP maker and a JVP that refuse, naming the argument."""
    def refuse(*args, **kwargs):
        raise NotImplementedError(
            f"jitgrad.scipy.special.{fun_name}: the gradient with respect to "
            f"'{arg_name}' is not implemented ({why}); pass '{arg_name}' as a constant, "
            "outside the differentiated arguments.")
    return refuse, refuse


def _def_unary(fun, dfdx):
    defvjp(fun, lambda ans, x: lambda g: g * dfdx(ans, x))
    defjvp(fun, lambda g, ans, x: g * dfdx(ans, x))


def _def_elementwise(fun, *partials):
    """Rules of a broadcasting function from its partial derivatives.

    Each partial is ``d(ans, *args)``, or a ``(vjp_maker, jvp)`` pair from
    ``_not_differentiable``."""
    vjps, jvps = [], []
    for argnum, d in enumerate(partials):
        if isinstance(d, tuple):
            vjps.append(d[0])
            jvps.append(d[1])
            continue
        vjps.append(lambda ans, *args, _d=d, _i=argnum:
                    unbroadcast_f(args[_i], lambda g: g * _d(ans, *args)))
        jvps.append(lambda g, ans, *args, _d=d: broadcast(g * _d(ans, *args), ans))
    defvjp(fun, *vjps)
    defjvp(fun, *jvps)


def _order_param(fun_name, arg_name="n"):
    return _not_differentiable(fun_name, arg_name, "it is an order")


# Gamma and related functions.
_def_unary(gamma, lambda ans, x: ans * psi(x))
_def_unary(gammaln, lambda ans, x: psi(x))
_def_unary(loggamma, lambda ans, x: psi(x))
_def_unary(rgamma, lambda ans, x: -ans * psi(x))
# digamma is the same ufunc. SciPy's polygamma computes in float64 whatever x is:
# the derivative takes psi's own dtype (a float32 tangent for a float32 psi).
_def_unary(psi, lambda ans, x: anp.astype(polygamma(1, x), anp.result_type(ans)))
_def_elementwise(polygamma, _order_param("polygamma"),
                 lambda ans, n, x: polygamma(n + 1, x))
_def_elementwise(beta, lambda ans, a, b: ans * (psi(a) - psi(a + b)),
                 lambda ans, a, b: ans * (psi(b) - psi(a + b)))
_def_elementwise(betaln, lambda ans, a, b: psi(a) - psi(a + b),
                 lambda ans, a, b: psi(b) - psi(a + b))


def _multigammaln_dfda(ans, a, d):
    # multigammaln(a, d) = const + sum_j gammaln(a - j / 2), j = 0 .. d-1.
    halves = _np.arange(d).reshape((d,) + (1,) * anp.ndim(a)) / 2.0
    return anp.sum(psi(a - halves), axis=0)


defvjp(multigammaln, lambda ans, a, d: lambda g: g * _multigammaln_dfda(ans, a, d),
       _not_differentiable("multigammaln", "d", "it is an integer dimension")[0])
defjvp(multigammaln, lambda g, ans, a, d: g * _multigammaln_dfda(ans, a, d),
       _not_differentiable("multigammaln", "d", "it is an integer dimension")[1])


# Incomplete gamma and beta functions: closed forms in x only.
def _gammainc_dx(a, x):
    return anp.exp(xlogy(a - 1, x) - x - gammaln(a))


def _betainc_dx(a, b, x):
    return anp.exp(xlogy(a - 1, x) + xlog1py(b - 1, -x) - betaln(a, b))


_no_a = "no closed form"
_def_elementwise(gammainc, _not_differentiable("gammainc", "a", _no_a),
                 lambda ans, a, x: _gammainc_dx(a, x))
_def_elementwise(gammaincc, _not_differentiable("gammaincc", "a", _no_a),
                 lambda ans, a, x: -_gammainc_dx(a, x))
_def_elementwise(gammaincinv, _not_differentiable("gammaincinv", "a", _no_a),
                 lambda ans, a, y: 1.0 / _gammainc_dx(a, ans))
_def_elementwise(gammainccinv, _not_differentiable("gammainccinv", "a", _no_a),
                 lambda ans, a, y: -1.0 / _gammainc_dx(a, ans))
_def_elementwise(betainc, _not_differentiable("betainc", "a", _no_a),
                 _not_differentiable("betainc", "b", _no_a),
                 lambda ans, a, b, x: _betainc_dx(a, b, x))
_def_elementwise(betaincc, _not_differentiable("betaincc", "a", _no_a),
                 _not_differentiable("betaincc", "b", _no_a),
                 lambda ans, a, b, x: -_betainc_dx(a, b, x))
_def_elementwise(betaincinv, _not_differentiable("betaincinv", "a", _no_a),
                 _not_differentiable("betaincinv", "b", _no_a),
                 lambda ans, a, b, y: 1.0 / _betainc_dx(a, b, ans))


# Student's t distribution function (used by jitgrad.scipy.stats.t).
def _stdtr_dt(df, t):
    return anp.exp(gammaln((df + 1) / 2) - gammaln(df / 2) - 0.5 * anp.log(df * _np.pi)
                   - (df + 1) / 2 * log1p(t * t / df))


_no_df = "no closed form in the degrees of freedom"
_def_elementwise(stdtr, _not_differentiable("stdtr", "df", _no_df),
                 lambda ans, df, t: _stdtr_dt(df, t))
_def_elementwise(stdtrit, _not_differentiable("stdtrit", "df", _no_df),
                 lambda ans, df, p: 1.0 / _stdtr_dt(df, ans))


# Error functions and the normal distribution.
_def_unary(erf, lambda ans, x: 2.0 / _SQRT_PI * anp.exp(-x * x))
_def_unary(erfc, lambda ans, x: -2.0 / _SQRT_PI * anp.exp(-x * x))
_def_unary(erfinv, lambda ans, x: _SQRT_PI / 2 * anp.exp(ans * ans))
_def_unary(erfcinv, lambda ans, x: -_SQRT_PI / 2 * anp.exp(ans * ans))
_def_unary(erfcx, lambda ans, x: 2.0 * x * ans - 2.0 / _SQRT_PI)
_def_unary(ndtr, lambda ans, x: anp.exp(-0.5 * x * x) / _SQRT_2PI)
# exp(-x^2/2 - log_ndtr(x)) stays finite far in the left tail, unlike pdf / cdf.
_def_unary(log_ndtr, lambda ans, x: anp.exp(-0.5 * x * x - ans) / _SQRT_2PI)
_def_unary(ndtri, lambda ans, x: _SQRT_2PI * anp.exp(0.5 * ans * ans))

# Logistic functions.
_def_unary(expit, lambda ans, x: ans * (1.0 - ans))
_def_unary(logit, lambda ans, x: 1.0 / (x * (1.0 - x)))
_def_unary(log_expit, lambda ans, x: expit(-x))

# Elementary functions scipy.special has its own ufuncs for.
_def_unary(log1p, lambda ans, x: 1.0 / (1.0 + x))
_def_unary(expm1, lambda ans, x: ans + 1.0)
_def_unary(exp2, lambda ans, x: ans * _np.log(2.0))
_def_unary(exp10, lambda ans, x: ans * _np.log(10.0))
_def_unary(cbrt, lambda ans, x: 1.0 / (3.0 * ans * ans))
_def_unary(entr, lambda ans, x: -(anp.log(x) + 1.0))

# x log y: the x-partial is written as xlogy(g, y) so a zero cotangent stays zero at y = 0.
defvjp(xlogy, lambda ans, x, y: unbroadcast_f(x, lambda g: xlogy(g, y)),
       lambda ans, x, y: unbroadcast_f(y, lambda g: g * x / y))
defjvp(xlogy, lambda g, ans, x, y: broadcast(xlogy(g, y), ans),
       lambda g, ans, x, y: broadcast(g * x / y, ans))
defvjp(xlog1py, lambda ans, x, y: unbroadcast_f(x, lambda g: xlog1py(g, y)),
       lambda ans, x, y: unbroadcast_f(y, lambda g: g * x / (1.0 + y)))
defjvp(xlog1py, lambda g, ans, x, y: broadcast(xlog1py(g, y), ans),
       lambda g, ans, x, y: broadcast(g * x / (1.0 + y), ans))

# Bessel functions: the recurrences for derivatives, e.g. J_v' = (J_{v-1} - J_{v+1}) / 2.
_def_unary(j0, lambda ans, x: -j1(x))
_def_unary(j1, lambda ans, x: (j0(x) - jv(2, x)) / 2.0)
_def_unary(y0, lambda ans, x: -y1(x))
_def_unary(y1, lambda ans, x: (y0(x) - yn(2, x)) / 2.0)
_def_unary(i0, lambda ans, x: i1(x))
_def_unary(i1, lambda ans, x: (i0(x) + iv(2, x)) / 2.0)
_def_unary(i0e, lambda ans, x: i1e(x) - anp.sign(x) * ans)
_def_unary(i1e, lambda ans, x: (i0e(x) + ive(2, x)) / 2.0 - anp.sign(x) * ans)
_def_unary(k0, lambda ans, x: -k1(x))
_def_unary(k1, lambda ans, x: -(k0(x) + kv(2, x)) / 2.0)
_def_elementwise(jv, _order_param("jv", "v"),  # jn is the same ufunc
                 lambda ans, v, x: (jv(v - 1, x) - jv(v + 1, x)) / 2.0)
_def_elementwise(yv, _order_param("yv", "v"),
                 lambda ans, v, x: (yv(v - 1, x) - yv(v + 1, x)) / 2.0)
_def_elementwise(yn, _order_param("yn"),
                 lambda ans, n, x: (yn(n - 1, x) - yn(n + 1, x)) / 2.0)
_def_elementwise(iv, _order_param("iv", "v"),
                 lambda ans, v, x: (iv(v - 1, x) + iv(v + 1, x)) / 2.0)
_def_elementwise(ive, _order_param("ive", "v"),
                 lambda ans, v, x: (ive(v - 1, x) + ive(v + 1, x)) / 2.0
                 - anp.sign(x) * ans)
_def_elementwise(kv, _order_param("kv", "v"),
                 lambda ans, v, x: -(kv(v - 1, x) + kv(v + 1, x)) / 2.0)


# Reductions: logsumexp, softmax and log_softmax.
def _keepdims_shape(shape, axis):
    """``shape`` with the reduced axes kept as ones."""
    axes = range(len(shape)) if axis is None else (
        (axis,) if _np.ndim(axis) == 0 else axis)
    axes = {a % len(shape) for a in axes} if shape else set()
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


@primitive
def _logsumexp(a, b, axis, keepdims, return_sign):
    if return_sign:
        return _special.logsumexp(a, axis, b, keepdims, return_sign=True)[0]
    return _special.logsumexp(a, axis, b, keepdims)


@notrace_primitive
def _logsumexp_sign(a, b, axis, keepdims):
    return _special.logsumexp(a, axis, b, keepdims, return_sign=True)[1]


def _logsumexp_weights(ans, a, b, axis, keepdims):
    """d ans / d (b * exp(a)): exp(a - ans) times the sign of the sum."""
    shape = anp.shape(a) if b is None else _np.broadcast_shapes(anp.shape(a), anp.shape(b))
    ans_kept = anp.reshape(ans, _keepdims_shape(shape, axis))
    weights = anp.exp(a - ans_kept)
    if b is None:
        return weights, ans_kept
    sign = anp.sign(anp.sum(b * weights, axis=axis, keepdims=True))
    return weights * sign, ans_kept


def _logsumexp_vjp(argnum):
    def vjp_maker(ans, a, b, axis, keepdims, return_sign):
        weights, ans_kept = _logsumexp_weights(ans, a, b, axis, keepdims)
        keep = anp.shape(ans_kept)
        if argnum == 0:
            scale = weights if b is None else b * weights
            return unbroadcast_f(a, lambda g: anp.reshape(g, keep) * scale)
        return unbroadcast_f(b, lambda g: anp.reshape(g, keep) * weights)
    return vjp_maker


def _logsumexp_jvp(argnum):
    def jvp(g, ans, a, b, axis, keepdims, return_sign):
        weights, _ = _logsumexp_weights(ans, a, b, axis, keepdims)
        share = g * weights if (argnum == 1 or b is None) else g * b * weights
        return anp.sum(share, axis=axis, keepdims=keepdims)
    return jvp


defvjp(_logsumexp, _logsumexp_vjp(0), _logsumexp_vjp(1))
defjvp(_logsumexp, _logsumexp_jvp(0), _logsumexp_jvp(1))


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    """log(sum(b * exp(a))) over ``axis``, as scipy.special.logsumexp, differentiable
    in ``a`` and ``b``. With ``return_sign`` the log of the absolute value and the sign."""
    if isinstance(axis, list):
        axis = tuple(axis)
    ans = _logsumexp(a, b, axis, keepdims, return_sign)
    if return_sign:
        return ans, _logsumexp_sign(a, b, axis, keepdims)
    return ans


@primitive
def softmax(x, axis=None):
    return _special.softmax(x, axis=axis)


@primitive
def log_softmax(x, axis=None):
    return _special.log_softmax(x, axis=axis)


defvjp(softmax, lambda ans, x, axis=None: lambda g:
       ans * (g - anp.sum(g * ans, axis=axis, keepdims=True)))
defjvp(softmax, lambda g, ans, x, axis=None:
       ans * (g - anp.sum(g * ans, axis=axis, keepdims=True)))
defvjp(log_softmax, lambda ans, x, axis=None: lambda g:
       g - anp.exp(ans) * anp.sum(g, axis=axis, keepdims=True))
defjvp(log_softmax, lambda g, ans, x, axis=None:
       g - anp.sum(anp.exp(ans) * g, axis=axis, keepdims=True))
