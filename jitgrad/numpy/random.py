"""``jitgrad.numpy.random``: NumPy's global random functions.

Draws are constants to the gradient. Under the jit each draw is a node of the
graph, drawn anew from NumPy's global generator on every replay, so a jitted
function with noise draws exactly what the eager one would.
"""
import numpy.random as _random

from ..trace import primitive
from ..trace import hooks
from numpy.random import Generator, RandomState, SeedSequence, default_rng  # noqa: F401

# Functions that do not draw but change the global generator: replayed in order too.
_STATE_FUNCTIONS = {"seed", "set_state"}


def _draw(fun):
    """``fun`` recorded by an open jit trace, even when no argument is traced."""
    traced = primitive(fun)

    def draw(*args, **kwargs):
        if hooks.observer() is None:
            return fun(*args, **kwargs)
        return hooks.random_draw(traced, args, kwargs)
    draw.__name__ = draw.__qualname__ = fun.__name__
    draw.__doc__ = fun.__doc__
    draw.__wrapped__ = fun
    return draw


def _wrap_random_namespace():
    names = []
    for name in getattr(_random, "__all__", dir(_random)):
        obj = getattr(_random, name, None)
        if callable(obj) and not isinstance(obj, type) and not name.startswith("_"):
            globals()[name] = _draw(obj)
            names.append(name)
    return names


__all__ = _wrap_random_namespace() + ["Generator", "RandomState", "SeedSequence",
                                      "default_rng"]
globals()["get_state"] = _random.get_state
