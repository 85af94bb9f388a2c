"""Text as one-hot characters, for the character models rnn.py and lstm.py.

The text is the opening of Jane Austen's *Pride and Prejudice* (1813), in the public
domain, kept in examples/data/.
"""
import os

import numpy

TEXT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data",
                    "pride_and_prejudice.txt")


def load():
    """The text (paragraphs joined by single spaces) and its sorted alphabet."""
    with open(TEXT, encoding="utf-8") as file:
        text = " ".join(file.read().split())
    return text, sorted(set(text))


def one_hot(text, alphabet):
    """(len(text), len(alphabet)) rows of zeros with a one at each character's place."""
    codes = numpy.searchsorted(alphabet, list(text))
    return numpy.eye(len(alphabet))[codes]


def batch(text, alphabet, length, size, rng):
    """``size`` stretches of ``length`` + 1 characters at random places, one-hot, as an
    array (length + 1, size, len(alphabet)): time first, so a model steps along axis 0."""
    starts = rng.integers(0, len(text) - length - 1, size=size)
    return numpy.stack([one_hot(text[s:s + length + 1], alphabet) for s in starts], axis=1)


def sample(step, state, first, alphabet, count, rng):
    """``count`` characters drawn one by one after ``first`` from a model whose
    ``step(state, one_hot_char) -> (state, log_probabilities)`` reads one at a time."""
    chars = [first]
    for _ in range(count):
        state, log_probs = step(state, one_hot(chars[-1], alphabet))
        probs = numpy.exp(numpy.asarray(log_probs)[0])
        chars.append(alphabet[rng.choice(len(alphabet), p=probs / probs.sum())])
    return "".join(chars)
