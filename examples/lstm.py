"""A long short-term memory network on the same text as rnn.py.

An LSTM cell keeps a memory ``c`` besides its output ``h``; three sigmoid gates decide
how much of the memory to keep, how much of the new candidate to write into it, and
how much of it to show, so gradients travel further back in time than through rnn.py's
plain tanh recurrence. Trained with Adam on the next-character log likelihood, then
sampled.

    python examples/lstm.py [--quick] [--jit] [--out DIR]

writes lstm.png: the training curve and a sample of the network's writing.
"""
import numpy

import jitgrad.numpy as np
from jitgrad import grad
from jitgrad.misc.optimizers import adam
from jitgrad.scipy.special import expit as sigmoid, logsumexp

import characters
import harness
import rnn

GATES = ("keep", "write", "show", "candidate")


def init_params(inputs, hidden, rng):
    params = {gate: (rng.normal(size=(inputs + hidden, hidden)) / numpy.sqrt(inputs + hidden),
                     numpy.zeros(hidden)) for gate in GATES}
    params["keep"] = (params["keep"][0], numpy.ones(hidden))  # remember by default
    params["output"] = (rng.normal(size=(hidden, inputs)) / numpy.sqrt(hidden),
                        numpy.zeros(inputs))
    return params


def step(params, state, x):
    """One character in: the new (output, memory) and the next character's log
    probabilities."""
    h, c = state
    xh = np.concatenate([x, h], axis=1)
    gate = {name: xh @ params[name][0] + params[name][1] for name in GATES}
    c = sigmoid(gate["keep"]) * c + sigmoid(gate["write"]) * np.tanh(gate["candidate"])
    h = sigmoid(gate["show"]) * np.tanh(c)
    logits = h @ params["output"][0] + params["output"][1]
    return (h, c), logits - logsumexp(logits, axis=1, keepdims=True)


def loss(params, text):
    """Mean negative log likelihood of each next character, in nats."""
    hidden = params["output"][0].shape[0]
    state = (np.zeros((text.shape[1], hidden)), np.zeros((text.shape[1], hidden)))
    total = 0.0
    for t in range(len(text) - 1):
        state, log_probs = step(params, state, text[t])
        total = total + np.sum(log_probs * text[t + 1])
    return -total / ((len(text) - 1) * text.shape[1])


def experiment(args, jit):
    text, alphabet = characters.load()
    rng = numpy.random.default_rng(0)
    length, size = (20, 16) if args.quick else (40, 32)
    iterations = 20 if args.quick else 300
    hidden = 24 if args.quick else 64
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
    start = (numpy.zeros((1, hidden)), numpy.zeros((1, hidden)))
    writing = characters.sample(lambda state, x: step(params, state, x), start, "T",
                                alphabet, 60 if args.quick else 300, rng)
    print(f"it writes: {writing}")
    return {"loss": loss(params, held_out)}, (history, writing)


def main(argv=None):
    args = harness.parse_args(argv, __doc__)
    numbers, (history, writing) = harness.run(experiment, args)
    rnn.plot(args, history, writing, name="lstm.png", title="LSTM")
    return numbers


if __name__ == "__main__":
    main()
