"""Newton's method with exact Hessians on Rosenbrock's banana valley, against gradient descent.

Rosenbrock's function ``(1 - x)**2 + 100 (y - x**2)**2`` has its minimum at (1, 1) at the
bottom of a long curved valley, where gradient descent crawls. Newton's method uses the
Hessian, here from ``jitgrad.hessian`` (forward mode over reverse mode), damped
Levenberg-style (``H + lambda I``, lambda shrunk after a good step and grown after a bad
one) so that it never climbs. It also solves the 30-dimensional chained version.

    python examples/rosenbrock.py [--quick] [--jit] [--out DIR]

writes rosenbrock.png: both paths over the function's contours.
"""
import numpy

import jitgrad.numpy as np
from jitgrad import grad, hessian

import harness

START = numpy.array([-1.5, 2.0])


def rosenbrock(x):
    """The chained Rosenbrock function of any number (at least 2) of variables."""
    return np.sum((1 - x[:-1]) ** 2 + 100 * (x[1:] - x[:-1] ** 2) ** 2)


def newton(f, x, jit, tolerance=1e-10, max_steps=200):
    gradient, curvature = grad(f, jit=jit), hessian(f, jit=jit)
    damping, path = 1e-3, [x]
    for _ in range(max_steps):
        g = gradient(x)
        if numpy.linalg.norm(g) < tolerance:
            break
        # Shrink the damping after a step that lowers f, grow it and retry after one that doesn't.
        while True:
            step = numpy.linalg.solve(curvature(x) + damping * numpy.eye(len(x)), -g)
            if f(x + step) < f(x):
                x, damping = x + step, damping / 10
                break
            damping *= 10
        path.append(x)
    return x, numpy.array(path)


def gradient_descent(f, x, steps, jit, step_size=1e-3):
    gradient = grad(f, jit=jit)
    path = [x]
    for _ in range(steps):
        x = x - step_size * gradient(x)
        path.append(x)
    return x, numpy.array(path)


def experiment(args, jit):
    steps = 2000 if args.quick else 30000
    found, newton_path = newton(rosenbrock, START, jit)
    print(f"Newton: {len(newton_path) - 1} steps to {found}, f = {rosenbrock(found):.3e}")
    descended, descent_path = gradient_descent(rosenbrock, START, steps, jit)
    print(f"gradient descent: {steps} steps to {descended}, f = {rosenbrock(descended):.3e}")
    high = numpy.zeros(30)
    found_high, high_path = newton(rosenbrock, high, jit)
    print(f"Newton in {len(high)} dimensions: {len(high_path) - 1} steps, "
          f"largest distance from the minimum {numpy.abs(found_high - 1).max():.3e}")
    # Positions, not values of f: near the minimum f is all rounding error.
    numbers = {"newton_steps": len(newton_path) - 1, "newton_x": found[0], "newton_y": found[1],
               "descent_x": descended[0], "descent_y": descended[1],
               "newton_30d_steps": len(high_path) - 1,
               "newton_30d_mean": numpy.mean(found_high)}
    return numbers, (newton_path, descent_path)


def plot(args, newton_path, descent_path):
    plt = harness.pyplot()
    if plt is None:
        return
    x, y = numpy.meshgrid(numpy.linspace(-2, 2, 300), numpy.linspace(-1, 3, 300))
    values = (1 - x) ** 2 + 100 * (y - x ** 2) ** 2
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.contour(x, y, numpy.log10(values + 1e-3), levels=20, colors="grey", linewidths=0.6)
    ax.plot(descent_path[:, 0], descent_path[:, 1], "tab:blue", lw=4, alpha=0.6,
            label=f"gradient descent, {len(descent_path) - 1} steps")
    ax.plot(newton_path[:, 0], newton_path[:, 1], "o-", color="tab:red", ms=3, lw=1,
            label=f"damped Newton, {len(newton_path) - 1} steps")
    ax.plot([1], [1], "k*", ms=12, label="minimum")
    ax.legend(fontsize="small", loc="lower right")
    ax.set_title("Rosenbrock's function")
    fig.tight_layout()
    harness.save(fig, args, "rosenbrock.png")


def main(argv=None):
    args = harness.parse_args(argv, __doc__)
    numbers, extra = harness.run(experiment, args)
    plot(args, *extra)
    return numbers


if __name__ == "__main__":
    main()
