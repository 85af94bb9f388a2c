"""The benchmark workloads, each written once for any NumPy-like module.

``make_loss(np, size)`` builds a workload's loss with ``np`` = jitgrad.numpy,
autograd.numpy or jax.numpy; its gradient is taken with respect to the first
argument. ``make_args(size)`` gives that loss's arguments as float64 NumPy arrays
drawn from a fixed seed, the same for every contender. ``jax_loss`` is ``make_loss``
except where JAX needs its own control flow. ``numba`` (for *chain* and
*tight_loop*) builds a hand-written Numba kernel that computes the loss and its
gradient in one fused pass: the practical limit for a fusing jit.

Two workloads are whole programs rather than one loss: *optimizer_loop* (adam on a
small network, one minibatch per iteration) and *ode_callback* (an ODE whose right
side builds a Jacobian on every evaluation). Their ``make_program(lib, size)`` gets a
``Library`` (a NumPy module and the operators: jitgrad eager, jitgrad jitted or
autograd) and returns the program, a function of ``make_args(size)``.

``Workload.program(lib, size)`` is what ``compare.py --end-to-end`` runs in a fresh
process: a program workload's program, or, for a loss, ``calls`` gradient calls
with a small step of the first argument between calls (``descend``), as a training
loop or a line search calls a gradient with new values of the same shapes.

Used by the asv suite (benchmarks/bench_*.py), by benchmarks/compare.py and by
tests/test_benchmarks_smoke.py, which checks every workload at its ``tiny`` size.
"""
import importlib.util
import math
import os

import numpy

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


class Workload:
    """A loss to differentiate, at a few sizes.

    ``sizes`` are the comparison's and the asv suite's, ``tiny`` the smoke test's;
    ``label(size)`` names a size in tables.
    """

    def __init__(self, name, make_loss, make_args, sizes, tiny, label,
                 numba=None, jax_loss=None, make_program=None, calls=1, calls_why=""):
        self.name = name
        self.make_loss = make_loss
        self.make_args = make_args
        self.sizes = sizes
        self.tiny = tiny
        self.label = label
        self.numba = numba
        self.jax_loss = jax_loss or make_loss
        self.make_program = make_program
        self.calls = calls  # gradient calls in the end-to-end program of a loss
        self.calls_why = calls_why

    def __repr__(self):
        return f"Workload({self.name!r})"

    def program(self, lib, size):
        """The whole program the end-to-end comparison runs, a function of
        ``make_args(size)``: see the module's docstring."""
        if self.make_program is not None:
            return self.make_program(lib, size)
        gradient = lib.grad(self.make_loss(lib.np, size))
        calls = self.calls

        def run(*args):
            return descend(gradient, args, calls)
        return run


class Library:
    """What a program needs from one autodiff library: its NumPy module and
    operators, the jit chosen already (jitgrad's ``grad`` is ``grad(f, jit=...)``)."""

    def __init__(self, name, np, grad, jacobian, adam, odeint):
        self.name = name
        self.np = np
        self.grad = grad
        self.jacobian = jacobian
        self.adam = adam
        self.odeint = odeint


def jitgrad_library(jit):
    import functools

    import jitgrad
    import jitgrad.numpy
    from jitgrad.misc.optimizers import adam
    from jitgrad.scipy.integrate import odeint
    return Library("jitgrad jit" if jit else "jitgrad eager", jitgrad.numpy,
                   functools.partial(jitgrad.grad, jit=jit),
                   functools.partial(jitgrad.jacobian, jit=jit), adam, odeint)


def autograd_library():
    import autograd
    import autograd.numpy
    from autograd.misc.optimizers import adam
    from autograd.scipy.integrate import odeint
    return Library("autograd", autograd.numpy, autograd.grad, autograd.jacobian, adam, odeint)


def descend(gradient, args, calls, rate=0.01):
    """Call ``gradient(*args)`` ``calls`` times, moving the first argument (an array, a
    float or a tuple of arrays) by at most ``rate`` per entry against the gradient
    after each call; returns the last gradient. A bounded step (``g / (1 + |g|)``)
    keeps every workload's values sane without a tuned learning rate."""
    x, rest = args[0], args[1:]
    g = None
    for _ in range(calls):
        g = gradient(x, *rest)
        x = _step(x, g, rate)
    return g


def _step(x, g, rate):
    if isinstance(x, (tuple, list)):
        return type(x)(_step(xi, gi, rate) for xi, gi in zip(x, g))
    g = numpy.asarray(g)
    moved = x - rate * g / (1.0 + numpy.abs(g))
    return float(moved) if isinstance(x, float) else moved


def _rng(seed=0):
    return numpy.random.RandomState(seed)


# -- overhead: a scalar function of k chained sin calls ------------------------
def sin_chain_loss(np, k):
    def loss(x):
        for _ in range(k):
            x = np.sin(x)
        return x
    return loss


def sin_chain_args(k):
    return (0.7,)


# -- chain: ~10 elementwise ops, transcendental and arithmetic, summed ---------
def chain_loss(np, n):
    def loss(x):
        t = np.tanh(x)
        s = np.sin(x)
        e = np.exp(-0.5 * x ** 2)
        spread = np.log1p(t ** 2 + e)
        return np.sum(spread * s + e / (2.0 + s))
    return loss


def chain_args(n):
    return (_rng().randn(n),)


def chain_numba(n):
    """Loss and gradient of ``chain_loss`` in one pass, derivatives by hand."""
    kernel = _numba_kernels()["chain"]

    def gradient(x):
        out = numpy.empty_like(x)
        kernel(x, out)
        return out
    return gradient


# -- tight_loop: logistic regression, a small problem called many times -------
def logistic_loss(np, size):
    def loss(w, X, y):
        p = 1 / (1 + np.exp(-(X @ w)))
        return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    return loss


def logistic_args(size):
    samples, features = size
    rng = _rng()
    X = rng.randn(samples, features)
    y = (rng.rand(samples) > 0.5).astype(float)
    return 0.1 * rng.randn(features), X, y


def logistic_numba(size):
    kernel = _numba_kernels()["logistic"]

    def gradient(w, X, y):
        out = numpy.empty_like(w)
        kernel(w, X, y, out)
        return out
    return gradient


# -- mlp: tanh multilayer perceptron, softmax cross-entropy --------------------
def mlp_loss(np, size):
    def loss(params, X, Y):
        h = X
        for W, b in zip(params[0:-2:2], params[1:-2:2]):
            h = np.tanh(h @ W + b)
        z = h @ params[-2] + params[-1]
        z = z - np.max(z, axis=1, keepdims=True)
        log_p = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
        return -np.mean(np.sum(Y * log_p, axis=1))
    return loss


def mlp_args(size):
    batch, widths = size
    rng = _rng()
    params = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        params += [rng.randn(fan_in, fan_out) / math.sqrt(fan_in), 0.1 * rng.randn(fan_out)]
    X = rng.randn(batch, widths[0])
    Y = numpy.eye(widths[-1])[rng.randint(widths[-1], size=batch)]
    return tuple(params), X, Y


# -- rnn: vanilla recurrent network unrolled over time ------------------------
def rnn_loss(np, size):
    def loss(params, xs, target):
        Wx, Wh, b, Wo = params
        h = np.zeros((xs.shape[1], Wh.shape[0]))
        for t in range(xs.shape[0]):
            h = np.tanh(xs[t] @ Wx + h @ Wh + b)
        return np.mean((h @ Wo - target) ** 2)
    return loss


def rnn_args(size):
    steps, batch, inputs, hidden = size
    rng = _rng()
    params = (rng.randn(inputs, hidden) / math.sqrt(inputs),
              rng.randn(hidden, hidden) / math.sqrt(hidden),
              0.1 * rng.randn(hidden), rng.randn(hidden) / math.sqrt(hidden))
    return params, rng.randn(steps, batch, inputs), rng.randn(batch)


# -- fluidsim: examples/fluidsim.py, run with the given NumPy module ---------
def fluidsim_module(np):
    """A fresh copy of examples/fluidsim.py whose ``np`` is the module given, so the
    one program written in the examples' style is the one every contender runs."""
    path = os.path.join(EXAMPLES, "fluidsim.py")
    spec = importlib.util.spec_from_file_location(f"fluidsim_{np.__name__}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.np = np
    return module


def fluidsim_loss(np, size):
    grid, steps = size
    simulation = fluidsim_module(np)

    def loss(velocity, density, target):
        return simulation.loss(velocity, density, target, steps)
    return loss


def fluidsim_jax_loss(jnp, size):
    """The same program for JAX, but its time loop is ``lax.fori_loop`` over the
    example's ``step``: XLA compiles a Python loop unrolled, which at 16x16 took 4 s
    for 2 steps, 29 s for 10, and ran out of 24 GB at 50."""
    from jax import lax
    grid, steps = size
    simulation = fluidsim_module(jnp)

    def loss(velocity, density, target):
        u, v = simulation.project(velocity[0], velocity[1])
        final, _, _ = lax.fori_loop(0, steps, lambda _, state: simulation.step(*state),
                                    (density, u, v))
        return jnp.mean((final - target) ** 2)
    return loss


def fluidsim_args(size):
    grid, steps = size
    simulation = fluidsim_module(numpy)
    velocity = 0.5 * _rng().randn(2, grid, grid)
    return (velocity, simulation.blob(grid, 0.5, 0.5, 0.1),
            simulation.ring(grid, 0.25, 0.05))


# -- optimizer_loop: adam trains a small MLP, one minibatch per iteration --------
def optimizer_program(lib, size):
    """autograd's training idiom: ``adam(grad(objective), params)`` with
    ``objective(params, i)`` slicing minibatch ``i % batches`` out of the data. Returns
    the trained parameters."""
    batches, batch, widths, iterations = size
    loss = mlp_loss(lib.np, (batch, widths))

    def run(params, X, Y):
        def objective(params, i):
            k = i % batches
            return loss(params, X[k * batch:(k + 1) * batch], Y[k * batch:(k + 1) * batch])
        return lib.adam(lib.grad(objective), params, num_iters=iterations, step_size=0.01)
    return run


def optimizer_args(size):
    batches, batch, widths, iterations = size
    params, X, Y = mlp_args((batches * batch, widths))
    return params, X, Y


# -- ode_callback: a right-hand side that builds a Jacobian on every evaluation ---
def ode_program(lib, size):
    """Continuous Newton's method for the fixed point of a tanh layer,
    ``dy/dt = (I - J(y))^-1 (layer(y) - y)`` with ``J = jacobian(layer)`` built anew at
    every evaluation (a neural ODE's dynamics calling ``jacobian(layer)(y)``), solved
    by ``odeint`` on plain arrays (no gradient of the solution). Returns the solution
    at ``times``; ``run.evaluations`` counts the right side's calls."""
    n, t_end, rtol = size

    def run(y0, W, b, times):
        np = lib.np

        def layer(y):
            return np.tanh(y @ W + b)

        def dynamics(y, t):
            run.evaluations += 1
            J = lib.jacobian(layer)(y)
            return numpy.linalg.solve(numpy.eye(n) - J, layer(y) - y)
        run.evaluations = 0
        return lib.odeint(dynamics, y0, times, rtol=rtol, atol=rtol)
    run.evaluations = 0
    return run


def ode_args(size):
    n, t_end, rtol = size
    rng = _rng()
    # a contraction (spectral norm 0.9), so the fixed point exists and I - J is invertible
    W = rng.randn(n, n)
    W *= 0.9 / numpy.linalg.norm(W, 2)
    return rng.randn(n), W, 0.5 * rng.randn(n), numpy.linspace(0.0, t_end, 11)


WORKLOADS = {w.name: w for w in [
    Workload("overhead", sin_chain_loss, sin_chain_args, sizes=(1, 50), tiny=3,
             label=lambda k: f"{k} sin", calls=1000,
             calls_why="a scalar derivative in a solver or plotting loop"),
    Workload("chain", chain_loss, chain_args, sizes=(10**3, 10**5, 10**6), tiny=7,
             label=lambda n: f"n=1e{round(math.log10(n))}", numba=chain_numba,
             calls=100, calls_why="100 optimizer steps"),
    Workload("tight_loop", logistic_loss, logistic_args, sizes=((100, 10),), tiny=(6, 3),
             label=lambda s: f"N={s[0]} D={s[1]}", numba=logistic_numba,
             calls=1000, calls_why="1000 gradient-descent steps of a small regression"),
    Workload("mlp", mlp_loss, mlp_args, sizes=((128, (784, 200, 200, 10)),),
             tiny=(4, (5, 3, 3, 2)), label=lambda s: f"batch {s[0]}, " + "-".join(map(str, s[1])),
             calls=100, calls_why="100 optimizer steps"),
    Workload("rnn", rnn_loss, rnn_args, sizes=((100, 32, 32, 128),), tiny=(3, 2, 3, 4),
             label=lambda s: f"T={s[0]}, batch {s[1]}, in {s[2]}, hidden {s[3]}",
             calls=100, calls_why="100 optimizer steps"),
    Workload("fluidsim", fluidsim_loss, fluidsim_args, sizes=((64, 50),), tiny=(6, 2),
             label=lambda s: f"{s[0]}x{s[0]}, {s[1]} steps", jax_loss=fluidsim_jax_loss,
             calls=20, calls_why="20 gradients, as an L-BFGS fit's first iterations"),
    Workload("optimizer_loop", None, optimizer_args, sizes=((10, 32, (64, 32, 10), 200),),
             tiny=(2, 4, (3, 2, 2), 3), make_program=optimizer_program,
             label=lambda s: f"adam x{s[3]}, {s[0]} batches of {s[1]}, "
                             + "-".join(map(str, s[2])),
             calls_why="the program: 200 adam iterations"),
    Workload("ode_callback", None, ode_args, sizes=((10, 10.0, 1e-9),),
             tiny=(3, 1.0, 1e-6), make_program=ode_program,
             label=lambda s: f"n={s[0]}, t=0..{s[1]:g}, rtol {s[2]:g}",
             calls_why="the program: one odeint solve (~200 right-side calls)"),
]}


_KERNELS = {}


def _numba_kernels():
    """The hand-written kernels, compiled on first use (importing Numba costs ~0.4 s)."""
    if _KERNELS:
        return _KERNELS
    import numba

    @numba.njit(fastmath=False, cache=False)
    def chain(x, grad):
        total = 0.0
        for k in range(x.size):
            xk = x[k]
            t = math.tanh(xk)
            s = math.sin(xk)
            c = math.cos(xk)
            e = math.exp(-0.5 * xk * xk)
            u = t * t + e
            spread = math.log1p(u)
            d = 2.0 + s
            total += spread * s + e / d
            de = -xk * e
            dspread = (2.0 * t * (1.0 - t * t) + de) / (1.0 + u)
            grad[k] = dspread * s + spread * c + de / d - e * c / (d * d)
        return total

    @numba.njit(fastmath=False, cache=False)
    def logistic(w, X, y, grad):
        samples, features = X.shape
        grad[:] = 0.0
        total = 0.0
        for i in range(samples):
            z = 0.0
            for j in range(features):
                z += X[i, j] * w[j]
            p = 1.0 / (1.0 + math.exp(-z))
            total += y[i] * math.log(p) + (1.0 - y[i]) * math.log(1.0 - p)
            residual = (p - y[i]) / samples
            for j in range(features):
                grad[j] += residual * X[i, j]
        return -total / samples

    _KERNELS.update(chain=chain, logistic=logistic)
    return _KERNELS
