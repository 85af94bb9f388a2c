"""Hamiltonian Monte Carlo on a banana-shaped density, the trajectories jitted.

HMC draws from a density p(x) by treating -log p as the potential energy of a particle:
each iteration gives it a random momentum, follows Hamilton's equations for a while with
the leapfrog integrator (which needs the gradient of log p at every step), and accepts
the end point with the Metropolis probability that corrects the integrator's error.

The target is a twisted Gaussian ("banana"), hard for a random-walk sampler. A
trajectory is a Python loop of leapfrog steps, each calling ``grad(log_density)``; with
``--jit`` the whole trajectory, gradients included, is one ``jitgrad.jit`` function,
traced once and replayed for every iteration.

    python examples/hmc.py [--quick] [--jit] [--out DIR]

writes hmc.png: the samples over the density's contours, and the first path.
"""
import numpy

import jitgrad.numpy as np
from jitgrad import grad, jit as jitted

import harness

LEAPFROG_STEPS = 20


def log_density(x):
    """A Gaussian in (x0, x1 - x0**2 / 4) coordinates: a banana bent around x1 = x0**2 / 4."""
    bent = x[1] - 0.25 * x[0] ** 2 + 1.0
    return -0.5 * (x[0] / 2.0) ** 2 - 0.5 * (bent / 0.6) ** 2


def trajectory(x, momentum, step_size):
    """The leapfrog path from (x, momentum): its end point and its path through x."""
    gradient = grad(log_density)
    momentum = momentum + 0.5 * step_size * gradient(x)
    path = [x]
    for step in range(LEAPFROG_STEPS):
        x = x + step_size * momentum
        path.append(x)
        if step < LEAPFROG_STEPS - 1:
            momentum = momentum + step_size * gradient(x)
    momentum = momentum + 0.5 * step_size * gradient(x)
    return x, momentum, np.stack(path)


def hamiltonian(x, momentum):
    return -log_density(x) + 0.5 * numpy.sum(momentum ** 2)


def sample(count, step_size, jit, rng):
    follow = jitted(trajectory) if jit else trajectory
    x = numpy.zeros(2)
    samples, accepted, first_path = numpy.empty((count, 2)), 0, None
    for i in range(count):
        momentum = rng.normal(size=2)
        proposal, new_momentum, path = follow(x, momentum, step_size)
        if first_path is None:
            first_path = numpy.asarray(path)
        energy_change = hamiltonian(proposal, new_momentum) - hamiltonian(x, momentum)
        if rng.random() < numpy.exp(-energy_change):
            x, accepted = numpy.asarray(proposal), accepted + 1
        samples[i] = x
        if (i + 1) % (count // 5) == 0:
            print(f"{i + 1:5d} samples, {accepted / (i + 1):.1%} accepted", flush=True)
    return samples, accepted / count, first_path


def experiment(args, jit):
    count = 200 if args.quick else 4000
    samples, acceptance, first_path = sample(count, 0.3, jit, numpy.random.default_rng(0))
    kept = samples[count // 10:]  # the first tenth is warm-up
    numbers = {"acceptance": acceptance, "mean_x0": kept[:, 0].mean(),
               "mean_x1": kept[:, 1].mean(), "std_x0": kept[:, 0].std(),
               "std_x1": kept[:, 1].std()}
    return numbers, (kept, first_path)


def plot(args, samples, first_path):
    plt = harness.pyplot()
    if plt is None:
        return
    x0, x1 = numpy.meshgrid(numpy.linspace(-7, 7, 200), numpy.linspace(-3, 12, 200))
    density = numpy.exp(log_density(numpy.array([x0, x1])))
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.contour(x0, x1, density, levels=6, colors="grey", linewidths=0.8)
    ax.plot(samples[:, 0], samples[:, 1], ".", ms=2, alpha=0.4, label="samples")
    ax.plot(first_path[:, 0], first_path[:, 1], "r.-", lw=1, label="first leapfrog path")
    ax.legend(fontsize="small", loc="upper center")
    ax.set_title(f"Hamiltonian Monte Carlo, {len(samples)} samples")
    fig.tight_layout()
    harness.save(fig, args, "hmc.png")


def main(argv=None):
    args = harness.parse_args(argv, __doc__)
    numbers, extra = harness.run(experiment, args)
    plot(args, *extra)
    return numbers


if __name__ == "__main__":
    main()
