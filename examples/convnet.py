"""A small convolutional network on the 8x8 digits, its layers ``scipy.signal.convolve``.

``jitgrad.scipy.signal.convolve`` accepts autograd's generalised form: convolve over
some axes (the image's rows and columns), contract over others (the input channels) and
take the outer product over the rest (the batch and the output channels). Two such
layers of 3x3 filters, a 2x2 max-pool and a softmax layer read the digits.

    python examples/convnet.py [--quick] [--jit] [--out DIR]

writes convnet.png: the training curve and the learnt first-layer filters.
"""
import numpy

import jitgrad.numpy as np
from jitgrad import grad
from jitgrad.misc.optimizers import adam
from jitgrad.scipy.signal import convolve
from jitgrad.scipy.special import logsumexp

import digits
import harness

CHANNELS = (1, 8, 16)


def conv_layer(images, filters, biases):
    """images (N, C, H, W), filters (C, K, h, w) -> tanh of (N, K, H-h+1, W-w+1)."""
    maps = convolve(images, filters, axes=([2, 3], [2, 3]), dot_axes=([1], [0]), mode="valid")
    return np.tanh(maps + biases[:, None, None])


def max_pool(maps):
    n, k, h, w = maps.shape
    return np.max(np.reshape(maps, (n, k, h // 2, 2, w // 2, 2)), axis=(3, 5))


def init_params(rng):
    params = {}
    for layer, (c, k) in enumerate(zip(CHANNELS[:-1], CHANNELS[1:])):
        params[f"filters{layer}"] = rng.normal(size=(c, k, 3, 3)) / numpy.sqrt(9 * c)
        params[f"biases{layer}"] = numpy.zeros(k)
    params["weights"] = 0.1 * rng.normal(size=(CHANNELS[-1] * 2 * 2, 10))
    params["output_biases"] = numpy.zeros(10)
    return params


def log_probabilities(params, images):
    maps = images[:, None, :, :]  # one input channel
    for layer in range(len(CHANNELS) - 1):
        maps = conv_layer(maps, params[f"filters{layer}"], params[f"biases{layer}"])
    features = np.reshape(max_pool(maps), (len(images), -1))
    logits = features @ params["weights"] + params["output_biases"]
    return logits - logsumexp(logits, axis=1, keepdims=True)


def loss(params, images, targets):
    return -np.sum(log_probabilities(params, images) * targets) / len(images)


def accuracy(params, images, labels):
    return numpy.mean(numpy.argmax(log_probabilities(params, images), axis=1) == labels)


def experiment(args, jit):
    images, labels, source = digits.load(300 if args.quick else None)
    targets = digits.one_hot(labels)
    train = len(images) * 5 // 6
    batch, epochs = 50, 2 if args.quick else 15
    batches = train // batch
    print(f"{source}: {train} for training, {len(images) - train} for testing")
    params = init_params(numpy.random.default_rng(0))
    gradient = grad(loss, jit=jit)

    def batch_gradient(params, i):
        chosen = slice((i % batches) * batch, (i % batches + 1) * batch)
        return gradient(params, images[chosen], targets[chosen])

    history = []

    def report(params, i, g):
        if i % batches == 0:
            history.append((i // batches, float(loss(params, images[:train], targets[:train])),
                            accuracy(params, images[train:], labels[train:])))
            print(f"epoch {history[-1][0]:3d}: training loss {history[-1][1]:.4f}, "
                  f"test accuracy {history[-1][2]:.3f}", flush=True)

    params = adam(batch_gradient, params, report, num_iters=epochs * batches, step_size=0.01)
    numbers = {"train_loss": loss(params, images[:train], targets[:train]),
               "test_accuracy": accuracy(params, images[train:], labels[train:])}
    return numbers, (history, params["filters0"][0])


def plot(args, history, filters):
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
    for n, kernel in enumerate(filters):
        ax = fig.add_subplot(2, 8, 8 * (n // 4) + 5 + n % 4)
        ax.imshow(kernel, cmap="RdBu", vmin=-abs(filters).max(), vmax=abs(filters).max())
        ax.set_title(f"filter {n}", fontsize="small")
        ax.axis("off")
    fig.tight_layout()
    harness.save(fig, args, "convnet.png")


def main(argv=None):
    args = harness.parse_args(argv, __doc__)
    numbers, extra = harness.run(experiment, args)
    plot(args, *extra)
    return numbers


if __name__ == "__main__":
    main()
