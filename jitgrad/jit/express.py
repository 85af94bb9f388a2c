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
    program = whole.program
    checked_later = () if careful else {
        position for position, kind in zip(program.passed, program.arg_types)
        if kind[0] == "array"}

    def distrust():
        entry.express = express_function(entry, plan, careful=True)
        return MISSED

    namespace = {"_entry": entry, "_local": core._local, "_plain": core.plain_scope,
                 "_distrust": distrust, "MISSED": MISSED}
    params, test = fits_source(entry.signature, namespace, checked_later)
    name = "careful_express" if careful else "express"
    lines = [f"def {name}({params}):",
             f"    if not ({test}):",
             "        return MISSED",
             # innermost_level() inlined: a transformation open sends the call the
             # general way (no stack yet in this thread: none open)
             "    try:",
             "        _levels = _local.stack",
             "    except AttributeError:",
             "        _levels = None",
             "    if _levels and _levels[-1] is not _plain:",
             "        return MISSED",
             *replay_lines(program, whole.dispatcher, namespace, "    ",
                           on_failure="return MISSED", on_success=["_entry.hits += 1"],
                           on_refused="return MISSED" if careful else "return _distrust()",
                           check_layout=careful),
             ""]
    exec(compile("\n".join(lines), "<jitgrad express call>", "exec"), namespace)
    return namespace[name]
