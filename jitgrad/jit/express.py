"""The express call: a jitted function's common call as one generated function.

A tight loop calls its jitted gradient with arguments of one signature, and its plan,
compiled whole (whole_plan.py), computes in about a microsecond. The general call
path's layers around it cost as much again: testing the arguments' signature, asking
whether a transformation is open, the plan's wrapper allocating the outputs, counting
the hit, each a Python call (tight_loop: 2.7 us a call, 1.4 of them in the kernel).
The express function does the same in one function generated per signature and plan:

    def express(a0=_missing, a1=_missing, *more):
        if not (<the signature's tests>) or _innermost() is not None:
            return MISSED
        out = _empty(shape)
        try:
            _r = _kernel(a0, a1, out)
        except (TypeError, RuntimeError):
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
from ..trace.core import innermost_level
from .signature_cache import fits_source
from .whole_plan import replay_lines

MISSED = object()


def express_function(entry, plan):
    """The express function of ``entry`` (a signature's paths, recognizable) replaying
    ``plan``, its first; None where the plan is not compiled whole."""
    whole = plan.whole_plan
    if whole is None or plan.has_random or entry.signature is None:
        return None
    namespace = {"_entry": entry, "_innermost": innermost_level, "MISSED": MISSED}
    params, test = fits_source(entry.signature, namespace)
    lines = [f"def express({params}):",
             f"    if not ({test}) or _innermost() is not None:",
             "        return MISSED",
             *replay_lines(whole.program, whole.dispatcher, namespace, "    ",
                           on_failure="return MISSED", on_success=["_entry.hits += 1"]),
             ""]
    exec(compile("\n".join(lines), "<jitgrad express call>", "exec"), namespace)
    return namespace["express"]
