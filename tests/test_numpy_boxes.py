"""ArrayBox behaves like an ndarray: properties, methods, len/iteration, and plain NumPy
functions and ufunc methods called on traced values (``__array_function__``,
``__array_ufunc__``) tracing through jitgrad.numpy."""
import numpy
import pytest

import jitgrad.numpy as np
from jitgrad import grad, make_vjp
from jitgrad.numpy import ArrayBox, NDArrayBox
from jitgrad.tracer import getval
from jitgrad.test_util import check_grads

R = numpy.random.randn

# (name, function of x: the same code runs on an ndarray and on a traced array)
METHODS = [
    ("sum", lambda x: x.sum()),
    ("sum_axis", lambda x: x.sum(axis=0, keepdims=True)),
    ("mean", lambda x: x.mean(1)),
    ("prod", lambda x: x.prod(axis=-1)),
    ("var", lambda x: x.var()),
    ("std", lambda x: x.std(axis=0, ddof=1)),
    ("max", lambda x: x.max(axis=1)),
    ("min", lambda x: x.min()),
    ("cumsum", lambda x: x.cumsum(axis=1)),
    ("cumprod", lambda x: x.cumprod()),
    ("dot", lambda x: x.dot(numpy.arange(3.0))),
    ("T", lambda x: x.T),
    ("mT", lambda x: x.mT),
    ("reshape", lambda x: x.reshape(3, 2)),
    ("reshape_order", lambda x: x.reshape((3, 2), order="F")),
    ("flatten", lambda x: x.flatten()),
    ("ravel", lambda x: x.ravel()),
    ("squeeze", lambda x: x[:, None, :1].squeeze()),
    ("transpose", lambda x: x.transpose()),
    ("swapaxes", lambda x: x.swapaxes(0, 1)),
    ("clip", lambda x: x.clip(-0.5, 0.5)),
    ("astype", lambda x: x.astype(numpy.float64)),
    ("copy", lambda x: x.copy()),
    ("repeat", lambda x: x.repeat(2, axis=0)),
    ("diagonal", lambda x: x.diagonal()),
    ("trace", lambda x: x.trace()),
    ("take", lambda x: x.take([0, 0, 5])),
    ("conj", lambda x: x.conj()),
    ("real", lambda x: (x * (1 + 1j)).real),
    ("imag", lambda x: (x * (1 + 2j)).imag),
    ("iteration", lambda x: [row * i for i, row in enumerate(x)][1]),
    ("neg_pos_abs", lambda x: -(+abs(x))),
    ("arithmetic", lambda x: (2.0 - x) * 3.0 / (x ** 2 + 1.0) + 1.0 / (2.0 + x ** 2)),
    ("matmul", lambda x: x @ x.T),
    ("rmatmul", lambda x: numpy.ones((1, 2)) @ x),
    ("rpow", lambda x: 2.0 ** x),
]


@pytest.mark.parametrize("name, fun", METHODS, ids=[m[0] for m in METHODS])
def test_method(name, fun):
    x = R(2, 3)
    _, value = make_vjp(fun)(x)
    numpy.testing.assert_allclose(value, fun(x), rtol=1e-12)
    check_grads(fun, modes=["fwd", "rev"], order=2)(x)


def test_properties_and_python_protocols():
    seen = {}

    def f(x):
        y = x * 2.0
        seen.update(shape=y.shape, ndim=y.ndim, size=y.size, dtype=y.dtype, len=len(y),
                    itemsize=y.itemsize, nbytes=y.nbytes, scalar_dtype=y[0, 0].dtype,
                    rows=[type(r) for r in y], bool=bool(y[0, 0] > -100),
                    contains=getval(x[0, 1]) in y / 2.0, formatted=f"{y[0, 0]:.2f}",
                    item=getval(y[1, 2]).item(), argmax=int(y.argmax()),
                    nonzero=[int(i) for i in (y > 0).nonzero()[1]],
                    all=bool((y < 100).all()), any=bool((y > 100).any()), rounded=round(x[0, 0]))
        return y.sum()
    x = numpy.array([[0.25, 0.5, 1.0], [2.0, 3.0, 4.0]], dtype=numpy.float32)
    grad(f)(x)
    assert seen["shape"] == (2, 3) and seen["ndim"] == 2 and seen["size"] == 6
    assert seen["dtype"] == seen["scalar_dtype"] == numpy.float32 and seen["len"] == 2
    assert seen["itemsize"] == 4 and seen["nbytes"] == 24
    assert seen["rows"] == [NDArrayBox, NDArrayBox]
    assert seen["bool"] is True and seen["contains"] is True
    assert seen["formatted"] == "0.50" and seen["item"] == 8.0 and seen["argmax"] == 5
    assert seen["nonzero"] == [0, 1, 2, 0, 1, 2]
    assert seen["all"] and not seen["any"] and seen["rounded"] == 0


def test_scalar_and_array_boxes():
    kinds = []

    def f(x):
        kinds.append((type(x), type(x[0]), type(np.sum(x)), isinstance(x[0], ArrayBox)))
        return np.sum(x)
    grad(f)(R(2))
    assert kinds == [(NDArrayBox, ArrayBox, ArrayBox, True)]


# Plain NumPy functions on traced values go to jitgrad.numpy's.
NUMPY_FUNCTIONS = [
    ("sum", lambda x: numpy.sum(x, axis=0)),
    ("mean", lambda x: numpy.mean(x)),
    ("concatenate_with_plain", lambda x: numpy.concatenate([x, numpy.ones((1, 3))])),
    ("stack", lambda x: numpy.stack([x, 2 * x], axis=1)),
    ("reshape", lambda x: numpy.reshape(x, -1)),
    ("transpose", lambda x: numpy.transpose(x)),
    ("where", lambda x: numpy.where(x > 0, x, 0.1 * x)),
    ("dot", lambda x: numpy.dot(x, numpy.arange(3.0))),
    ("tensordot", lambda x: numpy.tensordot(x, x, 2)),
    ("sort", lambda x: numpy.sort(x, axis=None)),
    ("linalg_norm", lambda x: numpy.linalg.norm(x)),
    ("pad", lambda x: numpy.pad(x, 1)),
    ("ufunc", lambda x: numpy.sin(x) * numpy.exp(x)),
    ("add_reduce", lambda x: numpy.add.reduce(x)),
    ("multiply_accumulate", lambda x: numpy.multiply.accumulate(x, axis=1)),
    ("maximum_reduce", lambda x: numpy.maximum.reduce(x, axis=1)),
    ("outer", lambda x: numpy.multiply.outer(x[0], x[1])),
]


@pytest.mark.parametrize("name, fun", NUMPY_FUNCTIONS, ids=[f[0] for f in NUMPY_FUNCTIONS])
def test_numpy_function_on_a_box(name, fun):
    x = R(2, 3)
    _, value = make_vjp(fun)(x)
    numpy.testing.assert_allclose(value, fun(x), rtol=1e-12)
    check_grads(fun, modes=["fwd", "rev"], order=2)(x)


def test_numpy_shape_queries_on_boxes():
    def f(x):
        assert numpy.shape(x) == (2, 3) and numpy.ndim(x) == 2 and numpy.size(x) == 6
        assert numpy.result_type(x) == numpy.float64 and not numpy.iscomplexobj(x)
        assert numpy.argmax(x) == 3 and numpy.argsort(x[0])[0] == 1
        return np.sum(x)
    grad(f)(R(2, 3))


def test_unknown_numpy_function_is_a_clear_error():
    def f(x):
        return numpy.lib.stride_tricks.sliding_window_view(x, 2).sum()
    with pytest.raises(TypeError, match="sliding_window_view.*traced"):
        grad(f)(R(4))


def test_numpy_function_with_boxes_in_a_container_is_a_clear_error():
    def f(x):
        return x[numpy.lexsort((x, x))]
    with pytest.raises(TypeError, match="numpy.lexsort received traced values inside a list"):
        grad(f)(R(3))


def test_unsupported_ufunc_method_is_a_clear_error():
    with pytest.raises(TypeError, match="numpy.add.reduceat"):
        grad(lambda x: numpy.add.reduceat(x, [0, 2]).sum())(R(4))


def test_type_of_a_traced_value_compares_equal_to_arraybox():
    # Code written for autograd tests ``type(x) == ArrayBox`` (one class there).
    seen = []

    def f(x):
        seen.extend([type(x) == ArrayBox, type(x[0]) == ArrayBox, type(x) != ArrayBox,
                     isinstance(x, ArrayBox), type(x) == numpy.ndarray])
        return np.sum(x)
    grad(f)(R(3))
    assert seen == [True, True, False, True, False]


@pytest.mark.parametrize("scalar", [2.0, numpy.float64(2.0), numpy.array(2.0)])
def test_plain_numpy_array_of_traced_scalars_differentiates(scalar):
    """``numpy.array([y, y])`` of a traced scalar (a Python float argument included)
    holds the boxes, as autograd's does: the sum of them differentiates to 2."""
    assert grad(lambda y: np.sum(numpy.array([y, y])))(scalar) == 2.0
    assert grad(lambda y: np.sum(numpy.asarray(y) * 3.0))(scalar) == 3.0
    check_grads(lambda y: np.sum(numpy.array([y * y, y])), modes=["rev"], order=1)(scalar)


@pytest.mark.parametrize("f", [
    lambda x: np.sum(a=x), lambda x: np.mean(a=x * x), lambda x: np.prod(a=x),
    lambda x: np.sum(np.cumsum(a=x) ** 2), lambda x: np.linalg.norm(x=x),
    lambda x: np.sum(np.clip(x, a_min=x[0] * 0.5, a_max=None) ** 2),
    lambda x: np.sum(np.outer(a=x, b=x * x)), lambda x: np.dot(a=x, b=x),
    lambda x: np.tensordot(a=x, b=x ** 2, axes=1),
    lambda x: np.sum(np.linalg.solve(numpy.eye(3) * 2.0, b=x) ** 2)],
    ids=["sum", "mean", "prod", "cumsum", "norm", "clip", "outer", "dot", "tensordot", "solve"])
def test_traced_arrays_given_as_keyword_arguments_are_differentiated(f):
    """``np.sum(a=x)``: a traced keyword argument is traced like a positional one (it
    reached NumPy, whose __array_function__ called the primitive again: RecursionError)."""
    check_grads(f, modes=["rev", "fwd"], order=2)(numpy.array([1.0, 2.0, 3.0]))


def test_a_traced_keyword_only_argument_gets_a_clear_error():
    from jitgrad.extend import primitive

    @primitive
    def scaled(x, *, scale):
        return x * scale
    with pytest.raises(TypeError, match="pass it by position"):
        grad(lambda s: np.sum(scaled(numpy.ones(2), scale=s)))(1.0)
