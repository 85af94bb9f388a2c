"""Arrays read from globals and closures, boxed while the function is traced
(jit/captured_arrays.py): sliced and gathered by traced values, one plan serves every
call; replays (new values, 2nd and later calls) against eager; where boxing would
change what the function does, the trace is made again with the arrays plain."""
import numpy
import pytest

import jitgrad.numpy as np
from jitgrad import grad, jit
from jitgrad.jit import captured_arrays
from jitgrad.misc.optimizers import adam

pytestmark = pytest.mark.eager_only  # (sets jit= itself)

rng = numpy.random.default_rng(5)
IMAGES = rng.random((40, 6))
LABELS = numpy.eye(3)[rng.integers(0, 3, 40)]
BATCH = 8


def objective(params, i):
    """autograd's minibatch objective: the batch sliced out of global data by ``i``."""
    k = i % (len(IMAGES) // BATCH)
    rows = slice(k * BATCH, (k + 1) * BATCH)
    logits = np.dot(IMAGES[rows], params["W"]) + params["b"]
    logits = logits - np.log(np.sum(np.exp(logits), axis=1, keepdims=True))
    return -np.sum(logits * LABELS[rows]) + 0.1 * np.sum(params["W"] ** 2)


def assert_same(got, expected):
    assert type(got) is type(expected)
    for key in expected:
        assert got[key].tobytes() == expected[key].tobytes()


def test_a_minibatch_loop_over_global_data_traces_once():
    jitted, eager = grad(objective, jit=True), grad(objective)
    params = {"W": 0.1 * rng.standard_normal((6, 3)), "b": numpy.zeros(3)}
    for i in range(15):  # three epochs of five batches
        params = {k: v + 0.01 * i for k, v in params.items()}
        assert_same(jitted(params, i), eager(params, i))
    assert jitted.stats["traces"] == 1 and jitted.stats["hits"] == 14
    assert IMAGES.__class__ is numpy.ndarray  # the global is the array again


def test_adam_over_global_data_matches_eager_bit_for_bit():
    params = {"W": 0.1 * rng.standard_normal((6, 3)), "b": numpy.zeros(3)}
    eager = adam(grad(objective), params, num_iters=20, step_size=0.1)
    jitted = adam(grad(objective, jit=True), params, num_iters=20, step_size=0.1)
    assert_same(jitted, eager)


def test_a_closure_table_gathered_by_changing_indices_traces_once():
    table = numpy.linspace(-1.0, 1.0, 33)

    def loss(x):
        return np.sum(table[np.floor((x + 1) * 16).astype(int) % 33] * x ** 2)
    jitted = grad(loss, jit=True)
    for _ in range(4):
        x = rng.uniform(-1, 1, 10)
        assert jitted(x).tobytes() == grad(loss)(x).tobytes()
    assert jitted.stats["traces"] == 1 and jitted.stats["hits"] == 3


def test_captured_arrays_stay_constants_of_the_trace():
    data = numpy.ones(3)
    jitted = jit(lambda x: np.sum(x[data.astype(int)] * data))
    assert jitted(numpy.arange(3.0)) == 3.0
    data[:] = 2.0  # in place: not seen (footgun S1), as before boxing
    assert jitted(numpy.arange(3.0)) == 3.0


def test_a_function_writing_into_a_captured_array_is_traced_with_it_plain():
    counts = numpy.zeros(1)

    def loss(x):
        counts[0] += 1  # eagerly: once a call
        return np.sum(x ** 2) * counts[0]
    jitted = jit(loss)
    assert jitted(numpy.ones(2)) == 2.0
    # Traced once with the array boxed (the write went into the box, so it was traced
    # again plain): the array was written once, as eager's call writes it.
    assert counts[0] == 1.0


def test_a_function_binding_a_captured_name_anew_is_traced_with_it_plain():
    namespace = {"np": np, "numpy": numpy}
    exec("state = numpy.ones(2)\n"
         "def loss(x):\n"
         "    global state\n"
         "    state = state * 2.0\n"
         "    return np.sum(x * state)\n", namespace)
    jitted = jit(namespace["loss"])
    assert jitted(numpy.ones(2)) == 4.0
    assert type(namespace["state"]) is numpy.ndarray  # no traced value left behind
    assert namespace["state"].tolist() == [2.0, 2.0]  # doubled once, as eagerly


def test_a_function_failing_on_a_box_is_traced_with_the_array_plain():
    data = numpy.arange(4.0)

    def loss(x):
        return np.sum(x * numpy.frombuffer(data.tobytes()))  # needs a real ndarray
    jitted = jit(loss)
    for _ in range(3):
        x = rng.standard_normal(4)
        assert jitted(x) == loss(x)
    assert jitted.stats["traces"] == 1 and type(data) is numpy.ndarray


def test_the_binding_is_restored_when_the_function_raises():
    data = numpy.arange(3.0)

    def loss(x):
        if x[0] > 0:
            raise ValueError("positive")
        return np.sum(x * data)
    jitted = jit(loss)
    with pytest.raises(ValueError, match="positive"):
        jitted(numpy.ones(3))
    assert type(data) is numpy.ndarray
    assert jitted(-numpy.ones(3)) == loss(-numpy.ones(3))


def test_arrays_over_the_size_limit_stay_plain(monkeypatch):
    monkeypatch.setattr(captured_arrays, "MAX_BYTES", 64)
    table = numpy.linspace(0.0, 1.0, 50)  # 400 bytes

    def look_up(x):
        return np.sum(table[np.floor(x * 49).astype(int)] * x)
    jitted = jit(look_up)
    for _ in range(2):
        x = rng.random(20)
        assert jitted(x) == look_up(x)
    assert jitted.stats["traces"] == 2  # a path per index values, as for plain arrays


def test_another_thread_reading_the_array_while_it_is_boxed_computes_as_eager():
    import threading
    data = rng.standard_normal((20, 4))

    def loss(w):
        total = 0.0
        for k in range(100):  # a trace long enough for the other thread to meet the box
            total = total + np.sum(np.tanh(data @ w) * k)
        return total
    w = numpy.ones(4)
    expected = grad(loss)(w)
    seen, done = [], threading.Event()

    def other_thread():
        while not done.is_set():
            try:
                seen.append(grad(loss)(w))
            except Exception as error:  # reported below
                seen.append(error)
    worker = threading.Thread(target=other_thread)
    worker.start()
    try:
        jitted = jit(grad(loss))
        for _ in range(3):
            assert jitted(w).tobytes() == expected.tobytes()
            jitted._cache.clear()  # trace again
    finally:
        done.set()
        worker.join()
    assert seen and all(type(got) is numpy.ndarray and got.tobytes() == expected.tobytes()
                        for got in seen)


class Model:
    def __init__(self, images, labels):
        self.images, self.data = images, {"labels": labels}

    def loss(self, params, i):
        k = i % (len(self.images) // BATCH)
        rows = slice(k * BATCH, (k + 1) * BATCH)
        logits = np.dot(self.images[rows], params["W"]) + params["b"]
        return -np.sum(logits * self.data["labels"][rows]) + np.sum(params["W"] ** 2)


def test_arrays_read_off_an_object_and_a_dict_are_boxed_too():
    model = Model(IMAGES, LABELS)
    jitted, eager = grad(model.loss, jit=True), grad(model.loss)
    params = {"W": 0.1 * rng.standard_normal((6, 3)), "b": numpy.zeros(3)}
    for i in range(10):
        params = {k: v + 0.01 * i for k, v in params.items()}
        assert_same(jitted(params, i), eager(params, i))
    assert jitted.stats["traces"] == 1 and jitted.stats["hits"] == 9
    assert model.images is IMAGES and model.data["labels"] is LABELS


def test_a_property_or_a_tuple_entry_is_left_plain():
    class Held:
        def __init__(self):
            self._table = numpy.linspace(0.0, 1.0, 50)
            self.pair = (numpy.linspace(0.0, 1.0, 50),)

        @property
        def table(self):
            return self._table
    held = Held()

    def look_up(x):
        index = np.floor(x * 49).astype(int)
        return np.sum(held.table[index] * x) + np.sum(held.pair[0][index])
    jitted = jit(look_up)
    for _ in range(2):
        x = rng.random(20)
        assert jitted(x) == look_up(x)
    assert type(held._table) is numpy.ndarray and type(held.pair[0]) is numpy.ndarray


def test_one_array_reached_twice_is_boxed_once():
    class Holder:
        pass
    held, outer = Holder(), Holder()
    held.table = numpy.linspace(0.0, 1.0, 50)
    outer.inner = held  # held.table and outer.inner.table: one attribute, two chains

    def look_up(x):
        index = np.floor(x * 49).astype(int)
        return np.sum(held.table[index] * x) + np.sum(outer.inner.table[index])
    jitted = jit(look_up)
    for _ in range(3):
        x = rng.random(20)
        assert jitted(x) == look_up(x)
    assert jitted.stats["traces"] == 1 and jitted.stats["hits"] == 2
