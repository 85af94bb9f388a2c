"""Small images of handwritten digits for neural_net.py and convnet.py.

scikit-learn ships the UCI "optical recognition of handwritten digits" set (1797
images of 8x8 pixels) and loads it without a download; where scikit-learn is not
installed we make a stand-in of the same shape: ten fixed random patterns,
each drawn shifted by up to a pixel and with noise.
"""
import numpy


def load(count=None):
    """``count`` images (count, 8, 8) scaled to [0, 1] (all when None), shuffled, their
    integer labels (count,), and where they came from."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        (images, labels), source = _synthetic(1797), "synthetic digits (no scikit-learn)"
    else:
        digits = load_digits()
        images, labels, source = digits.images / 16.0, digits.target, "scikit-learn digits"
    # The set is ordered by writer: shuffle it (always the same way) so that a test set
    # cut from its end has writers the training set has seen.
    order = numpy.random.default_rng(0).permutation(len(images))[:count]
    return images[order], labels[order], source


def _synthetic(count):
    rng = numpy.random.default_rng(1797)
    prototypes = (rng.random((10, 10, 10)) > 0.6).astype(float)
    labels = numpy.arange(count) % 10
    images = numpy.empty((count, 8, 8))
    for n, label in enumerate(labels):
        row, col = rng.integers(0, 3, size=2)
        images[n] = prototypes[label, row:row + 8, col:col + 8]
    images = numpy.clip(images + 0.3 * rng.normal(size=images.shape), 0, 1)
    return images, labels


def one_hot(labels, classes=10):
    return (numpy.asarray(labels)[:, None] == numpy.arange(classes)).astype(float)
