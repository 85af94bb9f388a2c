"""``jitgrad.numpy.random``: NumPy's random module (draws are constants to the gradient)."""
from numpy.random import *  # noqa: F401,F403
from numpy.random import Generator, RandomState, default_rng, seed  # noqa: F401
