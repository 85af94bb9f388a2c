"""A multilayer perceptron that reads handwritten digits, trained with Adam.

Two tanh hidden layers and a softmax output, trained on mini-batches of 8x8 digit images
(scikit-learn's copy of the UCI digits; a synthetic stand-in without scikit-learn) by
minimising the cross-entropy plus an L2 penalty. ``jitgrad.misc.optimizers.adam`` takes
the gradient of the batch loss, the parameters being a list of (weights, biases) pairs.

    python examples/neural_net.py [--quick] [--jit] [--out DIR]

writes neural_net.png: the training curve and a few test digits with their predicted
labels.
"""
import numpy

import jitgrad.numpy as np
from jitgrad import grad
from jitgrad.misc.optimizers import adam
from jitgrad.scipy.special import logsumexp

import digits
import harness


def init_params(sizes, rng, scale=0.1):
    return [(scale * rng.normal(size=(m, n)), scale * rng.normal(size=n))
            for m, n in zip(sizes[:-1], sizes[1:])]


def log_probabilities(params, inputs):
    """Log of the predicted class probabilities, one row per input."""
    for weights, biases in params[:-1]:
        inputs = np.tanh(inputs @ weights + biases)
    weights, biases = params[-1]
    logits = inputs @ weights + biases
    return logits - logsumexp(logits, axis=1, keepdims=True)


def loss(params, inputs, targets, penalty=1e-4):
    """Mean cross-entropy of one-hot ``targets``, plus an L2 penalty on the weights."""
    cross_entropy = -np.sum(log_probabilities(params, inputs) * targets) / len(inputs)
    return cross_entropy + penalty * sum(np.sum(w ** 2) for w, _ in params)


def accuracy(params, inputs, labels):
    return numpy.mean(numpy.argmax(log_probabilities(params, inputs), axis=1) == labels)


def experiment(args, jit):
    images, labels, source = digits.load(600 if args.quick else None)
    inputs, targets = images.reshape(len(images), -1), digits.one_hot(labels)
    train = len(images) * 5 // 6
    batch, epochs = 50, 3 if args.quick else 40
    batches = train // batch
    print(f"{source}: {train} for training, {len(images) - train} for testing")
    rng = numpy.random.default_rng(0)
    params = init_params([64, 100, 50, 10], rng)
    gradient = grad(loss, jit=jit)

    def batch_gradient(params, i):
        chosen = slice((i % batches) * batch, (i % batches + 1) * batch)
        return gradient(params, inputs[chosen], targets[chosen])

    history = []

    def report(params, i, g):
        if i % batches == 0:
            history.append((i // batches, float(loss(params, inputs[:train], targets[:train])),
                            accuracy(params, inputs[train:], labels[train:])))
            if history[-1][0] % max(1, epochs // 8) == 0:
                print(f"epoch {history[-1][0]:3d}: training loss {history[-1][1]:.4f}, "
                      f"test accuracy {history[-1][2]:.3f}", flush=True)

    params = adam(batch_gradient, params, report, num_iters=epochs * batches, step_size=0.01)
    numbers = {"train_loss": loss(params, inputs[:train], targets[:train]),
               "train_accuracy": accuracy(params, inputs[:train], labels[:train]),
               "test_accuracy": accuracy(params, inputs[train:], labels[train:])}
    predicted = numpy.argmax(log_probabilities(params, inputs[train:train + 12]), axis=1)
    return numbers, (history, images[train:train + 12], predicted)


def plot(args, history, shown, predicted):
    plt = harness.pyplot()
    if plt is None:
        return
    fig = plt.figure(figsize=(10, 4))
    curve = fig.add_subplot(1, 2, 1)
    epochs, losses, accuracies = zip(*history)
    curve.plot(epochs, losses, label="training loss")
    curve.plot(epochs, accuracies, label="test accuracy")
    curve.set_xlabel("epoch")
    curve.legend()
    for n, (image, label) in enumerate(zip(shown, predicted)):
        ax = fig.add_subplot(3, 8, 8 * (n // 4) + 5 + n % 4)
        ax.imshow(image, cmap="gray_r")
        ax.set_title(f"says {label}", fontsize="small")
        ax.axis("off")
    fig.tight_layout()
    harness.save(fig, args, "neural_net.png")


def main(argv=None):
    args = harness.parse_args(argv, __doc__)
    numbers, extra = harness.run(experiment, args)
    plot(args, *extra)
    return numbers


if __name__ == "__main__":
    main()
