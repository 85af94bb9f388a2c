"""The jit: trace a function once into a graph, optimize it, fuse its elementwise
regions into kernels (``jitgrad.kernels``) and replay the resulting plan.

``graph`` (the IR and its printer), ``recorder`` (the trace level that records it,
observing ``jitgrad.trace`` through its hooks), ``passes`` (fold, CSE, DCE),
``plan`` (build and replay), ``signature`` (cache keys of calls), ``function_key``
(when two functions are the same), ``identity`` (bitwise sameness), ``jitted`` (the
user-facing ``jit``).
"""
from .jitted import JitFunction, clear_shared_plans, explain, jit  # noqa: F401
