"""Kernels: fusing the jit's elementwise steps into Numba-compiled loops.

``find_regions`` picks the steps to fuse, reading the plan as ``ops.FusionOp``s (the
jit builds them: kernels/ imports nothing from the jit); ``compile_regions`` turns
each region into a ``FusedKernel`` (generated source, compiled by Numba, cached in
memory and on disk; ``source.py`` writes their loops, ``pairwise.py`` sums in NumPy's order,
``vmath*.py`` are the vectorized transcendentals). Numba is imported only when a kernel
is compiled, so ``import jitgrad`` and eager users never pay for it. Knows nothing of
differentiation. ``blas_threads`` (no Numba) runs small matrix products on one
OpenBLAS thread. ``indexing`` and ``integers`` hold compiled loops that fused plans call
in place of some NumPy routines (gathers at computed indices, their scatter-adds,
rolls, remainders), declared with ``trace.rules.def_replay``; ``compiled`` compiles them.

Settings (environment): ``JITGRAD_FUSE=0`` turns fusion off;
``JITGRAD_FUSE_MIN_SIZE``, if set, is the smallest array fused (unset, each region
is fused where ``cost.pays``: by its predicted time);
``JITGRAD_KEEP_HEAP=0`` leaves glibc's malloc thresholds alone (``heap``);
``JITGRAD_CACHE_DIR`` is where compiled kernels are kept between processes
(``clear_cache()`` empties it; ``python -m jitgrad.cache`` shows it).
"""
from .. import settings
from .cache import clear_cache  # noqa: F401
from .ops import FusionOp, Literal  # noqa: F401
from .regions import find_regions  # noqa: F401

def fusion_enabled():
    return settings.flag("JITGRAD_FUSE", True)


def fusion_min_size():
    """``JITGRAD_FUSE_MIN_SIZE``, or None (unset or not a number): the cost model decides."""
    return settings.number("JITGRAD_FUSE_MIN_SIZE", None, int)


def compile_regions(regions):
    if not regions:
        return []
    from .fused import FusedKernel
    kernels = []
    for region in regions:
        kernel = FusedKernel.build(region)
        if kernel is not None:
            kernels.append(kernel)
    return kernels
