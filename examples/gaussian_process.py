"""Gaussian process regression, its hyperparameters fitted by type-II maximum likelihood.

A Gaussian process with a squared-exponential kernel and a constant mean explains noisy
one-dimensional data. Its hyperparameters (mean, log amplitude, log length scale, log
noise) maximise the marginal likelihood of the data, which a Cholesky factor of the
kernel matrix gives in closed form; ``value_and_grad`` hands its value and gradient to
``scipy.optimize.minimize(..., jac=True)``. The fit restarts from several random starting
points and keeps the best, as one does with a likelihood that has local optima.

    python examples/gaussian_process.py [--quick] [--jit] [--out DIR]

writes gaussian_process.png: the data, the posterior mean with two standard deviations,
and a few functions drawn from the posterior.
"""
import numpy
import scipy.optimize

import jitgrad.numpy as np
from jitgrad import value_and_grad

import harness


def kernel(amplitude, length_scale, a, b):
    squared_distances = (a[:, None] - b[None, :]) ** 2
    return amplitude ** 2 * np.exp(-0.5 * squared_distances / length_scale ** 2)


def unpack(params):
    mean, log_amplitude, log_length_scale, log_noise = params[0], params[1], params[2], params[3]
    return mean, np.exp(log_amplitude), np.exp(log_length_scale), np.exp(log_noise)


def negative_log_marginal_likelihood(params, inputs, targets):
    mean, amplitude, length_scale, noise = unpack(params)
    covariance = kernel(amplitude, length_scale, inputs, inputs) + noise ** 2 * np.eye(len(inputs))
    factor = np.linalg.cholesky(covariance)
    whitened = np.linalg.solve(factor, targets - mean)
    return (0.5 * np.sum(whitened ** 2) + np.sum(np.log(np.diag(factor)))
            + 0.5 * len(inputs) * np.log(2 * np.pi))


def posterior(params, inputs, targets, grid):
    """Posterior mean and covariance of the function at the points ``grid``."""
    mean, amplitude, length_scale, noise = (float(p) for p in unpack(params))
    covariance = (kernel(amplitude, length_scale, inputs, inputs)
                  + noise ** 2 * numpy.eye(len(inputs)))
    cross = kernel(amplitude, length_scale, grid, inputs)
    weights = numpy.linalg.solve(covariance, cross.T).T
    return (mean + weights @ (targets - mean),
            kernel(amplitude, length_scale, grid, grid) - weights @ cross.T)


def make_data(count, rng):
    inputs = numpy.sort(rng.uniform(-5, 5, size=count))
    targets = numpy.sin(inputs) + 0.3 * numpy.sin(3 * inputs) + 0.5 + 0.15 * rng.normal(size=count)
    return inputs, targets


def experiment(args, jit):
    rng = numpy.random.default_rng(0)
    count, restarts = (30, 3) if args.quick else (150, 20)
    inputs, targets = make_data(count, rng)
    objective = value_and_grad(negative_log_marginal_likelihood, jit=jit)
    best, evaluations = None, 0
    for restart in range(restarts):
        start = numpy.array([0.0, *rng.normal(scale=1.0, size=3)])
        result = scipy.optimize.minimize(objective, start, args=(inputs, targets), jac=True,
                                         method="L-BFGS-B")
        evaluations += result.nfev
        print(f"restart {restart:2d}: -log marginal likelihood {result.fun:.6f} after "
              f"{result.nit} iterations", flush=True)
        if best is None or result.fun < best.fun:
            best = result
    mean, amplitude, length_scale, noise = (float(p) for p in unpack(best.x))
    print(f"{evaluations} evaluations of the likelihood and its gradient; best: "
          f"mean {mean:.3f}, amplitude {amplitude:.3f}, length scale {length_scale:.3f}, "
          f"noise {noise:.3f}")
    numbers = {"neg_log_marginal_likelihood": best.fun, "mean": mean, "amplitude": amplitude,
               "length_scale": length_scale, "noise": noise}
    return numbers, (best.x, inputs, targets)


def plot(args, params, inputs, targets):
    plt = harness.pyplot()
    if plt is None:
        return
    grid = numpy.linspace(-7, 7, 300)
    mean, covariance = posterior(params, inputs, targets, grid)
    std = numpy.sqrt(numpy.clip(numpy.diag(covariance), 0, None))
    draws = numpy.random.default_rng(2).multivariate_normal(
        mean, covariance + 1e-8 * numpy.eye(len(grid)), size=5, method="cholesky")
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.fill_between(grid, mean - 2 * std, mean + 2 * std, color="tab:orange", alpha=0.25,
                    label="mean ± 2 sd")
    ax.plot(grid, draws.T, color="tab:orange", lw=0.7)
    ax.plot(grid, mean, color="tab:orange", lw=2, label="posterior mean")
    ax.plot(inputs, targets, "k.", label="data")
    ax.legend(fontsize="small", loc="lower left")
    ax.set_title("Gaussian process, hyperparameters by maximum marginal likelihood")
    fig.tight_layout()
    harness.save(fig, args, "gaussian_process.png")


def main(argv=None):
    args = harness.parse_args(argv, __doc__)
    numbers, extra = harness.run(experiment, args)
    plot(args, *extra)
    return numbers


if __name__ == "__main__":
    main()
