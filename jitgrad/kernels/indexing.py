"""Gathers, their scatter-add gradients, and rolls, compiled: NumPy's results to the bit.

``take(a, indices)`` is ``a[indices]`` and ``roll`` is ``np.roll``, for every input: the
cases handled here (one integer array per axis of a C-contiguous array; one integer
shift along one axis) run one Numba loop, the rest are NumPy's own calls.
``add_at_zeros(shape, indices, values)`` is ``np.add.at(np.zeros(shape), indices,
values)`` where it handles the call (float64, such an index), else None. Where NumPy
costs 20-60 us on 4096 elements (semi-Lagrangian advection's ``f[i, j]`` and its
gradient), the loops cost 5-8.

Same bits: a gather and a roll copy elements (loads and stores, which leave any NaN as
it is); the scatter-add adds each value into its zero in the order of the flattened
broadcast index, as ``np.add.at`` does. An index out of bounds stops the loop; the
gather then leaves NumPy to raise its IndexError, the scatter-add returns None.
"""
import numpy as np

from .compiled import header, kernel, ready

# What the loops copy: dtypes Numba types, in native byte order.
DTYPES = frozenset(np.dtype(t) for t in (np.float64, np.float32, np.complex128, np.complex64,
                                         np.int64, np.int32, np.int16, np.int8, np.uint64,
                                         np.uint32, np.uint16, np.uint8, np.bool_))
MAX_AXES = 4  # one kernel source per number of index arrays
_INT64, _FLOAT64 = np.dtype(np.int64), np.dtype(np.float64)
_INTEGERS = (int, np.integer)


def _int_arrays(indices, ndim):
    """The index arrays, of one shape (broadcast: copies in C order, the order NumPy
    walks them in), or None unless ``indices`` is a tuple of ``ndim`` (at most
    MAX_AXES) C-contiguous int64 arrays of at least one dimension. (NumPy lays out
    its result as other indices are: in Fortran order for Fortran-ordered ones.)"""
    if type(indices) is not tuple or len(indices) != ndim or not 0 < ndim <= MAX_AXES:
        return None
    shape = None
    for i in indices:
        if (type(i) is not np.ndarray or i.dtype != _INT64 or not i.ndim
                or not i.flags.c_contiguous):
            return None
        if shape is None:
            shape = i.shape
        elif i.shape != shape:
            shape = False
    if shape is False:
        try:
            indices = tuple(np.ascontiguousarray(i) for i in np.broadcast_arrays(*indices))
        except ValueError:
            return None
    return indices


def _flat_position(k):
    """Source lines computing ``p``, the flat position in ``a`` of element ``t``'s
    index (``i0[t]``... on axes of lengths ``n0``...), NumPy's wrap of negative indices
    included; out of bounds, the kernel returns False. (Unsigned positions, here and
    in the roll, spare each access Numba's own test for a negative index.)"""
    lines = [f"    n{d} = a.shape[{d}]" for d in range(k)]
    lines += [f"    i{d} = i{d}.reshape(-1)" for d in range(k)]
    lines += ["    a = a.reshape(-1)", "    out = out.reshape(-1)",
              f"    for t in range(i0.shape[0]):"]
    for d in range(k):
        lines += [f"        j{d} = i{d}[t]",
                  f"        j{d} += n{d} & (j{d} >> 63)  # plus n{d} where negative",
                  f"        if numba.uint64(j{d}) >= numba.uint64(n{d}):",
                  "            return False"]
    position = "j0"
    for d in range(1, k):
        position = f"{position} * n{d} + j{d}" if d == 1 else f"({position}) * n{d} + j{d}"
    return lines + [f"        p = numba.uint64({position})"]


def _gather_source(k):
    names = ", ".join(f"i{d}" for d in range(k))
    return "\n".join(header() + [f"def kernel(a, out, {names}):", *_flat_position(k),
                                 "        out[t] = a[p]", "    return True", ""])


def _scatter_source(k):
    # ``a`` is the zeros added into, ``out`` the values (named for _flat_position)
    names = ", ".join(f"i{d}" for d in range(k))
    return "\n".join(header() + [f"def kernel(a, out, {names}):", *_flat_position(k),
                                 "        a[p] += out[t]", "    return True", ""])


def take(a, indices):
    """``a[indices]``."""
    if type(a) is np.ndarray and a.dtype in DTYPES and a.size and a.flags.c_contiguous:
        found = _int_arrays(indices, a.ndim)
        if found is not None:
            out = np.empty(found[0].shape, a.dtype)
            args = (a, out, *found)
            key = ("gather", a.dtype, a.ndim, out.ndim)
            compiled = ready.get(key) or kernel(key, lambda: _gather_source(a.ndim), args)
            if compiled is not None and compiled(*args):
                return out
    return a[indices]


def add_at_zeros(shape, indices, values):
    """``np.add.at(np.zeros(shape), indices, values)`` for float64 ``values`` and an index
    of int64 arrays in bounds; None for anything else, which the caller computes its
    own way. (NumPy 2.4's add.at errs where it broadcasts the values along a 1-d
    array itself; the primitive's own scatter-add, ``numpy.fast_paths.scatter_add``,
    does not.)"""
    found = (_int_arrays(indices, len(shape))
             if type(values) is np.ndarray and values.dtype == _FLOAT64 else None)
    if found is None:
        return None
    if values.shape != found[0].shape or not values.flags.c_contiguous:
        try:
            values = np.ascontiguousarray(np.broadcast_to(values, found[0].shape))
        except ValueError:
            return None
    out = np.zeros(shape, np.float64)
    args = (out, values, *found)
    key = ("scatter-add", len(shape), values.ndim)
    compiled = ready.get(key) or kernel(key, lambda: _scatter_source(len(shape)), args)
    return out if compiled is not None and compiled(*args) else None


# Along the axis, each block of n * inner elements (inner: the length of the axes
# after it) rolls by k * inner.
_ROLL_SOURCE = "\n".join(header() + [
    "def kernel(a, out, axis, k):",
    "    inner = 1",
    "    for d in range(axis + 1, a.ndim):",
    "        inner *= a.shape[d]",
    "    m = a.shape[axis] * inner",
    "    s = k * inner",
    "    a = a.reshape(-1)",
    "    out = out.reshape(-1)",
    "    for base in range(0, a.shape[0], m):",
    "        for t in range(m - s):",
    "            out[numba.uint64(base + s + t)] = a[numba.uint64(base + t)]",
    "        for t in range(s):",
    "            out[numba.uint64(base + t)] = a[numba.uint64(base + m - s + t)]", ""])


def roll(a, shift, axis=None):
    """``np.roll(a, shift, axis)``."""
    # (Tests ordered cheapest first: a plan may roll thousands of times per call.)
    if (type(a) is np.ndarray and isinstance(axis, _INTEGERS) and isinstance(shift, _INTEGERS)
            and a.flags.c_contiguous and a.size and -a.ndim <= axis < a.ndim
            and a.dtype in DTYPES):
        axis = int(axis) % a.ndim
        key = ("roll", a.dtype, a.ndim)
        out = np.empty_like(a)
        args = (a, out, axis, int(shift) % a.shape[axis])
        compiled = ready.get(key) or kernel(key, lambda: _ROLL_SOURCE, args)
        if compiled is not None:
            compiled(*args)
            return out
    return np.roll(a, shift, axis)
