"""A user's primitive and rules (jitgrad.extend) see plain NumPy arrays, eagerly and
under the jit, where they run as one plan step evaluated anew on every replay; and
``getval`` in user code never freezes the jit's first call into its replays."""
import numpy
import pytest
from numpy.testing import assert_allclose

import jitgrad.numpy as np
from jitgrad import grad, jit, make_jvp
from jitgrad.extend import defjvp, defvjp, primitive
from jitgrad.test_util import check_grads
from jitgrad.tracer import getval

R = numpy.random.randn
seen_types = []


@primitive
def scaled_sin(x, a):
    seen_types.append(("body", type(x)))
    assert x.flags.c_contiguous or x.flags.f_contiguous
    return a * numpy.sin(x)


def _vjp_x(ans, x, a):
    seen_types.append(("vjp", type(x)))
    x.flags  # an ndarray attribute: a traced value has none
    cos = numpy.cos(getval(x))  # plain NumPy, on purpose
    return lambda g: g * a * cos


defvjp(scaled_sin, _vjp_x)
defjvp(scaled_sin, lambda g, ans, x, a: g * a * numpy.cos(getval(x)))


def loss(x):
    return np.sum(scaled_sin(x, 2.0) ** 2)


@pytest.mark.eager_only
def test_rules_see_plain_arrays_eager_and_jitted():
    seen_types.clear()
    jitted = grad(loss, jit=True)
    for _ in range(3):
        x = R(4)
        assert_allclose(jitted(x), grad(loss, jit=False)(x), rtol=1e-12)
    assert jitted.stats["traces"] == 1 and jitted.stats["hits"] == 2
    assert set(seen_types) == {("body", numpy.ndarray), ("vjp", numpy.ndarray)}


@pytest.mark.eager_only
def test_user_jvp_runs_as_a_plan_step():
    jitted = jit(lambda x, v: make_jvp(lambda x: scaled_sin(x, 3.0))(x)(v)[1])
    for _ in range(3):
        x, v = R(4), R(4)
        assert_allclose(jitted(x, v), 3.0 * numpy.cos(x) * v, rtol=1e-12)
    assert jitted.stats["traces"] == 1


def test_user_rules_check_numerically():
    check_grads(lambda x: scaled_sin(x, 1.5), modes=["fwd", "rev"], order=1)(R(3))


@pytest.mark.eager_only
def test_getval_in_user_code_is_not_frozen_by_the_jit():
    jitted = grad(lambda x: np.sum(x * getval(x)), jit=True)
    x = numpy.arange(3.0)
    for shift in (0.0, 10.0, -3.0):
        assert_allclose(jitted(x + shift), x + shift)


@primitive
def broadcasting_scale(a, b):
    return a * b


defvjp(broadcasting_scale, lambda ans, a, b: lambda g: g * b,  # forgets to sum over b's axis
       lambda ans, a, b: lambda g: g * a)


@pytest.mark.parametrize("jit", [False, True])
def test_a_cotangent_of_the_wrong_shape_is_a_clear_error(jit):
    f = grad(lambda a, b: np.sum(broadcasting_scale(a, b)), jit=jit)
    with pytest.raises(ValueError, match="VJP of broadcasting_scale for argument 0 returned"):
        f(2.0, numpy.arange(3.0))
