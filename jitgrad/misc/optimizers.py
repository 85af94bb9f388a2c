"""Gradient-based optimizers with autograd's signatures.

Each takes ``grad(x, i)`` (the gradient at iterate ``x`` on iteration ``i``) and a
starting point ``x``, which may be an array or a nested tuple/list/dict of arrays;
``callback(x, i, g)``, when given, is called before each step. The loop runs on
a flat vector (``flatten``) and the result comes back in ``x``'s structure.
"""
from functools import wraps

from .. import numpy as np
from .flatten import flatten


def on_flat_vectors(optimize):
    """Run ``optimize(grad, x_flat, callback, ...)`` on the flattened ``x``."""
    @wraps(optimize)
    def optimize_structured(grad, x, callback=None, *args, **kwargs):
        x_flat, unflatten = flatten(x)

        def flat_grad(x_flat, i):
            return flatten(grad(unflatten(x_flat), i))[0]

        if callback is None:
            flat_callback = None
        else:
            def flat_callback(x_flat, i, g_flat):
                return callback(unflatten(x_flat), i, unflatten(g_flat))
        return unflatten(optimize(flat_grad, x_flat, flat_callback, *args, **kwargs))
    return optimize_structured


@on_flat_vectors
def sgd(grad, x, callback=None, num_iters=200, step_size=0.1, mass=0.9):
    """Stochastic gradient descent with momentum ``mass``."""
    velocity = np.zeros(len(x))
    for i in range(num_iters):
        g = grad(x, i)
        if callback:
            callback(x, i, g)
        velocity = mass * velocity - (1.0 - mass) * g
        x = x + step_size * velocity
    return x


@on_flat_vectors
def rmsprop(grad, x, callback=None, num_iters=100, step_size=0.1, gamma=0.9, eps=10**-8):
    """RMSProp: steps scaled by a running root mean square of the gradient."""
    mean_square = np.ones(len(x))
    for i in range(num_iters):
        g = grad(x, i)
        if callback:
            callback(x, i, g)
        mean_square = gamma * mean_square + (1.0 - gamma) * g ** 2
        x = x - step_size * g / (np.sqrt(mean_square) + eps)
    return x


@on_flat_vectors
def adam(grad, x, callback=None, num_iters=100, step_size=0.001, b1=0.9, b2=0.999,
         eps=10**-8):
    """Adam (Kingma and Ba, 2015): moment estimates of the gradient, bias-corrected."""
    first = np.zeros(len(x))
    second = np.zeros(len(x))
    for i in range(num_iters):
        g = grad(x, i)
        if callback:
            callback(x, i, g)
        first = b1 * first + (1.0 - b1) * g
        second = b2 * second + (1.0 - b2) * g ** 2
        first_unbiased = first / (1.0 - b1 ** (i + 1))
        second_unbiased = second / (1.0 - b2 ** (i + 1))
        x = x - step_size * first_unbiased / (np.sqrt(second_unbiased) + eps)
    return x
