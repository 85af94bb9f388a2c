"""Which callables are the same function, so that jitted objects made anew for it
(``jacobian(layer)`` inside an ODE's right-hand side, an operator built in a loop)
share the plans already traced instead of tracing again.

Two functions are the same when they run the same code on the same closure contents,
defaults and values of the globals their code names (a loss reading module-level data
``X``, rebound or changed between two ``grad(loss, jit=True)``): numbers and strings
compared by value, arrays by identity *and* content (a captured array is a constant of
a plan, so an array changed since gives a new key), containers entry by entry,
functions recursively (jitgrad's, NumPy's and SciPy's own by identity). A function
reaching anything else (an object whose state could change unseen) has no key: its
jitted objects keep plans of their own, as before.

The globals and closure variables a key was computed from are also checked before
each call of a jitted object (``Reads.still_bound``): one rebound since (a training
loop assigning the next minibatch to a global) makes the object look its plans up
under the new key, as a jitted object made now would, instead of replaying plans
traced with the old value. An array changed in place keeps its binding: that stays
a constant of the plans (README, footgun 1).
"""
import functools
import types
import zlib

import numpy as np

from .identity import constant_key

_SCALARS = (type(None), bool, int, float, complex, str, bytes, np.generic)


class Reads:
    """What a key was computed from: ``arrays`` (closure contents, globals; a key naming
    a dead array can never match again) and ``bindings``, ``(holder, name, value)`` for
    each global (``holder`` the globals dict) and closure variable (``holder`` its
    cell) the code reads, modules aside: ``still_bound`` tells whether each
    still holds the same object."""

    def __init__(self, known_arrays=None):
        self.arrays, self.bindings, self._bound = [], [], set()
        self._in_primitive = 0  # inside a primitive: its body reads its variables live
        # ids of the arrays named by stored keys: an array not among them cannot make
        # the key match a stored one, so it is keyed by identity alone (no checksum of
        # its bytes, 28 us per 100 kB) and ``unseen`` is set. None: checksum them all.
        self.known_arrays, self.unseen = known_arrays, False

    def still_bound(self):
        """A function of no arguments, True while every binding holds the object it held
        (called before each jitted call), or None when there are none."""
        if not self.bindings:
            return None
        kinds = tuple(None if type(holder) is types.CellType else name
                      for holder, name, _ in self.bindings)
        return _checker_maker(kinds)(_MISSING, *(part for holder, _, value in self.bindings
                                                 for part in (holder, value)))

    def rebound(self):
        """The name of the first binding that holds another object now, or None."""
        for holder, name, value in self.bindings:
            try:
                now = holder.cell_contents if type(holder) is types.CellType else \
                    holder.get(name, _MISSING)
            except ValueError:
                now = _MISSING
            if now is not value:
                return name
        return None


_MISSING = object()


@functools.lru_cache(maxsize=256)
def _checker_maker(kinds):
    """A function of (missing, holder, value, holder, value...) making ``still_bound``
    for bindings of these kinds (a global's name, or None for a closure cell), generated
    once per kinds: a jitted object is made per call where an operator is rebuilt."""
    params, tests = ["_missing"], []
    for k, name in enumerate(kinds):
        params += [f"_h{k}", f"_v{k}"]
        tests.append(f"_h{k}.cell_contents is _v{k}" if name is None else
                     f"_h{k}.get({name!r}, _missing) is _v{k}")
    source = (f"def make({', '.join(params)}):\n"
              "    def still_bound():\n"
              "        try:\n"
              f"            return {' and '.join(tests)}\n"
              "        except ValueError:  # a closure variable deleted\n"
              "            return False\n"
              "    return still_bound\n")
    namespace = {}
    exec(compile(source, "<jitgrad bindings>", "exec"), namespace)
    return namespace["make"]


def function_key(fun, reads=None):
    """A hashable key equal for callables that compute the same thing, or None; what
    it read is recorded in ``reads`` (a ``Reads``)."""
    try:
        return _function_key(fun, set(), Reads() if reads is None else reads)
    except _NoKey:
        return None


class _NoKey(Exception):
    pass


def _bind(reads, holder, name, value):
    where = (id(holder), name)
    if not isinstance(value, types.ModuleType) and where not in reads._bound \
            and not reads._in_primitive:
        reads._bound.add(where)  # (modules, np and math: rebinding them is no idiom)
        reads.bindings.append((holder, name, value))


def _function_key(fun, active, reads):
    if id(fun) in active:  # a recursive function reaching itself through its closure
        return ("recursive", getattr(fun, "__qualname__", None))
    active = active | {id(fun)}
    if isinstance(fun, types.FunctionType):
        if _is_library(fun):
            return ("library", fun)
        if getattr(fun, "_is_autograd_primitive", False):
            # A user's primitive: its body runs at every replay too, reading the
            # variables it closes over as they are then (not constants of a plan).
            reads._in_primitive += 1
            try:
                return ("primitive", _function_key(fun.fun, active, reads))
            finally:
                reads._in_primitive -= 1
        cells = fun.__closure__ or ()
        names = [name for name in _global_names(fun.__code__) if name in fun.__globals__]
        for name, cell in zip(fun.__code__.co_freevars, cells):
            _bind(reads, cell, name, cell.cell_contents)
        for name in names:
            _bind(reads, fun.__globals__, name, fun.__globals__[name])
        return ("function", fun.__code__, id(fun.__globals__),
                tuple(_value_key(cell.cell_contents, active, reads) for cell in cells),
                _value_key(fun.__defaults__, active, reads),
                _value_key(fun.__kwdefaults__, active, reads),
                tuple((name, _value_key(fun.__globals__[name], active, reads))
                      for name in names))
    if isinstance(fun, functools.partial):
        return ("partial", _function_key(fun.func, active, reads),
                _value_key(fun.args, active, reads), _value_key(fun.keywords, active, reads))
    described = getattr(fun, "function_key_parts", None)  # Derivative, JitFunction
    if described is not None:
        return (type(fun).__name__,) + tuple(_value_key(part, active, reads)
                                             for part in described())
    if isinstance(fun, (types.BuiltinFunctionType, np.ufunc)):
        return ("builtin", fun)
    raise _NoKey


_LIBRARIES = ("jitgrad", "numpy", "scipy")


def _is_library(fun):
    """Whether ``fun`` is jitgrad's, NumPy's or SciPy's own (its behaviour is fixed)."""
    module = getattr(fun, "__module__", None) or ""
    return module.partition(".")[0] in _LIBRARIES


@functools.lru_cache(maxsize=1024)
def _global_names(code):
    """The names ``code`` (and the functions and lambdas defined in it) may read as
    globals, sorted (attribute names among them: harmless where they miss)."""
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names.update(_global_names(constant))
    return tuple(sorted(names))


def _checksum(array):
    """A checksum of ``array``'s bytes, to see it changed in place (not a defence
    against a crafted collision: CRC-32 reads 4 GB/s here, blake2b 1 GB/s, and a
    global dataset is read at every jitted object made for a function using it)."""
    return zlib.crc32(np.ascontiguousarray(array).reshape(-1).view(np.uint8))


def _value_key(value, active, reads):
    if isinstance(value, _SCALARS):
        return constant_key(value)
    if type(value) is np.ndarray:
        if value.dtype.hasobject:
            raise _NoKey
        reads.arrays.append(value)
        if reads.known_arrays is not None and id(value) not in reads.known_arrays:
            reads.unseen = True
            return ("unseen array", id(value))
        return ("array", id(value), value.shape, value.dtype.str, _checksum(value))
    if type(value) in (tuple, list):
        return (type(value), tuple(_value_key(v, active, reads) for v in value))
    if type(value) is dict:
        return (dict, tuple((_value_key(k, active, reads), _value_key(v, active, reads))
                            for k, v in value.items()))
    if isinstance(value, types.ModuleType):
        return ("module", value.__name__)
    if isinstance(value, type):
        return ("type", value)
    if callable(value):
        return _function_key(value, active, reads)
    raise _NoKey
