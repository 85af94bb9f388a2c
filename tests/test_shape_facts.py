"""Which steps give shapes that depend on values: declared next to each primitive
(``jitgrad.trace.rules.def_shape_from_values``), read by the jit to guard those shapes
and keep such steps out of fused kernels. Every other step fuses and is not guarded."""
import numpy
import pytest

import jitgrad.numpy as np
from jitgrad import grad, jit
from jitgrad.trace.rules import shape_from_values

pytestmark = pytest.mark.eager_only  # these tests set jit= and fusion themselves


@pytest.fixture(autouse=True)
def small_kernels(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("JITGRAD_FUSE", "1")
    monkeypatch.setenv("JITGRAD_FUSE_MIN_SIZE", "8")
    monkeypatch.setenv("JITGRAD_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def plans(jitted):
    return [plan for entry in jitted._cache.values() for plan in entry]


def leaky_relu_loss(x):
    y = np.where(x > 0, x, 0.1 * x)
    return np.sum(np.exp(-y * y) * y * 2.0 + y * y)


def test_where_choosing_elementwise_fuses_and_needs_no_shape_guards():
    jitted = grad(leaky_relu_loss, jit=True)
    rng = numpy.random.default_rng(0)
    for _ in range(3):  # the first call traces, the next two replay with new values
        x = rng.standard_normal(64)
        # exp fuses as kernels/vmath.py's exp: within an ulp or two of NumPy's
        numpy.testing.assert_allclose(jitted(x), grad(leaky_relu_loss)(x), rtol=1e-13)
    (plan,) = plans(jitted)
    assert plan.n_kernels >= 1 and plan.n_guards == 0, plan.source


def test_where_of_one_argument_and_masks_give_shapes_from_values():
    from jitgrad.numpy.numpy_wrapper import where  # the primitive np.where calls
    assert shape_from_values(where, (numpy.ones(3) > 0,))
    assert not shape_from_values(where, (numpy.ones(3) > 0, 1.0, 2.0))
    assert shape_from_values(np.nonzero, (numpy.ones(3),))
    from jitgrad.numpy.indexing import getitem
    assert shape_from_values(getitem, (numpy.ones(3), numpy.ones(3) > 0))
    assert not shape_from_values(getitem, (numpy.ones(3), slice(1, None)))
    assert not shape_from_values(np.exp, (numpy.ones(3),))


def test_a_shape_taken_from_values_is_guarded_and_retraced_when_it_changes():
    def f(x):
        positive = x[np.where(x > 0)]
        return np.sum(positive ** 2) * positive.shape[0]
    jitted = jit(f)
    for x in (numpy.array([1.0, -2.0, 3.0]), numpy.array([4.0, 5.0, -6.0]),
              numpy.array([1.0, 2.0, 3.0]), numpy.array([-1.0, 2.0, 3.0])):
        assert jitted(x) == f(x)
    assert jitted.stats["traces"] == 2  # two positives, then three, then two again
