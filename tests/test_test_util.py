"""jitgrad.test_util: the derivative checks catch wrong rules at each order, and
check_jit catches a jitted function that disagrees with eager (a stale replay)."""
import numpy
import pytest

import jitgrad.numpy as np
import jitgrad.test_util as test_util
from jitgrad.extend import defjvp, defvjp, primitive
from jitgrad.trace import getval
from jitgrad.trace.rules import defvjp as internal_defvjp
from jitgrad.test_util import (check_equivalent, check_grads, check_jit, check_jvp, check_vjp,
                               combo_check, make_numerical_jvp, numerical_jvp, scalar_close)


@pytest.fixture
def eager_checks(monkeypatch):
    """check_grads as in the eager suite, whatever JITGRAD_JIT says."""
    monkeypatch.setenv("JITGRAD_JIT", "0")


def doubling(vjp_factor=2.0, jvp_factor=2.0):
    """x -> 2x as a primitive, with VJP and JVP rules that use the given factors."""
    @primitive
    def foo(x):
        return x * 2.0
    defvjp(foo, lambda ans, x: lambda g: g * vjp_factor)
    defjvp(foo, lambda g, ans, x: g * jvp_factor)
    return foo


def test_scalar_close():
    assert scalar_close(1.0, 1.0 + 1e-7)
    assert scalar_close(1e6, 1e6 * (1 + 1e-7))          # relative
    assert scalar_close(0.0, 5e-7)                       # absolute
    assert not scalar_close(1.0, 1.0 + 1e-5)
    assert not scalar_close(1.0, -1.0)                   # a + b == 0: no division error
    assert not scalar_close(float("nan"), float("nan"))


def test_numerical_jvp_is_a_central_difference():
    f = lambda x: (np.sin(x), {"sq": x ** 2})
    x, v = numpy.array([0.3, -1.2]), numpy.array([1.0, 0.5])
    sin_part, rest = numerical_jvp(f, x, v)
    numpy.testing.assert_allclose(sin_part, numpy.cos(x) * v, rtol=1e-8)
    numpy.testing.assert_allclose(rest["sq"], 2 * x * v, rtol=1e-8)
    numpy.testing.assert_allclose(make_numerical_jvp(f, x)(v)[0], sin_part)


def test_check_grads_passes_on_correct_derivatives_with_argnums_and_kwargs():
    def f(a, b, scale=1.0):
        return {"s": np.sum(np.tanh(a) * b) * scale, "t": (a * b, np.exp(b))}
    a, b = numpy.random.randn(3), numpy.random.randn(3)
    check_grads(f, (0, 1), modes=["fwd", "rev"], order=2)(a, b, scale=0.5)
    check_grads(f, 1, modes=["rev"], order=3)(a, b)
    check_vjp(np.sin, 0.3)
    check_jvp(np.sin, 0.3)


@pytest.mark.parametrize("mode, what", [("rev", "VJP"), ("fwd", "JVP")])
def test_a_wrong_first_order_rule_is_reported(mode, what):
    foo = doubling(vjp_factor=2.001, jvp_factor=2.001)
    with pytest.raises(AssertionError, match=rf"\({what}\) check of foo failed"):
        check_grads(foo, modes=[mode])(1.0)


def test_a_rule_whose_own_derivative_is_wrong_fails_at_second_order_only():
    @primitive
    def bar(x):
        return x
    defvjp(bar, lambda ans, x: lambda g: g * 1.001)  # bar's VJP is wrong...

    @primitive
    def foo(x):
        return x * 2.0
    defvjp(foo, lambda ans, x: lambda g: bar(g) * 2)  # ...but runs only when foo's VJP is differentiated
    check_grads(foo, modes=["rev"], order=1)(1.0)
    with pytest.raises(AssertionError, match=r"\(VJP\) check of vjp_foo failed"):
        check_grads(foo, modes=["rev"], order=2)(1.0)


def test_a_vjp_in_the_wrong_space_is_reported():
    @primitive
    def foo(x):
        return x * 2.0
    # (a cotangent of the wrong shape is refused earlier, by the backward pass)
    defvjp(foo, lambda ans, x: lambda g: g * (2.0 + 0j))
    with pytest.raises(AssertionError, match="foo: VJP has space"):
        check_grads(foo, modes=["rev"], order=1)(1.0)


def test_unknown_modes_are_refused():
    with pytest.raises(ValueError, match="unknown modes"):
        check_grads(np.sin, modes=["reverse"])(1.0)


def test_check_grads_checks_each_mode_at_each_order(eager_checks, monkeypatch):
    checked = []
    for mode, check in list(test_util._CHECKS.items()):
        def recording(f, x, evaluate, mode=mode, check=check):
            checked.append(f"{mode}:{f.__name__}")
            return check(f, x, evaluate)
        monkeypatch.setitem(test_util._CHECKS, mode, recording)
    check_grads(np.sin, modes=["fwd", "rev"], order=2)(0.5)
    # depth first, as autograd's recursion: each derivative right after its check
    assert checked == ["fwd:sin", "fwd:jvp_sin", "rev:jvp_sin",
                       "rev:sin", "fwd:vjp_sin", "rev:vjp_sin"]
    checked.clear()
    check_grads(np.sin, modes=["rev"], order=3)(0.5)
    assert checked == ["rev:sin", "rev:vjp_sin", "rev:vjp_vjp_sin"]
    checked.clear()
    check_grads(np.sin, modes=["fwd"], order=1)(0.5)
    assert checked == ["fwd:sin"]


def test_check_equivalent():
    check_equivalent((numpy.ones(2), 3.0), (numpy.ones(2), 3.0 + 1e-9))
    with pytest.raises(AssertionError, match="x is in ArrayVSpace.*, y in ArrayVSpace"):
        check_equivalent(numpy.ones(2), numpy.ones(3))
    with pytest.raises(AssertionError, match="x and y differ along a random direction"):
        check_equivalent(numpy.ones(3), numpy.ones(3) + 0.1)


def test_combo_check_runs_every_combination(eager_checks):
    seen = []

    def f(x, y, power=1):
        seen.append((float(getattr(x, "_value", x)), y, power))
        return np.sin(x) * y ** power
    combo_check(f, [0], modes=["rev"], order=1)([0.1, 0.2], [1.0, 2.0], power=[1, 2])
    assert {(round(x, 3), y, p) for x, y, p in seen} == {
        (x, y, p) for x in (0.1, 0.2) for y in (1.0, 2.0) for p in (1, 2)}


def test_quick_grad_check(capsys):
    from jitgrad.util import quick_grad_check
    quick_grad_check(lambda x, y: np.sum(x ** 2 + y), numpy.ones(3), (2.0,))
    assert "OK" in capsys.readouterr().out


# -- check_jit ------------------------------------------------------------------------

def test_check_jit_traces_once_then_replays():
    def f(x, y, n, flag, name):
        out = np.tanh(x) * y ** n
        return (out, {"total": np.sum(out), "flag": flag, "name": name}), [-x * 0.0]
    jitted = check_jit(f)(numpy.random.randn(2, 3), 0.7, 2, True, "label")
    assert jitted.stats["traces"] == 1 and jitted.stats["hits"] == 2


def test_check_jit_perturbs_floats_only():
    seen = []

    def f(x, scalar, ints, flag, name):
        seen.append((x, scalar, ints, flag, name))
        return x * scalar + np.sum(ints)
    check_jit(f)(numpy.arange(3.0), 2.5, numpy.arange(3), True, "same")
    first, perturbed = seen[0], seen[-1]  # eager's first call and its perturbed call
    x, scalar, ints, flag, name = perturbed
    assert x.dtype == first[0].dtype and x.shape == first[0].shape
    assert numpy.all(x != first[0])       # the zero moves too
    numpy.testing.assert_allclose(x, first[0], rtol=2e-3, atol=2e-3)
    assert type(scalar) is float and scalar != 2.5
    assert numpy.array_equal(ints, first[2]) and ints.dtype == first[2].dtype
    assert flag is True and name == "same"


def test_check_jit_passes_on_errors_of_f_itself():
    def only_at_one(x):
        if x != 1.0:
            raise ValueError("outside the domain")
        return x * 2.0
    check_jit(only_at_one)(1.0)  # the perturbed call fails eagerly and jitted alike
    with pytest.raises(ValueError, match="outside the domain"):
        check_jit(only_at_one)(2.0)


def test_check_jit_gives_random_draws_the_same_state():
    check_jit(lambda x: x + np.random.randn(3))(numpy.ones(3))


def test_check_jit_accepts_a_function_the_jit_runs_eagerly():
    # A plain numpy.random draw would be repeated by a replay: the jit runs f eagerly.
    def noisy(x):
        return x + numpy.random.rand()
    with pytest.warns(UserWarning, match="runs eagerly"):
        jitted = check_jit(noisy)(numpy.ones(2))
    assert jitted.stats["traces"] == 1 and jitted.stats["fallbacks"] == 1


def test_check_jit_catches_a_global_read_while_tracing():
    # A log of calls, appended to by the function (a side effect, so only while
    # tracing under the jit): a learning-rate schedule the replay does not follow.
    # (A value read as ``step["n"]`` is checked before each call: see test_jit.py.)
    calls = []

    def scheduled(x):
        calls.append(x)
        return x * 0.5 ** ((len(calls) - 1) // 2)
    with pytest.raises(AssertionError, match=r"call 2 \(replay\): output at index \(0,\) is "
                                             r"1.0, eager's 0.5 \(1 more element differs\)"):
        check_jit(scheduled)(numpy.array([1.0, 2.0]))


def test_check_jit_catches_staleness_on_perturbed_arguments_only():
    # A number taken out of the trace (the internal getval unwraps the jit's value)
    # is a constant of the plan: right on a replay with the same arguments, stale
    # on new ones.
    def scaled_by_first(x):
        return x * float(getval(x)[0])
    with pytest.raises(AssertionError, match=r"call 3 \(replay with perturbed arguments\): "
                                             r"output\[1\]\['y'\] at index"):
        check_jit(lambda x: (x, {"y": scaled_by_first(x)}))(numpy.array([1.0, 2.0]))


@pytest.mark.parametrize("expected, got, message", [
    (0.0, -0.0, "is -0.0, eager's 0.0"),
    (numpy.array([1.0, numpy.nan]), numpy.array([1.0, 1.0]), "at index (1,) is"),
    (1.0, 1.0 + 1e-10, "is 1.0000000001"),
    (numpy.ones(2), numpy.ones(3), "has shape (3,), eager's (2,)"),
    (numpy.ones(2), numpy.ones(2, numpy.float32), "has dtype float32, eager's float64"),
    ((1.0, 2.0), [1.0, 2.0], "is a list, eager's a tuple"),
    (numpy.array(1.0), numpy.float64(1.0), "is a float64, eager's a ndarray"),
    ({"a": 1.0}, {"b": 1.0}, "has structure (<class 'dict'>, ('b',)), eager's"),
    ((1.0,), (1.0, 2.0), "has structure (<class 'tuple'>, 2)"),
    (1j, 1j + 1e-9j, "imaginary part is"),
    (numpy.arange(3), numpy.array([0, 1, 3]), "at index (2,) is"),
    ("same", "other", "is 'other', eager's 'same'"),
])
def test_jit_comparison_reports_the_first_difference(expected, got, message):
    path, problem = test_util._difference(expected, got, 1e-12)
    assert message in problem


@pytest.mark.parametrize("expected, got", [
    (numpy.array([1.0, numpy.nan, -0.0, numpy.inf]), numpy.array([1.0, numpy.nan, -0.0, numpy.inf])),
    (1.0, 1.0 + 1e-13),
    ((numpy.float64(2.0), {"k": [3, "s"]}), (numpy.float64(2.0), {"k": [3, "s"]})),
    (1 + 1j, 1 + 1j),
    (1.5, numpy.float64(1.5)),
])
def test_jit_comparison_accepts_rounding_nan_and_same_signed_zeros(expected, got):
    assert test_util._difference(expected, got, 1e-12) is None


def test_check_grads_jits_every_derivative_when_the_environment_asks(monkeypatch):
    monkeypatch.setenv("JITGRAD_JIT", "1")
    made = []
    real_jit = test_util.jit

    def recording_jit(fun, **kwargs):
        jitted = real_jit(fun, **kwargs)
        made.append(jitted)
        return jitted
    monkeypatch.setattr(test_util, "jit", recording_jit)
    check_grads(lambda x: np.sin(x) * x, modes=["fwd", "rev"], order=2)(numpy.array([0.3, 0.9]))
    names = sorted(j.fun.__name__ for j in made)
    assert names == sorted(["<lambda>", "jvp_<lambda>", "vjp_<lambda>", "jvp_jvp_<lambda>",
                            "vjp_jvp_<lambda>", "jvp_vjp_<lambda>", "vjp_vjp_<lambda>"])
    for jitted in made:
        assert jitted.stats["traces"] >= 1 and jitted.stats["hits"] >= 1, jitted


def test_check_grads_under_jit_reports_a_stale_derivative(monkeypatch):
    monkeypatch.setenv("JITGRAD_JIT", "1")

    @primitive
    def foo(x):
        return x * 2.0
    # Right to 1e-7, plus a number taken out of the trace with the internal getval.
    # (A rule given through jitgrad.extend runs as one step of the plan, on plain
    # values; an internal rule is traced into the plan, which keeps that number.)
    internal_defvjp(foo, lambda ans, x: lambda g: g * (2.0 + 1e-7 * float(getval(x))))
    with pytest.raises(AssertionError, match=r"check_jit\(vjp_foo\), call 3 \(replay with "
                                             r"perturbed arguments\): output is"):
        check_grads(foo, modes=["rev"], order=1)(1.0)
    monkeypatch.setenv("JITGRAD_JIT", "0")
    check_grads(foo, modes=["rev"], order=1)(1.0)  # eagerly the rule is right enough
