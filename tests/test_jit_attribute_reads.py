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


def test_a_property_is_read_as_the_code_reads_it():
    class Scheduled:
        def __init__(self):
            self.step = 0

        @property
        def lr(self):
            return 0.5 ** self.step

    schedule = Scheduled()

    def update(w):
        return w - schedule.lr * w ** 2

    def change(i):
        schedule.step += 1
    _follows_eager(lambda jit_: jit(update) if jit_ else update, change)


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
