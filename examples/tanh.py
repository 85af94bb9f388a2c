"""tanh and its first six derivatives, each the elementwise gradient of the one before.

``elementwise_grad`` of a function that maps an array to an array of the same shape
(each output depending on its own input only) gives the derivative at every point in
one backward pass. Applying it to its own result six times builds the sixth derivative
out of gradients of gradients.

    python examples/tanh.py [--quick] [--jit] [--out DIR]

writes tanh.png.
"""
import jitgrad.numpy as np
from jitgrad import elementwise_grad

import harness

ORDERS = 6


def derivatives(x, jit):
    """tanh and its derivatives up to ORDERS at the points x, lowest order first."""
    functions = [np.tanh]
    for _ in range(ORDERS):
        functions.append(elementwise_grad(functions[-1], jit=jit))
    return [f(x) for f in functions]


def experiment(args, jit):
    x = np.linspace(-7, 7, 200 if args.quick else 1000)
    curves = derivatives(x, jit)
    at_one = derivatives(np.array([1.0]), jit)
    numbers = {f"d{order}_at_1": curve[0] for order, curve in enumerate(at_one)}
    numbers["max_abs_d6"] = np.max(np.abs(curves[-1]))
    return numbers, (x, curves)


def plot(args, x, curves):
    plt = harness.pyplot()
    if plt is None:
        return
    fig, ax = plt.subplots(figsize=(7, 4))
    for order, curve in enumerate(curves):
        ax.plot(x, curve, label="tanh" if order == 0 else f"order {order}")
    ax.set_ylim(-6, 6)
    ax.set_xlabel("x")
    ax.legend(ncol=4, fontsize="small", loc="lower left")
    ax.set_title("tanh and its derivatives (repeated elementwise_grad)")
    fig.tight_layout()
    harness.save(fig, args, "tanh.png")


def main(argv=None):
    args = harness.parse_args(argv, __doc__)
    numbers, (x, curves) = harness.run(experiment, args)
    plot(args, x, curves)
    return numbers


if __name__ == "__main__":
    main()
