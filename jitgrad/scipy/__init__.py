"""``jitgrad.scipy``: SciPy's special functions, distributions, linear algebra,
signal processing and ODE integration, traced for differentiation.

Submodules load on first use (``jitgrad.scipy.stats``), since importing all of
SciPy's takes about a second."""
import importlib

_SUBMODULES = ("integrate", "linalg", "misc", "signal", "special", "stats",
               "tensor_convolve")


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_SUBMODULES))
