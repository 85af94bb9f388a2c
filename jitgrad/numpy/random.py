"""``jitgrad.numpy.random``: NumPy's global random functions, ``RandomState`` and
``default_rng``.

Draws are constants to the gradient. Under the jit each draw is a node of the
graph, drawn anew on every replay (from NumPy's global generator, or from the
``RandomState`` or ``Generator`` object it was drawn from), so a jitted function
with noise draws exactly what the eager one would, and leaves each generator where
the eager one would. (A generator made by plain ``numpy.random`` is not seen: under
the jit its draws would be the first call's numbers; make it here.)
"""
import threading

import numpy.random as _random

from ..trace import hooks, primitive
from ..trace.core import concrete_value
from numpy.random import SeedSequence  # noqa: F401

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
        if callable(obj) and not isinstance(obj, type) and not name.startswith("_") \
                and name != "default_rng":  # (below: it makes a recording Generator)
            globals()[name] = _draw(obj)
            names.append(name)
    return names


# Methods that do not draw but change or read a generator object: replayed in order
# too. Left out: shuffle and permuted (they write into an array argument) and spawn.
_NOT_RECORDED = {"shuffle", "permuted", "spawn", "bit_generator"}
_drawing = threading.local()  # .now: inside a recorded draw of a generator object


def _object_draw(method):
    """``method`` of a generator object, recorded by an open jit trace with the object
    as its first argument: a replay draws from the same object again."""
    traced = primitive(method)
    traced.draws_from_object = True  # (the global generator's check leaves it alone)

    def draw(self, *args, **kwargs):
        # A draw made by another (NumPy's randn calls self.standard_normal) is part of
        # the one recorded: recorded too, a replay would draw twice. A generator the
        # traced function made itself is made anew by each eager call, seeded the
        # same: its draws are the plan's constants, as they are eager's.
        observer = hooks.observer()
        if observer is None or getattr(_drawing, "now", False) or \
                getattr(self, "_made_in_trace", None) == _trace_of(observer):
            return method(self, *args, **kwargs)
        _drawing.now = True
        try:
            return hooks.random_draw(traced, (self, *args), kwargs)
        finally:
            _drawing.now = False
    draw.__name__ = draw.__qualname__ = method.__name__
    draw.__doc__ = method.__doc__
    draw.__wrapped__ = method
    return draw


def _trace_of(observer):
    return None if observer is None else getattr(observer, "trace_id", id(observer))


def _recording(base):
    """A subclass of NumPy's generator class ``base`` whose draws the jit records."""
    methods = {name: _object_draw(getattr(base, name)) for name in dir(base)
               if not name.startswith("_") and name not in _NOT_RECORDED
               and callable(getattr(base, name))}

    def __init__(self, *args, **kwargs):
        base.__init__(self, *args, **kwargs)
        self._made_in_trace = _trace_of(hooks.observer())
    methods["__init__"] = __init__
    methods["__doc__"] = (f"NumPy's ``{base.__name__}``; under the jit, each draw is drawn "
                          "anew from this object on every replay.")
    methods["__module__"] = __name__
    return type(base.__name__, (base,), methods)


RandomState = _recording(_random.RandomState)
Generator = _recording(_random.Generator)


def default_rng(seed=None):
    """``numpy.random.default_rng``, giving a ``Generator`` whose draws the jit records."""
    if isinstance(seed, Generator):
        return seed
    if isinstance(seed, _random.Generator):
        return Generator(seed.bit_generator)
    # A traced int seed (an argument of a jitted function): its value, guarded.
    seed = [concrete_value(s) for s in seed] if isinstance(seed, (list, tuple)) else \
        concrete_value(seed)
    return Generator(_random.default_rng(seed).bit_generator)


# NumPy's bit generators, as they are (autograd.numpy.random re-exports them): a
# Generator made from one here draws through jitgrad's Generator's recorded methods.
_BIT_GENERATORS = [name for name in ("BitGenerator", "MT19937", "PCG64", "PCG64DXSM",
                                     "Philox", "SFC64") if hasattr(_random, name)]
globals().update((name, getattr(_random, name)) for name in _BIT_GENERATORS)
__all__ = _wrap_random_namespace() + ["Generator", "RandomState", "SeedSequence",
                                      "default_rng"] + _BIT_GENERATORS


def get_state(legacy=True):
    """``numpy.random.get_state``. Inside a jitted function the function runs eagerly:
    a plan would hand the traced call's state to a later ``set_state`` on every replay."""
    hooks.refuse_replay("it reads numpy.random.get_state(), whose state a replay would "
                        "repeat")
    return _random.get_state(legacy)
