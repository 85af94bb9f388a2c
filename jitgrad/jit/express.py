"""The express call: a jitted function's common call as one generated function.

A tight loop calls its jitted gradient with arguments of one signature, and its plan,
compiled whole (whole_plan.py), computes in about a microsecond. The general call
path's layers around it cost as much again: testing the arguments' signature, asking
whether a transformation is open, the plan's wrapper allocating the outputs, counting
the hit, each a Python call (tight_loop: 2.7 us a call, 1.4 of them in the kernel).
The express function does the same in one function generated per signature and plan:

    def express(a0=_missing, a1=_missing, *more):
        if not (type(a0) is _ndarray and type(a1) is float and not more):
            return MISSED
        <return MISSED where a transformation is open>
        out = _empty(shape)
        try:
            _r = _kernel(a0, a1, out)  # tests a0's shape; Numba's dispatcher its dtype
        except TypeError:  # (a strided array: from now on tested in Python)
            return _distrust()
        except RuntimeError:
            return MISSED
        _entry.hits += 1
        return out

``MISSED`` (arguments of another signature, a transformation open, a guard failed in
the kernel) sends the call the general way, which looks again and replays the plan the
usual way, so that every other case (a failed guard's paths, errors, counting what
failed replays waste) has one place. A failed guard thus runs the kernel twice; the
plan's Python code that follows costs more than the kernel.

A signature's paths forget their express function whenever their plans change order
(``_Paths``), so that it always replays their first plan.

Once an express function serves a jitted object's calls (from its FRONT_AFTER_HITS-th
call: jitted.py), the object runs it as its own call, the *front*: the same lines in
``jitted_call(a0=_missing, ..., /, *more, **kw)``, its class's ``__call__`` (each such
object gets a class of its own), which tests what the general call tests first (this
express function still its paths', the variables it reads unchanged, no keyword
arguments, the arguments' types) and sends any call it does not serve to the general
call. One Python call instead of two, and its tests: tight_loop 2.3 -> 2.1 us.
"""
from ..trace import core
from .signature_cache import fits_source
from .whole_plan import replay_lines

MISSED = object()


def express_function(entry, plan, careful=False):
    """The express function of ``entry`` (a signature's paths, recognizable) replaying
    ``plan``, its first; None where the plan is not compiled whole.

    It leaves the shape and dtype of the arrays the compiled function takes to that
    function (its own shape tests, Numba's dispatcher), testing only their type, until
    the dispatcher refuses one (a strided or read-only array: ~40 us a refusal); the
    ``careful`` function that replaces it then tests them all in Python, sending such
    arrays the general way at once, as the plan's own wrapper does."""
    whole = plan.whole_plan
    if whole is None or plan.has_random or entry.signature is None:
        return None

    def distrust():
        entry.express = express_function(entry, plan, careful=True)
        return MISSED

    name = "careful_express" if careful else "express"
    namespace = {"_entry": entry, "_distrust": distrust, "MISSED": MISSED}
    params, test = _params_and_test(entry, whole.program, careful, namespace)
    lines = [f"def {name}({params}):",
             f"    if not ({test}):",
             "        return MISSED",
             *_replay(whole, careful, namespace, miss="return MISSED",
                      refused="return MISSED" if careful else "return _distrust()",
                      counted=["_entry.hits += 1"])]
    function = _defined(name, lines, namespace)
    function.plan, function.careful = plan, careful
    return function


def front_function(entry, express, still_bound, tally, call):
    """A jitted object's own call (its class's ``__call__``) while ``express``, the
    express function of ``entry`` (the signature it served when the front was made),
    replays its calls:
    the same test and replay in the one Python function the call runs, which sends
    every call it does not serve to ``call`` (the general call) with its arguments.

    It serves only while ``express`` is still ``entry``'s express function (paths
    forget it when their plans change order or they leave the cache) and
    ``still_bound`` (None, or the jitted object's test that the variables it reads
    hold what its plans were traced with) true. Unlike the general call, it serves
    its signature's calls when another signature was served last: its test, with the
    compiled function's own, recognizes them. It counts the calls it serves in
    ``tally.n`` alone (jitted.py's ``_Tally``)."""
    plan, careful = express.plan, express.careful
    whole = plan.whole_plan
    namespace = {"_entry": entry, "_express": express, "_tally": tally,
                 "_call": call, "_still_bound": still_bound}

    def distrust(*args):
        entry.express = express_function(entry, plan, careful=True)
        return call(*args)

    namespace["_distrust"] = distrust
    params, test = _params_and_test(entry, whole.program, careful, namespace)
    given = [f"a{i}" for i in range(len(entry.signature))]  # (fits_source's names)
    if not given:  # (a function of no arguments: the general call serves it)
        return None
    served = " and ".join(["_entry.express is _express",
                           "not kw", *(["_still_bound()"] if still_bound else []), test])
    everything = ", ".join(given)
    lines = [f"def jitted_call({params.replace('*more', '/, *more, **kw')}):",
             f"    if not ({served}):",
             f"        return _call(*[a for a in ({everything},) if a is not _missing], "
             "*more, **kw)",
             *_replay(whole, careful, namespace, miss=f"return _call({everything})",
                      refused=f"return _call({everything})" if careful else
                      f"return _distrust({everything})",
                      counted=["_tally.n += 1"])]
    return _defined("jitted_call", lines, namespace)


def _params_and_test(entry, program, careful, namespace):
    """The signature test's parameters and expression (signature_cache.py), arrays the
    compiled function takes tested by their type only unless ``careful``."""
    checked_later = () if careful else {
        position for position, kind in zip(program.passed, program.arg_types)
        if kind[0] == "array"}
    return fits_source(entry.signature, namespace, checked_later)


def _replay(whole, careful, namespace, miss, refused, counted):
    """The lines after the signature test: ``miss`` where a transformation is open, an
    input does not fit or a guard fails, ``refused`` where Numba's dispatcher refuses
    the arguments, the ``counted`` statements before returning the outputs."""
    namespace.update({"_local": core._local, "_plain": core.plain_scope,
                      "_open_levels": core.open_levels})
    return [  # innermost_level() inlined: a transformation open sends the call the
        # general way (no stack yet in this thread: none open), looked for only while
        # some thread has one open (a thread-local's lookup costs ~40 ns)
        "    if _open_levels[0]:",
        "        try:",
        "            _levels = _local.stack",
        "        except AttributeError:",
        "            _levels = None",
        "        if _levels and _levels[-1] is not _plain:",
        f"            {miss}",
        *replay_lines(whole.program, whole.dispatcher, namespace, "    ",
                      on_failure=miss, on_success=counted, on_refused=refused,
                      check_layout=careful),
        ""]


def _defined(name, lines, namespace):
    """The function ``name`` defined by the source ``lines`` in ``namespace``."""
    exec(compile("\n".join(lines), f"<jitgrad {name}>", "exec"), namespace)
    return namespace[name]
