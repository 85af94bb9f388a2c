"""Rules of the products: dot, matmul, tensordot, vdot, inner, outer, kron, cross,
einsum, the vector gufuncs (vecdot, matvec, vecmat) and swapaxes.

Every product is multilinear, so its JVP is "same" in each argument and its VJP
contracts the cotangent with the other operands. Products are complex-bilinear
(no conjugation; vdot and vecdot conjugate their first argument), so by autograd's
convention a VJP is the plain transpose; a real operand keeps the real part.
"""
import functools
import string

import numpy as _np

from ..trace import def_linear, defjvp, defvjp, defvjp_argnum, getval, hooks
from . import numpy_wrapper as anp
from .numpy_vjps import match_complex, metadata, unbroadcast


def _normalize_tensordot_axes(a_ndim, b_ndim, axes):
    """tensordot's ``axes`` (an int N, a pair of ints, or a pair of sequences, as lists
    or tuples) as two lists of non-negative axes, paired in order."""
    if _np.ndim(axes) == 0:
        axes = int(axes)
        return list(range(a_ndim - axes, a_ndim)), list(range(axes))
    axes_a, axes_b = axes
    axes_a = [axes_a] if _np.ndim(axes_a) == 0 else list(axes_a)
    axes_b = [axes_b] if _np.ndim(axes_b) == 0 else list(axes_b)
    return [int(a) % a_ndim for a in axes_a], [int(b) % b_ndim for b in axes_b]


# The cotangent g has a's free axes, then b's free axes. Contracting it with the other
# operand over the free axes leaves that operand's contracted axes in *ascending* order,
# which need not be the order they were paired in (axes=[(1, 0), (2, 1)]): each is put
# back where its partner axis sits in the argument. The bookkeeping depends on the
# ranks and the axes only, so it is worked out once per combination (a gradient makes
# one VJP per product, and a Hessian-vector product differentiates those again).
@functools.lru_cache(maxsize=1024)
def _tensordot_adjoint_axes(a_ndim, b_ndim, axes):
    """For each operand: the axes to contract g and the other operand over, and the
    transpose that puts the result's axes back in the operand's order."""
    axes_a, axes_b = _normalize_tensordot_axes(a_ndim, b_ndim, axes)
    free_a = [i for i in range(a_ndim) if i not in axes_a]
    free_b = [i for i in range(b_ndim) if i not in axes_b]
    g_free_a = list(range(len(free_a)))
    g_free_b = list(range(len(free_a), len(free_a) + len(free_b)))
    partners_of_a = [axes_a[k] for k in _np.argsort(axes_b)]
    partners_of_b = [axes_b[k] for k in _np.argsort(axes_a)]
    order_a = tuple(int(i) for i in _np.argsort(free_a + partners_of_a))
    order_b = tuple(int(i) for i in _np.argsort(partners_of_b + free_b))
    return ((tuple(g_free_b), tuple(free_b)), order_a), ((tuple(free_a), tuple(g_free_a)), order_b)


def _axes_key(axes):
    """``axes`` as a hashable value: nested lists become tuples."""
    if isinstance(axes, (list, tuple)):
        return tuple(_axes_key(a) for a in axes)
    return int(axes)


def _rank(x):
    """``anp.ndim(x)``; without the traced call where no jit records it (ranks do not
    depend on values): a product's VJP maker asked four times per product."""
    if hooks.observer() is None:
        return _np.ndim(getval(x))
    return anp.ndim(x)


def _tensordot_vjp(argnum, a, b, a_ndim, b_ndim, axes_key):
    """``g -> cotangent`` of tensordot's operand ``argnum`` (axes as ``_axes_key``)."""
    adjoints = _tensordot_adjoint_axes(a_ndim, b_ndim, axes_key)
    contract, order = adjoints[argnum]
    if order == tuple(range(len(order))):
        order = None  # the contraction leaves the axes in place: no transpose to record
    if argnum == 0:
        return lambda g: match_complex(a, _transpose(anp.tensordot(g, b, contract), order))
    return lambda g: match_complex(b, _transpose(anp.tensordot(a, g, contract), order))


def _transpose(x, order):
    return x if order is None else anp.transpose(x, order)


def _tensordot_vjp_a(ans, a, b, axes=2):
    return _tensordot_vjp(0, a, b, _rank(a), _rank(b), _axes_key(axes))


def _tensordot_vjp_b(ans, a, b, axes=2):
    return _tensordot_vjp(1, a, b, _rank(a), _rank(b), _axes_key(axes))


defvjp(anp.tensordot, _tensordot_vjp_a, _tensordot_vjp_b)
defjvp(anp.tensordot, "same", "same")


@functools.lru_cache(maxsize=256)
def _dot_as_tensordot_axes(a_ndim, b_ndim):
    return ((a_ndim - 1,), (max(b_ndim - 2, 0),))


def _dot_vjp(argnum):
    def vjp_maker(ans, a, b):
        a_ndim, b_ndim = _rank(a), _rank(b)
        if a_ndim == 0 or b_ndim == 0:
            x, other = (a, b) if argnum == 0 else (b, a)
            return lambda g: unbroadcast(g * other, metadata(x))
        return _tensordot_vjp(argnum, a, b, a_ndim, b_ndim,
                              _dot_as_tensordot_axes(a_ndim, b_ndim))
    return vjp_maker


defvjp(anp.dot, _dot_vjp(0), _dot_vjp(1))
defjvp(anp.dot, "same", "same")


def _matmul_vjp(argnum):
    def vjp_maker(ans, a, b):
        a_meta, b_meta = metadata(a), metadata(b)
        a_vector, b_vector = anp.ndim(a) == 1, anp.ndim(b) == 1

        def vjp(g):
            # Promote vectors to matrices as matmul does, then reduce back.
            a2 = anp.expand_dims(a, 0) if a_vector else a
            b2 = anp.expand_dims(b, -1) if b_vector else b
            g2 = anp.expand_dims(g, -1) if b_vector else g
            g2 = anp.expand_dims(g2, -2) if a_vector else g2
            if argnum == 0:
                result = anp.matmul(g2, anp.swapaxes(b2, -1, -2))
                result = anp.squeeze(result, -2) if a_vector else result
                return unbroadcast(result, a_meta)
            result = anp.matmul(anp.swapaxes(a2, -1, -2), g2)
            result = anp.squeeze(result, -1) if b_vector else result
            return unbroadcast(result, b_meta)
        return vjp
    return vjp_maker


defvjp(anp.matmul, _matmul_vjp(0), _matmul_vjp(1))
defjvp(anp.matmul, "same", "same")
defvjp(anp.swapaxes, lambda ans, x, axis1, axis2: lambda g: anp.swapaxes(g, axis1, axis2))
defjvp(anp.swapaxes, "same")


def _conj(x):
    return anp.conj(x) if anp.iscomplexobj(x) else x


# vdot(a, b) = sum(conj(a) * b) over the flattened arrays: antilinear in a, so a's
# cotangent is conj(g * b) (autograd's convention for conj).
defvjp(anp.vdot,
       lambda ans, a, b: lambda g: match_complex(a, anp.reshape(_conj(g * b), anp.shape(a))),
       lambda ans, a, b: lambda g: match_complex(b, anp.reshape(g * _conj(a), anp.shape(b))))
defjvp(anp.vdot, "same", "same")


def _inner_vjp(argnum):
    def vjp_maker(ans, a, b):
        x, other = (a, b) if argnum == 0 else (b, a)
        if anp.ndim(a) == 0 or anp.ndim(b) == 0:
            return lambda g: unbroadcast(g * other, metadata(x))
        # g's axes: a's free axes, then b's free axes; contract g with the other operand's.
        n_a_free = anp.ndim(a) - 1
        n_other_free = anp.ndim(other) - 1
        g_axes = (list(range(n_a_free, anp.ndim(ans))) if argnum == 0
                  else list(range(n_a_free)))
        return lambda g: match_complex(
            x, anp.tensordot(g, other, (g_axes, list(range(n_other_free)))))
    return vjp_maker


defvjp(anp.inner, _inner_vjp(0), _inner_vjp(1))
defjvp(anp.inner, "same", "same")

# outer(a, b)[i, j] = a.flat[i] * b.flat[j].
defvjp(anp.outer,
       lambda ans, a, b: lambda g: match_complex(
           a, anp.reshape(anp.dot(g, anp.ravel(b)), anp.shape(a))),
       lambda ans, a, b: lambda g: match_complex(
           b, anp.reshape(anp.dot(anp.ravel(a), g), anp.shape(b))))
defjvp(anp.outer, "same", "same")


def _kron_vjp(argnum):
    """kron's output, reshaped to interleaved axes (a0, b0, a1, b1, ...), is the
    outer product of a and b; contract the cotangent with the other operand."""
    def vjp_maker(ans, a, b):
        nd = max(anp.ndim(a), anp.ndim(b))
        a_shape = (1,) * (nd - anp.ndim(a)) + anp.shape(a)
        b_shape = (1,) * (nd - anp.ndim(b)) + anp.shape(b)
        interleaved = tuple(size for pair in zip(a_shape, b_shape) for size in pair)
        a_axes, b_axes = list(range(0, 2 * nd, 2)), list(range(1, 2 * nd, 2))

        def vjp(g):
            g = anp.reshape(g, interleaved)
            if argnum == 0:
                result = anp.tensordot(g, anp.reshape(b, b_shape), (b_axes, list(range(nd))))
                return match_complex(a, anp.reshape(result, anp.shape(a)))
            result = anp.tensordot(anp.reshape(a, a_shape), g, (list(range(nd)), a_axes))
            return match_complex(b, anp.reshape(result, anp.shape(b)))
        return vjp
    return vjp_maker


defvjp(anp.kron, _kron_vjp(0), _kron_vjp(1))
defjvp(anp.kron, "same", "same")


def _move_to_end(x, axis):
    axis = axis % anp.ndim(x)
    order = [i for i in range(anp.ndim(x)) if i != axis] + [axis]
    return anp.transpose(x, order)


def _move_from_end(x, axis):
    axis = axis % anp.ndim(x)
    order = list(range(anp.ndim(x) - 1))
    order.insert(axis, anp.ndim(x) - 1)
    return anp.transpose(x, order)


def _cross_vjp(argnum):
    """<g, a x b> = <a, b x g> = <b, g x a>, with vectors moved to the last axis."""
    def vjp_maker(ans, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
        if axis is not None:
            axisa = axisb = axisc = axis
        if anp.shape(a)[axisa] != 3 or anp.shape(b)[axisb] != 3:
            raise NotImplementedError(
                "cross: gradients are defined for 3-vectors only (2-vectors are deprecated "
                "in NumPy 2); pad the vectors with a zero third component.")
        x, x_axis = (a, axisa) if argnum == 0 else (b, axisb)
        x_last = _move_to_end(x, x_axis)
        x_meta = metadata(x_last)

        def vjp(g):
            a_last, b_last = _move_to_end(a, axisa), _move_to_end(b, axisb)
            g_last = _move_to_end(g, axisc) if anp.ndim(g) > 0 else g
            result = (anp.cross(b_last, g_last) if argnum == 0
                      else anp.cross(g_last, a_last))
            return match_complex(x, _move_from_end(unbroadcast(result, x_meta), x_axis))
        return vjp
    return vjp_maker


defvjp(anp.cross, _cross_vjp(0), _cross_vjp(1))
defjvp(anp.cross, "same", "same")


def _vector_gufunc_vjp(argnum, conj_first, pattern):
    """VJPs of vecdot, matvec and vecmat (last-axis gufuncs), as einsums of g."""
    def vjp_maker(ans, a, b, **kwargs):
        if set(kwargs) - {"dtype", "casting", "order"}:
            raise NotImplementedError(
                "vecdot/matvec/vecmat: gradients support the default axes only; "
                "move the vector axis to the end first (np.moveaxis).")
        in_a, in_b, out = pattern
        x = (a, b)[argnum]
        x_meta = metadata(x)

        def vjp(g):
            if argnum == 0:
                result = anp.einsum(f"...{out},...{in_b}->...{in_a}", g, b)
                result = _conj(result) if conj_first else result
            else:
                result = anp.einsum(f"...{out},...{in_a}->...{in_b}", g,
                                    _conj(a) if conj_first else a)
            return match_complex(x, unbroadcast(result, x_meta))
        return vjp
    return vjp_maker


for _name, _conj_first, _pattern in [("vecdot", True, ("i", "i", "")),
                                     ("matvec", False, ("ij", "j", "i")),
                                     ("vecmat", True, ("i", "ij", "j"))]:
    if hasattr(anp, _name):
        _fun = getattr(anp, _name)
        defvjp(_fun, _vector_gufunc_vjp(0, _conj_first, _pattern),
               _vector_gufunc_vjp(1, _conj_first, _pattern))
        defjvp(_fun, "same", "same")


# einsum: operands are positional arguments of the primitive in both of NumPy's forms,
# einsum("ij,jk->ik", a, b) and einsum(a, [0, 1], b, [1, 2], [0, 2]).
_LETTERS = string.ascii_letters


def _string_labels(subscripts):
    """'i...j' -> ['i', Ellipsis, 'j']."""
    head, dots, tail = subscripts.partition("...")
    return list(head) + ([Ellipsis] + list(tail) if dots else [])


def _parse_einsum(args):
    """Where an einsum call's operands are and what their labels mean.

    Returns (argnums of the operands, the operands, one label string per operand,
    the output label string), every ellipsis spelled out as explicit letters."""
    if isinstance(args[0], str):
        argnums = list(range(1, len(args)))
        inputs, arrow, output = args[0].replace(" ", "").partition("->")
        inputs = [_string_labels(s) for s in inputs.split(",")]
        output = _string_labels(output) if arrow else None
    else:
        argnums = list(range(0, len(args) - 1, 2))
        to_label = lambda i: Ellipsis if i is Ellipsis else _LETTERS[i]  # noqa: E731
        inputs = [[to_label(i) for i in args[argnum + 1]] for argnum in argnums]
        output = [to_label(i) for i in args[-1]] if len(args) % 2 else None
    operands = [args[argnum] for argnum in argnums]
    used = {label for labels in inputs for label in labels}
    free = [c for c in _LETTERS if c not in used]
    ellipsis_ndims = [anp.ndim(x) - len(labels) + 1
                      for x, labels in zip(operands, inputs) if Ellipsis in labels]
    broadcast = free[:max(ellipsis_ndims, default=0)]

    def expand(labels, ndim):
        if Ellipsis not in labels:
            return "".join(labels)
        i = labels.index(Ellipsis)
        k = ndim - len(labels) + 1
        return "".join(labels[:i]) + "".join(broadcast[len(broadcast) - k:]) + "".join(
            labels[i + 1:])

    expanded = [expand(labels, anp.ndim(x)) for x, labels in zip(operands, inputs)]
    if output is None:
        counts = {}
        for labels in inputs:
            for label in labels:
                counts[label] = counts.get(label, 0) + 1
        output = "".join(broadcast) + "".join(
            sorted(label for label, count in counts.items()
                   if count == 1 and label is not Ellipsis))
    else:
        output = expand(output, len(broadcast) + len(output) - 1)
    return argnums, operands, expanded, output, free[len(broadcast):]


def _real_dtype(x):
    return _np.empty(0, anp.result_type(x)).real.dtype


def _einsum_vjp(argnum, ans, args, kwargs):
    """Cotangent of operand k: einsum of g with the other operands, out to k's labels.

    A label repeated within operand k (a diagonal, as in 'ii->i') gets a fresh label
    per repeat and an identity operand tying it to the first; a label that occurs only
    in operand k (summed away, as j in 'ij->i') gets a ones operand, so that the
    cotangent is spread along it. Axes of size 1 that were broadcast are summed."""
    argnums, operands, inputs, output, free = _parse_einsum(args)
    k = argnums.index(argnum)
    x, labels = operands[k], inputs[k]
    sizes = {}
    for operand, operand_labels in zip(operands, inputs):
        for label, size in zip(operand_labels, anp.shape(operand)):
            sizes[label] = max(sizes.get(label, 1), size)
    dtype = _real_dtype(x)
    extras, extra_labels, out_labels = [], [], ""
    fresh = iter(free)
    for label in labels:
        if label in out_labels:
            new_label = next(fresh)
            extras.append(_np.eye(sizes[label], dtype=dtype))
            extra_labels.append(label + new_label)
            label = new_label
        out_labels += label
    available = set(output).union(*(inputs[j] for j in range(len(inputs)) if j != k),
                                  *extra_labels)
    for label in out_labels:
        if label not in available:
            extras.append(_np.ones(sizes.get(label, 1), dtype=dtype))
            extra_labels.append(label)
            available.add(label)
    others = [operands[j] for j in range(len(operands)) if j != k]
    subscripts = ",".join([output] + [inputs[j] for j in range(len(inputs)) if j != k]
                          + extra_labels) + "->" + out_labels
    optimize = kwargs.get("optimize", 1 + len(others) + len(extras) > 2)
    if not isinstance(optimize, (bool, str)):
        optimize = True  # a contraction path planned for the forward call's operands
    x_shape = anp.shape(x)
    summed = tuple(i for i, label in enumerate(labels)
                   if x_shape[i] == 1 and sizes[label] != 1)

    def vjp(g):
        result = anp.einsum(subscripts, g, *others, *extras, optimize=optimize)
        if summed:
            result = anp.sum(result, axis=summed, keepdims=True)
        return match_complex(x, result)
    return vjp


defvjp_argnum(anp.einsum, _einsum_vjp)
def_linear(anp.einsum)


def polyval(p, x):
    """``numpy.polyval``: Horner's rule in traced operations, as NumPy computes it, so
    it is differentiable in the coefficients and in x (to any order, both modes)."""
    if isinstance(p, _np.poly1d):
        p = p.coeffs
    if isinstance(x, _np.poly1d):
        return _np.polyval(p, x)
    coefficients = p if isinstance(p, (list, tuple)) else [p[k] for k in range(len(p))]
    y = anp.zeros_like(x)
    for coefficient in coefficients:
        y = y * x + coefficient
    return y
