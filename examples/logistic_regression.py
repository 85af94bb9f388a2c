"""Logistic regression by gradient descent on two overlapping clouds of points.

The model says P(label = 1 | x) = sigmoid(w . x + b). Its loss, the mean negative log
likelihood of the labels plus a small L2 penalty, is differentiated with ``grad`` and
minimised by plain gradient descent: a small, fast gradient called many times, where
the jit's replay (no Python, no tracer) pays most.

    python examples/logistic_regression.py [--quick] [--jit] [--out DIR]

writes logistic_regression.png: the points, the fitted decision boundary and the loss.
"""
import numpy

import jitgrad.numpy as np
from jitgrad import grad

import harness


def log_sigmoid(z):
    return -np.logaddexp(0, -z)


def loss(params, inputs, labels, penalty=1e-3):
    """Mean negative log likelihood of labels in {0, 1}, plus an L2 penalty on w."""
    w, b = params[:-1], params[-1]
    z = inputs @ w + b
    log_likelihood = labels * log_sigmoid(z) + (1 - labels) * log_sigmoid(-z)
    return -np.mean(log_likelihood) + penalty * np.sum(w ** 2)


def make_data(count, rng):
    """Two Gaussian clouds in the plane, labelled 0 and 1."""
    labels = (numpy.arange(count) % 2).astype(float)
    centres = numpy.array([[-1.0, -0.5], [1.0, 0.7]])
    inputs = centres[labels.astype(int)] + rng.normal(size=(count, 2)) @ [[1.0, 0.3], [0.0, 0.8]]
    return inputs, labels


def experiment(args, jit):
    rng = numpy.random.default_rng(0)
    inputs, labels = make_data(100 if args.quick else 500, rng)
    steps = 300 if args.quick else 3000
    gradient = grad(loss, jit=jit)
    params = numpy.zeros(3)
    # The loss falls fast and then slowly: look at it at steps spaced geometrically.
    looks = set(numpy.geomspace(1, steps, 25).astype(int)) | {0}
    history = []
    for step in range(steps + 1):
        if step in looks:
            history.append((step, float(loss(params, inputs, labels))))
            if len(history) % 5 == 1:
                print(f"step {step:5d}: loss {history[-1][1]:.6f}", flush=True)
        if step < steps:
            params = params - 0.5 * gradient(params, inputs, labels)
    predictions = (inputs @ params[:-1] + params[-1]) > 0
    numbers = {"loss": loss(params, inputs, labels),
               "accuracy": numpy.mean(predictions == labels),
               "w0": params[0], "w1": params[1], "b": params[2]}
    return numbers, (inputs, labels, params, history)


def plot(args, inputs, labels, params, history):
    plt = harness.pyplot()
    if plt is None:
        return
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 4))
    for label, colour in [(0, "tab:blue"), (1, "tab:red")]:
        chosen = labels == label
        left.scatter(inputs[chosen, 0], inputs[chosen, 1], s=8, c=colour, label=f"label {label}")
    xs = numpy.linspace(inputs[:, 0].min(), inputs[:, 0].max(), 2)
    w0, w1, b = params
    left.plot(xs, -(w0 * xs + b) / w1, "k", label="P = 1/2")
    left.set_ylim(inputs[:, 1].min() - 0.5, inputs[:, 1].max() + 0.5)
    left.legend(fontsize="small")
    left.set_title("data and decision boundary")
    steps, losses = zip(*history)
    right.plot(steps, losses, marker=".")
    right.set_xscale("symlog", linthresh=1)
    right.set_xlabel("gradient step")
    right.set_title("training loss")
    fig.tight_layout()
    harness.save(fig, args, "logistic_regression.png")


def main(argv=None):
    args = harness.parse_args(argv, __doc__)
    numbers, extra = harness.run(experiment, args)
    plot(args, *extra)
    return numbers


if __name__ == "__main__":
    main()
