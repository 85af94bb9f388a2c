"""The one way tracing talks to an outer observer of it: the jit's recorder.

This package (automatic differentiation) knows nothing of the jit. While a jit trace
runs it installs an *observer* here, and tracing reports to it the moments a replay
must know about: a traced value turned into a Python number (a guard), an untraced
result computed from traced values, a random draw, code that cannot be replayed.
With no observer installed every hook does nothing.

An observer has ``trace_id`` (the trace level whose values it records), ``refusals``
(a list) and the methods ``guard(box, convert, result)``, ``untraced_call(fun, args,
kwargs, ans)``, ``source_call(fun, args, kwargs)``, ``refuse(reason)``,
``primitive_raised(fun, error)``, ``plain_keywords(fun, kwargs)``,
``plain_integers(args)`` and ``written_in_place(box)`` (see jitgrad/jit/recorder.py).
"""
import threading

class _State(threading.local):
    """Per-thread state whose ``observer`` reads None until one is installed: a
    missing attribute of a ``threading.local`` costs ~0.5 us to look up (an
    AttributeError raised and caught), paid by every eager primitive call."""
    observer = None


# The thread's observer, read directly (``getattr(state, "observer", None)``) on hot paths.
state = _State()


def observer():
    """The observer installed in this thread, or None."""
    return getattr(state, "observer", None)


def install(new):
    """Install ``new`` (or None) as this thread's observer; returns the previous one."""
    previous = getattr(state, "observer", None)
    state.observer = new
    return previous


def refuse_replay(reason):
    """Say that the code running now cannot be replayed from a plan (the jit then
    runs the function eagerly, with one warning giving ``reason``)."""
    current = getattr(state, "observer", None)
    if current is not None:
        current.refuse(reason)


def written_in_place(box):
    """``box`` (an array) is about to be written in place: the observer notes it
    (a write into an array it boxed changes what the function does)."""
    current = getattr(state, "observer", None)
    if current is not None:
        current.written_in_place(box)


def primitive_raised(fun, error):
    """A primitive's computation on traced values raised ``error``: the observer
    refuses to replay what follows (Python may catch it); without one, nothing."""
    current = getattr(state, "observer", None)
    if current is not None:
        current.primitive_raised(fun, error)


def observed_only(box):
    """True when ``box`` is traced by the observer's level alone: no derivative is
    being taken of it, so Python may see its number (guarded)."""
    current = getattr(state, "observer", None)
    return current is not None and box._trace == current.trace_id


def random_draw(traced_fun, args, kwargs):
    """A draw from NumPy's global generator: the observer records it to be drawn
    anew on every replay; without one, it is drawn now."""
    current = getattr(state, "observer", None)
    if current is None:
        return None
    return current.source_call(traced_fun, args, kwargs)
