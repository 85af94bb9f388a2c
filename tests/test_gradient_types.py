"""Gradients come back with the types autograd 1.9.1 gives (measured with autograd
itself): a 0-d array where the cotangent is a space's ones or zeros, or an entry of a
container; a NumPy scalar where arithmetic on scalars made it."""
import numpy
import pytest

import jitgrad.numpy as np
from jitgrad import elementwise_grad, grad, hessian, jacobian
from jitgrad.trace import tree

CASES = [  # (operator, function, input, type autograd returns, value)
    (grad, lambda x: x ** 2, 3.0, numpy.float64, 6.0),
    (grad, lambda x: 3.0 * x, 3.0, numpy.float64, 3.0),
    (grad, lambda x: x, 3.0, numpy.ndarray, 1.0),
    (grad, lambda x: np.sum(x), 3.0, numpy.ndarray, 1.0),
    (grad, lambda x: np.sum(x), numpy.array(3.0), numpy.ndarray, 1.0),
    (grad, lambda x: x ** 2, numpy.float32(3.0), numpy.float32, 6.0),
    (elementwise_grad, lambda x: x ** 2, 3.0, numpy.float64, 6.0),
    (jacobian, lambda x: x ** 2, 3.0, numpy.ndarray, 6.0),
    (hessian, lambda x: x ** 3, 3.0, numpy.ndarray, 18.0),
    # A scalar broadcast against an array: its cotangent summed to a NumPy scalar.
    (grad, lambda p: np.sum(np.power(numpy.array([0.5, 1.0, 1.5]), p)), 2.0, numpy.float64,
     float(numpy.sum(numpy.log([0.5, 1.0, 1.5]) * numpy.array([0.25, 1.0, 2.25])))),
    (grad, lambda p: np.sum(p * numpy.ones((2, 3))), 2.0, numpy.float64, 6.0),
]


@pytest.mark.parametrize("op, f, x, kind, value", CASES)
def test_scalar_gradient_types(op, f, x, kind, value):
    result = op(f)(x)
    assert type(result) is kind and result == value


def test_independent_output_gives_zeros_as_a_0d_array():
    with pytest.warns(UserWarning, match="independent"):
        result = grad(lambda x: 1.0)(3.0)
    assert type(result) is numpy.ndarray and result.shape == () and result == 0.0


def test_container_entries_are_0d_arrays():
    d = grad(lambda d: d["a"] ** 2)({"a": 3.0})
    assert type(d["a"]) is numpy.ndarray and d["a"] == 6.0
    entries = grad(lambda v: v[0] ** 2 + v[1])([3.0, 2.0])
    assert [type(e) for e in entries] == [numpy.ndarray, numpy.ndarray]
    assert [float(e) for e in entries] == [6.0, 1.0]


@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("loss, params", [
    (lambda w: np.sum(w), numpy.ones(3)),
    (lambda w: 3.0 * np.mean(w), numpy.ones((2, 2))),
    (lambda p: np.sum(p[0]) + np.sum(p[1]), (numpy.ones(2), numpy.ones(3))),
    (lambda p: np.sum(p["a"]), {"a": numpy.ones(2), "b": numpy.ones(2)})],
    ids=["sum", "mean", "tuple", "dict"])
def test_gradients_are_writeable_arrays(loss, params, jit):
    """A gradient is the caller's to update in place (``g *= lr``), as autograd's: sum's
    rule gives a broadcast (read-only) view, which grad hands back as a copy."""
    gradient = grad(loss, jit=jit)
    for _ in range(3):  # eager, then (jitted) the trace and a replay
        for leaf in tree.leaves(gradient(params)):
            leaf *= 2.0
            assert leaf.flags.writeable


@pytest.mark.parametrize("mode", ["eager", "jit unfused", "jit fused"])
@pytest.mark.parametrize("loss", [
    lambda p: np.sum(np.tanh(p[0] + p[1])),  # add's rule hands one cotangent to both
    lambda p: np.sum(np.concatenate([p[0], p[1]]) ** 2)])  # slices of one cotangent
def test_container_entries_are_arrays_of_their_own(loss, mode, monkeypatch):
    """Each entry of a gradient can be updated in place alone (``gw *= lr``), as
    autograd's: entries that were one array, or views of one, are copied apart (by
    the jit's trace and replays too)."""
    monkeypatch.setenv("JITGRAD_FUSE_AFTER", "0" if mode == "jit fused" else "1e9")
    gradient = grad(loss, jit=mode != "eager")
    for k in range(3):
        params = (numpy.linspace(0.1, 0.5, 3) + k, numpy.linspace(-0.4, 0.2, 3))
        gw, gb = gradient(params)
        expected_gb = gb.copy()
        gw *= 0.0
        assert numpy.array_equal(gb, expected_gb) and not numpy.shares_memory(gw, gb)


@pytest.mark.parametrize("fuse_after", ["0", "1e9"])
def test_a_jitted_step_returned_twice_is_two_arrays(fuse_after, monkeypatch):
    """Two equal results (merged into one step by the jit) are two arrays on every
    replay, as eager's are: updating one in place leaves the other."""
    from jitgrad import jit
    monkeypatch.setenv("JITGRAD_FUSE_AFTER", fuse_after)
    f = jit(lambda x: (x * 2.0, x * 2.0, np.sum(x)))
    for k in range(3):
        a, b, _ = f(numpy.arange(3.0) + k)
        a *= 0.0
        assert numpy.array_equal(b, 2.0 * (numpy.arange(3.0) + k))
