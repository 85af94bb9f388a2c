"""NumPy's summation order, for sums computed inside fused kernels.

``np.sum`` of a contiguous array adds its elements by pairwise summation: the array
is halved (the first half a multiple of 8 long) until pieces are at most ``BLOCK``
long; a piece of 8 or more is summed in 8 interleaved partial sums, added as
``((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))``, then its remainder one by
one; a shorter piece one by one from 0.0; and the whole result is added to 0.0 (the
reduction's identity: a sum of negative zeros is +0.0). A kernel that follows the
same tree gives the same bits as ``np.sum`` on the array the region would have
written (C order), in the array's own dtype (float32 sums in float32, as NumPy's).

Kernels compute a piece ("leaf") at a time: ``pieces(n)`` gives the pieces' bounds
and the order their sums are added in (computed once per size, in Python),
``leaf_sum`` adds one piece, ``combine`` adds the pieces' sums. ``pairwise_sum``
does all three on a buffer.
Measured against ``math.fsum`` on adversarial inputs, the error is NumPy's own
(``tests/test_kernel_reductions.py``): the kernels' sums are NumPy's bit for bit.
"""
import functools
import hashlib

import numba
import numpy as np

BLOCK = 128  # NumPy's PW_BLOCKSIZE
UNROLL = 8

_sum = numba.njit(error_model="numpy", fastmath=False, nogil=True)


@_sum
def _split(n):
    """Where NumPy halves a run of n > BLOCK elements: the left part a multiple of 8."""
    half = n // 2
    return half - half % UNROLL


def fingerprint():
    """A hash of this module's source, for the keys of cached kernels calling it."""
    with open(__file__, "rb") as source:
        return hashlib.sha256(source.read()).hexdigest()[:16]


@functools.lru_cache(maxsize=64)
def pieces(n):
    """(starts, order) for a pairwise sum of ``n`` elements: ``starts[k]:starts[k + 1]``
    is piece ``k``; ``order`` adds the pieces' sums as NumPy's recursion does, in
    postfix (``k >= 0`` pushes piece k's sum, ``-1`` adds the top two). Int64 arrays,
    shared: never written. (An explicit order rather than a recursive compiled
    function: Numba's disk cache cannot relink recursive callees.)"""
    starts, order = [], []

    def visit(start, size):
        if size <= BLOCK:
            order.append(len(starts))
            starts.append(start)
        else:
            left = _split.py_func(size)
            visit(start, left)
            visit(start + left, size - left)
            order.append(-1)
    visit(0, n)
    starts.append(n)
    return np.array(starts, dtype=np.int64), np.array(order, dtype=np.int64)


@_sum
def leaf_sum(buf, m):
    """The sum of ``buf[:m]`` (m <= BLOCK) as NumPy adds a piece."""
    if m < UNROLL:
        res = buf.dtype.type(0.0)
        for i in range(m):
            res += buf[i]
        return res
    r0, r1, r2, r3 = buf[0], buf[1], buf[2], buf[3]
    r4, r5, r6, r7 = buf[4], buf[5], buf[6], buf[7]
    i = UNROLL
    stop = m - m % UNROLL
    while i < stop:
        r0 += buf[i]
        r1 += buf[i + 1]
        r2 += buf[i + 2]
        r3 += buf[i + 3]
        r4 += buf[i + 4]
        r5 += buf[i + 5]
        r6 += buf[i + 6]
        r7 += buf[i + 7]
        i += UNROLL
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < m:
        res += buf[i]
        i += 1
    return res


@_sum
def combine(sums, order):
    """np.sum's result from the pieces' sums, added in ``order`` (see ``pieces``)."""
    stack = np.empty(64, sums.dtype)  # depth <= log2(n / 64) + 1
    top = 0
    for step in order:
        if step >= 0:
            stack[top] = sums[step]
            top += 1
        else:
            stack[top - 2] = stack[top - 2] + stack[top - 1]
            top -= 1
    return sums.dtype.type(0.0) + stack[0]


@_sum
def pairwise_sum(values, starts, order):
    """np.sum(values) for a 1-d contiguous ``values``; ``starts, order = pieces(n)``."""
    sums = np.empty(starts.shape[0] - 1, values.dtype)
    for k in range(starts.shape[0] - 1):
        sums[k] = leaf_sum(values[starts[k]:], starts[k + 1] - starts[k])
    return combine(sums, order)
