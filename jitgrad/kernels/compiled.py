"""Small hand-written kernels (gathers, rolls, integer remainders) that jit plans call
in place of NumPy's routines: their sources are compiled and cached on disk like fused
kernels (``cache.load_kernel``), each once per argument types, on first use.

A kernel that fails to compile is reported once and never tried again: its callers
compute with NumPy instead.
"""
import logging
import time
import warnings

from .cache import counts, load_kernel

logger = logging.getLogger("jitgrad.kernels")
# (kind, *details) -> dispatcher, or None where compiling failed. ``ready.get(key) or
# kernel(key, ...)`` spares a call per step of a plan that calls thousands of them.
ready = {}
_announced = []
_failed = set()


def kernel(key, make_source, args):
    """The dispatcher of the source ``make_source()`` gives, compiled for ``args``'
    types (``key`` names them both: its first item is the kernel's kind, for people);
    None when that cannot be done (Numba missing or failing)."""
    if key in ready:
        return ready[key]
    start = time.perf_counter()
    loaded = counts["loaded"]
    try:
        import numba
        dispatcher = load_kernel(make_source())
        dispatcher.compile(tuple(numba.typeof(arg) for arg in args))
    except Exception as error:  # NumPy computes it instead: slower, the same bits
        dispatcher = None
        message = (f"jitgrad: the {key[0]} kernel failed to compile ({type(error).__name__}: "
                   f"{str(error)[:200]}); NumPy computes it instead.")
        if message not in _failed:
            _failed.add(message)
            warnings.warn(message, RuntimeWarning, stacklevel=3)
    seconds = time.perf_counter() - start
    compiled = counts["loaded"] == loaded  # else loaded from the disk cache
    if compiled and seconds > 0.5 and not _announced:
        _announced.append(True)
        logger.info("compiled a %s kernel in %.1f s with Numba; kernels are cached on disk, "
                    "so later runs load them", key[0], seconds)
    else:
        logger.debug("%s kernel %s in %.2f s", key[0], "compiled" if compiled else "loaded",
                     seconds)
    ready[key] = dispatcher
    return dispatcher


def header():
    """The first lines of every such kernel's source."""
    return ["import numba", "", "",
            '@numba.njit(cache=True, error_model="numpy", nogil=True)']
