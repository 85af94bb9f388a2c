"""A number the jitted code reads off an object, a module, a dict or a list it
captures (``self.l2``, ``cfg.lr``, ``H["l2"]``, ``hp[0]``) is a constant of its plans:
the jit checks before each call that each still reads the same value, and a change
is seen as eager sees it (jit/attribute_reads.py). Each test changes the value
between calls and compares every jitted call, replays included, with eager's."""
import types

import numpy
import pytest
from numpy.testing import assert_allclose

import jitgrad.numpy as np
from jitgrad import grad, jit
from jitgrad.jit.attribute_reads import read_chains

pytestmark = [pytest.mark.eager_only,
              pytest.mark.filterwarnings("ignore:jit.*rebound:UserWarning")]


class Model:
    def __init__(self):
        self.l2 = 0.1
        self.power = 2
        self.layers = [{"scale": 1.5}]

    def loss(self, w):
        return np.sum(w ** self.power) * self.l2 + self.penalty(w)

    def penalty(self, w):
        return self.layers[0]["scale"] * np.sum(np.sin(w))


class Config:
    lr = 0.5


def _follows_eager(make, change, calls=5):
    """Calls of jitted and eager with new arguments, ``change(i)`` between them."""
    eager, jitted = make(False), make(True)
    for i in range(calls):
        w = numpy.array([1.0, 2.0, 3.0]) + 0.1 * i
        assert_allclose(jitted(w), eager(w), rtol=1e-13, err_msg=f"call {i}")
        change(i)
    return jitted


def test_a_bound_method_sees_its_objects_attributes_change():
    model = Model()

    def change(i):
        model.l2 *= 2  # a float attribute
        model.power = 2 + i % 2  # an int (a new path for **)
    _follows_eager(lambda jit_: grad(model.loss, jit=jit_), change)


def test_a_method_it_calls_on_the_object_is_read_too():
    model = Model()
    _follows_eager(lambda jit_: grad(model.loss, jit=jit_),
                   lambda i: model.layers[0].__setitem__("scale", 1.5 + i))


def test_a_global_objects_attribute_and_a_class_attribute():
    def loss(w):
        return np.sum(w ** 2) * CONFIG.lr * Config.lr
    globals()["CONFIG"] = Config()

    def change(i):
        CONFIG.lr = 0.1 * i
        Config.lr = 0.5 + i
    try:
        _follows_eager(lambda jit_: grad(loss, jit=jit_), change)
    finally:
        Config.lr = 0.5


def test_a_global_dicts_item_and_a_closure_lists_item():
    hyper = {"l2": 0.1}
    scale = [1.0]
    globals()["HYPER"] = hyper

    def loss(w):
        return np.sum(w ** 2) * HYPER["l2"] * scale[0]

    def change(i):
        hyper["l2"] += 1.0
        scale[0] = -scale[0]
    _follows_eager(lambda jit_: grad(loss, jit=jit_), change)


def test_a_modules_attribute():
    settings = types.ModuleType("my_settings")
    settings.temperature = 1.0

    def loss(w):
        return np.sum(np.exp(w / settings.temperature))

    def change(i):
        settings.temperature = 2.0 + i
    _follows_eager(lambda jit_: jit(lambda w: loss(w)) if jit_ else loss, change)


def test_the_check_runs_no_code_of_the_objects():
    # A property, __getattr__ and a defaultdict's missing key run code (a data loader's
    # counter, an insertion): the check must not run it again before every call, so
    # such reads are not checked (README, footgun 1).
    import collections

    class Loader:
        def __init__(self):
            self.reads = 0

        @property
        def scale(self):
            self.reads += 1
            return 2.0

        def __getattr__(self, name):
            self.reads += 1
            return 3.0

    loader = Loader()
    table = collections.defaultdict(float, {"a": 1.0})

    def f(w):
        return w * loader.scale * loader.dynamic + table["a"] + table["b"]
    jitted = jit(f)
    assert loader.reads == 0 and "b" not in table  # made: nothing read
    w = numpy.ones(2)
    for k in range(4):
        assert_allclose(jitted(w + k), f(w + k))
    # 2 reads per eager call and per call the jit ran Python (a trace, an eager call)
    ran_python = jitted.stats["traces"] + jitted.stats["eager_calls"]
    assert ran_python < 4 and loader.reads == 2 * 4 + 2 * ran_python


def test_a_dict_item_deleted_or_an_attribute_removed_is_a_change():
    hyper = {"l2": 0.1}

    class Holder:
        pass
    holder = Holder()
    holder.scale = 2.0

    def f(w):
        return w * hyper.get("l2", 1.0) * getattr(holder, "scale", 5.0) + \
            hyper["l2"] * holder.scale
    jitted = jit(f)
    w = numpy.ones(2)
    assert_allclose(jitted(w), f(w))
    assert_allclose(jitted(w + 1), f(w + 1))
    del hyper["l2"]
    del holder.scale
    with pytest.raises((KeyError, AttributeError)):
        f(w)
    with pytest.raises((KeyError, AttributeError)):
        jitted(w + 2)  # as eager: the check saw the change, the call ran the Python


def test_values_that_do_not_change_keep_one_trace():
    model = Model()
    jitted = _follows_eager(lambda jit_: grad(model.loss, jit=jit_), lambda i: None)
    assert jitted.stats["traces"] == 1 and jitted.stats["hits"] >= 3


def test_an_equal_value_made_anew_keeps_its_plans():
    # A float computed again (another object, the same bits) is the same constant.
    model = Model()
    jitted = _follows_eager(lambda jit_: grad(model.loss, jit=jit_),
                            lambda i: setattr(model, "l2", float(str(model.l2))))
    assert jitted.stats["traces"] == 1


def test_an_attributes_array_changed_in_place_is_still_a_constant():
    # README footgun 1: the array keeps its identity; only rebinding it is seen.
    model = Model()
    model.offset = numpy.zeros(3)
    f = jit(lambda w: np.sum((w - model.offset) ** 2))
    w = numpy.ones(3)
    assert f(w) == 3.0 and f(w) == 3.0
    model.offset[:] = 1.0
    assert f(w) == 3.0  # in place: not seen
    model.offset = numpy.full(3, 2.0)
    assert f(w) == 3.0 and f(w + 1.0) == 0.0  # rebound: seen


def test_read_chains_finds_attribute_and_constant_item_reads():
    def code(self, w):
        return self.a.b + G["k"] + h[0] + np.sum(w) + self.m(w) + w[0]
    chains = read_chains(code.__code__)
    assert ("local", "self", (("attr", "a"), ("attr", "b"))) in chains
    assert ("global", "G", (("item", "k"),)) in chains
    assert ("global", "h", (("item", 0),)) in chains
    assert any(name == "np" for _, name, _ in chains)  # (a library module: not checked)
    assert ("local", "self", (("method", "m"),)) in chains
    assert ("local", "w", (("item", 0),)) in chains  # (locals other than self are skipped)


class Scale:
    def __init__(self, s):
        self.s = s

    def __call__(self, x):
        return x * self.s

    def forward(self, x):
        return x * self.s


class Net:
    def __init__(self):
        self.enc, self.dec, self.layer = Scale(1.0), Scale(2.0), Scale(3.0)
        self.l2 = 0.5

    def two_objects(self, w):  # one class, two instances (the second was not followed)
        return np.sum(self.dec.forward(self.enc.forward(w)) ** 2)

    def callable_attribute(self, w):
        return np.sum(self.layer(w) ** 2)

    @staticmethod
    def shift(x):
        return x + SHIFT["by"]

    def static_helper(self, w):
        return np.sum(self.shift(w) ** 2)

    def in_a_lambda(self, w):  # self becomes a closure cell of the method
        square = lambda v: v * v * self.l2  # noqa: E731
        return np.sum(square(w))

    def in_a_comprehension(self, w):
        return sum(np.sum(w * self.l2 * k) for k in range(3))


SHIFT = {"by": 1.0}


@pytest.mark.parametrize("method, change", [
    ("two_objects", lambda net, i: setattr(net.dec, "s", net.dec.s + 1.0)),
    ("two_objects", lambda net, i: setattr(net, "enc", Scale(2.0 + i))),  # rebound
    ("callable_attribute", lambda net, i: setattr(net.layer, "s", net.layer.s + 1.0)),
    ("static_helper", lambda net, i: SHIFT.__setitem__("by", SHIFT["by"] + 1.0)),
    ("in_a_lambda", lambda net, i: setattr(net, "l2", net.l2 + 1.0)),
    ("in_a_comprehension", lambda net, i: setattr(net, "l2", net.l2 + 1.0)),
])
def test_reads_through_methods_objects_and_nested_code(method, change):
    net = Net()
    _follows_eager(lambda jit_: grad(getattr(net, method), jit=jit_),
                   lambda i: change(net, i))


def test_callable_objects_and_partials_of_methods():
    import functools
    layer = Scale(1.5)
    _follows_eager(lambda jit_: grad(lambda w: np.sum(layer(w) ** 2), jit=jit_),
                   lambda i: setattr(layer, "s", layer.s + 1.0))
    _follows_eager(lambda jit_: jit(layer) if jit_ else layer,
                   lambda i: setattr(layer, "s", layer.s + 1.0))
    _follows_eager(lambda jit_: jit(functools.partial(Scale.forward, layer)) if jit_ else
                   functools.partial(Scale.forward, layer),
                   lambda i: setattr(layer, "s", layer.s + 1.0))


def test_a_float32_and_a_float_of_one_value_are_different_constants():
    third = numpy.float32(1 / 3)  # the same value as float(third); c * c rounds apart
    holder = types.SimpleNamespace(c=third)

    def f(w):
        return w * (holder.c * holder.c)
    _follows_eager(lambda jit_: jit(f) if jit_ else f,
                   lambda i: setattr(holder, "c", float(third) if i % 2 == 0 else third))


def test_an_object_array_read_is_not_checked_and_does_not_break_the_call():
    holder = types.SimpleNamespace(ragged=numpy.array([[1.0], [2.0, 3.0]], dtype=object))

    def f(w):
        return w * float(len(holder.ragged.T))
    _follows_eager(lambda jit_: jit(f) if jit_ else f, lambda i: None)


def test_a_global_named_like_an_attribute_is_not_a_read():
    # The function reads counter.step; the script's own loop variable `step` changes.
    global step
    step = 0
    counter = types.SimpleNamespace(step=2.0)

    def f(w):
        return w * counter.step
    jitted = jit(f)
    for step in range(6):
        assert_allclose(jitted(numpy.ones(2) * step), f(numpy.ones(2) * step))
    assert jitted.stats["traces"] == 1


def test_a_function_of_another_module_sees_its_modules_globals_change():
    # helpers.penalty(w) reads helpers.L2; the program sets helpers.L2, or replaces
    # helpers.penalty, between calls (a project of several files).
    helpers = types.ModuleType("helpers")
    exec("import jitgrad.numpy as np\nL2 = 0.1\n"
         "def penalty(w):\n    return L2 * np.sum(w ** 2)\n", helpers.__dict__)

    def loss(w):
        return np.sum(np.sin(w)) + helpers.penalty(w)

    def change(i):
        if i == 3:
            helpers.penalty = lambda w: np.sum(w ** 4)
        else:
            helpers.L2 += 1.0
    _follows_eager(lambda jit_: grad(loss, jit=jit_), change)
    # a jitted object made after a change does not share the old value's plans
    made_later = grad(loss, jit=True)
    w = numpy.ones(3)
    assert_allclose(made_later(w), grad(loss)(w))
    assert_allclose(made_later(w + 1), grad(loss)(w + 1))
