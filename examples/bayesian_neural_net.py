"""A Bayesian neural network fitted by black-box variational inference.

Noisy samples of a curve, with a gap in the middle, are regressed by a small network
(radial basis activations ``exp(-z**2)``) whose weights are uncertain. The posterior
over the weights is approximated by a diagonal Gaussian q (a mean and a log standard
deviation per weight), fitted by maximising the evidence lower bound

    ELBO = E_q[log p(data | weights) + log p(weights)] + entropy(q)

estimated with a few weight draws ``mean + exp(log_std) * noise`` (the reparameterisation
trick), so its gradient is an ordinary ``grad`` of a noisy function. The noise comes from
``jitgrad.numpy.random``, which the jit draws anew on every replay: the jitted
optimisation sees the same numbers as the eager one.

    python examples/bayesian_neural_net.py [--quick] [--jit] [--out DIR]

writes bayesian_neural_net.png: the data and the posterior predictive (networks drawn
from q, and the mean with two standard deviations).
"""
import numpy

import jitgrad.numpy as np
from jitgrad import grad
from jitgrad.misc.optimizers import adam

import harness

LAYERS = (1, 20, 20, 1)
NOISE_STD = 0.1
PRIOR_STD = 1.0


def shapes():
    return [((m, n), (n,)) for m, n in zip(LAYERS[:-1], LAYERS[1:])]


WEIGHT_COUNT = sum(m * n + n for m, n in zip(LAYERS[:-1], LAYERS[1:]))


def predict(weights, inputs):
    """Outputs (draws, points) of networks whose flat weights are the rows of ``weights``
    (draws, WEIGHT_COUNT), at the points ``inputs`` (points,)."""
    start = 0
    hidden = inputs[None, :, None]  # draws, points, units
    for layer, ((m, n), _) in enumerate(shapes()):
        w = np.reshape(weights[:, start:start + m * n], (-1, m, n))
        b = weights[:, start + m * n:start + m * n + n]
        start += m * n + n
        hidden = hidden @ w + b[:, None, :]
        if layer < len(LAYERS) - 2:
            hidden = np.exp(-hidden ** 2)
    return hidden[:, :, 0]


def log_density(weights, inputs, targets):
    """log p(weights) + log p(targets | weights), one value per row of ``weights``,
    up to constants."""
    log_prior = -0.5 * np.sum((weights / PRIOR_STD) ** 2, axis=1)
    residuals = (predict(weights, inputs) - targets) / NOISE_STD
    return log_prior - 0.5 * np.sum(residuals ** 2, axis=1)


def negative_elbo(variational, inputs, targets, draws):
    mean, log_std = variational[:WEIGHT_COUNT], variational[WEIGHT_COUNT:]
    weights = mean + np.exp(log_std) * np.random.randn(draws, WEIGHT_COUNT)
    return -(np.mean(log_density(weights, inputs, targets)) + np.sum(log_std))


def make_data(count, rng):
    inputs = numpy.concatenate([numpy.linspace(-4, -1.5, count // 2),
                                numpy.linspace(1.5, 4, count - count // 2)])
    targets = numpy.cos(inputs) + 0.3 * inputs + NOISE_STD * rng.normal(size=count)
    return inputs / 4, targets


def experiment(args, jit):
    rng = numpy.random.default_rng(0)
    inputs, targets = make_data(40, rng)
    iterations, draws = (150, 5) if args.quick else (2500, 10)
    print(f"{len(inputs)} points, {WEIGHT_COUNT} weights, {draws} draws per ELBO estimate, "
          f"{iterations} Adam steps")
    start = numpy.concatenate([0.5 * rng.normal(size=WEIGHT_COUNT), numpy.full(WEIGHT_COUNT, -4.0)])
    gradient = grad(negative_elbo, jit=jit)

    def report(variational, i, g):
        if i % (iterations // 5) == 0:
            print(f"step {i:4d}: ELBO estimate "
                  f"{-float(negative_elbo(variational, inputs, targets, draws)):.1f}", flush=True)

    variational = adam(lambda v, i: gradient(v, inputs, targets, draws), start, report,
                       num_iters=iterations, step_size=0.01)
    mean, log_std = variational[:WEIGHT_COUNT], variational[WEIGHT_COUNT:]
    # The final numbers and the picture draw from their own generator, not the global one.
    check = numpy.random.default_rng(1)
    weights = mean + numpy.exp(log_std) * check.normal(size=(200, WEIGHT_COUNT))
    grid = numpy.linspace(-8, 8, 200) / 4
    outputs = predict(weights, grid)
    residuals = (predict(weights, inputs) - targets) / NOISE_STD
    numbers = {"mean_log_likelihood": -0.5 * numpy.mean(numpy.sum(residuals ** 2, axis=1)),
               "mean_std": numpy.mean(numpy.exp(log_std)),
               "predictive_std_in_gap": numpy.std(outputs[:, 100]),
               "predictive_std_in_data": numpy.std(outputs[:, 40])}
    return numbers, (inputs, targets, grid, outputs)


def plot(args, inputs, targets, grid, outputs):
    plt = harness.pyplot()
    if plt is None:
        return
    fig, ax = plt.subplots(figsize=(7, 4))
    mean, std = outputs.mean(axis=0), outputs.std(axis=0)
    ax.fill_between(4 * grid, mean - 2 * std, mean + 2 * std, color="tab:blue", alpha=0.2,
                    label="mean ± 2 sd")
    ax.plot(4 * grid, outputs[:10].T, color="tab:blue", lw=0.7, alpha=0.6)
    ax.plot(4 * grid, mean, color="tab:blue", lw=2, label="predictive mean")
    ax.plot(4 * inputs, targets, "k.", label="data")
    ax.set_ylim(-4, 4)
    ax.legend(fontsize="small", loc="upper left")
    ax.set_title("Bayesian neural network: networks drawn from the fitted q")
    fig.tight_layout()
    harness.save(fig, args, "bayesian_neural_net.png")


def main(argv=None):
    args = harness.parse_args(argv, __doc__)
    numbers, extra = harness.run(experiment, args)
    plot(args, *extra)
    return numbers


if __name__ == "__main__":
    main()
