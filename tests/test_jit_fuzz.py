"""Random programs, jitted against eager (issue 10, item 5).

``fuzz_programs.programs()`` draws programs of 15-25 statements: elementwise
primitives with broadcasting and special constants, reductions with axes and
keepdims, basic, integer-array and boolean-mask indexing, in-place assignment into
``np.zeros``/``np.copy`` arrays, ``float()``/``int()`` feeding Python decisions,
value-dependent ``if`` and bounded ``while``, ``jitgrad.numpy.random`` draws, on
inputs with signed zeros, NaN and infinities, in C, Fortran, reversed and strided
layouts. Each program is checked for

1. values: ``jit(f)`` on its first call and on replays (new values of the same
   shapes, then the first values negated, which flips sign tests, then the first
   values again) equals ``f``: bitwise (signed zeros included) unless a fused
   kernel computed part of it, else to rtol 1e-12; earlier results are not
   overwritten by later calls, and inputs are not modified;
2. gradients: ``grad(loss, jit=True)`` equals eager ``grad(loss, jit=False)`` on the
   same calls, and the eager gradient matches central differences along a random
   direction where the loss is smooth there (no kink nearby, finite values).

NumPy's global generator is reseeded before every call, so eager and jitted
calls see the same random draws. The default run checks 200 programs (derandomized,
so CI sees the same ones every time); ``python -m pytest -m long
tests/test_jit_fuzz.py`` checks 10^4 and prints the mismatches by cause. Both work
under ``JITGRAD_JIT=1`` (eager gradients are asked for with ``jit=False``).
"""
import collections
import contextlib
import os
import time
import warnings

import numpy
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.control import current_build_context

import fuzz_programs
from fuzz_programs import (compile_program, is_finite_input, loss_weights, make_inputs,
                           minimize, programs, render)
from jitgrad import grad, jit

N_CALLS = 4          # make_inputs variants: new values, negated (branch flips), first again
RTOL = 1e-12         # where a fused kernel may compute in another order
FD_STEP = 1e-5
FD_RTOL = 1e-4


class Mismatch(AssertionError):
    """A check failed: ``cause`` names which (for the long run's tally)."""

    def __init__(self, cause, detail):
        super().__init__(f"{cause}: {detail}")
        self.cause = cause


@contextlib.contextmanager
def quiet():
    """NaN/inf warnings, and the jit's fallback warnings: counted, not shown."""
    with warnings.catch_warnings(), numpy.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


def seeded(fun, args, seed):
    """``fun(*args)`` after reseeding NumPy's global generator (random draws)."""
    numpy.random.seed(seed)
    return fun(*args)


def uses_kernels(jitted):
    """Whether any plan of ``jitted`` runs a fused kernel (which may reorder sums and
    calls scalar libm instead of NumPy's loops)."""
    return any(plan.n_kernels for entry in jitted._cache.values() if isinstance(entry, list)
               for plan in entry)


def _leaves(tree):
    if isinstance(tree, (tuple, list)):
        return [leaf for t in tree for leaf in _leaves(t)]
    return [tree]


def compare(expected, got, exact, what, strict_zeros=True):
    """Raise Mismatch unless ``got`` equals ``expected`` (bitwise when ``exact``). With
    ``strict_zeros`` False, the sign of zeros and a 0-d array against a NumPy scalar
    are let pass (see KNOWN_BUG_CONTAINER_PLACEHOLDER_COPIED)."""
    expected, got = _leaves(expected), _leaves(got)
    if len(expected) != len(got):
        raise Mismatch(f"{what}: structure", f"{len(expected)} leaves vs {len(got)}")
    for number, (e, g) in enumerate(zip(expected, got)):
        if type(e) is not type(g) and (strict_zeros or numpy.ndim(e) or numpy.ndim(g)):
            raise Mismatch(f"{what}: type", f"output {number}: eager {type(e).__name__}, "
                           f"jit {type(g).__name__}")
        e_array, g_array = numpy.asarray(e), numpy.asarray(g)
        if e_array.shape != g_array.shape or e_array.dtype != g_array.dtype:
            raise Mismatch(f"{what}: shape or dtype",
                           f"output {number}: eager {e_array.dtype}{list(e_array.shape)}, "
                           f"jit {g_array.dtype}{list(g_array.shape)}")
        nan_e, nan_g = numpy.isnan(e_array), numpy.isnan(g_array)
        same_nans = numpy.array_equal(nan_e, nan_g)
        if exact:
            ok = (same_nans and numpy.array_equal(e_array, g_array, equal_nan=True)
                  and (not strict_zeros or numpy.array_equal(
                      numpy.signbit(e_array[~nan_e]), numpy.signbit(g_array[~nan_g]))))
        else:
            finite = numpy.isfinite(e_array) & numpy.isfinite(g_array)
            ok = (same_nans and numpy.array_equal(e_array[~finite & ~nan_e],
                                                  g_array[~finite & ~nan_g])
                  and numpy.allclose(g_array[finite], e_array[finite], rtol=RTOL, atol=0.0))
        if not ok:
            with numpy.printoptions(precision=17):
                raise Mismatch(f"{what}: {'bitwise' if exact else 'rtol 1e-12'}",
                               f"output {number}:\n  eager {e_array!r}\n  jit   {g_array!r}")


def snapshot(args):
    return [numpy.array(a, copy=True) for a in args]


def check_inputs_untouched(args, before, what):
    for a, b in zip(args, before):
        if not numpy.array_equal(a, b, equal_nan=True):
            raise Mismatch(f"{what}: modified an input", f"{b!r} -> {a!r}")


class EagerRefused(Exception):
    """Eager refused the call on purpose, and so did the jit."""


def refused_float(error):
    """float() of a value being differentiated: an error by design (as under autograd)."""
    return isinstance(error, TypeError) and "would drop its derivative" in str(error)


def call_both(fun, jitted, args, seed, what, refused=lambda error: False):
    """Eager and jitted results of one call. An exception only the jit raises is a
    mismatch; one eager raises is a generator or eager bug, unless ``refused(error)``
    (an error by design) and the jit raises the same."""
    try:
        expected = seeded(fun, args, seed)
    except Exception as error:
        if refused(error):
            try:
                seeded(jitted, args, seed)
            except type(error):
                raise EagerRefused(str(error)) from error
            raise Mismatch(f"{what}: eager raised {type(error).__name__}, the jit did not",
                           str(error)) from error
        raise AssertionError(f"{what}: eager raised {type(error).__name__}: {error} "
                             "(a generator or eager bug)") from error
    before = snapshot(args)
    try:
        got = seeded(jitted, args, seed)
    except Exception as error:
        raise Mismatch(f"{what}: jit raised {type(error).__name__}",
                       f"{error}") from error
    check_inputs_untouched(args, before, what)
    return expected, got


def make_loss(f, n_inputs, weights):
    """``(loss, extra)``: loss(*inputs, *extra) = sum over outputs of sum(out * w). The
    weights are captured, or with KNOWN_BUG_SNAPSHOT_LAYOUT passed as the ``extra``
    arguments, so that no cotangent is a constant of the plan."""
    def loss(*args):
        used = weights if len(args) == n_inputs else args[n_inputs:]
        total = 0.0
        for out, w in zip(f(*args[:n_inputs]), used):
            total = total + (out * w).sum() if numpy.ndim(w) else total + out * w
        return total
    return loss, (tuple(weights) if fuzz_programs.KNOWN_BUG_SNAPSHOT_LAYOUT else ())


def check_values(program, f, stats):
    jitted = jit(f)
    calls = [make_inputs(program, v) for v in range(N_CALLS)]
    kept = []
    for number, args in enumerate(calls):
        expected, got = call_both(f, jitted, args, program.seed, f"value, call {number + 1}")
        compare(expected, got, not uses_kernels(jitted), f"value, call {number + 1}")
        kept.append((expected, got))
    for number, (expected, got) in enumerate(kept):  # a later call must not write into them
        compare(expected, got, not uses_kernels(jitted), f"value, call {number + 1} later")
    stats["fallbacks"] += bool(jitted.stats["fallbacks"])
    stats["kernels"] += uses_kernels(jitted)
    stats["replays"] += jitted.stats["hits"]
    stats["traces"] += jitted.stats["traces"]
    return calls


def check_gradients(program, f, calls, stats):
    argnums = tuple(range(program.n_inputs))
    loss, extra = make_loss(f, program.n_inputs, loss_weights(program))
    eager = grad(loss, argnums, jit=False)
    jitted = grad(loss, argnums, jit=True)
    # Bitwise unless KNOWN_BUG_COTANGENT_SUM_LAYOUT: cotangent sums of arrays laid out
    # differently round differently in eager and jitted gradients.
    layouts = fuzz_programs.KNOWN_BUG_COTANGENT_SUM_LAYOUT and any(
        numpy.ndim(a) and not a.flags.c_contiguous for args in calls for a in args)
    for number, args in enumerate(calls):
        try:
            expected, got = call_both(eager, jitted, [*args, *extra], program.seed,
                                      f"grad, call {number + 1}", refused=refused_float)
        except EagerRefused:
            # float() of a value being differentiated is an error (as under autograd).
            stats["grad refused (float() of a differentiated value)"] += 1
            return
        compare(expected, got, not uses_kernels(jitted) and not layouts,
                f"grad, call {number + 1}", strict_zeros=program.n_inputs == 1
                or not fuzz_programs.KNOWN_BUG_CONTAINER_PLACEHOLDER_COPIED)
        if number < 2:
            stats["fd " + check_finite_differences(program, loss, eager, args, extra,
                                                   expected)] += 1
    stats["grad fallbacks"] += bool(jitted.stats["fallbacks"])
    stats["grad kernels"] += uses_kernels(jitted)
    stats["grad replays"] += jitted.stats["hits"]
    stats["grad traces"] += jitted.stats["traces"]


def check_finite_differences(program, loss, grad_at, args, extra, gradient):
    """The eager gradient along a random direction against central differences, where
    the loss is smooth: returns "checked" or why it was skipped."""
    if program.no_fd:
        return f"skipped ({program.no_fd})"
    if any(program.specials) or not is_finite_input(args):
        return "skipped (special input values)"
    flat = numpy.concatenate([numpy.ravel(g) for g in gradient])
    if not numpy.all(numpy.isfinite(flat)):
        return "skipped (non-finite gradient)"
    rng = numpy.random.RandomState((program.seed + 3) % 2 ** 32)
    direction = [rng.randn(*numpy.shape(a)) for a in args]
    slope = sum(float(numpy.sum(numpy.asarray(g) * d)) for g, d in zip(gradient, direction))
    scale = sum(float(numpy.sum(numpy.abs(numpy.asarray(g) * d)))
                for g, d in zip(gradient, direction))

    def moved(t):
        return [a + t * d if isinstance(a, numpy.ndarray) else type(a)(a + t * d)
                for a, d in zip(args, direction)]

    def at(t):
        return float(seeded(loss, [*moved(t), *extra], program.seed))
    h = FD_STEP
    tiny = 1.0 / 64
    values = {t: at(t * h) for t in (-1.0, -0.5, -tiny, 0.0, tiny, 0.5, 1.0)}
    if not all(numpy.isfinite(v) for v in values.values()):
        return "skipped (non-finite loss)"
    noise = 1e-13 * max(abs(v) for v in values.values()) / h
    forward = (values[1.0] - values[0.0]) / h
    backward = (values[0.0] - values[-1.0]) / h
    central = (values[1.0] - values[-1.0]) / (2 * h)
    half = (values[0.5] - values[-0.5]) / h
    near = (values[tiny] - values[-tiny]) / (2 * tiny * h)
    # Smooth along the line: one-sided and central differences agree with each other,
    # and with a step 64 times smaller (a staircase finer than the step, such as
    # floor(exp(x)), looks smooth at one step size but not at two far apart).
    size = max(abs(forward), abs(backward), abs(central), abs(half)) + 10 * noise
    if (abs(forward - backward) > 1e-2 * size or abs(central - half) > 1e-4 * size
            or abs(central - near) > 1e-2 * size + 640 * noise):
        return "skipped (kink or jump nearby)"
    if abs(central - slope) > FD_RTOL * (scale + abs(slope) + size) + 10 * noise:
        # Differences give the mean slope over the step: a gradient that varies
        # within it (cos of a huge argument) cannot be checked this way.
        slopes = [sum(float(numpy.sum(numpy.asarray(g) * d)) for g, d in
                      zip(seeded(grad_at, [*moved(t), *extra], program.seed), direction))
                  for t in (-h / 2, h / 2)]
        if any(abs(s - slope) > FD_RTOL * (scale + abs(slope)) for s in slopes):
            return "skipped (gradient varies within the step)"
        raise Mismatch("grad vs finite differences",
                       f"directional derivative {slope!r}, central differences {central!r} "
                       f"(half step {half!r}) at call inputs {args!r}")
    return "checked"


@contextlib.contextmanager
def setting(name, value, enabled=True):
    """Plans built meanwhile see the environment variable ``name`` set to ``value``."""
    if not enabled:
        yield
        return
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            del os.environ[name]
        else:
            os.environ[name] = previous


def fusion_of_small_arrays(enabled):
    """Fuse arrays of any size (the default threshold is 4096 elements: the fuzzer's
    arrays would never reach the array kernels)."""
    return setting("JITGRAD_FUSE_MIN_SIZE", "1", enabled)


def fusion_off(enabled):
    """Fuse nothing (``JITGRAD_FUSE=0``): plans replay NumPy's own calls, so values
    compare bitwise."""
    return setting("JITGRAD_FUSE", "0", enabled)


# Steps whose result can change completely with the last bit of their input: after a
# fused transcendental (kernels/vmath.py, within 1-2 ulp of NumPy, as documented), no
# relative tolerance holds across them (np.mod(tanh(x), 1e-300) is all rounding).
ULP_AMPLIFIERS = ("np.mod(", "np.fmod(")


def amplifies_ulps(program):
    return any(op in line for stmt in program.stmts for line in stmt.lines
               for op in ULP_AMPLIFIERS)


def check_program(program, stats=None):
    stats = collections.Counter() if stats is None else stats
    f = compile_program(program)
    # A program through such a step is checked unfused: bitwise, not to a tolerance.
    unfused = amplifies_ulps(program)
    with quiet(), fusion_of_small_arrays(program.fuse_small and not unfused), \
            fusion_off(unfused):
        calls = check_values(program, f, stats)
        check_gradients(program, f, calls, stats)
    return stats


EAGER_ERROR = "eager raised (a generator or eager bug)"


def cause_of(program):
    """Which check ``program`` fails (``Mismatch.cause``), or None."""
    try:
        check_program(program)
    except Mismatch as error:
        return error.cause
    except AssertionError:
        return EAGER_ERROR
    return None


def smallest_failing(program, cause):
    return minimize(program, lambda candidate: cause_of(candidate) == cause)


def describe(program, message):
    """The failing program: the message, the program (source, argument kinds, seed)
    and the inputs of its calls."""
    text = [message, "", repr(program)]
    with numpy.printoptions(precision=17):
        for number in range(N_CALLS):
            text.append(f"call {number + 1} inputs: {make_inputs(program, number)!r}")
    text.append("(numpy.random.seed(seed) before each call)")
    return "\n".join(text)


def describe_failure(program, error):
    """The failing program, and a smaller one that fails the same way (searched for on
    hypothesis' final, shrunk example only)."""
    text = [str(error), "", repr(program)]
    cause = EAGER_ERROR if not isinstance(error, Mismatch) else error.cause
    try:
        final = current_build_context().is_final
    except Exception:
        final = True
    if final:
        smaller = smallest_failing(program, cause)
        if smaller != program:
            text += ["smallest program failing the same way:", ""]
            program = smaller
        text.append(describe(program, ""))
    return "\n".join(text)


def run_one(program, stats):
    try:
        check_program(program, stats)
    except AssertionError as error:
        raise AssertionError(describe_failure(program, error)) from error


SETTINGS = dict(deadline=None, derandomize=True, database=None, print_blob=False,
                suppress_health_check=list(HealthCheck))


@settings(max_examples=200, **SETTINGS)
@given(programs())
def test_jit_matches_eager_on_random_programs(program):
    run_one(program, collections.Counter())


@pytest.mark.long
def test_jit_matches_eager_on_random_programs_long_run():
    """10^4 programs; every mismatch is tallied by cause instead of stopping at the
    first, and the figure is printed (run with -s to see it)."""
    n = int(os.environ.get("JITGRAD_FUZZ_PROGRAMS", "10000"))
    stats = collections.Counter()
    causes = collections.Counter()
    failing = collections.defaultdict(list)  # cause -> the first few programs
    start = time.perf_counter()

    @settings(max_examples=n, phases=["generate"], **SETTINGS)
    @given(programs())
    def one(program):
        stats["programs"] += 1
        try:
            check_program(program, stats)
        except AssertionError as error:
            cause = error.cause if isinstance(error, Mismatch) else EAGER_ERROR
            causes[cause] += 1
            if len(failing[cause]) < 10:
                failing[cause].append(program)
    one()
    seconds = time.perf_counter() - start
    lines = [f"{stats['programs']} programs in {seconds:.0f} s; "
             f"{sum(causes.values())} mismatches",
             *(f"  {count:5d}  {cause}" for cause, count in causes.most_common()),
             "checks: " + ", ".join(f"{k}: {v}" for k, v in sorted(stats.items()))]
    for cause, programs_failing in failing.items():
        seen = set()
        for program in programs_failing:
            smaller = smallest_failing(program, cause)
            if render(smaller) in seen or cause_of(smaller) != cause:
                continue
            seen.add(render(smaller))
            try:
                check_program(smaller)
            except AssertionError as error:
                message = str(error)
            lines += ["", f"=== {cause} (smallest of a failing program):",
                      describe(smaller, message[:3000])]
            if len(seen) == 3:
                break
    report = "\n".join(lines)
    print(report)
    log = os.environ.get("JITGRAD_FUZZ_REPORT")
    if log:
        with open(log, "w") as handle:
            handle.write(report + "\n")
    assert not causes, report
