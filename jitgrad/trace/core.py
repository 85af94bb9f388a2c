"""The tracer: trace levels, boxes, nodes and primitives.

Knows nothing about derivatives. A *trace* is one level of recording: while
``trace(node_type, fun, x)`` runs, ``x`` is wrapped in a Box tagged with a new
trace id, and every primitive called on that box records a node of
``node_type``. Trace ids grow, so nested traces (gradients of gradients, forward
over reverse, and later the jit's graph tracer at the outermost level) are
told apart by comparing ids: a primitive always handles its newest trace first.
"""
import inspect
import itertools
import threading
import warnings
from functools import wraps

from . import tree
from .hooks import primitive_raised, state as _hooks

from .array_subclasses import unsupported_array
from .deprecated import attach_old_methods

_trace_ids = itertools.count(1)
_local = threading.local()
# Primitive calls made in this process, on plain values or traced (every thread's, so
# approximate under threads): the jit estimates from an eager call's count what
# tracing the function would cost (jit/trace_cost.py).
_primitive_calls = 0


def primitive_calls():
    return _primitive_calls


# Trace levels open in all threads together (plain scopes not counted): a jitted
# object's express call reads this one number, and its thread's own stack only while
# some thread has a level open (jit/express.py).
open_levels = [0]
_open_levels_lock = threading.Lock()


def _active_traces():
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    return stack


class TraceLevel:
    """Context manager that opens one new, innermost level of tracing.

    ``node_type`` is the kind of node this level records; it lets code that
    creates values inside a traced function (``new_constant_box``) join it.
    """
    __slots__ = ("id", "node_type")

    def __init__(self, node_type=None):
        self.node_type = node_type

    def __enter__(self):
        self.id = next(_trace_ids)
        with _open_levels_lock:  # (counted before it is pushed: never under-counted)
            open_levels[0] += 1
        _active_traces().append(self)
        return self.id

    def __exit__(self, *exc):
        _active_traces().pop()
        with _open_levels_lock:
            open_levels[0] -= 1
        return False


class PlainScope:
    """Marks code that computes on plain values while trace levels are open: a
    primitive's body, a derivative rule. Values created there (``np.zeros`` ...)
    stay plain NumPy arrays, as they would be outside any transformation; a trace
    level opened inside (a rule that differentiates) starts above the mark."""
    __slots__ = ()
    id = None

    def __enter__(self):  # entered for every rule and body: kept to two lookups
        try:
            _local.stack.append(self)
        except AttributeError:
            _active_traces().append(self)

    def __exit__(self, *exc):
        _local.stack.pop()
        return False


plain_scope = PlainScope()


def innermost_level():
    """The innermost trace level open for the code running now, or None (no
    transformation, or code inside a primitive's body or a derivative rule)."""
    try:  # (on every jitted call: two lookups where the stack exists)
        levels = _local.stack
    except AttributeError:
        levels = _active_traces()
    if not levels or levels[-1] is plain_scope:
        return None
    return levels[-1]


def _open_here(trace_id):
    """Whether the trace level ``trace_id`` is open in this thread."""
    return any(level.id == trace_id for level in getattr(_local, "stack", ()))


def trace_depth():
    """How many trace levels are open in this thread (0 outside any transform)."""
    return sum(1 for level in _active_traces() if level is not plain_scope)


class Node:
    """How one traced value was computed, as a node type of a transformation sees it.

    Subclasses (VJPNode, JVPNode, later the jit's graph node) implement
    ``__init__(value, fun, args, kwargs, parent_argnums, parents)`` and
    ``initialize_root(*args)``.
    """
    __slots__ = ()

    def __init__(self, value, fun, args, kwargs, parent_argnums, parents):
        raise NotImplementedError

    def initialize_root(self, *args, **kwargs):
        raise NotImplementedError

    @classmethod
    def new_root(cls, *args, **kwargs):
        root = cls.__new__(cls)
        root.initialize_root(*args, **kwargs)
        return root

    @classmethod
    def new_constant(cls, value):
        """A node for a value that does not depend on the traced input."""
        node = cls.__new__(cls)
        node.initialize_constant(value)
        return node

    def initialize_constant(self, value):
        raise NotImplementedError


class Box:
    """A value being traced at one trace level, with the node that made it."""
    __slots__ = ("_value", "_trace", "_node")
    type_mappings = {}
    types = set()

    def __init__(self, value, trace, node):
        self._value = value
        self._trace = trace
        self._node = node

    def __bool__(self):
        return concrete(self, bool)

    def __str__(self):
        return f"Traced<{self._value}>"

    __repr__ = __str__

    def _as_operand(self):
        """This box as a newer level's node records it among its operands. A box that
        never changes is recorded itself; a class whose boxes are rebound by in-place
        writes (ArrayBox) records a snapshot, so that a later write cannot change the
        operand a derivative rule reads."""
        return self

    @classmethod
    def register(cls, value_type):
        """Box values of ``value_type`` with this class when they are traced."""
        Box.types.add(cls)
        Box.type_mappings[value_type] = cls
        Box.type_mappings[cls] = cls


def concrete(box, convert):
    """``convert(value)`` of a traced value for Python (``bool``, ``float``, ``int`` ...).

    Under the jit the value seen is recorded as a guard, so that a replay with a
    different outcome traces again instead of following the recorded path.
    """
    result = convert(box._value)
    rec = getattr(_hooks, "observer", None)
    if rec is not None:
        rec.guard(box, convert, result)
    return result


def concrete_value(x):
    """The plain value of ``x``, which the jit guards (see ``concrete``) if traced."""
    return concrete(x, concrete_value) if type(x) in Box.types else x


# Functions ``register(cls) -> bool`` that make a family of types traceable the first
# time one is seen (every namedtuple class: see ``containers``).
lazy_registrars = []


def register_lazily(cls):
    """True when some registrar made ``cls`` traceable just now."""
    return any(register(cls) for register in lazy_registrars)


def new_box(value, trace, node):
    try:
        return Box.type_mappings[type(value)](value, trace, node)
    except KeyError:
        if register_lazily(type(value)):
            return new_box(value, trace, node)
        problem = unsupported_array(value)
        if problem is not None:
            raise TypeError(f"A traced computation gave a {type(value).__name__}: it "
                            f"{problem}.") from None
        raise TypeError(
            f"jitgrad cannot trace a value of type {type(value).__name__} ({value!r:.60}). "
            "Differentiate with respect to floats, complex numbers, float arrays, or "
            "lists/tuples/dicts of them; register other types with Box.register and "
            "VSpace.register (jitgrad.extend).") from None


def isbox(x):
    return type(x) in Box.types


def getval(x):
    """The plain value inside any number of boxes."""
    while type(x) in Box.types:
        x = x._value
    return x


def user_getval(x):
    """``getval`` as user code sees it: the value inside the boxes of derivatives, but
    under the jit still the jit's traced value, so that a replay computes it anew
    instead of keeping the number the first call saw."""
    rec = getattr(_hooks, "observer", None)
    if rec is None:
        return getval(x)
    while type(x) in Box.types and x._trace != rec.trace_id:
        x = x._value
    return x


def trace(start_node, fun, x):
    """Run ``fun(x)`` with ``x`` boxed at a new trace level rooted at ``start_node``.

    Returns the plain output and the node that made it (None when the output
    does not depend on ``x``).
    """
    with TraceLevel(type(start_node)) as trace_id:
        start_box = new_box(x, trace_id, start_node)
        # An inner level that ended may still box values (e.g. an array assigned
        # into inside a nested grad): only this level's tracing matters here.
        end = strip_closed_boxes(fun(start_box))
        if not isbox(end):
            end = _pack_traced_container(end, trace_id)
        if isbox(end) and end._trace == trace_id:
            return end._value, end._node
        warnings.warn("Output seems independent of input.", stacklevel=3)
        return end, None


def _pack_traced_container(value, trace_id):
    """A plain container output (see ``tree``) holding boxes becomes one traced container."""
    if tree.children(value) is not None and tree.any_leaf(
            lambda leaf: isbox(leaf) and leaf._trace == trace_id, value):
        from .containers import pack_container
        return pack_container(value)
    return value


def primitive(f_raw, coerce=None):
    """Wrap ``f_raw`` so that calls on boxed arguments are recorded.

    Arguments boxed at the newest trace level are unboxed, the wrapped function
    is called again (so that older trace levels record too), and the answer is
    boxed with a node of that level's type. ``coerce(args)``, when given, runs
    first while a trace is open: it may turn arguments that hide traced values
    (a list of them, for a NumPy function taking array-likes) into traced ones.
    """
    # A body written in Python (a user's primitive) runs in a plain scope, so that
    # what it creates stays plain; NumPy's own functions need no marker.
    body = _in_plain_scope(f_raw) if _runs_user_code(f_raw) else f_raw

    @wraps(f_raw)
    def f_wrapped(*args, **kwargs):
        global _primitive_calls
        _primitive_calls += 1
        if kwargs and _local.__dict__.get("stack") and any(
                type(value) in Box.types for value in kwargs.values()):
            args, kwargs = _keywords_as_positions(f_raw, args, kwargs)
        if coerce is not None and _local.__dict__.get("stack"):
            args = coerce(args)
        top = 0
        for arg in args:
            if type(arg) in Box.types and arg._trace > top:
                top = arg._trace
        if top == 0:
            if kwargs and getattr(_hooks, "observer", None) is not None:
                kwargs = _hooks.observer.plain_keywords(f_wrapped, kwargs)
            return body(*args, **kwargs)
        rec = getattr(_hooks, "observer", None)
        if rec is not None and top == rec.trace_id and not getattr(
                f_wrapped, "keeps_traced_ints", False):
            # An integer the jit traces (an int argument, i + 1) passed to a function
            # whose result may take its shape from it (an axis, a count) is used as
            # the number it is, guarded; elementwise arithmetic keeps it traced.
            args = rec.plain_integers(args)
            if kwargs:
                kwargs = rec.plain_keywords(f_wrapped, kwargs)
            if not any(type(arg) in Box.types and arg._trace == top for arg in args):
                return f_wrapped(*args, **kwargs)
        if kwargs.get("out") is not None:
            _traced_out(f_wrapped, args, top)
        argnums, parents, unboxed = [], [], list(args)
        older = False  # whether an older level's box is left among the arguments
        for argnum, arg in enumerate(args):
            if type(arg) in Box.types:
                if arg._trace == top:
                    argnums.append(argnum)
                    parents.append(arg._node)
                    value = unboxed[argnum] = arg._value
                    older = older or type(value) in Box.types
                else:  # an older level's box: this level's node keeps it as it is now
                    unboxed[argnum] = arg._as_operand()
                    older = True
        node_type = type(parents[0])
        if notrace_primitives and f_wrapped in notrace_primitives.get(node_type, ()):
            return f_wrapped(*unboxed, **kwargs)
        if older or kwargs:
            ans = f_wrapped(*unboxed, **kwargs)  # older levels record it too
        else:
            try:
                ans = body(*unboxed)  # what the call on plain values would do
            except Exception as error:
                primitive_raised(f_wrapped, error)  # (a jit trace refuses to go on)
                raise
        if all(getattr(args[argnum], "_constant", False) for argnum in argnums):
            if not _open_here(top):
                # Another thread's constant (a global array an outer observer boxed
                # while tracing there): here, its plain value computes.
                return ans
            return constant_box(ans, top, node_type)  # nothing here to differentiate
        node = node_type(ans, f_wrapped, unboxed, kwargs, argnums, parents)
        return new_box(ans, top, node)

    f_wrapped.fun = f_raw
    f_wrapped._is_autograd_primitive = True
    f_wrapped.keeps_traced_ints = False  # see keeps_traced_ints
    attach_old_methods(f_wrapped)  # f.defvjp(...) and the like, deprecated
    return f_wrapped


def _keywords_as_positions(f_raw, args, kwargs):
    """``(args, kwargs)`` with each traced keyword argument moved to its position
    (``np.sum(a=x)``, ``np.clip(x, a_min=lo)``), parameters before it given by position
    too or their defaults: a primitive traces, and differentiates, its positional
    arguments only (a traced keyword reached NumPy, whose ``__array_function__`` called
    the primitive again, forever)."""
    name = getattr(f_raw, "__name__", f_raw)
    # (out= is where a result goes, not an operand: refused below, _traced_out)
    traced = [k for k, value in kwargs.items() if type(value) in Box.types and k != "out"]
    if not traced:
        return args, kwargs
    params = _positional_parameters(f_raw)
    names = [param.name for param in params]
    for k in traced:
        if k not in names:
            raise TypeError(f"{name}() cannot trace {k!r} given as a keyword argument: "
                            "pass it by position")
    args, kwargs = list(args), dict(kwargs)
    for param in params[len(args):max(names.index(k) for k in traced) + 1]:
        if param.name in kwargs:
            args.append(kwargs.pop(param.name))
        elif param.default is not param.empty:
            args.append(param.default)
        else:
            raise TypeError(f"{name}() missing required argument {param.name!r}")
    return tuple(args), kwargs


_parameters = {}  # f_raw -> its positional parameters (inspect.Parameter)


def _positional_parameters(f_raw):
    """``f_raw``'s parameters that may be given by position; [] when it has no
    signature."""
    params = _parameters.get(f_raw)
    if params is None:
        try:
            params = [p for p in inspect.signature(f_raw).parameters.values() if p.kind in (
                p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        except (TypeError, ValueError):
            params = []
        _parameters[f_raw] = params
    return params


def keeps_traced_ints(fun):
    """Declare that ``fun`` takes traced integers as values (elementwise arithmetic, a
    gather at a computed index), so the jit need not make them plain (guarded)."""
    fun.keeps_traced_ints = True
    return fun


def _runs_user_code(f_raw):
    module = getattr(f_raw, "__module__", None) or ""
    return hasattr(f_raw, "__code__") and not module.startswith(("numpy", "scipy"))


def _in_plain_scope(f_raw):
    def body(*args, **kwargs):
        if not _active_traces():
            return f_raw(*args, **kwargs)
        with plain_scope:
            return f_raw(*args, **kwargs)
    return body


def _traced_out(fun, args, top):
    """``f(x, out=a)`` with traced ``x``: the write into ``a`` cannot be recorded."""
    rec = getattr(_hooks, "observer", None)
    if rec is not None and top == rec.trace_id:
        rec.refuse(f"{getattr(fun, '__name__', fun)} writes into out=")
    name = getattr(fun, "__name__", "f")
    raise TypeError(f"{name}(..., out=array) cannot write traced values into out=, so their "
                    f"derivative would be lost; use the result instead: "
                    f"`a[...] = {name}(...)`.")


def constant_box(value, trace_id, node_type):
    """``value`` boxed at ``trace_id`` as a constant: it depends on no traced input."""
    box = new_box(value, trace_id, node_type.new_constant(value))
    try:
        box._constant = True
    except AttributeError:  # a container box: no such mark
        pass
    return box


def new_constant_box(value):
    """``value`` boxed as a constant of the innermost open trace level, or as is.

    Constructors such as ``jitgrad.numpy.zeros`` use this inside a differentiated
    function so that traced values can later be assigned into the result.
    """
    level = innermost_level()
    if level is None or isbox(value):
        return value
    return constant_box(value, level.id, level.node_type)


def notrace_primitive(f_raw, coerce=None):
    """Wrap ``f_raw`` so that it runs on plain values and is never recorded."""
    @wraps(f_raw)
    def f_wrapped(*args, **kwargs):
        if coerce is not None and _local.__dict__.get("stack"):
            args = coerce(args)
        ans = f_raw(*map(getval, args), **kwargs)
        rec = getattr(_hooks, "observer", None)
        if rec is not None:
            # The jit records untraced results too: they may steer later steps.
            return rec.untraced_call(f_wrapped, args, kwargs, ans)
        return ans

    f_wrapped.fun = f_raw
    f_wrapped._is_autograd_primitive = True
    return f_wrapped


def register_notrace(trace_type, primitive_fun):
    """Make ``primitive_fun`` run unrecorded on values traced by ``trace_type`` nodes.

    For example a function with a VJP but no JVP can be passed through forward mode.
    """
    notrace_primitives.setdefault(trace_type, set()).add(primitive_fun)


notrace_primitives = {}


def strip_closed_boxes(value):
    """Unbox values whose trace has ended (e.g. aux outputs), keeping open-level boxes."""
    open_levels = {level.id for level in _active_traces()}

    def strip(leaf):
        while isbox(leaf) and leaf._trace not in open_levels:
            leaf = leaf._value
        return leaf if tree.children(leaf) is None else strip_closed_boxes(leaf)
    return tree.tree_map(strip, value)
