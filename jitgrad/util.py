"""Compatibility: small helpers third-party code imports from ``autograd.util``."""
from .test_util import quick_grad_check  # noqa: F401
from .trace.vjp import toposort  # noqa: F401


def subvals(x, ivs):
    """``x`` (a tuple) with each index ``i`` replaced by ``v`` for ``(i, v)`` in ``ivs``."""
    x = list(x)
    for i, v in ivs:
        x[i] = v
    return tuple(x)


def subval(x, i, v):
    return subvals(x, [(i, v)])


def func(f):
    """The plain function behind a method."""
    return getattr(f, "__func__", f)
