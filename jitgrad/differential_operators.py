"""Differential operators with autograd's names, signatures and meaning.

Each takes ``fun`` and ``argnum`` (an int, or a tuple of ints to differentiate
with respect to several arguments at once) and returns a function of the same
arguments as ``fun``. Each also takes ``jit=`` (see ``jitgrad.jit``).
"""
import functools
import inspect
import warnings

from .trace import getval, make_jvp as _trace_jvp, make_vjp as _trace_vjp, vspace
from .trace import tree
from .trace.core import primitive, strip_closed_boxes
from .jit.jitted import jit as _jit
from .trace.rules import defjvp_argnum, defvjp_argnum
from .wrap_util import unary_to_nary
from . import numpy as np, settings
from .kernels.heap import keep_freed_memory


# Derivatives allocate and free arrays by the hundred per call: glibc's default
# thresholds gave the big ones back to the kernel each time, and the next call
# page-faulted them in again (eager chain 1e5 8.7 -> 3.5 ms, mlp 6.6 -> 3.9 ms with them
# raised). So the first derivative taken raises them, once (kernels/heap.py).
def _make_vjp(fun, x):
    keep_freed_memory()
    return _trace_vjp(fun, x)


def _make_jvp(fun, x):
    keep_freed_memory()
    return _trace_jvp(fun, x)

__all__ = ["grad", "elementwise_grad", "deriv", "jacobian", "holomorphic_grad",
           "grad_named", "hessian", "make_hvp", "hessian_tensor_product",
           "hessian_vector_product", "tensor_jacobian_product",
           "vector_jacobian_product", "make_jvp", "make_vjp", "make_ggnvp",
           "value_and_grad", "grad_and_aux", "multigrad_dict", "checkpoint",
           "make_jvp_reversemode"]


def use_jit(jit):
    """``jit=None`` means the environment's choice: JITGRAD_JIT=1 jits every operator."""
    if jit is None:
        return settings.flag("JITGRAD_JIT", False)
    return bool(jit)


def _with_jit_option(nary_operator):
    """Add the ``jit=`` keyword that every operator accepts:
    ``op(fun, ..., jit=True)`` is ``jitgrad.jit(op(fun, ...))``."""
    def operator(fun, *args, jit=None, **kwargs):
        derivative = nary_operator(fun, *args, **kwargs)
        return _jit(derivative) if use_jit(jit) else derivative
    operator.__name__ = nary_operator.__name__
    operator.__qualname__ = nary_operator.__name__
    operator.__doc__ = nary_operator.__doc__
    operator.__wrapped__ = nary_operator
    nary_operator.rebuild = functools.partial(operator, jit=False)  # for pickling
    # autograd's signature, (fun, argnum=0), plus the jit keyword
    params = inspect.signature(nary_operator, follow_wrapped=False).parameters.values()
    operator.__signature__ = inspect.Signature(
        [p for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        + [inspect.Parameter("jit", inspect.Parameter.KEYWORD_ONLY, default=None)])
    return operator


def _differential_operator(unary_operator):
    return _with_jit_option(unary_to_nary(unary_operator))


def _require_float_output(opname, ans):
    """A bool or integer output (``np.allclose(...)``, a count) is piecewise constant:
    it has no gradient, and returning zeros would hide the mistake."""
    value = getval(ans)
    if value is None or isinstance(value, (str, bytes)):
        returned = "None (a missing return?)" if value is None else f"a {type(value).__name__}"
        raise TypeError(f"{opname}: the function returned {returned}, not a number: return "
                        "the floating-point quantity to differentiate.")
    dtype = getattr(vspace(ans), "dtype", None)
    if dtype is not None and dtype.kind in "biu":
        kind = "a boolean" if dtype.kind == "b" else "an integer"
        raise TypeError(
            f"{opname}: the function returned {kind} ({type(getval(ans)).__name__}"
            f"{'' if np.ndim(getval(ans)) == 0 else ', dtype ' + str(dtype)}), which has no "
            "gradient. Return the floating-point quantity to differentiate instead (a "
            "comparison such as np.allclose can steer Python control flow, but is not "
            "differentiable).")


def _require_scalar_output(opname, ans):
    _require_float_output(opname, ans)
    vs = vspace(ans)
    if vs.iscomplex or vs.size != 1:
        value = getval(ans)
        if vs.iscomplex:
            returned = "a complex value"
        elif tree.children(value) is not None:
            returned = f"a {type(value).__name__} of {len(value)} values"
        else:
            returned = f"shape {getattr(vs, 'shape', None)}"
        raise TypeError(
            f"{opname} only applies to functions with a real scalar output, but this one "
            f"returned {returned}. "
            "Use jacobian for the full derivative, elementwise_grad for the gradient of "
            "the sum of the outputs, or holomorphic_grad for complex-analytic functions.")
    return vs


@_differential_operator
def grad(fun, x):
    """
    Returns a function which computes the gradient of scalar-valued ``fun`` with
    respect to argument ``argnum``; the gradient has that argument's type and shape.
    """  # (starts on its own line, as autograd's does: its test suite reads it)
    vjp, ans = _make_vjp(fun, x)
    return vjp(_require_scalar_output("grad", ans).ones())


@_differential_operator
def elementwise_grad(fun, x):
    """Gradient of ``sum(fun(x))``: for an elementwise ``fun`` it is the derivative
    of each output with respect to the input at the same position."""
    vjp, ans = _make_vjp(fun, x)
    _require_float_output("elementwise_grad", ans)
    if vspace(ans).iscomplex:
        raise TypeError("elementwise_grad only applies to real-output functions; "
                        "use holomorphic_grad or jacobian for complex outputs.")
    return vjp(vspace(ans).ones())


@_differential_operator
def deriv(fun, x):
    """Derivative of ``fun`` along a tangent of ones, by forward mode."""
    return _make_jvp(fun, x)(vspace(x).ones())[1]


@_differential_operator
def jacobian(fun, x):
    """The Jacobian of ``fun`` as an array of shape ``out.shape + x.shape``."""
    vjp, ans = _make_vjp(fun, x)
    if tree.children(getval(ans)) is not None:  # a container (a box of one under the jit)
        return _jacobian_of_each_output(fun, x, getval(ans))
    _require_float_output("jacobian", ans)
    ans_vspace = vspace(ans)
    rows = [vjp(basis_vector) for basis_vector in ans_vspace.standard_basis()]
    if isinstance(x, tuple):  # a tuple argnum: one Jacobian per argument
        return tuple(np.reshape(np.stack([row[i] for row in rows]),
                                ans_vspace.shape + vspace(xi).shape) for i, xi in enumerate(x))
    return np.reshape(np.stack(rows), ans_vspace.shape + vspace(x).shape)


def _jacobian_of_each_output(fun, x, ans):
    """A function returning a container (a tuple, dict, namedtuple...) gets that
    container of Jacobians, one per entry."""
    entries, rebuild = tree.children(ans)
    keys = list(ans) if isinstance(ans, dict) else range(len(entries))

    def entry(out, i, key):  # containers index (traced ones too); registered classes don't
        return out[key] if isinstance(getval(out), (dict, tuple, list)) else \
            tree.children(out)[0][i]
    return rebuild([jacobian(lambda x, i=i, key=key: entry(fun(x), i, key))(x)
                    for i, key in enumerate(keys)])


@_differential_operator
def holomorphic_grad(fun, x):
    """Complex derivative of a holomorphic ``fun`` of a complex argument."""
    if not vspace(x).iscomplex:
        warnings.warn("Input to holomorphic_grad is not complex", stacklevel=3)
    return grad(lambda x: np.real(fun(x)))(x)


def grad_named(fun, argname, jit=None):
    """Gradient with respect to the argument called ``argname``."""
    arg_index = list(inspect.signature(fun).parameters).index(argname)
    return grad(fun, arg_index, jit=jit)


@_differential_operator
def hessian(fun, x):
    """The Hessian of scalar-valued ``fun``, shape ``x.shape + x.shape``."""
    return jacobian(jacobian(fun))(x)


@_differential_operator
def make_hvp(fun, x):
    """Returns ``(hvp, grad_x)`` where ``hvp(v)`` is the Hessian-vector product at x."""
    return _make_vjp(grad(fun), x)


def hessian_tensor_product(fun, argnum=0, jit=None):
    """``f(*args, v)`` giving the Hessian of ``fun`` contracted with tensor ``v``."""
    fun_grad = grad(fun, argnum, jit=jit)

    def vector_dot_grad(*args, **kwargs):
        args, vector = args[:-1], args[-1]
        return np.tensordot(fun_grad(*args, **kwargs), vector, np.ndim(vector))
    return grad(vector_dot_grad, argnum, jit=jit)


hessian_vector_product = hessian_tensor_product


def tensor_jacobian_product(fun, argnum=0, jit=None):
    """``f(*args, v)`` giving the tensor ``v`` contracted with the Jacobian of ``fun``
    (a vector-Jacobian product for vector ``v``)."""
    def vector_dot_fun(*args, **kwargs):
        args, vector = args[:-1], args[-1]
        return np.tensordot(vector, fun(*args, **kwargs), axes=np.ndim(vector))
    return jacobian(vector_dot_fun, argnum, jit=jit)


vector_jacobian_product = tensor_jacobian_product


@_differential_operator
def make_jvp(fun, x):
    """``make_jvp(fun)(x)(v)`` returns ``(fun(x), J(x) v)``, by forward mode."""
    return _make_jvp(fun, x)


@_differential_operator
def make_vjp(fun, x):
    """``make_vjp(fun)(x)`` returns ``(vjp, fun(x))`` where ``vjp(g) = g^T J(x)``."""
    return _make_vjp(fun, x)


@_differential_operator
def make_jvp_reversemode(fun, x):
    """A JVP built from two reverse passes (for functions without forward rules)."""
    vjp, y = _make_vjp(fun, x)
    vjp_vjp, _ = _make_vjp(vjp, vspace(y).zeros())
    return vjp_vjp  # vjp is linear, so its own VJP is the JVP


def make_ggnvp(f, g=lambda x: 1. / 2 * np.sum(x ** 2, axis=-1), f_argnum=0, jit=None):
    """Generalized Gauss-Newton vector products for ``g(f(x))``: ``J_f^T H_g J_f v``."""
    def _make_ggnvp(*args, **kwargs):
        f_vjp, f_x = make_vjp(f, f_argnum, jit=jit)(*args, **kwargs)
        f_jvp, _ = make_vjp(f_vjp, jit=jit)(vspace(f_x).zeros())
        g_hvp, _ = make_vjp(grad(g, jit=jit), jit=jit)(f_x)

        def ggnvp(v):
            return f_vjp(g_hvp(f_jvp(v)))
        return ggnvp
    return _make_ggnvp


@_differential_operator
def value_and_grad(fun, x):
    """Returns ``(fun(x), grad(fun)(x))`` in one pass."""
    vjp, ans = _make_vjp(fun, x)
    return ans, vjp(_require_scalar_output("value_and_grad", ans).ones())


@_differential_operator
def grad_and_aux(fun, x):
    """For ``fun`` returning ``(loss, aux)``: returns ``(grad of loss, aux)``."""
    aux_holder = []

    def loss_only(x):
        loss, aux = fun(x)
        aux_holder.append(aux)
        return loss
    vjp, ans = _make_vjp(loss_only, x)
    gradient = vjp(_require_scalar_output("grad_and_aux", ans).ones())
    return gradient, strip_closed_boxes(aux_holder[0])


def multigrad_dict(fun, jit=None):
    """Gradient with respect to every argument at once, as a dict by argument name."""
    signature = inspect.signature(fun)

    def gradfun(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()

        def call_with(arguments):
            rebound = inspect.BoundArguments(signature, arguments)
            return fun(*rebound.args, **rebound.kwargs)
        return grad(call_with)(dict(bound.arguments))
    return _jit(gradfun) if use_jit(jit) else gradfun


def checkpoint(fun, jit=None):
    """``fun`` that keeps no intermediate values for the backward pass: it
    recomputes them when the gradient is needed (trading time for memory).
    ``jit`` is accepted for uniformity; jit the function that calls it."""
    # Rules run inside the enclosing transformation (jitted or not): no jit of their own.
    def vjp_maker(argnum, ans, args, kwargs):
        return make_vjp(fun, argnum, jit=False)(*args, **kwargs)[0]

    def jvp_maker(argnum, g, ans, args, kwargs):
        return make_jvp(fun, argnum, jit=False)(*args, **kwargs)(g)[1]
    checkpointed = primitive(fun)
    defvjp_argnum(checkpointed, vjp_maker)
    defjvp_argnum(checkpointed, jvp_maker)
    return checkpointed
