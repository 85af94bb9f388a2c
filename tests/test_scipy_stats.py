"""jitgrad.scipy.stats: values against scipy.stats and gradients in every argument
(data and parameters), both modes, second order."""
import numpy as onp
import pytest
import scipy.stats as ss

import jitgrad.numpy as np
import jitgrad.scipy.stats as st
from jitgrad import grad
from jitgrad.test_util import check_grads

R = onp.random.RandomState(0)
X = onp.array([-1.2, 0.3, 2.1])
POS = onp.array([0.4, 1.1, 2.5])
UNIT = onp.array([0.1, 0.45, 0.8])
LOC, SCALE = 0.25, 1.4  # LOC is off X: laplace has a kink at x = loc

CONTINUOUS = ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf"]
# (distribution, functions, arguments, differentiable argnums per function group)
TABLE = [
    ("norm", CONTINUOUS, (X, LOC, SCALE), [0, 1, 2]),
    ("norm", ["ppf", "isf"], (UNIT, LOC, SCALE), [0, 1, 2]),
    ("t", ["pdf", "logpdf"], (X, 3.5, LOC, SCALE), [0, 1, 2, 3]),
    ("t", ["cdf", "logcdf", "sf", "logsf"], (X, 3.5, LOC, SCALE), [0, 2, 3]),
    ("t", ["ppf"], (UNIT, 3.5, LOC, SCALE), [0, 2, 3]),
    ("beta", ["pdf", "logpdf"], (UNIT, 1.5, 2.5, 0.0, 1.0), [0, 1, 2, 3, 4]),
    ("beta", ["pdf", "logpdf"], (UNIT * 2 - 0.5, 1.5, 2.5, -0.5, 2.0), [0, 1, 2, 3, 4]),
    ("beta", ["cdf", "logcdf", "sf", "logsf"], (UNIT, 1.5, 2.5, 0.0, 1.0), [0, 3, 4]),
    ("beta", ["ppf"], (UNIT, 1.5, 2.5, LOC, SCALE), [0, 3, 4]),
    ("gamma", ["pdf", "logpdf"], (POS, 2.5, 0.0, SCALE), [0, 1, 2, 3]),
    ("gamma", ["cdf", "logcdf", "sf", "logsf"], (POS, 2.5, 0.1, SCALE), [0, 2, 3]),
    ("gamma", ["ppf"], (UNIT, 2.5, LOC, SCALE), [0, 2, 3]),
    ("chi2", ["pdf", "logpdf"], (POS, 3.5, 0.0, SCALE), [0, 1, 2, 3]),
    ("chi2", ["cdf", "logcdf", "sf", "logsf"], (POS, 3.5, 0.1, SCALE), [0, 2, 3]),
    ("chi2", ["ppf"], (UNIT, 3.5, LOC, SCALE), [0, 2, 3]),
    ("expon", CONTINUOUS, (POS, 0.1, SCALE), [0, 1, 2]),
    ("expon", ["ppf"], (UNIT, LOC, SCALE), [0, 1, 2]),
    ("laplace", CONTINUOUS, (X, LOC, SCALE), [0, 1, 2]),
    ("laplace", ["ppf"], (UNIT, LOC, SCALE), [0, 1, 2]),
    ("poisson", ["pmf", "logpmf", "cdf", "logcdf", "sf", "logsf"],
     (onp.array([0.0, 1.0, 4.0]), 2.5), [1]),
]
CASES = [(dist, fname, args, argnums) for dist, fnames, args, argnums in TABLE
         for fname in fnames]


@pytest.mark.parametrize("dist, fname, args, argnums", CASES,
                         ids=[f"{c[0]}.{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_univariate(dist, fname, args, argnums):
    ours = getattr(getattr(st, dist), fname)
    assert onp.allclose(ours(*args), getattr(getattr(ss, dist), fname)(*args))
    for argnum in argnums:
        check_grads(ours, argnum, modes=["fwd", "rev"], order=2)(*args)


@pytest.mark.parametrize("dist, fname, args, argnums", CASES,
                         ids=[f"{c[0]}.{c[1]}-{i}" for i, c in enumerate(CASES)])
@pytest.mark.parametrize("kind", [float, onp.float64, onp.array])
def test_a_scalar_result_is_a_numpy_scalar_as_scipys(dist, fname, args, argnums, kind):
    """gamma.logpdf(0.7, 2.0) is np.float64(-1.05) in scipy (and autograd, which calls
    it), not array(-1.05): the same type, eagerly and from a jitted function's replays."""
    from jitgrad import jit
    scalar_args = tuple(kind(float(a[1])) if onp.ndim(a) else a for a in args)
    expected = getattr(getattr(ss, dist), fname)(*scalar_args)
    ours = getattr(getattr(st, dist), fname)
    assert type(ours(*scalar_args)) is type(expected)
    jitted = jit(ours)
    for shift in (0.0, 0.01, 0.02):
        moved = (kind(float(scalar_args[0]) + shift),) + scalar_args[1:]
        value = jitted(*moved)
        assert type(value) is type(expected) and onp.isclose(value, ours(*moved), rtol=1e-12)


def test_multivariate_normal_at_one_point_is_a_numpy_scalar():
    x, mean, cov = onp.array([0.1, 0.2]), onp.zeros(2), onp.eye(2)
    for allow_singular in (False, True):
        value = st.multivariate_normal.logpdf(x, mean, cov, allow_singular=allow_singular)
        assert type(value) is type(ss.multivariate_normal.logpdf(x, mean, cov))
    assert type(st.multivariate_normal.pdf(x, mean, cov)) is onp.float64


OUTSIDE = [
    ("beta", "logpdf", (onp.array([-0.5, 0.3, 1.5]), 1.5, 2.5)),
    ("beta", "cdf", (onp.array([-0.5, 0.3, 1.5]), 1.5, 2.5)),
    ("gamma", "logpdf", (onp.array([-1.0, 0.5]), 2.5)),
    ("gamma", "sf", (onp.array([-1.0, 0.5]), 2.5)),
    ("chi2", "pdf", (onp.array([-1.0, 0.5]), 3.0)),
    ("expon", "logpdf", (onp.array([-1.0, 0.5]),)),
    ("expon", "logcdf", (onp.array([-1.0, 0.5]),)),
    ("poisson", "logpmf", (onp.array([-1.0, 1.5, 2.0]), 2.5)),
    ("poisson", "cdf", (onp.array([-1.0, 1.5, 2.0]), 2.5)),
]


@pytest.mark.parametrize("dist, fname, args", OUTSIDE)
def test_outside_support(dist, fname, args):
    """Values match scipy off the support, and gradients there are finite."""
    ours = getattr(getattr(st, dist), fname)
    assert onp.allclose(ours(*args), getattr(getattr(ss, dist), fname)(*args))
    argnum = 1 if dist == "poisson" else 0
    gradient = grad(lambda a: np.sum(np.exp(ours(*args[:argnum], a, *args[argnum + 1:]))))(
        args[argnum])
    assert onp.all(onp.isfinite(gradient))


DIRICHLET_X = [onp.array([0.2, 0.3, 0.5]), onp.array([0.2, 0.3]),
               onp.array([[0.2, 0.3], [0.3, 0.1], [0.5, 0.6]])]


@pytest.mark.parametrize("x", DIRICHLET_X, ids=["full", "short", "matrix"])
@pytest.mark.parametrize("fname", ["logpdf", "pdf"])
def test_dirichlet(x, fname):
    alpha = onp.array([1.5, 2.0, 3.0])
    ours = getattr(st.dirichlet, fname)
    assert onp.allclose(ours(x, alpha), getattr(ss.dirichlet, fname)(x, alpha))
    check_grads(ours, 0, modes=["fwd", "rev"], order=2)(x, alpha)
    check_grads(ours, 1, modes=["fwd", "rev"], order=2)(x, alpha)


def test_dirichlet_shape_error():
    with pytest.raises(ValueError, match="entries"):
        st.dirichlet.logpdf(onp.array([0.5, 0.5]), onp.ones(4))


_A = R.randn(3, 3)
COV = _A @ _A.T + onp.eye(3)
MEAN = onp.array([0.1, -0.2, 0.3])
MVN = [  # (x, mean, cov, allow_singular)
    (R.randn(4, 3), MEAN, COV, False),
    (R.randn(3), MEAN, COV, False),
    (R.randn(2, 2, 3), MEAN, onp.array([1.0, 2.0, 0.5]), False),
    (R.randn(4, 3), MEAN, COV, True),
    (R.randn(5), 0.2, 1.7, False),
    (0.4, 0.2, 1.7, False),
]


@pytest.mark.parametrize("x, mean, cov, allow_singular", MVN)
@pytest.mark.parametrize("fname", ["logpdf", "pdf"])
def test_multivariate_normal(fname, x, mean, cov, allow_singular):
    ours, theirs = getattr(st.multivariate_normal, fname), \
        getattr(ss.multivariate_normal, fname)
    fun = lambda x, mean, cov: ours(x, mean, cov, allow_singular=allow_singular)
    assert onp.allclose(fun(x, mean, cov), theirs(x, mean, cov, allow_singular))
    for argnum in range(3):
        check_grads(fun, argnum, modes=["fwd", "rev"], order=2 if fname == "logpdf" else 1)(
            x, mean, cov)


def test_multivariate_normal_singular():
    """A rank-2 covariance B B^T in 3-d: values as scipy's, -inf off the support, and
    gradients in B (which keep the rank) and in the mean."""
    B, Z = R.randn(3, 2), R.randn(4, 2)
    on = Z @ B.T + MEAN
    off = on + 0.5 * onp.cross(B[:, 0], B[:, 1])
    for x in (on, onp.concatenate([on[:2], off[:2]])):
        ours = st.multivariate_normal.logpdf(x, MEAN, B @ B.T, allow_singular=True)
        theirs = ss.multivariate_normal.logpdf(x, MEAN, B @ B.T, allow_singular=True)
        assert onp.allclose(ours, theirs)
    assert onp.all(onp.isinf(ours[2:]))
    fun = lambda B, mean: st.multivariate_normal.logpdf(Z @ B.T + mean, mean, B @ B.T,
                                                        allow_singular=True)
    check_grads(fun, 0, modes=["fwd", "rev"], order=2)(B, MEAN)
    check_grads(fun, 1, modes=["fwd", "rev"], order=2)(B, MEAN)
    with pytest.raises(onp.linalg.LinAlgError):
        st.multivariate_normal.logpdf(on, MEAN, B @ B.T)
    # Exactly singular, where LAPACK's Cholesky itself fails: scipy's message, value and
    # gradient (autograd's examples/bayesian_optimization.py meets it).
    singular = onp.ones((2, 2))
    for f in (st.multivariate_normal.logpdf, grad(st.multivariate_normal.logpdf, 2)):
        with pytest.raises(onp.linalg.LinAlgError, match="allow_singular is False"):
            f(onp.ones(2), onp.zeros(2), singular)


@pytest.mark.parametrize("cov", [COV, "singular"])
def test_multivariate_normal_entropy(cov):
    B = R.randn(3, 2)
    cov = B @ B.T if isinstance(cov, str) else cov
    assert onp.allclose(st.multivariate_normal.entropy(MEAN, cov),
                        ss.multivariate_normal.entropy(MEAN, cov))
    check_grads(lambda B: st.multivariate_normal.entropy(MEAN, B @ B.T),
                modes=["fwd", "rev"], order=2)(B)


def test_module_paths():
    import jitgrad.scipy.stats.norm as norm
    from jitgrad.scipy.stats import multivariate_normal
    assert norm is st.norm and multivariate_normal is st.multivariate_normal


@pytest.mark.parametrize("fun, args, argname", [
    (st.t.cdf, (0.5, 3.0), "df"),
    (st.beta.cdf, (0.5, 1.5, 2.0), "a"),
    (st.gamma.cdf, (0.5, 1.5), "a"),
])
def test_shape_parameters_of_cdfs_raise(fun, args, argname):
    with pytest.raises(NotImplementedError, match=f"'{argname}'"):
        grad(fun, 1)(*args)


@pytest.mark.parametrize("name, shape", [("norm", ()), ("t", (3.0,)), ("gamma", (2.0,)),
                                         ("beta", (2.0, 3.0)), ("expon", ()),
                                         ("laplace", ())])
@pytest.mark.parametrize("x", [onp.array([0.25, 0.5, 0.75]),
                               onp.array([0.25, 0.5, 0.75], onp.float32), 0.5, 1])
def test_default_loc_and_scale_give_the_bits_of_the_arithmetic(name, shape, x, monkeypatch):
    """The defaults skip standardizing and ``- log(scale)`` (two to four steps fewer per
    call): values, dtypes and gradients are those the arithmetic gives."""
    from jitgrad.scipy.stats import _support
    logpdf = getattr(st, name).logpdf
    f = lambda x: logpdf(x, *shape)
    results = []
    for skipped in (True, False):
        if not skipped:
            monkeypatch.setattr(_support, "_is_plain", lambda value, number: False)
        results.append([onp.asarray(f(x))])
        if not isinstance(x, int):
            results[-1].append(onp.asarray(grad(lambda x: np.sum(f(x)))(x)))
    for got, want in zip(*results):
        assert got.dtype == want.dtype and got.tobytes() == want.tobytes()
