"""Indexing: ``A[idx]`` and its adjoint, which adds a cotangent into zeros at ``idx``."""
import numpy as _np

from ..trace import defjvp, defvjp, getval, primitive, vspace


def plain_index(idx):
    if isinstance(idx, tuple):
        return tuple(getval(i) for i in idx)
    return getval(idx)


@primitive
def getitem(A, idx):
    return A[idx]


@primitive
def untake(x, idx, vs):
    """Zeros of space ``vs`` with ``x`` added at ``idx`` (repeated indices accumulate)."""
    result = vs.zeros()
    if _np.ndim(result) == 0:
        return result + x
    _np.add.at(result, idx, x)
    return result


defvjp(getitem, lambda ans, A, idx: lambda g: untake(g, idx, vspace(A)))
defjvp(getitem, "same")
defvjp(untake, lambda ans, x, idx, vs: lambda g: getitem(g, idx))
defjvp(untake, "same")
