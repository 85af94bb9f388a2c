"""A neural ODE: learn the dynamics of a spiral from one observed trajectory.

A two-dimensional system spirals inwards, ``dy/dt = y**3 A``. We observe one trajectory
and fit a small network ``f(y) = tanh(y**3 W1 + b1) W2 + b2`` so that solutions of
``dy/dt = f(y)`` follow it: from every observed point, over the next few observations
(all these short solves are one ODE in a stacked state), which trains better than one
long solve from the start. ``jitgrad.scipy.integrate.odeint``
solves the ODE with scipy's LSODA; its gradient with respect to the network's weights
comes from the adjoint method, one more ODE solved backwards in time, not from
differentiating the solver's steps.

    python examples/ode_net.py [--quick] [--jit] [--out DIR]

writes ode_net.png: the observed and the fitted trajectories, in the plane and against
time, and the training curve.
"""
import numpy

import jitgrad.numpy as np
from jitgrad import value_and_grad
from jitgrad.misc.optimizers import adam
from jitgrad.scipy.integrate import odeint

import harness

TRUE_MATRIX = numpy.array([[-0.1, 2.0], [-2.0, -0.1]])
START = numpy.array([2.0, 0.0])


def true_dynamics(y, t):
    return (y ** 3) @ TRUE_MATRIX


def network_dynamics(y, t, params):
    """The learnt dynamics of any number of states stacked in one vector ``y``."""
    (w1, b1), (w2, b2) = params
    states = np.reshape(y, (-1, 2))
    return np.ravel(np.tanh((states ** 3) @ w1 + b1) @ w2 + b2)


def solve(params, starts, times):
    """Solutions from each of ``starts`` (count, 2) at ``times``: (len(times), count, 2)."""
    stacked = odeint(network_dynamics, np.ravel(starts), times, args=(params,),
                     rtol=1e-6, atol=1e-8)
    return np.reshape(stacked, (len(times), -1, 2))


def windows(observed, length):
    """Every stretch of ``length`` observations: (length, count, 2)."""
    return numpy.stack([observed[k:k + len(observed) - length + 1] for k in range(length)])


def loss(params, observed_windows, window_times):
    predicted = solve(params, observed_windows[0], window_times)
    return np.mean((predicted - observed_windows) ** 2)


def init_params(hidden, rng):
    return [(0.1 * rng.normal(size=(2, hidden)), numpy.zeros(hidden)),
            (0.1 * rng.normal(size=(hidden, 2)), numpy.zeros(2))]


def experiment(args, jit):
    rng = numpy.random.default_rng(0)
    span, points, iterations = (2.0, 20, 8) if args.quick else (8.0, 60, 150)
    times = numpy.linspace(0.0, span, points)
    observed = odeint(true_dynamics, START, times)
    params = init_params(30, rng)
    length = 6
    observed_windows, window_times = windows(observed, length), times[:length]
    objective = value_and_grad(loss, jit=jit)
    history = []

    def gradient(params, i):
        value, g = objective(params, observed_windows, window_times)
        history.append(float(value))
        if i % max(1, iterations // 10) == 0:
            print(f"step {i:4d}: mean squared error {value:.6f}", flush=True)
        return g

    params = adam(gradient, params, num_iters=iterations, step_size=0.02)
    fine = numpy.linspace(0.0, span, 400)
    fitted = solve(params, START[None, :], fine)[:, 0]
    numbers = {"loss": loss(params, observed_windows, window_times),
               "trajectory_error": numpy.mean((solve(params, START[None, :], times)[:, 0]
                                               - observed) ** 2),
               "end_x": fitted[-1, 0], "end_y": fitted[-1, 1]}
    return numbers, (fine, odeint(true_dynamics, START, fine), fitted, times, observed, history)


def plot(args, fine, truth, fitted, times, observed, history):
    plt = harness.pyplot()
    if plt is None:
        return
    fig, (plane, series, curve) = plt.subplots(1, 3, figsize=(13, 4))
    plane.plot(truth[:, 0], truth[:, 1], "k", lw=1, label="true dynamics")
    plane.plot(fitted[:, 0], fitted[:, 1], "tab:green", lw=2, label="learnt dynamics")
    plane.plot(observed[:, 0], observed[:, 1], "k.", label="observed")
    plane.set_aspect("equal")
    plane.legend(fontsize="small")
    plane.set_title("phase plane")
    for k, name in enumerate("xy"):
        series.plot(fine, truth[:, k], "k", lw=1)
        series.plot(fine, fitted[:, k], lw=2, label=f"learnt {name}(t)")
    series.set_xlabel("t")
    series.legend(fontsize="small")
    series.set_title("against time")
    curve.semilogy(history)
    curve.set_xlabel("Adam step")
    curve.set_title("mean squared error")
    fig.tight_layout()
    harness.save(fig, args, "ode_net.png")


def main(argv=None):
    args = harness.parse_args(argv, __doc__)
    numbers, extra = harness.run(experiment, args)
    plot(args, *extra)
    return numbers


if __name__ == "__main__":
    main()
