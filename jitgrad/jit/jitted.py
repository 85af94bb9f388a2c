"""``jit``: trace a function once per signature and path, then replay its plan.

The signature of a call is the tree structure of its arguments, the shapes and
dtypes of its arrays, the types of its float and complex scalars, and the values
of everything else (ints, strings, static arguments). Each signature keeps a few
plans, one per path through the function's Python control flow; a plan whose
guard fails hands over to the next one, and when none fits the function is traced
again. A function the tracer cannot follow runs eagerly, with one warning.
"""
import contextlib
import copy
import functools
import gc
import inspect
import sys
import logging
import os
import threading
import time
import warnings
from collections import OrderedDict

import numpy as np

from ..trace import hooks, tree
from ..trace.core import TraceLevel, innermost_level, new_box
from .graph import NO_RESULT, GraphNode, TraceUnsupported
from .recorder import Recorder
from .plan import GuardFailed, Plan
from .function_key import function_key
from .signature import (Boxed, LazyOutput, ReturnsFunction, UnsafeArgument, leaf_key, map_leaves,
                        output_tree, pick, plain_tree, static_key)

logger = logging.getLogger("jitgrad.jit")

MAX_PATHS_PER_SIGNATURE = 8
MAX_SIGNATURES = 64
RETRACE_WARNING_THRESHOLD = 10
_EAGER = "eager"
_STAGED = "staged"


def jit(fun=None, static_argnums=(), static_argnames=()):
    """Compile ``fun`` by tracing: later calls with the same signature replay a plan.

    ``jit(grad(f))`` is the same as ``grad(f, jit=True)``. Python control flow on
    traced values is allowed: the value seen is guarded, and a call that goes
    another way is traced again. Python side effects (print, appending to a list)
    happen only while tracing. Arrays captured from the enclosing scope are
    constants of the trace: pass data that changes between calls as arguments.
    """
    if fun is None:
        return functools.partial(jit, static_argnums=static_argnums,
                                 static_argnames=static_argnames)
    if isinstance(fun, JitFunction) and not static_argnums and not static_argnames:
        return fun
    return JitFunction(fun, static_argnums, static_argnames)


class JitFunction:
    def __init__(self, fun, static_argnums=(), static_argnames=()):
        functools.update_wrapper(self, fun, updated=())
        self.fun = fun
        if isinstance(static_argnums, int):
            static_argnums = (static_argnums,)
        if isinstance(static_argnames, str):
            static_argnames = (static_argnames,)
        self.static_argnums = frozenset(static_argnums)
        self.static_argnames = frozenset(static_argnames)
        self.stats = {"traces": 0, "hits": 0, "guard_misses": 0, "fallbacks": 0,
                      "passthrough": 0}
        # Plans (and the lock guarding them) are shared with every jitted object made
        # for the same function before: an operator rebuilt in a loop traces once.
        self._cache, self._lock, self._staged = _plans_for(fun, self.static_argnums,
                                                          self.static_argnames)
        self._warned = set()
        self._previous_signature = None
        self.last_miss = None

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
                              tuple(self.static_argnames)))

    def __deepcopy__(self, memo):
        return JitFunction(copy.deepcopy(self.fun, memo), tuple(self.static_argnums),
                           tuple(self.static_argnames))

    def __get__(self, instance, owner):
        return self if instance is None else functools.partial(self, instance)

    def __call__(self, *args, **kwargs):
        if innermost_level() is not None:
            # Inside grad/jvp/jit of an enclosing function, whose traced values may
            # also reach f through its closure: run the Python so they see it all.
            self.stats["passthrough"] += 1
            return self.fun(*args, **kwargs)
        try:
            signature, leaves = self.call_signature(args, kwargs)
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
            return self._trace(signature, leaves, args, kwargs)
        if entry is _EAGER:
            return self.fun(*args, **kwargs)
        if entry is _STAGED:
            return self._staged_call(args, kwargs)
        try:
            self._cache.move_to_end(signature)
        except KeyError:  # evicted by another thread meanwhile
            pass
        candidates = list(entry)
        failures = []
        while candidates:
            plan = candidates.pop(0)
            state = np.random.get_state() if plan.has_random else None
            try:
                if plan.fused:
                    out = plan(leaves)
                else:
                    out = self._replay_unfused(plan, leaves)
            except GuardFailed as failure:
                self.stats["guard_misses"] += 1
                number, seen = failure.args
                self.last_miss = f"{plan.guards[number]} failed"
                if state is not None:
                    np.random.set_state(state)
                key = _guard_key(number, seen)
                if key is not None:
                    failures.append((plan, key))
                    successor = plan.next_by_guard.get(key)
                    if successor in candidates:  # it went this way before: try it next
                        candidates.remove(successor)
                        candidates.insert(0, successor)
                continue
            self.stats["hits"] += 1
            entry.hits += 1
            _remember(failures, plan)
            if plan is not entry[0]:
                with self._lock:
                    _promote(entry, plan)
            return out
        entry.retraces += 1
        if entry.retraces > MAX_PATHS_PER_SIGNATURE and entry.retraces > entry.hits:
            # Python's control flow takes a new path on most calls (a loop that stops
            # on a value, a plain table indexed by traced indices): tracing each time
            # would be slower than running eagerly.
            self._fall_back(signature, f"a new path is traced on most calls ({entry.retraces} "
                                       f"of {entry.retraces + entry.hits}; the latest: "
                                       f"{self.last_miss})")
            return self.fun(*args, **kwargs)
        out = self._trace(signature, leaves, args, kwargs)
        entry = self._cache.get(signature)
        if failures and isinstance(entry, list) and entry:
            _remember(failures, entry[0])  # the plan just traced
        return out

    def _replay_unfused(self, plan, leaves):
        """Replay a plan that has no kernels yet, timing it: once its replays have
        taken ``fuse_after_seconds()`` in all, it is rebuilt with fused kernels (whose
        compile a short program would not have earned back)."""
        start = time.perf_counter()
        out = plan(leaves)
        plan.replay_seconds += time.perf_counter() - start
        if plan.replay_seconds >= fuse_after_seconds():
            with self._lock:
                plan.fuse()
        return out

    # -- signatures ---------------------------------------------------------
    def call_signature(self, args, kwargs):
        """``(key, leaves)``: the cache key of a call and its array/float leaves."""
        if not kwargs and not self.static_argnums:
            # The common call, positional arrays only, without the general walk.
            parts = []
            for arg in args:
                if type(arg) is not np.ndarray or arg.dtype.hasobject:
                    break
                parts.append((arg.shape, arg.dtype))
            else:
                return tuple(parts), list(args)
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
        if self.stats["traces"] == RETRACE_WARNING_THRESHOLD + 1:
            warnings.warn(f"jit: {self!r} has been traced {self.stats['traces']} times; "
                          f"the latest trace was caused by: {self.last_miss}. Keep array "
                          "shapes fixed; strings, bools and static arguments are part of the "
                          "signature, and a value Python needs (float(x), range(n), a slice "
                          "bound, an if on a traced value) is guarded: each new one traces "
                          "again (jitgrad.explain shows the guards).",
                          stacklevel=3)
        rng_state = np.random.get_state()
        try:
            with _collector_paused():
                out, plan = self._trace_plan(signature, leaves, args, kwargs)
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
            self._fall_back(signature, str(reason))
            return self.fun(*args, **kwargs)
        with self._lock:
            entry = self._cache.get(signature)
            if entry is None or entry is _EAGER:
                entry = self._cache[signature] = _Paths()
            entry.insert(0, plan)
            del entry[MAX_PATHS_PER_SIGNATURE:]
            while len(self._cache) > MAX_SIGNATURES:
                self._cache.popitem(last=False)
        logger.debug("traced %r (%s): %d steps, %d guards", self, self.last_miss,
                     plan.n_steps, plan.n_guards)
        return out

    def _trace_plan(self, signature, leaves, args, kwargs):
        with TraceLevel(GraphNode) as trace_id:
            rec = Recorder(trace_id)
            previous = hooks.install(rec)
            try:
                positions = iter(range(len(leaves)))

                def box_leaf(value):
                    return new_box(value, trace_id, GraphNode.new_root(value, next(positions)))
                boxed_args = [arg if i in self.static_argnums else map_leaves(arg, box_leaf)
                              for i, arg in enumerate(args)]
                boxed_kwargs = {k: v if k in self.static_argnames else map_leaves(v, box_leaf)
                                for k, v in kwargs.items()}
                state_before = np.random.get_state()
                out = self.fun(*boxed_args, **boxed_kwargs)
                try:
                    rec.graph.outputs = output_tree(out, trace_id)
                    rec.graph.freeze_captured()
                    rec.graph.check_random_draws(state_before)
                except (ReturnsFunction, LazyOutput):
                    raise
                except TraceUnsupported as reason:
                    reason.result = plain_tree(out)
                    raise
            finally:
                hooks.install(previous)
        return plain_tree(out), Plan(rec.graph, len(leaves), fuse=fuse_after_seconds() <= 0)

    def _fall_back(self, signature, reason):
        self.stats["fallbacks"] += 1
        with self._lock:
            self._cache[signature] = _EAGER
        self._warn_once(f"jit: {self!r} runs eagerly for these argument types because "
                        f"{reason}.", stacklevel=5)

    def _warn_once(self, message, stacklevel=4):
        if message not in self._warned:
            self._warned.add(message)
            warnings.warn(message, stacklevel=stacklevel)

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
        signature, leaves = self.call_signature(args, kwargs)
        with self._lock:
            entry = self._cache.get(signature)
        if entry is None:
            self(*args, **kwargs)
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


def clear_shared_plans():
    """Forget every function's plans (jitted objects made after this trace again)."""
    with _shared_lock:
        _shared_plans.clear()


def _plans_for(fun, static_argnums, static_argnames):
    """``(plan cache, its lock, staged functions)``: shared with earlier jitted objects of
    the same function, or new ones when the function has no key (function_key)."""
    key = function_key(fun)
    if key is None:
        return OrderedDict(), threading.RLock(), {}
    # Plans are built under the JITGRAD_* settings of their time (fusion, kernel cache).
    settings = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("JITGRAD_")))
    key = (key, tuple(sorted(static_argnums)), tuple(sorted(static_argnames, key=str)),
           settings)
    with _shared_lock:
        state = _shared_plans.get(key)
        if state is None:
            state = _shared_plans[key] = (OrderedDict(), threading.RLock(), {})
            while len(_shared_plans) > MAX_SHARED_FUNCTIONS:
                _shared_plans.popitem(last=False)
        else:
            _shared_plans.move_to_end(key)
        return state


def explain(fun, *args, **kwargs):
    """``jit(fun).explain(*args)``: print the graph, guards and plan of a call."""
    return (fun if isinstance(fun, JitFunction) else jit(fun)).explain(*args, **kwargs)


def fuse_after_seconds():
    """How long a plan's replays run unfused before it is fused (``JITGRAD_FUSE_AFTER``,
    seconds; 0 fuses at the first call): about what compiling its kernels costs in a
    new process, so that fusing never makes a short program slower."""
    try:
        return float(os.environ.get("JITGRAD_FUSE_AFTER", DEFAULT_FUSE_AFTER_SECONDS))
    except ValueError:
        return DEFAULT_FUSE_AFTER_SECONDS


DEFAULT_FUSE_AFTER_SECONDS = 1.0


class _Paths(list):
    """The plans of one signature, most recently useful first, with how often the
    cached ones served a call and how often none fitted and f was traced again."""
    __slots__ = ("hits", "retraces")

    def __init__(self):
        super().__init__()
        self.hits = self.retraces = 0


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
