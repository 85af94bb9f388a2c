"""Freed memory stays in the process heap, so that repeated calls do not page-fault.

A gradient call, eager or a jit plan's replay, allocates its intermediates and outputs
afresh and frees them when it returns. glibc hands big freed blocks back to the kernel
(``munmap`` of blocks above its mmap threshold, ``sbrk`` trimming of a free heap top
above its trim threshold), so the next call takes them again one page fault at a time
(a few microseconds each on this machine): 550-1600 faults per jitted call on the mlp
and rnn workloads, where the product writing mlp's 1.25 MB first-layer gradient ran at
half speed, and eager gradients lost as much or more (chain 1e5 8.7 ms against 3.5,
mlp 6.6 against 3.9, rnn 30 against 23.5). Raising both thresholds keeps up to
``TRIM_THRESHOLD`` of free heap for reuse: calls then fault no pages.

The thresholds are process-wide, so they are set at the first derivative jitgrad takes
(or the first plan it fuses), logged once at INFO, and never with
``JITGRAD_KEEP_HEAP=0``. Only glibc has them; elsewhere this does nothing.
"""
import ctypes
import logging

from .. import settings

logger = logging.getLogger("jitgrad.kernels")

# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# Blocks up to this size come from the heap (glibc's own dynamic ceiling on 64 bits).
MMAP_THRESHOLD = 32 << 20
# The free heap top glibc keeps before handing memory back.
TRIM_THRESHOLD = 128 << 20

_state = {}


def keep_freed_memory():
    """Raise glibc's mmap and trim thresholds, once per process; True if they are set."""
    if "set" not in _state:
        _state["set"] = _set_thresholds()
    return _state["set"]


def _set_thresholds():
    if not settings.flag("JITGRAD_KEEP_HEAP", True):
        return False
    try:
        libc = ctypes.CDLL(None)  # the process's own symbols: libc's, on Linux
        libc.gnu_get_libc_version  # glibc only: musl's mallopt does nothing
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    done = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and \
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
    if done:
        logger.info("jitgrad: glibc keeps up to %d MB of freed memory for the next call "
                    "(JITGRAD_KEEP_HEAP=0 to leave malloc alone)", TRIM_THRESHOLD >> 20)
    return done
