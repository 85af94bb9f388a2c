"""A recurrent network that learns to write like the opening of *Pride and Prejudice*.

The network reads one character at a time, carries a hidden state
``h = tanh(x Wx + h Wh + b)`` from one to the next, and predicts the next character with
a softmax of ``h``. The loss, the negative log likelihood of each next character over
stretches of text, is differentiated through the whole unrolled loop (backpropagation
through time) and minimised with Adam. The trained network then writes some text of
its own.

    python examples/rnn.py [--quick] [--jit] [--out DIR]

writes rnn.png: the training curve and a sample of the network's writing.
"""
import numpy

import jitgrad.numpy as np
from jitgrad import grad
from jitgrad.misc.optimizers import adam
from jitgrad.scipy.special import logsumexp

import characters
import harness


def init_params(inputs, hidden, rng):
    return {"Wx": rng.normal(size=(inputs, hidden)) / numpy.sqrt(inputs),
            "Wh": rng.normal(size=(hidden, hidden)) / numpy.sqrt(hidden),
            "b": numpy.zeros(hidden),
            "Wy": rng.normal(size=(hidden, inputs)) / numpy.sqrt(hidden),
            "by": numpy.zeros(inputs)}


def step(params, hidden, x):
    """One character in: the new hidden state and the next character's log probabilities."""
    hidden = np.tanh(x @ params["Wx"] + hidden @ params["Wh"] + params["b"])
    logits = hidden @ params["Wy"] + params["by"]
    return hidden, logits - logsumexp(logits, axis=1, keepdims=True)


def loss(params, text):
    """Mean negative log likelihood of each character of ``text`` (time, batch, alphabet)
    given those before it, in nats."""
    hidden = np.zeros((text.shape[1], params["Wh"].shape[0]))
    total = 0.0
    for t in range(len(text) - 1):
        hidden, log_probs = step(params, hidden, text[t])
        total = total + np.sum(log_probs * text[t + 1])
    return -total / ((len(text) - 1) * text.shape[1])


def experiment(args, jit):
    text, alphabet = characters.load()
    rng = numpy.random.default_rng(0)
    length, size = (20, 16) if args.quick else (40, 32)
    iterations = 30 if args.quick else 400
    hidden = 32 if args.quick else 64
    print(f"{len(text)} characters, {len(alphabet)} distinct; stretches of {length}, "
          f"batches of {size}, {hidden} hidden units, {iterations} Adam steps")
    batches = [characters.batch(text, alphabet, length, size, rng) for _ in range(iterations)]
    held_out = characters.batch(text, alphabet, length, 4 * size, rng)
    params = init_params(len(alphabet), hidden, rng)
    gradient = grad(loss, jit=jit)
    history = []

    def report(params, i, g):
        if i % max(1, iterations // 10) == 0:
            history.append((i, float(loss(params, held_out))))
            print(f"step {i:4d}: loss {history[-1][1]:.4f} nats per character", flush=True)

    params = adam(lambda params, i: gradient(params, batches[i]), params, report,
                  num_iters=iterations, step_size=0.01)
    writing = characters.sample(lambda h, x: step(params, h, x), numpy.zeros((1, hidden)),
                                "T", alphabet, 60 if args.quick else 300, rng)
    print(f"it writes: {writing}")
    return {"loss": loss(params, held_out)}, (history, writing)


def plot(args, history, writing, name="rnn.png", title="recurrent network"):
    plt = harness.pyplot()
    if plt is None:
        return
    import textwrap
    fig, (curve, page) = plt.subplots(1, 2, figsize=(11, 4), width_ratios=(1, 1.4))
    steps, losses = zip(*history)
    curve.plot(steps, losses, marker=".")
    curve.set_xlabel("Adam step")
    curve.set_ylabel("nats per character (held-out stretches)")
    curve.set_title(f"{title}: training")
    page.text(0, 1, "\n".join(textwrap.wrap(writing, 56)), va="top", family="monospace",
              fontsize=9)
    page.set_title("what it writes after training")
    page.axis("off")
    fig.tight_layout()
    harness.save(fig, args, name)


def main(argv=None):
    args = harness.parse_args(argv, __doc__)
    numbers, extra = harness.run(experiment, args)
    plot(args, *extra)
    return numbers


if __name__ == "__main__":
    main()
