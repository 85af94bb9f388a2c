"""jitgrad.scipy.integrate.odeint: values as scipy's, gradients in y0, t and args in
both modes against finite differences of the solved trajectory, a second derivative
against a closed form, and a small ODE-net that trains."""
import numpy as onp
import pytest
import scipy.integrate as si

import jitgrad.numpy as np
from jitgrad import grad, make_jvp, value_and_grad
from jitgrad.scipy.integrate import odeint, solve_ivp

TIGHT = dict(rtol=1e-11, atol=1e-11)
R = onp.random.RandomState(0)


def tanh_net(y, t, W, b):
    return np.tanh(np.dot(W, y) + b) - 0.1 * y * t


def damped(y, t, k):
    return k * np.dot(onp.array([[0.0, 1.0], [-1.0, -0.3]]), y) + np.sin(t)


ODES = {
    "tanh_net": (tanh_net, R.randn(2), onp.array([0.0, 0.4, 1.0, 1.3]),
                 (R.randn(2, 2), R.randn(2))),
    "damped": (damped, onp.array([1.0, -0.5]), onp.array([0.2, 0.9, 1.5]), (1.3,)),
}


def _loss(func, weights):
    def loss(y0, t, *args):
        return np.sum(weights * odeint(func, y0, t, args, **TIGHT))
    return loss


def _numerical_grad(fun, args, argnum, h=1e-5):
    x = onp.asarray(args[argnum], dtype=float)
    out = onp.zeros_like(x)
    for idx in onp.ndindex(x.shape):
        shifted = []
        for sign in (1, -1):
            xs = x.copy()
            xs[idx] += sign * h
            new_args = list(args)
            new_args[argnum] = xs if x.shape else float(xs)
            shifted.append(fun(*new_args))
        out[idx] = (shifted[0] - shifted[1]) / (2 * h)
    return out


@pytest.mark.parametrize("name", sorted(ODES))
def test_values(name):
    func, y0, t, args = ODES[name]
    assert onp.allclose(odeint(func, y0, t, args), si.odeint(func, y0, t, args))


@pytest.mark.parametrize("name", sorted(ODES))
def test_gradients_against_finite_differences(name):
    func, y0, t, args = ODES[name]
    all_args = (y0, t) + args
    weights = R.randn(len(t), len(y0))
    loss = _loss(func, weights)
    for argnum in range(len(all_args)):
        numeric = _numerical_grad(loss, all_args, argnum)
        reverse = grad(loss, argnum)(*all_args)
        assert onp.allclose(reverse, numeric, rtol=1e-5, atol=1e-6), (argnum, reverse, numeric)
        v = onp.asarray(R.randn(*onp.shape(all_args[argnum])))
        forward = make_jvp(loss, argnum)(*all_args)(v if v.shape else float(v))[1]
        assert onp.allclose(forward, onp.sum(numeric * v), rtol=1e-5, atol=1e-6), argnum


def test_second_derivative_closed_form():
    # y' = -k y^2 has y(T) = y0 / (1 + k y0 T).
    y0, T, k = 1.5, 2.0, 0.7
    end = lambda k: odeint(lambda y, t, k: -k * y * y, onp.array([y0]),
                           onp.array([0.0, T]), (k,), **TIGHT)[-1, 0]
    assert onp.isclose(grad(end)(k), -y0 ** 2 * T / (1 + k * y0 * T) ** 2, rtol=1e-7)
    second = 2 * y0 ** 3 * T ** 2 / (1 + k * y0 * T) ** 3
    assert onp.isclose(grad(grad(end))(k), second, rtol=1e-6)
    assert onp.isclose(make_jvp(grad(end))(k)(1.0)[1], second, rtol=1e-6)


def test_tfirst_and_single_arg():
    y0, t = onp.array([1.0, 2.0]), onp.array([0.0, 0.5, 1.0])
    ours = odeint(lambda t, y, k: -k * y, y0, t, args=(0.5,), tfirst=True)
    assert onp.allclose(ours, si.odeint(lambda y, t: -0.5 * y, y0, t))
    g = grad(lambda k: np.sum(odeint(lambda y, t, k: -k * y, y0, t, k, **TIGHT)))(0.5)
    assert onp.isclose(g, -onp.sum(y0[None] * t[:, None] * onp.exp(-0.5 * t[:, None])))


def test_ode_net_trains():
    """Fit the parameters of dy/dt = tanh(W y + b) so that y(1) hits a target."""
    y0, t, target = onp.array([0.5, -0.3]), onp.array([0.0, 1.0]), onp.array([1.0, 0.2])

    def loss(params):
        W, b = params
        y1 = odeint(lambda y, t, W, b: np.tanh(np.dot(W, y) + b), y0, t, (W, b))[-1]
        return np.sum((y1 - target) ** 2)

    params = (0.1 * R.randn(2, 2), onp.zeros(2))
    first, _ = value_and_grad(loss)(params)
    for _ in range(15):
        value, (gW, gb) = value_and_grad(loss)(params)
        params = (params[0] - 0.5 * gW, params[1] - 0.5 * gb)
    assert loss(params) < 0.1 * first


def test_full_output_refused():
    with pytest.raises(NotImplementedError, match="full_output"):
        odeint(lambda y, t: -y, onp.ones(1), onp.array([0.0, 1.0]), full_output=True)


@pytest.mark.parametrize("method", ["RK45", "Radau"])
def test_solve_ivp_gradients(method):
    """Gradients of solve_ivp's y in y0, args, t_eval and t_span[0] (adjoint by odeint)."""
    W, b, y0 = R.randn(2, 2), R.randn(2), R.randn(2)
    t_eval = onp.array([0.3, 0.7, 1.2])
    weights = R.randn(2, 3)

    def loss(y0, W, b, t_eval, t0):
        solution = solve_ivp(lambda t, y, W, b: tanh_net(y, t, W, b), (t0, 1.5), y0,
                             method=method, t_eval=t_eval, args=(W, b), **TIGHT)
        return np.sum(weights * solution.y)

    all_args = (y0, W, b, t_eval, 0.1)
    for argnum in range(len(all_args)):
        numeric = _numerical_grad(loss, all_args, argnum)
        assert onp.allclose(grad(loss, argnum)(*all_args), numeric, rtol=1e-5, atol=1e-6)
        v = onp.asarray(R.randn(*onp.shape(all_args[argnum])))
        forward = make_jvp(loss, argnum)(*all_args)(v if v.shape else float(v))[1]
        assert onp.allclose(forward, onp.sum(numeric * v), rtol=1e-5, atol=1e-6)


def test_solve_ivp_result_as_scipy():
    fun = lambda t, y, k: -k * y
    y0 = onp.array([1.0, 2.0])
    ours, theirs = solve_ivp(fun, (0.0, 1.0), y0, args=(0.5,)), \
        si.solve_ivp(fun, (0.0, 1.0), y0, args=(0.5,))
    assert onp.allclose(ours.t, theirs.t) and onp.allclose(ours.y, theirs.y)
    assert ours.success and ours.status == theirs.status
    # With solver-chosen times, y at those times is differentiated.
    g = grad(lambda k: np.sum(solve_ivp(fun, (0.0, 1.0), y0, args=(k,), **TIGHT).y[:, -1]))
    assert onp.isclose(g(0.5), -onp.sum(y0) * onp.exp(-0.5), rtol=1e-6)
