"""A primitive of our own: the real root of a cubic, with derivatives by the implicit
function theorem.

``cubic_root(a, b)`` solves ``x**3 + a x = b`` (one real root for ``a > 0``) by Newton's
method on plain NumPy arrays: a loop that runs until convergence, which we would rather
not trace and differentiate step by step. Declared a ``primitive``, it is a black box to
jitgrad, and we give its derivatives ourselves. Differentiating ``x**3 + a x = b``
gives ``(3 x**2 + a) dx = db - x da``, so

    dx/da = -x / (3 x**2 + a),    dx/db = 1 / (3 x**2 + a)

``defvjp`` gives them to reverse mode (``grad``), ``defjvp`` to forward mode
(``make_jvp``, ``hessian``). The rules are written with ``jitgrad.numpy`` in terms of the
output ``ans``, so they can be differentiated again: ``check_grads`` checks both modes to
second order against finite differences. Then the primitive is used in a fit: the
``a`` for which the roots best match noisy observations, by jitted gradient descent
(the jit calls the primitive as it is, and the rules, on plain arrays).

    python examples/define_gradient.py [--quick] [--jit] [--out DIR]

writes define_gradient.png: the root against b with tangents from forward mode, and the fit.
"""
import numpy

import jitgrad.numpy as np
from jitgrad import grad, make_jvp
from jitgrad.extend import defjvp, defvjp, primitive
from jitgrad.test_util import check_grads

import harness


@primitive
def cubic_root(a, b):
    """The real x with x**3 + a x = b, elementwise, for a > 0."""
    a, b = numpy.broadcast_arrays(numpy.asarray(a, float), numpy.asarray(b, float))
    x = numpy.cbrt(b)  # exact when a = 0, and a fine start otherwise
    for _ in range(100):
        step = (x ** 3 + a * x - b) / (3 * x ** 2 + a)
        x = x - step
        if numpy.all(numpy.abs(step) <= 1e-15 * (1 + numpy.abs(x))):
            break
    return x


def slope(ans, a):
    return 3 * ans ** 2 + a


def summed_to_shape(g, x):
    """A cotangent of the broadcast output, summed down to the shape of the input x
    (a primitive that broadcasts must do this itself: its VJP returns x's shape)."""
    shape = numpy.shape(x)
    g = np.sum(g, axis=tuple(range(np.ndim(g) - len(shape))))
    return np.sum(g, axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)


defvjp(cubic_root,
       lambda ans, a, b: lambda g: summed_to_shape(-g * ans / slope(ans, a), a),
       lambda ans, a, b: lambda g: summed_to_shape(g / slope(ans, a), b))
defjvp(cubic_root,
       lambda g, ans, a, b: -g * ans / slope(ans, a),
       lambda g, ans, a, b: g / slope(ans, a))


def fit_loss(a, b, observed):
    return np.mean((cubic_root(a, b) - observed) ** 2)


def experiment(args, jit):
    check_grads(lambda a: cubic_root(a, 2.0), modes=["fwd", "rev"], order=2)(1.5)
    check_grads(lambda b: cubic_root(1.5, b), modes=["fwd", "rev"], order=2)(
        numpy.array([-1.0, 0.5, 3.0]))
    print("check_grads: both modes, to second order, agree with finite differences")

    rng = numpy.random.default_rng(0)
    count, steps = (50, 200) if args.quick else (400, 3000)
    b = numpy.linspace(-10, 10, count)
    observed = cubic_root(2.0, b) + 0.05 * rng.normal(size=count)
    gradient = grad(fit_loss, jit=jit)
    a = numpy.array(0.5)
    for step in range(steps):
        a = a - 2.0 * gradient(a, b, observed)
    a = float(a)
    print(f"fitted a = {a:.6f} (the data came from a = 2) after {steps} gradient steps")
    at = numpy.array([-6.0, 0.0, 6.0])
    x, dx_db = make_jvp(lambda b: cubic_root(a, b))(at)(numpy.ones(3))
    numbers = {"a": a, "loss": fit_loss(a, b, observed),
               **{f"dx_db_at_{point:g}": d for point, d in zip(at, dx_db)}}
    return numbers, (a, b, observed)


def plot(args, a, b, observed):
    plt = harness.pyplot()
    if plt is None:
        return
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    grid = numpy.linspace(-10, 10, 200)
    for shape in [0.5, 2.0, 8.0]:
        line, = left.plot(grid, cubic_root(shape, grid), label=f"a = {shape:g}")
        for point in [-6.0, 0.0, 6.0]:
            x, dx = make_jvp(lambda b: cubic_root(shape, b))(point)(1.0)
            left.plot([point - 2, point + 2], [x - 2 * dx, x + 2 * dx], "k--", lw=1)
            left.plot([point], [x], "k.")
    left.set_xlabel("b")
    left.set_title("root of x³ + a x = b, tangents by make_jvp")
    left.legend(fontsize="small")
    right.plot(b, observed, "k.", ms=3, label="observed roots")
    right.plot(b, cubic_root(a, b), "tab:red", label=f"fitted a = {a:.3f}")
    right.set_xlabel("b")
    right.legend(fontsize="small")
    right.set_title("fitting a through the primitive")
    fig.tight_layout()
    harness.save(fig, args, "define_gradient.png")


def main(argv=None):
    args = harness.parse_args(argv, __doc__)
    numbers, extra = harness.run(experiment, args)
    plot(args, *extra)
    return numbers


if __name__ == "__main__":
    main()
