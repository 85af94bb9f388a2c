"""Convolution over some axes, contraction over others and an outer product over the
rest: autograd's ``convolve(A, B, axes, dot_axes, mode)``, the layer of a
convolutional network (images ``(N, C, H, W)`` with filters ``(C, K, h, w)``, axes
``([2, 3], [2, 3])``, dot_axes ``([1], [0])``, gives ``(N, K, H', W')``).

The output's axes are A's remaining axes, then B's, then the convolved axes. One
primitive, the valid convolution, carries the rules: a sliding window view of A
contracted with the flipped B. Full mode is valid mode on A padded with zeros, and
same mode is the centre of full mode.
"""
import numpy as _np
from numpy.lib.stride_tricks import sliding_window_view as _windows

from ..numpy import numpy_wrapper as anp
from ..trace import defjvp, defvjp, primitive
from .signal import _embed


def _flip(x, axes):
    index = [slice(None)] * anp.ndim(x)
    for axis in axes:
        index[axis] = slice(None, None, -1)
    return x[tuple(index)]


def _others(ndim, *used):
    taken = {a for group in used for a in group}
    return [a for a in range(ndim) if a not in taken]


@primitive
def _valid(A, B, axes, dot_axes):
    a_conv, b_conv = axes
    a_dot, b_dot = dot_axes
    kernel = [_np.shape(B)[b] for b in b_conv]
    windows = _windows(A, kernel, axis=a_conv)  # window axes appended after A's
    window_axes = [_np.ndim(A) + i for i in range(len(a_conv))]
    flipped = _np.flip(B, axis=tuple(b_conv)) if b_conv else B
    out = _np.tensordot(windows, flipped, (list(a_dot) + window_axes,
                                           list(b_dot) + list(b_conv)))
    # tensordot leaves A's axes other than a_dot (others and conv interleaved), then B's.
    a_left = [a for a in range(_np.ndim(A)) if a not in a_dot]
    a_other = _others(_np.ndim(A), a_conv, a_dot)
    n_b_other = _np.ndim(B) - len(b_conv) - len(b_dot)
    order = ([a_left.index(a) for a in a_other]
             + [len(a_left) + i for i in range(n_b_other)]
             + [a_left.index(a) for a in a_conv])
    return _np.transpose(out, order)


def _layout(A, B, axes, dot_axes):
    """Positions of each group of axes in A, B and the output."""
    a_conv, b_conv = axes
    a_dot, b_dot = dot_axes
    a_other = _others(anp.ndim(A), a_conv, a_dot)
    b_other = _others(anp.ndim(B), b_conv, b_dot)
    n_a, n_b, n_c = len(a_other), len(b_other), len(a_conv)
    out_a = list(range(n_a))
    out_b = list(range(n_a, n_a + n_b))
    out_c = list(range(n_a + n_b, n_a + n_b + n_c))
    return a_other, b_other, out_a, out_b, out_c


def _valid_vjp_A(ans, A, B, axes, dot_axes):
    # dL/dA is a full convolution of g with B flipped over its convolved axes,
    # contracting B's other axes; its axes come out as (A other, B dot, conv).
    a_other, b_other, out_a, out_b, out_c = _layout(A, B, axes, dot_axes)
    a_conv, b_conv = axes
    a_dot, b_dot = dot_axes
    kernel = [anp.shape(B)[b] for b in b_conv]
    placed = a_other + list(a_dot) + list(a_conv)
    order = tuple(_np.argsort(placed))

    def vjp(g):
        padded = _pad(g, out_c, kernel)
        grad = _valid(padded, _flip(B, b_conv), (out_c, list(b_conv)), (out_b, b_other))
        # grad's axes: g's other axes (A other), B's other axes (B dot, in B's order).
        b_dot_order = [b for b in range(anp.ndim(B)) if b in b_dot]
        dot_perm = [b_dot_order.index(b) for b in b_dot]
        grad = anp.transpose(grad, tuple(list(range(len(a_other)))
                                         + [len(a_other) + i for i in dot_perm]
                                         + [len(a_other) + len(b_dot) + i
                                            for i in range(len(a_conv))]))
        return anp.transpose(grad, order)
    return vjp


def _valid_vjp_B(ans, A, B, axes, dot_axes):
    # dL/dB, flipped over the convolved axes, is a valid convolution of A with g flipped,
    # contracting A's other axes; its axes come out as (A dot, B other, conv).
    a_other, b_other, out_a, out_b, out_c = _layout(A, B, axes, dot_axes)
    a_conv, b_conv = axes
    a_dot, b_dot = dot_axes
    placed = list(b_dot) + b_other + list(b_conv)
    order = tuple(_np.argsort(placed))

    def vjp(g):
        grad = _valid(A, _flip(g, out_c), (list(a_conv), out_c), (a_other, out_a))
        # grad's axes: A's other axes here are A's dot axes, in A's order.
        a_dot_order = [a for a in range(anp.ndim(A)) if a in a_dot]
        dot_perm = [a_dot_order.index(a) for a in a_dot]
        n_conv = len(a_conv)
        grad = anp.transpose(grad, tuple(dot_perm + [len(a_dot) + i for i in range(
            len(b_other) + n_conv)]))
        grad = _flip(grad, [len(b_dot) + len(b_other) + i for i in range(n_conv)])
        return anp.transpose(grad, order)
    return vjp


def _pad(x, axes, kernel):
    """``x`` with ``k - 1`` zeros on both sides of each axis in ``axes``."""
    shape, start = list(anp.shape(x)), [0] * anp.ndim(x)
    for axis, k in zip(axes, kernel):
        shape[axis] += 2 * (k - 1)
        start[axis] = k - 1
    return _embed(x, tuple(shape), tuple(start))


defvjp(_valid, _valid_vjp_A, _valid_vjp_B)
defjvp(_valid, "same", "same")


def _normalize(A, B, axes, dot_axes):
    a_dot, b_dot = ([d] if _np.ndim(d) == 0 else list(d) for d in dot_axes)
    if axes is None:
        a_conv = [a for a in range(anp.ndim(A)) if a not in a_dot]
        b_conv = [b for b in range(anp.ndim(B)) if b not in b_dot]
    else:
        a_conv, b_conv = ([c] if _np.ndim(c) == 0 else list(c) for c in axes)
    if len(a_conv) != len(b_conv) or len(a_dot) != len(b_dot):
        raise ValueError(f"axes {axes} and dot_axes {dot_axes} must pair up the same "
                         "number of axes of each input.")
    return ([a % anp.ndim(A) for a in a_conv], [b % anp.ndim(B) for b in b_conv]), \
        ([a % anp.ndim(A) for a in a_dot], [b % anp.ndim(B) for b in b_dot])


def tensor_convolve(A, B, axes=None, dot_axes=((), ()), mode="full"):
    """Convolve A and B over ``axes``, contract over ``dot_axes``, outer product over
    the remaining axes (autograd's generalised ``convolve``)."""
    axes, dot_axes = _normalize(A, B, axes, dot_axes)
    a_conv, b_conv = axes
    kernel = [anp.shape(B)[b] for b in b_conv]
    sizes = [anp.shape(A)[a] for a in a_conv]
    if mode == "valid":
        if any(n < k for n, k in zip(sizes, kernel)):
            raise ValueError("valid mode needs A at least as large as B along the "
                             f"convolved axes; got {sizes} and {kernel}.")
        return _valid(A, B, axes, dot_axes)
    if mode not in ("full", "same"):
        raise ValueError(f"mode must be 'full', 'valid' or 'same', not {mode!r}")
    full = _valid(_pad(A, a_conv, kernel), B, axes, dot_axes)
    if mode == "full":
        return full
    n_lead = anp.ndim(full) - len(a_conv)
    window = tuple([slice(None)] * n_lead + [
        slice((k - 1) // 2, (k - 1) // 2 + n) for n, k in zip(sizes, kernel)])
    return full[window]
