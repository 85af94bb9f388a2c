"""scipy.optimize interop: minimize with jitgrad's gradients and Hessian-vector
products, on plain arrays and on nested parameters through flatten."""
import numpy as onp
import scipy.optimize as so

import jitgrad.numpy as np
import jitgrad.scipy.stats as st
from jitgrad import grad, hessian_vector_product, value_and_grad
from jitgrad.misc import flatten


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def test_minimize_plain_array_with_jac():
    result = so.minimize(rosenbrock, onp.zeros(4), jac=grad(rosenbrock), method="BFGS")
    assert result.success and onp.allclose(result.x, 1.0, atol=1e-4)
    # The analytic gradient lets BFGS converge with far fewer evaluations.
    numeric = so.minimize(rosenbrock, onp.zeros(4), method="BFGS")
    assert result.nfev < numeric.nfev


def test_minimize_with_hessian_vector_products():
    result = so.minimize(rosenbrock, onp.zeros(3), jac=grad(rosenbrock),
                         hessp=hessian_vector_product(rosenbrock), method="Newton-CG")
    assert result.success and onp.allclose(result.x, 1.0, atol=1e-4)


def test_minimize_value_and_grad():
    result = so.minimize(value_and_grad(rosenbrock), onp.zeros(3), jac=True, method="L-BFGS-B")
    assert onp.allclose(result.x, 1.0, atol=1e-3)


def test_minimize_nested_parameters_via_flatten():
    """Maximum likelihood for a Gaussian linear model with parameters in a dict."""
    r = onp.random.RandomState(0)
    inputs = r.randn(50, 2)
    true_w, true_b = onp.array([1.5, -0.7]), 0.3
    targets = inputs @ true_w + true_b + 0.1 * r.randn(50)

    def negative_log_likelihood(params):
        predictions = np.dot(inputs, params["weights"]) + params["bias"][0]
        noise = np.exp(params["log_noise"][0])
        return -np.sum(st.norm.logpdf(targets, predictions, noise))

    init = {"weights": onp.zeros(2), "bias": onp.zeros(1), "log_noise": onp.zeros(1)}
    flat_init, unflatten = flatten(init)
    objective = lambda v: negative_log_likelihood(unflatten(v))
    result = so.minimize(objective, flat_init, jac=grad(objective), method="BFGS")
    fitted = unflatten(result.x)
    assert result.success
    assert onp.allclose(fitted["weights"], true_w, atol=0.05)
    assert onp.allclose(fitted["bias"], true_b, atol=0.05)
    residuals = targets - inputs @ fitted["weights"] - fitted["bias"][0]
    assert onp.isclose(onp.exp(fitted["log_noise"][0]), onp.std(residuals), rtol=1e-3)
