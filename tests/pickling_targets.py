"""Module-level functions for tests/test_pickling.py (plain pickle finds them by name)."""
import jitgrad.numpy as np
from jitgrad import jit


def loss(x):
    return np.sum(np.sin(x) ** 2)


@jit
def jitted_loss(x):
    return np.sum(np.cos(x) * x)


def loss_of_scalar(x):
    return np.sin(x) * x ** 2
