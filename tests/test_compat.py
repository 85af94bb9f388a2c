"""Module paths and names that third-party code imports from autograd's internals
exist under jitgrad and work when used the way such code uses them."""
import importlib

import numpy
import pytest

import jitgrad.numpy as np
from jitgrad import grad, jacobian

COMPAT_NAMES = {
    "jitgrad": "grad elementwise_grad deriv jacobian holomorphic_grad grad_named hessian "
               "make_hvp hessian_tensor_product hessian_vector_product "
               "tensor_jacobian_product vector_jacobian_product make_jvp make_vjp "
               "make_ggnvp value_and_grad grad_and_aux multigrad_dict checkpoint primitive",
    "jitgrad.tracer": "Box isbox getval primitive notrace_primitive trace new_box Node "
                      "register_notrace toposort",
    "jitgrad.core": "vspace VSpace make_vjp make_jvp backward_pass defvjp defvjp_argnum "
                    "defvjp_argnums defjvp defjvp_argnum defjvp_argnums def_linear "
                    "primitive_vjps primitive_jvps VJPNode JVPNode SparseObject primitive "
                    "register_notrace getval isbox Box Node toposort trace",
    "jitgrad.extend": "primitive defvjp defvjp_argnum defvjp_argnums defjvp defjvp_argnum "
                      "defjvp_argnums def_linear vspace VSpace Box SparseObject "
                      "notrace_primitive register_notrace JVPNode VJPNode",
    "jitgrad.wrap_util": "unary_to_nary wraps",
    "jitgrad.util": "subvals toposort func quick_grad_check",
    "jitgrad.differential_operators": "grad elementwise_grad deriv jacobian holomorphic_grad "
                                      "grad_named hessian make_hvp hessian_tensor_product "
                                      "hessian_vector_product tensor_jacobian_product "
                                      "vector_jacobian_product make_jvp make_vjp make_ggnvp "
                                      "value_and_grad grad_and_aux multigrad_dict checkpoint "
                                      "make_jvp_reversemode",
    "jitgrad.builtins": "list tuple dict isinstance type SequenceBox DictBox",
    "jitgrad.numpy.numpy_boxes": "ArrayBox",
    "jitgrad.numpy.numpy_vjps": "unbroadcast unbroadcast_f balanced_eq replace_zero "
                                "match_complex repeat_to_match_shape",
    "jitgrad.test_util": "check_grads check_vjp check_jvp combo_check",
    "jitgrad.misc": "flatten flatten_func sgd adam rmsprop fixed_point",
    "jitgrad.misc.flatten": "flatten flatten_func",
    "jitgrad.misc.optimizers": "sgd adam rmsprop",
    "jitgrad.misc.fixed_points": "fixed_point",
}


@pytest.mark.parametrize("module", sorted(COMPAT_NAMES))
def test_module_exists_with_its_names(module):
    imported = importlib.import_module(module)
    missing = [name for name in COMPAT_NAMES[module].split() if not hasattr(imported, name)]
    assert not missing, f"{module} lacks {missing}"


def test_same_objects_under_every_path():
    import jitgrad.core, jitgrad.differential_operators, jitgrad.extend, jitgrad.tracer
    for name in ("primitive", "Box", "getval", "isbox", "Node", "trace", "toposort"):
        assert getattr(jitgrad.tracer, name) is getattr(jitgrad.core, name)
    for name in ("defvjp", "defjvp", "vspace", "VSpace", "SparseObject", "VJPNode", "JVPNode"):
        assert getattr(jitgrad.extend, name) is getattr(jitgrad.core, name)
    assert jitgrad.grad is jitgrad.differential_operators.grad


def test_custom_primitive_with_unbroadcast_f():
    from jitgrad.extend import defvjp, primitive
    from jitgrad.numpy.numpy_vjps import unbroadcast_f

    @primitive
    def scaled_difference(x, y):
        return 2.0 * (x - y)
    defvjp(scaled_difference,
           lambda ans, x, y: unbroadcast_f(x, lambda g: 2.0 * g),
           lambda ans, x, y: unbroadcast_f(y, lambda g: -2.0 * g))
    x, y = numpy.random.randn(3, 1), numpy.random.randn(4)
    dx, dy = grad(lambda x, y: np.sum(scaled_difference(x, y)), (0, 1))(x, y)
    assert dx.shape == (3, 1) and dy.shape == (4,)
    numpy.testing.assert_allclose(dx, numpy.full((3, 1), 8.0))
    numpy.testing.assert_allclose(dy, numpy.full(4, -6.0))
    assert grad(lambda s: np.sum(scaled_difference(s, y)))(1.5) == pytest.approx(8.0)


def test_primitive_vjps_and_jvps_lookup_and_reuse():
    from jitgrad.core import defjvp_argnums, defvjp_argnums, primitive, primitive_jvps, primitive_vjps
    x = numpy.random.randn(3)
    ans = numpy.sin(x)
    (cotangent,) = primitive_vjps[np.sin]((0,), ans, (x,), {})(numpy.ones(3))
    numpy.testing.assert_allclose(cotangent, numpy.cos(x))
    numpy.testing.assert_allclose(primitive_jvps[np.sin]((0,), [numpy.ones(3)], ans, (x,), {}),
                                  numpy.cos(x))

    @primitive
    def my_sin(x):
        return numpy.sin(x)
    # reuse another primitive's rules, as wrappers of autograd often do
    defvjp_argnums(my_sin, primitive_vjps[np.sin])
    defjvp_argnums(my_sin, primitive_jvps[np.sin])
    numpy.testing.assert_allclose(grad(lambda x: np.sum(my_sin(x)))(x), numpy.cos(x))
    from jitgrad.test_util import check_grads
    check_grads(my_sin, modes=["fwd", "rev"], order=2)(x)


def test_unary_to_nary_defines_a_new_operator():
    from jitgrad.core import make_vjp, vspace
    from jitgrad.wrap_util import unary_to_nary

    @unary_to_nary
    def grad_and_value(fun, x):
        vjp, ans = make_vjp(fun, x)
        return vjp(vspace(ans).ones()), ans

    f = lambda a, b: np.sum(a ** 2 * b)
    a, b = numpy.random.randn(3), numpy.random.randn(3)
    gradient, value = grad_and_value(f, 1)(a, b)
    numpy.testing.assert_allclose(gradient, a ** 2)
    assert value == pytest.approx(numpy.sum(a ** 2 * b))
    (ga, gb), _ = grad_and_value(f, (0, 1))(a, b)
    numpy.testing.assert_allclose(ga, 2 * a * b)
    assert grad_and_value.__name__ == "grad_and_value"


def test_wraps_names_the_new_function():
    from jitgrad.wrap_util import wraps

    def target(x):
        """Doubles x."""
        return 2 * x

    @wraps(target, "grad_of_{fun}", "Gradient of {fun}: {doc}")
    def wrapper(x):
        return x
    assert wrapper.__name__ == "grad_of_target"
    assert wrapper.__doc__ == "Gradient of target: Doubles x."


def test_tracer_with_a_custom_node_type():
    """Third-party code traces with its own Node to inspect the computation."""
    from jitgrad.tracer import Node, toposort, trace

    class NameNode(Node):
        __slots__ = ["name", "parents"]

        def __init__(self, value, fun, args, kwargs, parent_argnums, parents):
            self.name = fun.__name__
            self.parents = parents

        def initialize_root(self):
            self.name = "input"
            self.parents = []

    value, end_node = trace(NameNode.new_root(), lambda x: np.sin(x * 2.0) + x, 0.5)
    assert value == pytest.approx(numpy.sin(1.0) + 0.5)
    names = [node.name for node in toposort(end_node)]
    assert names[0] == "add" and names[-1] == "input"
    assert set(names) == {"add", "sin", "multiply", "input"}


@pytest.mark.eager_only  # under jit, x._value is the jit's own traced box
def test_core_backward_pass_and_boxes():
    from jitgrad.core import VJPNode, backward_pass, getval, isbox, trace
    from jitgrad.numpy.numpy_boxes import ArrayBox
    seen = []

    def f(x):
        seen.append((isinstance(x, ArrayBox), isbox(x), type(getval(x))))
        return np.sum(np.exp(x))
    x = numpy.random.randn(3)
    value, end_node = trace(VJPNode.new_root(), f, x)
    numpy.testing.assert_allclose(backward_pass(1.0, end_node), numpy.exp(x))
    assert seen == [(True, True, numpy.ndarray)]
    # a common pattern: strip the box when computing something non-differentiable
    unboxed = []
    grad(lambda x: unboxed.append(x._value if isinstance(x, ArrayBox) else x) or np.sum(x))(x)
    assert type(unboxed[0]) is numpy.ndarray


def test_sequence_and_dict_boxes():
    from jitgrad.builtins import DictBox, SequenceBox
    kinds = []

    def f(params):
        kinds.append((type(params).__name__, type(params["pair"]).__name__))
        assert isinstance(params, DictBox) and isinstance(params["pair"], SequenceBox)
        a, b = params["pair"]
        return a * b
    assert grad(f)({"pair": (2.0, 3.0)}) == {"pair": (3.0, 2.0)}
    assert kinds == [("DictBox", "SequenceBox")]


def test_util_helpers():
    from jitgrad.core import VSpace
    from jitgrad.util import func, quick_grad_check, subvals
    assert subvals((1, 2, 3), [(0, 9), (2, 7)]) == (9, 2, 7)
    vs = VSpace.__new__(VSpace)
    assert func(vs.add) is VSpace.add  # the plain function behind a bound method
    quick_grad_check(lambda x: np.sum(np.sin(x)), numpy.random.randn(3), verbose=False)


def test_misc_flatten_path():
    from jitgrad.misc.flatten import flatten
    vector, unflatten = flatten({"a": numpy.ones(2), "b": [3.0]})
    numpy.testing.assert_array_equal(vector, [1.0, 1.0, 3.0])
    assert unflatten(vector)["b"] == [3.0]


def test_make_jvp_reversemode_path():
    from jitgrad.differential_operators import make_jvp_reversemode
    A = numpy.random.randn(2, 3)
    x, v = numpy.random.randn(3), numpy.random.randn(3)
    f = lambda x: np.tanh(A @ x)
    numpy.testing.assert_allclose(make_jvp_reversemode(f)(x)(v), jacobian(f)(x) @ v)
