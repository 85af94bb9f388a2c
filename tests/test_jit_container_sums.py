"""Sums of cotangent containers replayed as one step (jit/container_sums.py): the same
bits, containers, types and fresh arrays as eager, without the zeros of each untake."""
import numpy
import pytest

import jitgrad.numpy as np
from jitgrad import explain, grad, jit, value_and_grad
from jitgrad.test_util import check_grads

pytestmark = pytest.mark.eager_only  # each test jits (and compares with eager) itself


def mlp_loss(params, x):
    h = x
    for W, b in zip(params[0:-2:2], params[1:-2:2]):  # slices of the tuple: nested sums
        h = np.tanh(h @ W + b)
    return np.sum((h @ params[-2] + params[-1]) ** 2)


def dict_loss(params, x):
    y = np.sin(x * params["a"]) + params["b"] * params["a"]  # "a" used twice
    return np.sum(y ** 2) + params["scale"] * np.sum(params["unused"] * 0.0 + 1.0)


def scalar_entries_loss(params, x):
    w, s, t = params  # s, t: Python floats (their zeros are no placeholders)
    return np.sum(np.cos(w * x) * s) + s * t + t


def unused_entry_loss(params, x):
    a, b, c = params  # b unused: its gradient is placeholder zeros
    return np.sum(a * x) + np.sum(c * c * x)


def _mlp_params(rng):
    return (rng.randn(3, 5), rng.randn(5), rng.randn(5, 4), rng.randn(4), rng.randn(4, 2),
            rng.randn(2))


CASES = {
    "mlp": (mlp_loss, lambda rng: (_mlp_params(rng), rng.randn(6, 3))),
    "dict": (dict_loss, lambda rng: ({"a": rng.randn(4), "b": rng.randn(4),
                                      "scale": rng.randn(), "unused": rng.randn(4)},
                                     rng.randn(4))),
    "scalars": (scalar_entries_loss, lambda rng: ((rng.randn(3), float(rng.randn()),
                                                   float(rng.randn())), rng.randn(3))),
    "unused": (unused_entry_loss, lambda rng: ((rng.randn(3), rng.randn(2), rng.randn(3)),
                                               rng.randn(3))),
}


def _leaves(tree):
    if isinstance(tree, dict):
        return [leaf for key in tree for leaf in _leaves(tree[key])]
    if isinstance(tree, (tuple, list)):
        return [leaf for item in tree for leaf in _leaves(item)]
    return [tree]


def _same(jitted, eager):
    assert type(jitted) is type(eager)
    if isinstance(eager, dict):
        assert list(jitted) == list(eager)
        for key in eager:
            _same(jitted[key], eager[key])
    elif isinstance(eager, (tuple, list)):
        assert len(jitted) == len(eager)
        for a, b in zip(jitted, eager):
            _same(a, b)
    else:
        assert numpy.asarray(jitted).dtype == numpy.asarray(eager).dtype
        assert numpy.array_equal(jitted, eager), (jitted, eager)


@pytest.mark.parametrize("name", sorted(CASES))
def test_replays_equal_eager_bit_for_bit(name, monkeypatch):
    monkeypatch.setenv("JITGRAD_FUSE", "0")  # fused tanh/sin may differ by an ulp
    loss, make_args = CASES[name]
    rng = numpy.random.RandomState(0)
    jitted, eager = grad(loss, jit=True), grad(loss)
    for _ in range(4):  # eager first call, trace, then replays on new values
        args = make_args(rng)
        _same(jitted(*args), eager(*args))
    assert jitted.stats["hits"] >= 2
    assert "sum_untaken(" in explain(jitted, *args)


def test_mlp_gradient_is_one_sum_of_the_untaken_entries():
    rng = numpy.random.RandomState(1)
    args = CASES["mlp"][1](rng)
    jitted = grad(mlp_loss, jit=True)
    for _ in range(3):
        jitted(*args)
    plan = explain(jitted, *args).split("plan:")[1].split("kernel")[0]
    # one step per tree: the weights' and the biases' slices, and the whole tuple's
    assert "container_untake(" not in plan
    assert plan.count("sum_untaken(") == 3


def test_outputs_are_fresh_arrays_each_call(monkeypatch):
    """A caller that changes a returned gradient (an optimizer's step in place) must
    not change the next call's: zeros of an unused entry included."""
    rng = numpy.random.RandomState(2)
    args = CASES["unused"][1](rng)
    jitted, eager = grad(unused_entry_loss, jit=True), grad(unused_entry_loss)
    for _ in range(4):
        out = jitted(*args)
        _same(out, eager(*args))
        for leaf in _leaves(out):
            leaf += 1.0  # in place


def test_value_and_grad_and_reused_sums():
    """A sum whose value is also an output (value_and_grad's pair) stays its own step."""
    def loss(params):
        a, b = params
        return np.sum(a * b) + np.sum(a ** 2)

    rng = numpy.random.RandomState(3)
    jitted = value_and_grad(loss, jit=True)
    for _ in range(4):
        params = (rng.randn(3), rng.randn(3))
        value, g = jitted(params)
        value_e, g_e = value_and_grad(loss)(params)
        assert value == value_e
        _same(g, g_e)


def test_gradient_of_the_jitted_function_of_containers():
    """The rewritten plan still differentiates: check_grads through jit to order 2."""
    rng = numpy.random.RandomState(4)
    params, x = CASES["dict"][1](rng)
    inner = jit(grad(dict_loss))

    def f(a):
        return np.sum(inner(dict(params, a=a), x)["b"] ** 2)
    check_grads(f, modes=["rev"], order=1)(params["a"])


def test_sums_giving_each_entry_once_gather_what_adding_gives(monkeypatch):
    """A sum whose untakes give each entry once only gathers (trace/containers.py's
    shortcut): it returns what adding entry by entry returns, a frozen placeholder (a
    plan's own zeros) replaced by fresh ones, an entry nothing gives as new zeros."""
    from jitgrad.trace import containers
    from jitgrad.trace.vspace import vspace
    rng = numpy.random.RandomState(5)
    params = tuple(rng.randn(2, 3) for _ in range(5))
    vs = vspace(params)
    frozen = containers.frozen_placeholder(numpy.zeros((2, 3)))
    cases = [  # (structure, values): keys given once, at slices, keys and negative keys
        (("add", ("untake", 0, ("slice", 0, 4, 2)), ("untake", 1, ("key", -1))),
         ((params[0], params[2]), params[4])),
        (("add", ("add", ("untake", 0, ("key", 1)), ("untake", 1, ("key", 3))),
          ("untake", 2, ("key", 0))), (params[1], frozen, params[0])),
    ]
    for structure, values in cases:
        gathered = containers.sum_untaken(vs, structure, *values)
        monkeypatch.setattr(containers, "_lone_sources", lambda vs, structure: None)
        added = containers.sum_untaken(vs, structure, *values)
        monkeypatch.undo()
        _same(gathered, added)
        assert all(entry is not frozen for entry in gathered)
        given = {id(leaf) for leaf in _leaves(values)}
        for entry in gathered:  # zeros the sum made are placeholders, fresh each call
            assert id(entry) in given or containers.is_placeholder(entry)
    # an entry given twice is added, not gathered
    twice = ("add", ("untake", 0, ("key", 0)), ("untake", 1, ("key", 0)))
    assert containers._lone_sources(vs, twice) is None
    numpy.testing.assert_array_equal(
        containers.sum_untaken(vs, twice, params[0], params[1])[0], params[0] + params[1])
