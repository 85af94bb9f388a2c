"""Gradient-based optimizers with autograd's signatures.

Each takes ``grad(x, i)`` (the gradient at iterate ``x`` on iteration ``i``) and a
starting point ``x0``, which may be an array or a nested tuple/list/dict of arrays;
``callback(x, i, g)``, when given, is called before each step. The result has
``x0``'s structure. ``unflatten_optimizer`` gives an optimizer written for flat vectors
that same freedom.

All three run the same loop (``_descend``) and differ only in their update rule:
a function ``rule(g, state, i, **hyper) -> (step, state)`` that turns a gradient
into the step added to the iterate, and a starting state. The loop works on one
flat vector, so the rules are plain vector arithmetic. It is written with
jitgrad.numpy, so an optimizer can itself be differentiated.
"""
import functools

from .. import numpy as np
from .flatten import flatten


def unflatten_optimizer(optimize):
    """Decorator: ``optimize(grad, x0, callback, ...)`` written for a flat vector ``x0``
    takes any tree of arrays as ``x0`` (and gives its ``grad`` and ``callback`` trees),
    as autograd's decorator of the same name does."""
    @functools.wraps(optimize)
    def on_trees(grad, x0, callback=None, *args, **kwargs):
        flat_x0, unflatten = flatten(x0)

        def flat_grad(flat_x, i):
            return flatten(grad(unflatten(flat_x), i))[0]

        flat_callback = None if callback is None else (
            lambda flat_x, i, flat_g: callback(unflatten(flat_x), i, unflatten(flat_g)))
        return unflatten(optimize(flat_grad, flat_x0, flat_callback, *args, **kwargs))
    return on_trees


def _descend(grad, x, callback, num_iters, rule, state, **hyper):
    """Iterate ``x += step`` with ``(step, state) = rule(grad(x, i), state, i, **hyper)``.

    ``state`` is a function of the flat iterate's length that gives the rule's
    starting state."""
    flat_x, unflatten = flatten(x)
    state = state(len(flat_x))
    for i in range(num_iters):
        flat_g = flatten(grad(unflatten(flat_x), i))[0]
        if callback:
            callback(unflatten(flat_x), i, unflatten(flat_g))
        step, state = rule(flat_g, state, i, **hyper)
        flat_x = flat_x + step
    return unflatten(flat_x)


# Update rules: (g, state, i, hyperparameters) -> (step, new state).

def _momentum(g, velocity, i, step_size, mass):
    # velocity is an exponential average of the negative gradient
    velocity = mass * velocity - (1.0 - mass) * g
    return step_size * velocity, velocity


def _root_mean_square(g, mean_square, i, step_size, gamma, eps):
    mean_square = gamma * mean_square + (1.0 - gamma) * g ** 2
    return -(step_size * g / (np.sqrt(mean_square) + eps)), mean_square


def _moments(g, state, i, step_size, b1, b2, eps):
    first, second = state
    first = b1 * first + (1.0 - b1) * g
    second = b2 * second + (1.0 - b2) * g ** 2
    # Both averages start at zero: divide out that bias, which fades as b ** (i + 1).
    first_unbiased = first / (1.0 - b1 ** (i + 1))
    second_unbiased = second / (1.0 - b2 ** (i + 1))
    step = -(step_size * first_unbiased / (np.sqrt(second_unbiased) + eps))
    return step, (first, second)


def sgd(grad, x0, callback=None, num_iters=200, step_size=0.1, mass=0.9):
    """Stochastic gradient descent with momentum ``mass``."""
    return _descend(grad, x0, callback, num_iters, _momentum, np.zeros,
                    step_size=step_size, mass=mass)


def rmsprop(grad, x0, callback=None, num_iters=100, step_size=0.1, gamma=0.9, eps=10**-8):
    """RMSProp: steps scaled by a running root mean square of the gradient."""
    return _descend(grad, x0, callback, num_iters, _root_mean_square, np.ones,
                    step_size=step_size, gamma=gamma, eps=eps)


def adam(grad, x0, callback=None, num_iters=100, step_size=0.001, b1=0.9, b2=0.999,
         eps=10**-8):
    """Adam (Kingma and Ba, 2015): moment estimates of the gradient, bias-corrected."""
    return _descend(grad, x0, callback, num_iters, _moments,
                    lambda n: (np.zeros(n), np.zeros(n)),
                    step_size=step_size, b1=b1, b2=b2, eps=eps)
