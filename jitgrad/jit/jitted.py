"""``jit``: trace a function once per signature and path, then replay its plan.

The signature of a call is the tree structure of its arguments, the shapes and
dtypes of its arrays, the types of its float and complex scalars, and the values
of everything else (ints, strings, static arguments). Each signature keeps a few
plans, one per path through the function's Python control flow; a plan whose
guard fails hands over to the next one, and when none fits the function is traced
again. A function the tracer cannot follow runs eagerly, with one warning.

Tiers, so that the jit never makes a program slower than eager: a signature's first
``JITGRAD_TRACE_AFTER`` calls (and a new path's first sightings) run eagerly, since a
function called once gains nothing from a trace; a plan starts unfused and is fused
once fusing has been paid for (see ``_fusion_due``).
"""
import contextlib
import copy
import functools
import gc
import inspect
import itertools
import sys
import logging
import numbers
import operator
import os
import threading
import time
import warnings
import weakref
from collections import OrderedDict

import numpy as np

from .. import settings
from ..trace import hooks, tree
from ..trace.core import TraceLevel, innermost_level, new_box, primitive_calls
from ..trace.vjp import writeable_arrays
from .graph import NO_RESULT, GraphNode, PrimitiveRaised, TraceUnsupported
from .recorder import Recorder
from .plan import GuardFailed, Plan
from .function_key import Reads, function_key
from .captured_arrays import BoxingChanged, CapturedAsConstants
from .express import MISSED, express_function, front_function
from .signature_cache import Signatures, fits_function
from .trace_cost import calls_paying, calls_paying_for_trace, note_trace
from .user_frames import user_stacklevel
from .signature import (NUMERIC_KINDS, Boxed, LazyOutput, ReturnsFunction, UnsafeArgument,
                        leaf_key, map_leaves, output_tree, pick, plain_tree, static_key)

logger = logging.getLogger("jitgrad.jit")

# Plans kept per signature: paths taken in turn (a minibatch index slicing plain
# data gives one path per batch) keep theirs up to this many.
MAX_PATHS_PER_SIGNATURE = 32
# Calls that needed a new path, past which a signature whose calls mostly do runs
# eagerly (more than the paths kept: a cycle through all of them is no such case).
MAX_NEW_PATHS = MAX_PATHS_PER_SIGNATURE + 1
# New paths in a row, each named by a guard on an array that saw other values, after
# which a signature runs eagerly.
MAX_ARRAY_GUARD_MISSES = 3
# A signature whose replays that failed at a guard (work thrown away) have cost more
# than this fraction of running its calls eagerly (its replayed calls; a quarter for
# those that needed a new path, where nothing was saved) runs eagerly, judged from
# MIN_NEW_PATHS_JUDGED calls that needed a new path on: a loop that runs until a value
# converges fails its plans late on most calls (Sinkhorn, 30 gradient steps: 13
# traces, 162 failed replays, 3.2x eager's time).
MAX_WASTED_FRACTION = 0.5
MAX_WASTED_FRACTION_NEW_PATHS = 0.25
MIN_NEW_PATHS_JUDGED = 4
MAX_SIGNATURES = 64
# Signatures dropped past the bound that come back (shapes used in a cycle longer than
# the bound: bucketed sequence lengths) before it doubles, up to MAX_SIGNATURES_GROWN:
# with 100 shapes in turn, every call traced anew and ran 4-5x slower than eager.
RETURNS_BEFORE_GROWING = 8
MAX_SIGNATURES_GROWN = 4 * MAX_SIGNATURES
# A jitted object keeps the fronts (_call_by_front) of this many express functions,
# made once it has served this many calls: a front (its class, its code) costs ~360 us
# to make and saves ~0.18 us a call, so a jitted object made anew in a loop and called
# a few times (an operator rebuilt each step) does not pay 10x its call to make one.
MAX_FRONTS = 8
FRONT_AFTER_HITS = 2000
# ... and makes no more than this many (calls cycling through more signatures than
# MAX_FRONTS in runs of two or more would make one at each change of signature).
MAX_FRONTS_MADE = 4 * MAX_FRONTS
RETRACE_WARNING_THRESHOLD = 10
# Rebindings of a global or closure variable the function reads (each one a new key:
# function_key.py) after which a warning suggests passing the value as an argument.
REBINDS_BEFORE_WARNING = 3
_EAGER = "eager"
_STAGED = "staged"


def jit(fun=None, static_argnums=(), static_argnames=(), trace_after=None):
    """Compile ``fun`` by tracing: later calls with the same signature replay a plan.

    ``jit(grad(f))`` is the same as ``grad(f, jit=True)``. Python control flow on
    traced values is allowed: the value seen is guarded, and a call that goes
    another way is traced again. Python side effects (print, appending to a list)
    happen only while tracing. Arrays captured from the enclosing scope are
    constants of the trace: pass data that changes between calls as arguments.

    ``trace_after``: how many calls of a new signature (or new path) run eagerly
    before one is traced (default ``JITGRAD_TRACE_AFTER``, else 1: a function called
    once costs what eager costs; 0 traces at the first call).
    """
    if fun is None:
        return functools.partial(jit, static_argnums=static_argnums,
                                 static_argnames=static_argnames, trace_after=trace_after)
    if isinstance(fun, JitFunction) and not static_argnums and not static_argnames \
            and trace_after is None:
        return fun
    return JitFunction(fun, static_argnums, static_argnames, trace_after)


def _checked_options(fun, static_argnums, static_argnames, trace_after):
    """jit's options as tuples, each checked against ``fun``'s parameters where it has a
    signature (a static argument that is not one would silently be traced)."""
    if isinstance(static_argnums, int) and not isinstance(static_argnums, bool):
        static_argnums = (static_argnums,)
    if isinstance(static_argnames, str):
        static_argnames = (static_argnames,)
    try:
        static_argnums, static_argnames = tuple(static_argnums), tuple(static_argnames)
    except TypeError:
        raise TypeError("jit: static_argnums takes an int or a tuple of ints, and "
                        "static_argnames a str or a tuple of str") from None
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in static_argnums):
        raise TypeError(f"jit: static_argnums={static_argnums!r} takes ints (positions)")
    # The signature is read only when there is something to check: a jitted operator
    # may be made anew in a loop (an ODE's right side).
    params = None
    if static_argnums or static_argnames:
        try:
            params = inspect.signature(fun).parameters.values()
        except (TypeError, ValueError):
            pass
    if params is not None and not any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
                                      for p in params):
        names = [p.name for p in params]
        positional = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)
        for n in static_argnums:
            if not -positional <= n < positional:
                raise ValueError(f"jit: static_argnums has {n}, but the function takes "
                                 f"{positional} positional arguments")
        static_argnums = tuple(n % positional for n in static_argnums)  # -1: the last
        for name in static_argnames:
            if name not in names:
                raise ValueError(f"jit: static_argnames has {name!r}, which is not a "
                                 f"parameter of the function ({', '.join(names)})")
    if trace_after is not None and not (isinstance(trace_after, numbers.Integral) and
                                        trace_after >= 0):
        raise ValueError(f"jit: trace_after={trace_after!r} takes a whole number of calls "
                         "(0 traces at the first call)")
    return static_argnums, static_argnames, trace_after


def _recognizable(entry, signature):
    """``entry``, able to recognize its signature from its second call on (signature
    cache), or None before."""
    if entry.fits is None:
        if entry.served() < 1:
            return None
        entry.signature, entry.fits = signature, fits_function(signature)
    return entry


def _positional_key(args):
    """The cache key of the common call, positional arrays, floats and ints only (the
    iteration number autograd's optimizers pass), without the general walk (the parts
    are ``leaf_key``'s); None for any other call."""
    parts = []
    for arg in args:
        kind = type(arg)
        if kind is np.ndarray and arg.dtype.kind in NUMERIC_KINDS:
            parts.append((arg.shape, arg.dtype))
        elif kind is float or kind is int:  # (not bool: part of the signature)
            parts.append(kind)
        else:
            return None
    return tuple(parts)


class _Tally:
    """The calls one front served since they were last counted: its only count, ~90
    ns a call less than counting them in its object's stats and its signature's hits
    (``entry.served()`` adds them), where they are moved when the stats are read."""
    __slots__ = ("n", "entry")

    def __init__(self, entry):
        self.n, self.entry = 0, entry
        entry.tallies.append(self)


def _counted(tally, stats):
    """Moves ``tally``'s calls to its signature's hits and to ``stats``."""
    n, tally.n = tally.n, 0  # (a call counted between these is lost, as with +=)
    tally.entry.hits += n
    stats["hits"] += n


def _retired(tally, stats):
    """A front that goes: its calls counted, its tally no longer read."""
    _counted(tally, stats)
    with contextlib.suppress(ValueError):
        tally.entry.tallies.remove(tally)


def _stats_counted(self):
    """``stats`` of an object with fronts: the calls they served counted first."""
    stats = self.__dict__["stats"]
    for _, tally, _ in tuple(self._fronts.values()):  # (a copy: threads may add one)
        if tally.n:
            _counted(tally, stats)
    return stats


def _made_plain(cls, *args, **kwargs):
    """An object made from a jitted object's own class (``type(jitted)(f)``) is a plain
    JitFunction: that class's ``__call__`` serves the one object (_call_by_front)."""
    return JitFunction(*args, **kwargs)


class JitFunction:
    def __init__(self, fun, static_argnums=(), static_argnames=(), trace_after=None):
        if not callable(fun):
            raise TypeError(f"jit takes a function, not a {type(fun).__name__}")
        functools.update_wrapper(self, fun, updated=())
        self.fun = fun
        static_argnums, static_argnames, trace_after = _checked_options(
            fun, static_argnums, static_argnames, trace_after)
        self.static_argnums = frozenset(static_argnums)
        self.static_argnames = frozenset(static_argnames)
        self.stats = {"traces": 0, "hits": 0, "guard_misses": 0, "fallbacks": 0,
                      "passthrough": 0, "eager_calls": 0}
        # Tier settings, read once: the call path stays free of environment lookups.
        self._trace_after_given = trace_after  # None: the environment's, where it is made
        self.trace_after = trace_after_calls() if trace_after is None else int(trace_after)
        # Neither given nor set: a signature's first trace also waits for eager calls
        # to pay for it (_calls_before_trace).
        self._trace_when_paid = trace_after is None and TRACE_AFTER_SETTING not in os.environ
        self._fuse_after = fuse_after_seconds()
        # Plans (and the lock guarding them) are shared with every jitted object made
        # for the same function before: an operator rebuilt in a loop traces once.
        self._reads = Reads(_watched)
        self._cache, self._lock, self._staged = _plans_for(fun, self.static_argnums,
                                                          self.static_argnames, self._reads)
        self._still_bound = self._reads.still_bound()
        self._rebinds = 0
        self._warned = set()
        self._traces_raised = 0
        self._max_signatures, self._evicted, self._returns = MAX_SIGNATURES, OrderedDict(), 0
        self._previous_signature = None
        self.last_miss = None
        self._front = None  # the express function its own __call__ runs (_call_by_front)
        self._fronts = {}  # express function -> its front, made for this object
        self._fronts_made = 0

    def function_key_parts(self):
        """What makes two jitted functions the same (trace/function_key.py)."""
        return (self.fun, tuple(sorted(self.static_argnums)),
                tuple(sorted(self.static_argnames)))

    def __repr__(self):
        return f"jit({getattr(self.fun, '__name__', self.fun)!r})"

    # Pickling and copying keep the function and its options; plans, locks and
    # counters are per process, so a copy starts with an empty cache (its kernels
    # come back from the disk cache).
    def __reduce__(self):
        module = sys.modules.get(getattr(self, "__module__", None) or "")
        found = module
        for part in (getattr(self, "__qualname__", "") or "").split("."):
            found = getattr(found, part, None)
        if found is self:  # a module-level @jit function: pickled by name
            return self.__qualname__
        return (JitFunction, (self.fun, tuple(self.static_argnums),
                              tuple(self.static_argnames), self._trace_after_given))

    def __deepcopy__(self, memo):
        return JitFunction(copy.deepcopy(self.fun, memo), tuple(self.static_argnums),
                           tuple(self.static_argnames), self._trace_after_given)

    def __get__(self, instance, owner):
        return self if instance is None else functools.partial(self, instance)

    def __call__(self, *args, **kwargs):
        # The common call first: the signature served last (signature_cache.py), its
        # first plan fused, outside any transformation, the variables read unchanged.
        entry = self._cache.recent
        if entry is not None and not kwargs and \
                (self._still_bound is None or self._still_bound()):
            express = entry.express
            if express is not None:  # its plan compiled whole (express.py)
                out = express(*args)
                if out is not MISSED:
                    self.stats["hits"] += 1
                    if self._front is not express and \
                            self.stats["hits"] >= FRONT_AFTER_HITS:
                        self._call_by_front(entry, express)
                    return out
            elif entry.fits(*args) and innermost_level() is None:
                # (The end of _call's replay, without its signature walk.)
                plan = entry[0]
                if plan.fused and not plan.has_random:
                    try:
                        out = _replay_counting_waste(entry, plan, args)
                    except GuardFailed as failure:
                        return self._other_paths(entry, entry.signature, args, args,
                                                 kwargs, (plan, failure))
                    except Exception as error:
                        return self._after_replay_error(error, args, kwargs)
                    self.stats["hits"] += 1
                    entry.hits += 1
                    if plan.whole_plan is not None:
                        entry.express = express_function(entry, plan)
                    return out
        return self._call(args, kwargs)

    def _call_by_front(self, entry, express):
        """From now on this object's calls run ``entry``'s ``express`` function's test
        and replay in one Python function, its own ``__call__`` (express.py's
        ``front_function``), until they no longer fit: the front then sends them here.
        (Python finds ``__call__`` on the type: each such object has its own class.)"""
        cls = type(self)
        if cls is JitFunction:
            cls = type(cls.__name__, (cls,), {"__slots__": (), "_own_class": True,
                                              "__new__": _made_plain,
                                              "stats": property(_stats_counted),
                                              "__module__": cls.__module__,
                                              "__qualname__": cls.__qualname__})
            self.__class__ = cls
        elif not cls.__dict__.get("_own_class"):  # a subclass: its own __call__ is kept
            return
        made = self._fronts.get(express)
        if made is None:  # (calls alternating between signatures switch fronts)
            if self._fronts_made >= MAX_FRONTS_MADE:  # (signatures cycling past
                return  # MAX_FRONTS: ~360 us a front made, each time again)
            self._fronts_made += 1
            alive = weakref.ref(self)  # (its class would otherwise keep it alive)

            def call(*args, **kwargs):
                return JitFunction.__call__(alive(), *args, **kwargs)

            tally = _Tally(entry)
            front = front_function(entry, express, self._still_bound, tally, call)
            # Its calls are counted when it goes, or its object does.
            retire = weakref.finalize(self, _retired, tally, self.__dict__["stats"])
            retire.atexit = False
            if front is None:
                retire()
                return
            if len(self._fronts) >= MAX_FRONTS:
                for _, _, dropped in tuple(self._fronts.values()):
                    dropped()
                self._fronts.clear()
            made = self._fronts[express] = front, tally, retire
        cls.__call__ = staticmethod(made[0])
        self._front = express

    def _call(self, args, kwargs):
        """Any call: signature, plan lookup, tiers, replay."""
        if innermost_level() is not None:
            # Inside grad/jvp/jit of an enclosing function, whose traced values may
            # also reach f through its closure: run the Python so they see it all.
            self.stats["passthrough"] += 1
            return self.fun(*args, **kwargs)
        if self._still_bound is not None and not self._still_bound():
            self._rekey()
        leaves = args
        entry = self._cache.recent  # the signature served last (signature_cache.py)
        recognized = entry is not None and not kwargs and entry.fits(*args)
        if recognized:
            signature = entry.signature
        else:
            # The common call's key first, without call_signature's general walk.
            positional = not kwargs and not self.static_argnums
            signature = _positional_key(args) if positional else None
            if signature is None:
                positional = False
                try:
                    signature, leaves = self._general_signature(args, kwargs)
                except Boxed:
                    # Inside grad/jvp of an enclosing function: differentiate through f.
                    self.stats["passthrough"] += 1
                    return self.fun(*args, **kwargs)
                except UnsafeArgument as reason:
                    self.stats["fallbacks"] += 1
                    self._warn_once(f"jit: {self!r} runs eagerly because {reason.args[0]}.")
                    return self.fun(*args, **kwargs)
            entry = self._cache.get(signature)  # reads need no lock: dict ops hold the GIL
        if entry is None:
            self.last_miss = self._describe_change(signature)
            if self._evicted:
                self._note_return(signature)
            if not self.trace_after:
                return self._trace(signature, leaves, args, kwargs)
            entry = self._new_entry(signature)
        if entry is _EAGER:
            return self.fun(*args, **kwargs)
        if entry is _STAGED:
            return self._staged_call(args, kwargs)
        if not entry:  # no plan yet: a signature's first calls run eagerly
            if entry.eager_calls < self._calls_before_trace(entry):
                return self._run_eagerly(entry, args, kwargs)
            return self._trace(signature, leaves, args, kwargs)
        if not recognized:  # (a recognized signature is the most recently used already)
            if len(self._cache) > 1:
                try:
                    self._cache.move_to_end(signature)
                except KeyError:  # evicted by another thread meanwhile
                    pass
            self._cache.recent = _recognizable(entry, signature) if positional else None
        plan = entry[0]
        if not plan.has_random:
            # The common call: the most recently useful plan fits.
            try:
                out = _replay_counting_waste(entry, plan, leaves) if plan.fused else \
                    self._replay_unfused(entry, plan, leaves)
            except GuardFailed as failure:
                return self._other_paths(entry, signature, leaves, args, kwargs,
                                         (plan, failure))
            except Exception as error:
                return self._after_replay_error(error, args, kwargs)
            self.stats["hits"] += 1
            entry.hits += 1
            return out
        return self._other_paths(entry, signature, leaves, args, kwargs)

    def _share_plans(self):
        """Its first plan is traced: a function keyed without reading its arrays' bytes
        (``_plans_for``) shares its plans from now on with jitted objects made later for
        the same function and data (an operator rebuilt in a loop traces once)."""
        self._reads.unseen = False
        reads = Reads()
        key = function_key(self.fun, reads)
        if key is not None:
            _share(_full_key(key, self.static_argnums, self.static_argnames), reads.arrays,
                   (self._cache, self._lock, self._staged))
        with _shared_lock:  # (objects made from now on find them under that key)
            for unseen in [unseen for unseen, (state, _) in _unseen_plans.items()
                           if state[0] is self._cache]:
                del _unseen_plans[unseen]

    def _index_advice(self):
        """For a warning whose latest new path came from an int Python needed as an index
        (a guard on ``operator.index``): the likely cause and its fix."""
        guard = getattr(self, "_last_guard", None)
        if guard is None or guard.convert is not operator.index:
            return ""
        return ("; that guard is an index or slice bound Python needed: a plain array "
                "(made inside the function, a class attribute, or over 64 MiB) sliced at "
                "a traced int (autograd's minibatch idiom X[i * n:(i + 1) * n]) takes a "
                "path per value. Pass that array as an argument, or read it from a global "
                "or closure variable or an object's own attribute: its slices are then "
                "traced, one plan for every value")

    def _rekey(self):
        """A global or closure variable the function reads was rebound since its key
        was computed: the plans are now those of the new value, as for a jitted object
        made now (function_key.py); the old ones stay shared under the old key."""
        name = self._reads.rebound()
        with self._lock:
            self._reads = Reads(_watched)
            self._cache, self._lock, self._staged = _plans_for(
                self.fun, self.static_argnums, self.static_argnames, self._reads)
            self._still_bound = self._reads.still_bound()
        self._rebinds += 1
        if self._rebinds == REBINDS_BEFORE_WARNING:
            self._warn_once(
                f"jit: {self!r} reads {name!r}, which has been rebound {self._rebinds} times "
                "since it was jitted: each value gets plans of its own, traced anew (a "
                "value used once runs eagerly). Pass values that change as arguments.")

    def _other_paths(self, entry, signature, leaves, args, kwargs, first_failure=None):
        """Try each plan of the signature (after ``first_failure``'s: the plan tried
        first and how its guard failed), the one that took over where a guard failed
        before first, then take a new path."""
        candidates = list(entry)
        failures = []  # (plan, guard key) of the failed guards that can be remembered
        path = []  # where each plan failed, and on what: names a new path

        def missed(plan, failure):
            self.stats["guard_misses"] += 1
            number, seen = failure.args
            self.last_miss = f"{plan.guards[number]} failed"
            self._last_guard = plan.guards[number]
            path.append((_ledger(plan).serial, number, _seen_key(seen), _is_array(seen),
                         plan.guards[number].convert is operator.index))
            key = _guard_key(number, seen)
            if key is not None:
                failures.append((plan, key))
                successor = plan.next_by_guard.get(key)
                if successor in candidates:  # it went this way before: try it next
                    candidates.remove(successor)
                    candidates.insert(0, successor)

        if first_failure is not None:
            if first_failure[0] in candidates:
                candidates.remove(first_failure[0])
            missed(*first_failure)
        while candidates:
            plan = candidates.pop(0)
            state = np.random.get_state() if plan.has_random else None
            try:
                if plan.fused:
                    out = _replay_counting_waste(entry, plan, leaves)
                else:
                    out = self._replay_unfused(entry, plan, leaves)
            except GuardFailed as failure:
                if state is not None:
                    np.random.set_state(state)
                missed(plan, failure)
                continue
            except Exception as error:
                if state is not None:
                    np.random.set_state(state)
                return self._after_replay_error(error, args, kwargs)
            self.stats["hits"] += 1
            entry.hits += 1
            _remember(failures, plan)
            if plan is not entry[0]:
                with self._lock:
                    _promote(entry, plan)
            return out
        # The path is named by where the oldest plan failed, and on what value: that
        # plan stays while newer ones are traced (a path's name made of every plan's
        # failure would change with each new plan).
        return self._new_path(entry, signature, leaves, failures, min(path, default=None),
                              args, kwargs)

    def _new_path(self, entry, signature, leaves, failures, path, args, kwargs):
        """No plan fitted: this call takes a path not traced yet."""
        seen = entry.new_paths.get(path, 0) if self.trace_after and path else 0
        if not seen:
            entry.retraces += 1
        entry.new_path_calls += 1
        if entry.eager_seconds is not None and \
                entry.new_path_calls >= MIN_NEW_PATHS_JUDGED and entry.wasted > \
                entry.eager_seconds * (MAX_WASTED_FRACTION * entry.served() +
                                       MAX_WASTED_FRACTION_NEW_PATHS * entry.new_path_calls):
            self._fall_back(signature, "its replays kept failing at a guard (Python's "
                                       "control flow took another path; the latest: "
                                       f"{self.last_miss}), and the work they threw away "
                                       "cost more than a quarter of running those calls "
                                       "eagerly (half, for calls a replay served): a "
                                       "loop that runs until a value converges does this")
            return self.fun(*args, **kwargs)
        if path and path[3]:
            if entry.served() != entry.hits_at_array_miss:  # a replay fitted between
                entry.hits_at_array_miss, entry.array_misses = entry.served(), 0
            entry.array_misses += 1
            if entry.array_misses >= MAX_ARRAY_GUARD_MISSES:
                # An array Python needed as numbers (a plain NumPy array indexed by
                # indices the jit traces) differs on every call: no plan will fit.
                self._fall_back(signature, f"{self.last_miss} on {entry.array_misses} "
                                "calls in a row: NumPy needed the numbers of an array the "
                                "jit traces, and they change from call to call. A plain "
                                "NumPy array indexed by traced indices: pass it as an "
                                "argument, so that the gather is traced. A boolean mask "
                                "(x[x > 0], y[mask] = c): np.where(mask, a, b) is traced. "
                                "Indices from argsort for take_along_axis: np.sort")
                return self.fun(*args, **kwargs)
        if entry.retraces > MAX_NEW_PATHS and entry.retraces > entry.served():
            # Python's control flow takes a new path on most calls (a loop that stops
            # on a value, a plain table indexed by traced indices): tracing each time
            # would be slower than running eagerly.
            self._fall_back(signature, f"Python's control flow took a new path on most "
                                       f"calls ({entry.retraces} of "
                                       f"{entry.retraces + entry.served()}; the latest: "
                                       f"{self.last_miss}){self._index_advice()}")
            return self.fun(*args, **kwargs)
        if self.trace_after and path:
            # A path seen fewer than trace_after times before runs eagerly: one never
            # taken again is never traced.
            if seen < self._sightings_before_trace(entry, index_guard=path[4]):
                if len(entry.new_paths) >= 4 * MAX_PATHS_PER_SIGNATURE:
                    entry.new_paths.clear()
                entry.new_paths[path] = seen + 1
                return self._run_eagerly(entry, args, kwargs)
            del entry.new_paths[path]
        out = self._trace(signature, leaves, args, kwargs)
        entry = self._cache.get(signature)
        if failures and isinstance(entry, list) and entry:
            _remember(failures, entry[0])  # the plan just traced
        return out

    def _after_replay_error(self, error, args, kwargs):
        """A replay raised without a guard failing (a NumPy routine's error, such as
        cholesky's on a matrix that is not positive definite): the call runs eagerly,
        so that the error meets the Python it would meet (an except branch, or the
        caller, who then sees eager's error rather than the plan's)."""
        self.stats["eager_calls"] += 1
        out = self.fun(*args, **kwargs)
        self._warn_once(f"jit: a replay of {self!r} raised {type(error).__name__} ({error}) "
                        "where running the function eagerly did not (a try/except around a "
                        "traced computation cannot be replayed): such calls run eagerly.")
        return out

    def _new_entry(self, signature):
        with self._lock:
            entry = self._cache.get(signature)
            if entry is None:
                entry = self._cache[signature] = _Paths()
                self._evict()
            return entry

    def _evict(self):
        """Drop the least recently used signatures past the bound (the lock held),
        remembering their keys (``_note_return``)."""
        while len(self._cache) > self._max_signatures:
            self._evicted[self._cache.popitem(last=False)[0]] = None
            if len(self._evicted) > MAX_SIGNATURES_GROWN:
                self._evicted.popitem(last=False)

    def _note_return(self, signature):
        """A signature dropped before is called again: the bound is smaller than the
        signatures in use, and doubles once that has happened a few times."""
        if signature in self._evicted:
            self._returns += 1
            if self._returns >= RETURNS_BEFORE_GROWING and \
                    self._max_signatures < MAX_SIGNATURES_GROWN:
                self._max_signatures, self._returns = 2 * self._max_signatures, 0

    def _calls_before_trace(self, entry):
        """How many calls of a new signature run eagerly: ``trace_after``, or eight times
        that once tracing has not paid on this function (new shapes that come a few
        times each, as a GP fit's data growing by a point per round: a trace costs 6-8
        eager calls, and its plan served fewer calls than that on average).

        By default (``trace_after`` neither given nor set in the environment), also
        until the eager calls made would have paid for the trace, as estimated from
        the fastest of them (rent or buy, trace_cost.py), at least WARM_EAGER_CALLS
        and at most MAX_CALLS_BEFORE_TRACE. A program calling a small function's
        gradient five times traced at the second call, for 9-20 eager calls' time, and
        ran 2-4x slower than eager; now it never traces, and one calling it k + 1 times
        pays at most about twice eager's time."""
        calls = self.trace_after
        if self._trace_after_given is None:
            traces = self.stats["traces"]
            if traces >= MIN_TRACES_JUDGED and \
                    self.stats["hits"] < HITS_PER_TRACE_TO_PAY * traces:
                calls *= SLOW_TRACE_AFTER_FACTOR
            if calls and entry.eager_seconds and self._trace_when_paid:
                paying = calls_paying_for_trace(entry.eager_seconds, entry.eager_steps)
                calls = max(calls, min(paying, MAX_CALLS_BEFORE_TRACE), WARM_EAGER_CALLS)
        return calls

    def _sightings_before_trace(self, entry, index_guard):
        """How many times a new path of a signature runs eagerly before it is traced:
        ``trace_after``, or eight times that once the signature's traces have not paid
        (a loop that runs until a value converges: each iteration count is a path,
        rarely taken again, and tracing one cost 6-15 eager calls). Not for a path
        named by an index Python needed (minibatch i of an array left plain, a class
        attribute: the paths come round again, each epoch).

        Once a trace's cost is known, a path also waits until the calls it took would
        have paid for tracing it (rent or buy): a trace costing k eager calls waits for
        k - 1 sightings, up to MAX_PATH_SIGHTINGS. A scalar loop that breaks on a value
        (autograd's Taylor-series sinusoid example) costs 16 eager calls to trace, and
        nearly every call took a new iteration count: three traces made 100 gradient
        calls 1.5x slower than eager. By default (trace_after neither given nor set)
        minibatch paths wait so too, k - 1 epochs: traced at their second sighting,
        autograd's VAE and GAN examples (2 epochs) ran 1.3x slower than eager."""
        if self._trace_after_given is not None or (index_guard and not self._trace_when_paid):
            return self.trace_after
        sightings = self.trace_after
        if not index_guard and entry.traces >= MIN_PATH_TRACES_JUDGED and \
                entry.served() < HITS_PER_TRACE_TO_PAY * entry.traces:
            sightings *= SLOW_TRACE_AFTER_FACTOR
        if entry.trace_seconds and entry.eager_seconds:
            calls = calls_paying(entry.trace_seconds, entry.eager_seconds)
            sightings = max(sightings, min(calls, MAX_PATH_SIGHTINGS))
        return sightings

    def _run_eagerly(self, entry, args, kwargs):
        """A call run eagerly by the tier policy, timed: what eager costs is what the
        jit must save before fusing pays (``_fusion_due``)."""
        self.stats["eager_calls"] += 1
        entry.eager_calls += 1
        steps = primitive_calls()
        start = time.perf_counter()
        out = self.fun(*args, **kwargs)
        seconds = time.perf_counter() - start
        if entry.eager_seconds is None or seconds < entry.eager_seconds:
            entry.eager_seconds = seconds
            entry.eager_steps = primitive_calls() - steps
        return out

    def _replay_unfused(self, entry, plan, leaves):
        """Replay a plan that has no kernels yet, timing it, and fuse it once that is
        due (``_fusion_due``)."""
        start = time.perf_counter()
        try:
            out = plan(leaves)
        except GuardFailed:  # work thrown away (_new_path judges it)
            entry.wasted += time.perf_counter() - start
            raise
        seconds = time.perf_counter() - start
        plan.replay_seconds += seconds
        ledger = _ledger(plan)
        if entry.eager_seconds is not None:
            # A replay is credited with what eager would have taken more, but at most
            # its own time again: the eager call timed is a signature's first, which can
            # take several times a later call (rnn: 0.1 s, later 0.024 s), and would
            # have the jit fuse a plan whose compile it never earns back.
            ledger.saved += min(entry.eager_seconds - seconds, seconds)
        if self._fusion_due(entry, plan, ledger):
            with self._lock:
                plan.fuse()
        return out

    def _fusion_due(self, entry, plan, ledger):
        """Fusing a plan costs about ``cost`` (Numba's start-up and compiles, more for a
        bigger plan), which fused replays must earn back. A plan fuses once its replays
        have run that long (so fusing at most doubles what a short program pays) and,
        where eager's time for the call is known (the signature's first call ran
        eagerly), once the jit has saved twice that over eager since the trace: the
        program stays faster than eager even if it ends right after the compile. A plan
        that saves little unfused (a long arithmetic chain, where fusion is the gain)
        still fuses once the compile is a tenth of the time its replays took."""
        if ledger.cost is None:
            ledger.cost = (self._fuse_after * (1.0 + plan.n_steps / FUSION_STEPS_PER_SECOND)
                           + _numba_start_seconds())
        if plan.replay_seconds < ledger.cost:
            return False
        return (entry.eager_seconds is None or ledger.saved >= 2.0 * ledger.cost
                or plan.replay_seconds >= 10.0 * ledger.cost)

    # -- signatures ---------------------------------------------------------
    def call_signature(self, args, kwargs):
        """``(key, leaves)``: the cache key of a call and its array/float leaves."""
        if not kwargs and not self.static_argnums:
            key = _positional_key(args)
            if key is not None:
                return key, args
        return self._general_signature(args, kwargs)

    def _general_signature(self, args, kwargs):
        """``call_signature`` of any call: every argument walked (containers, ints,
        static and keyword arguments; an object array refused)."""
        leaves = []
        parts = []
        for argnum, arg in enumerate(args):
            if argnum in self.static_argnums:
                parts.append(static_key(arg, f"static argument {argnum}"))
            else:
                parts.append(leaf_key(arg, leaves, f"argument {argnum}"))
        for name in sorted(kwargs):
            if name in self.static_argnames:
                parts.append((name, static_key(kwargs[name], f"static argument {name!r}")))
            else:
                parts.append((name, leaf_key(kwargs[name], leaves, f"argument {name!r}")))
        return tuple(parts), leaves

    def _describe_change(self, signature):
        previous = self._previous_signature
        self._previous_signature = signature
        if previous is None:
            return "first call"
        if len(previous) != len(signature):
            return "the number of arguments changed"
        names = self._argument_names(len(signature))
        for i, (old, new) in enumerate(zip(previous, signature)):
            if old != new:
                return f"{names[i]} changed: {_short(old)} -> {_short(new)}"
        return "a signature seen before was evicted from the cache"

    def _argument_names(self, n):
        try:
            params = list(inspect.signature(self.fun).parameters)
        except (TypeError, ValueError):
            params = []
        names = []
        for i in range(n):
            names.append(f"argument {i} ({params[i]!r})" if i < len(params)
                         and params[i] not in ("args", "kwargs") else f"argument {i}")
        return names

    # -- tracing ------------------------------------------------------------
    def _trace(self, signature, leaves, args, kwargs):
        self.stats["traces"] += 1
        # (Traces the function's own error ended are not retraces to warn of.)
        if self.stats["traces"] - self._traces_raised == RETRACE_WARNING_THRESHOLD + 1:
            warnings.warn(f"jit: {self!r} has been traced {self.stats['traces']} times; "
                          f"the latest trace was caused by: {self.last_miss}. Keep array "
                          "shapes fixed; strings, bools and static arguments are part of the "
                          "signature, and a value Python needs (float(x), range(n), a slice "
                          "bound, an if on a traced value) is guarded: each new one traces "
                          f"again (jitgrad.explain shows the guards){self._index_advice()}.",
                          stacklevel=user_stacklevel())
        rng_state = np.random.get_state()
        start = time.perf_counter()
        try:
            with _collector_paused():
                try:
                    out, plan = self._trace_plan(signature, leaves, args, kwargs)
                except BoxingChanged:  # (captured_arrays.py) again, the arrays plain
                    np.random.set_state(rng_state)
                    out, plan = self._trace_plan(signature, leaves, args, kwargs,
                                                 box_captured=False)
        except ReturnsFunction:
            np.random.set_state(rng_state)
            with self._lock:
                self._cache[signature] = _STAGED
            return self._staged_call(args, kwargs)
        except TraceUnsupported as reason:
            if reason.result is not NO_RESULT:
                # f ran to the end: its traced answer is eager's; only replay is unsafe.
                self._fall_back(signature, str(reason))
                return reason.result
            np.random.set_state(rng_state)
            if isinstance(reason, PrimitiveRaised):
                # Eagerly, the error meets the same Python: raised to the caller (nothing
                # is cached, so a later call traces as usual), or caught by the function,
                # whose except branch a plan cannot replay: the signature runs eagerly.
                try:
                    out = self.fun(*args, **kwargs)
                except Exception:
                    self._traces_raised += 1
                    raise
                self._fall_back(signature, str(reason))
                return out
            self._fall_back(signature, str(reason))
            return self.fun(*args, **kwargs)
        except Exception:
            self._traces_raised += 1  # the function's own error, raised to the caller
            raise
        with self._lock:
            entry = self._cache.get(signature)
            if entry is None or entry is _EAGER:
                entry = self._cache[signature] = _Paths()
            ledger = _ledger(plan)
            entry.trace_seconds = time.perf_counter() - start
            note_trace()
            if entry.eager_seconds is not None:
                # What the trace cost over an eager call counts against the plan.
                ledger.saved = entry.eager_seconds - entry.trace_seconds
            entry.insert(0, plan)
            entry.traces += 1
            del entry[MAX_PATHS_PER_SIGNATURE:]
            self._evict()
        if self._reads.unseen:
            self._share_plans()
        logger.debug("traced %r (%s): %d steps, %d guards", self, self.last_miss,
                     plan.n_steps, plan.n_guards)
        return out

    def _trace_plan(self, signature, leaves, args, kwargs, box_captured=True):
        with TraceLevel(GraphNode) as trace_id:
            rec = Recorder(trace_id)
            if box_captured:
                rec.captured = CapturedAsConstants(self._reads, trace_id, GraphNode) or None
            previous = hooks.install(rec)
            try:
                positions = iter(range(len(leaves)))

                def box_leaf(value):
                    return new_box(value, trace_id, GraphNode.new_root(value, next(positions)))
                boxed_args = [arg if i in self.static_argnums else map_leaves(arg, box_leaf)
                              for i, arg in enumerate(args)]
                # Keyword leaves in sorted-name order, as _general_signature lists them
                # (a replay hands them over in that order, whatever order they came in).
                boxed_kwargs = {k: kwargs[k] if k in self.static_argnames else
                                map_leaves(kwargs[k], box_leaf) for k in sorted(kwargs)}
                state_before = np.random.get_state()
                if rec.captured is None:
                    out = self.fun(*boxed_args, **boxed_kwargs)
                else:
                    out = self._run_boxing_captured(rec, boxed_args, boxed_kwargs)
                if rec.refusals:  # caught by the function: its answer need not be eager's
                    raise rec.refusals[0]
                try:
                    rec.graph.outputs = output_tree(out, trace_id)
                    rec.graph.freeze_captured()
                    rec.graph.check_random_draws(state_before)
                except (ReturnsFunction, LazyOutput):
                    raise
                except TraceUnsupported as reason:
                    if rec.captured is not None:
                        raise BoxingChanged() from reason
                    reason.result = plain_tree(out)
                    raise
            finally:
                hooks.install(previous)
        # (Arrays the result holds twice are copied apart, as its replays' are.)
        return writeable_arrays(plain_tree(out)), Plan(rec.graph, len(leaves),
                                                       fuse=self._fuse_after <= 0)

    def _run_boxing_captured(self, rec, args, kwargs):
        """The function on traced arguments, the arrays it captures boxed; raises
        ``BoxingChanged`` wherever the boxes may have changed what it does: it wrote
        into one or bound its name anew, raised, or met code the jit refuses (all
        rare; traced again plain)."""
        try:
            with rec.captured:
                out = self.fun(*args, **kwargs)
        except (ReturnsFunction, LazyOutput):
            raise
        except Exception as error:
            raise BoxingChanged() from error
        if rec.captured.changed or rec.refusals:
            raise BoxingChanged()
        return out

    def _fall_back(self, signature, reason):
        self.stats["fallbacks"] += 1
        with self._lock:
            self._cache[signature] = _EAGER
        self._warn_once(f"jit: {self!r} runs eagerly for these argument types because "
                        f"{reason}.")

    def _warn_once(self, message):
        if message not in self._warned:
            self._warned.add(message)
            warnings.warn(message, stacklevel=user_stacklevel())

    def _staged_call(self, args, kwargs):
        """For a function that returns functions (``make_vjp``'s vjp, ``make_jvp``'s
        jvp): run it eagerly, and hand back each returned function jitted as a
        function of both the outer arguments and its own."""
        return _replace_callables(self.fun(*args, **kwargs), (), self, args, kwargs)

    def _staged_function(self, path):
        with self._lock:
            if path not in self._staged:
                def call_returned(outer_args, outer_kwargs, inner_args, inner_kwargs):
                    returned = pick(self.fun(*outer_args, **outer_kwargs), path)
                    return returned(*inner_args, **inner_kwargs)
                call_returned.__name__ = f"{getattr(self.fun, '__name__', 'f')}_returned"
                self._staged[path] = JitFunction(call_returned)
            return self._staged[path]

    # -- introspection ------------------------------------------------------
    def explain(self, *args, **kwargs):
        """Print (and return) what a call with these arguments runs: the graph, its
        guards and the plan, traced now if needed, with the cache counters."""
        if not args and not kwargs:
            try:
                return self._explain((), {})
            except Exception as error:
                raise TypeError(
                    f"explain({self!r}) with no arguments failed ({type(error).__name__}: "
                    f"{error}). A plan is traced for the arguments of a call (their shapes "
                    "and dtypes): pass them, explain(f, x, ...).") from error
        return self._explain(args, kwargs)

    def _explain(self, args, kwargs):
        signature, leaves = self.call_signature(args, kwargs)
        with self._lock:
            entry = self._cache.get(signature)
        if entry is None or (type(entry) is _Paths and not entry):
            # Traced now, even where the tiers would run this call eagerly.
            if entry is None:
                self.last_miss = self._describe_change(signature)
            self._trace(signature, leaves, args, kwargs)
            with self._lock:
                entry = self._cache.get(signature)
        lines = [f"{self!r}: {self.stats}", f"last cache miss: {self.last_miss}"]
        if entry is _EAGER or entry is None:
            lines.append("runs eagerly for this signature (see the warning it gave)")
        else:
            for number, plan in enumerate(entry):
                lines.append(f"--- path {number}: {plan.n_steps} steps, "
                             f"{plan.n_guards} guards, {plan.n_kernels} fused kernels ---")
                lines.append("graph:")
                lines.append(str(plan.graph))
                lines.append("plan:")
                lines.append(plan.source.rstrip())
                for number, kernel in enumerate(plan.kernels):
                    lines.append(f"kernel k{number}: {kernel!r}, fusing "
                                 + ", ".join(f"%{s.index}" for s in kernel.region.steps))
                    lines.append(kernel.source.rstrip())
        text = "\n".join(lines)
        print(text)
        return text

    def clear_cache(self):
        with self._lock:
            self._cache.clear()


# The plan caches of functions traced before, by function_key; the oldest is
# dropped past this many (each is itself bounded: MAX_SIGNATURES x MAX_PATHS plans).
MAX_SHARED_FUNCTIONS = 128
_shared_plans = OrderedDict()
_shared_lock = threading.Lock()
# A key naming an array (a closure's data) can never match once that array is gone,
# and its plans hold copies of it: they go with it. One finalizer per array (a global
# dataset read by many functions has one), which only appends the array's id: it may
# run at any allocation, inside the lock too. The next lookup drops the entries.
_entry_arrays = {}  # key -> ids of the arrays it names
# The latest functions keyed over arrays no stored key names (``reads.unseen``), by that
# key (the arrays' identities) with a weak reference to each array read, until one of
# their objects traces (_share_plans): an object made again over the same arrays shares
# their cache, so that an operator rebuilt at every call (jacobian(layer) on each
# evaluation of an ODE's right side) counts its eager calls in one place and reaches
# its trace. A weak reference found dead is an identity another array took: no match.
MAX_UNSEEN_FUNCTIONS = 16
_unseen_plans = OrderedDict()
_watched = set()  # ids of the arrays with a finalizer
_dead_ids = []


def clear_shared_plans():
    """Forget every function's plans (jitted objects made after this trace again)."""
    with _shared_lock:
        _shared_plans.clear()
        _entry_arrays.clear()
        _unseen_plans.clear()


def _plans_for(fun, static_argnums, static_argnames, reads):
    """``(plan cache, its lock, staged functions)``: shared with earlier jitted objects of
    the same function, or new ones when the function has no key (function_key, which
    records in ``reads`` what it read). Where the function reads an array no stored key
    names (``reads.unseen``: a closure over this step's minibatch), shared only with
    the latest objects made over the same arrays (``_unseen_plans``) until a plan is
    traced, when ``_share_plans`` stores them under the full key."""
    key = function_key(fun, reads)
    if key is None:
        return Signatures(), threading.RLock(), {}
    full = _full_key(key, static_argnums, static_argnames)
    if reads.unseen:
        return _share_unseen(full, reads.arrays)
    return _share(full, reads.arrays, None)


def _share_unseen(key, arrays):
    """The state of the latest object made under ``key``, a key naming ``arrays`` by
    identity alone, where they are still those arrays; new ones otherwise."""
    with _shared_lock:
        stored = _unseen_plans.get(key)
        if stored is not None:
            state, alive = stored
            if len(alive) == len(arrays) and all(
                    ref() is array for ref, array in zip(alive, arrays)):
                _unseen_plans.move_to_end(key)
                return state
        state = Signatures(), threading.RLock(), {}
        _unseen_plans[key] = state, [weakref.ref(array) for array in arrays]
        while len(_unseen_plans) > MAX_UNSEEN_FUNCTIONS:
            _unseen_plans.popitem(last=False)
        return state


def _full_key(key, static_argnums, static_argnames):
    # Plans are built under the JITGRAD_* settings of their time (fusion, kernel cache).
    return (key, tuple(sorted(static_argnums)), tuple(sorted(static_argnames, key=str)),
            _jit_settings())


def _share(key, arrays, state):
    """The state stored under ``key``, or ``state`` (new ones if None) stored there."""
    with _shared_lock:
        if _dead_ids:
            _drop_dead_entries()
        stored = _shared_plans.get(key)
        if stored is not None:
            _shared_plans.move_to_end(key)
            return stored
        state = _shared_plans[key] = state or (Signatures(), threading.RLock(), {})
        while len(_shared_plans) > MAX_SHARED_FUNCTIONS:
            _entry_arrays.pop(_shared_plans.popitem(last=False)[0], None)
        if arrays:
            _entry_arrays[key] = frozenset(map(id, arrays))
            for array in arrays:
                if id(array) not in _watched:
                    _watched.add(id(array))
                    weakref.finalize(array, _dead_ids.append, id(array))
        return state


def _drop_dead_entries():
    """Drop the entries naming an array that died (the lock held)."""
    dead = set()
    while _dead_ids:
        dead.add(_dead_ids.pop())
    _watched.difference_update(dead)
    for key in [key for key, ids in _entry_arrays.items() if ids & dead]:
        del _entry_arrays[key]
        _shared_plans.pop(key, None)


def _jit_settings():
    """The JITGRAD_* environment variables, sorted. Read from the environment's raw
    bytes where CPython keeps them: ``os.environ``'s own iteration decodes every
    variable, which cost more than an eager call of a small function (an operator
    rebuilt on every evaluation of an ODE's right side pays this each time)."""
    raw = getattr(os.environ, "_data", None)
    if type(raw) is not dict:
        raw = os.environ
    prefix = b"JITGRAD_" if type(next(iter(raw), "")) is bytes else "JITGRAD_"
    return tuple(sorted((k, v) for k, v in raw.items() if k.startswith(prefix)))


def explain(fun, *args, **kwargs):
    """``jit(fun).explain(*args)``: print the graph, guards and plan of a call."""
    return (fun if isinstance(fun, JitFunction) else jit(fun)).explain(*args, **kwargs)


@contextlib.contextmanager
def steady_state_tiers():
    """Jitted functions made inside trace at their first call and fuse at the trace
    (the tier settings are read when a jitted function is made): for timing a few
    calls in the steady state, as the demo and the benchmarks do."""
    settings = {"JITGRAD_TRACE_AFTER": "0", "JITGRAD_FUSE_AFTER": "0"}
    before = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                del os.environ[name]
            else:
                os.environ[name] = value


def fuse_after_seconds():
    """How long a plan's replays run unfused before it is fused (``JITGRAD_FUSE_AFTER``,
    seconds; 0 fuses at the first call): about what compiling its kernels costs in a
    new process, so that fusing never makes a short program slower."""
    return settings.number("JITGRAD_FUSE_AFTER", DEFAULT_FUSE_AFTER_SECONDS)


DEFAULT_FUSE_AFTER_SECONDS = 1.0
# The first fusion in a process also starts Numba (its import and first compile, and
# kernels' vmath functions, compiled once per process): chain 1e6's first fusion took
# 3.8 s with an empty kernel cache, 0.7 s from a warm one. Counted once, while Numba
# is not imported: a short program then ends before fusing rather than pay it
# unearned (chain 1e6, 100 calls, had become 1.1x eager's time).
NUMBA_START_SECONDS = 1.0
# A bigger plan has more kernels to compile: fusing a plan of this many steps is taken
# to cost twice JITGRAD_FUSE_AFTER (fluidsim 64x64, 50 steps: about 20k steps, ~6 s).
FUSION_STEPS_PER_SECOND = 4000


def _numba_start_seconds():
    return 0.0 if "numba" in sys.modules else NUMBA_START_SECONDS


def trace_after_calls():
    """How many calls of a new signature or path run eagerly before one is traced
    (``JITGRAD_TRACE_AFTER``; 0 traces at the first call)."""
    return settings.number(TRACE_AFTER_SETTING, DEFAULT_TRACE_AFTER_CALLS, int)


TRACE_AFTER_SETTING = "JITGRAD_TRACE_AFTER"


DEFAULT_TRACE_AFTER_CALLS = 1
# A function whose traces served fewer than HITS_PER_TRACE_TO_PAY calls each (judged
# from MIN_TRACES_JUDGED traces on) traces a new signature after SLOW_TRACE_AFTER_FACTOR
# times more eager calls (``_calls_before_trace``).
HITS_PER_TRACE_TO_PAY = 8
MIN_TRACES_JUDGED = 4
SLOW_TRACE_AFTER_FACTOR = 8
# The same for a signature's new paths (``_sightings_before_trace``), judged from its
# second trace: a fixed-point loop of 25 calls (5 ms each eagerly, 35 ms to trace)
# took 2x eager's time with four traces before the judgement.
MIN_PATH_TRACES_JUDGED = 2
MAX_PATH_SIGHTINGS = 16
# A new signature's wait for its first trace (``_calls_before_trace``) is at most this
# many eager calls: a scalar derivative's trace costs 20-50 of its calls. (Calls of
# other threads counted in its estimate can only make it wait longer, up to this.)
MAX_CALLS_BEFORE_TRACE = 64
# ... and at least this many, the estimate taken from the fastest: a signature's first
# call is cold (autograd's VAE example: 68 ms, then 37 ms), and its time alone made the
# trace look cheap in eager calls.
WARM_EAGER_CALLS = 2


class _Paths(list):
    """The plans of one signature, most recently useful first, with how often the
    cached ones served a call and how often none fitted (a new path); the calls run
    eagerly before the first trace, the fastest of them, the new paths seen (fewer
    times than ``trace_after``) by where the plans failed, the calls that needed one,
    and the time replays that failed at a guard took."""
    __slots__ = ("hits", "retraces", "eager_calls", "eager_seconds", "eager_steps",
                 "new_paths", "array_misses", "hits_at_array_miss", "signature", "fits",
                 "express", "new_path_calls", "wasted", "traces", "trace_seconds",
                 "tallies")

    def __init__(self):
        super().__init__()
        self.signature = self.fits = None  # set once recognizable (signature_cache.py)
        self.express = None  # replays the first plan (express.py); reset when it changes
        self.hits = self.retraces = self.eager_calls = self.new_path_calls = 0
        self.tallies = []  # the calls fronts served, not yet counted in hits (_Tally)
        self.traces = 0  # plans traced for it
        self.trace_seconds = None  # what its latest trace took
        self.wasted = 0.0  # seconds of replays that failed at a guard (_other_paths)
        # New paths in a row named by a guard on an array (hits since: a reset).
        self.array_misses = self.hits_at_array_miss = 0
        self.eager_seconds = None
        self.eager_steps = 0  # primitive calls of the fastest eager call (trace_cost.py)
        self.new_paths = {}

    def served(self):
        """The calls its plans served: ``hits`` and what fronts served since."""
        if not self.tallies:
            return self.hits
        return self.hits + sum(tally.n for tally in self.tallies)

    # Whatever changes the plans or their order forgets the express function.
    def insert(self, index, plan):
        self.express = None
        super().insert(index, plan)

    def remove(self, plan):
        self.express = None
        super().remove(plan)

    def __delitem__(self, index):
        self.express = None
        super().__delitem__(index)


def _replay_counting_waste(entry, plan, leaves):
    """A fused plan's replay, its time added to ``entry.wasted`` where a guard fails."""
    start = time.perf_counter()
    try:
        return plan(leaves)
    except GuardFailed:
        entry.wasted += time.perf_counter() - start
        raise


class _Ledger:
    """A plan's accounts: when it was traced (a serial number), the time its replays
    (less its trace) saved over eager calls, and the estimated cost of fusing it."""
    __slots__ = ("serial", "saved", "cost")

    def __init__(self):
        self.serial = next(_serials)
        self.saved = 0.0
        self.cost = None


_serials = itertools.count()


def _ledger(plan):
    try:
        return plan.fusion_ledger
    except AttributeError:
        plan.fusion_ledger = _Ledger()
        return plan.fusion_ledger


@contextlib.contextmanager
def _collector_paused():
    """Python's cyclic garbage collector paused while tracing and building a plan: the
    hundreds of thousands of nodes, boxes and closures made then hold no garbage
    cycles worth collecting, and full collections over them cost seconds."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _guard_key(number, seen):
    try:
        hash(seen)
    except TypeError:  # an array (a guarded index): not remembered
        return None
    return number, type(seen), seen


def _is_array(seen):
    return isinstance(seen, np.ndarray) and seen.size > 1


def _seen_key(seen):
    """A hashable stand-in for a value a guard saw (an array's dtype, shape and bytes)."""
    if isinstance(seen, np.ndarray):
        return (seen.dtype.str, seen.shape, seen.tobytes())
    try:
        hash(seen)
    except TypeError:
        return repr(seen)
    return (type(seen), seen)


def _remember(failures, plan):
    for failed, key in failures:
        failed.next_by_guard[key] = plan


def _promote(entry, plan):
    if plan in entry:
        entry.remove(plan)
        entry.insert(0, plan)


def _replace_callables(value, path, jitted, args, kwargs):
    """``value`` with each function in it replaced by a jitted one (see ``_staged_call``);
    ``path`` is the position of ``value`` in the output tree (``signature.pick``)."""
    node = tree.children(value)
    if node is not None:
        parts, rebuild = node
        return rebuild([_replace_callables(part, path + (i,), jitted, args, kwargs)
                        for i, part in enumerate(parts)])
    if callable(value) and not isinstance(value, type):
        staged = jitted._staged_function(path)

        @functools.wraps(value)
        def returned(*inner_args, **inner_kwargs):
            return staged(args, kwargs, inner_args, inner_kwargs)
        return returned
    return value


def _short(key):
    text = repr(key)
    return text if len(text) < 80 else text[:77] + "..."
