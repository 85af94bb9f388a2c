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
traced with the old value. So are the attributes and items the code reads off them
and off a bound method's object (``self.l2``, ``cfg.lr``, ``H["l2"]``;
attribute_reads.py): a number there is a constant of the plans. An array changed in
place keeps its binding: that stays a constant of the plans (README, footgun 1).
"""
import dis
import functools
import types
import zlib

import numpy as np

from .attribute_reads import (follow, follow_plainly, is_data, is_library_module, label,
                              read_chains, source)
from .identity import constant_key, same

_SCALARS = (type(None), bool, int, float, complex, str, bytes, np.generic)


class Reads:
    """What a key was computed from: ``arrays`` (closure contents, globals; a key naming
    a dead array can never match again); ``bindings``, ``(holder, name, value)`` for
    each global (``holder`` the globals dict) and closure variable (``holder`` its
    cell) the code reads, modules aside; and ``chains``, ``(root, steps, value,
    label)`` for each attribute or item read off them, or off a method's object, that
    gave data (attribute_reads.py). ``still_bound`` tells whether each still holds
    the same value."""

    def __init__(self, known_arrays=None):
        self.arrays, self.bindings, self._bound = [], [], set()
        self.chains, self._chained = [], set()
        self.keys = {}  # id of a function -> its key or _NoKey (_function_key)
        # The keys of functions reached as a module's attributes (None: one has none).
        self.module_functions, self._visited = [], set()
        self._in_primitive = 0  # inside a primitive: its body reads its variables live
        # ids of the arrays named by stored keys: an array not among them cannot make
        # the key match a stored one, so it is keyed by identity alone (no checksum of
        # its bytes, 28 us per 100 kB) and ``unseen`` is set. None: checksum them all.
        self.known_arrays, self.unseen = known_arrays, False

    def still_bound(self):
        """A function of no arguments, True while every binding holds the object it held
        and every chain reads the same value (called before each jitted call), or None
        when there are none."""
        if not self.bindings and not self.chains:
            return None
        kinds = tuple(None if type(holder) is types.CellType else name
                      for holder, name, _ in self.bindings)
        chains = tuple(source(steps) for _, steps, _, _ in self.chains)
        parts = [part for holder, _, value in self.bindings for part in (holder, value)]
        parts += [part for root, _, value, _ in self.chains for part in (root, value)]
        return _checker_maker(kinds, chains)(_MISSING, same_value, *parts)

    def rebound(self):
        """The name of the first binding that holds another object now (or chain that
        reads another value), or None."""
        for holder, name, value in self.bindings:
            try:
                now = holder.cell_contents if type(holder) is types.CellType else \
                    holder.get(name, _MISSING)
            except ValueError:
                now = _MISSING
            if now is not value:
                return name
        for root, steps, value, spelled in self.chains:
            try:
                now = follow(root, steps)
                if now is not value and not same_value(now, value):
                    return spelled
            except Exception:
                return spelled
        return None

    def note_chains(self, fun, self_object=None, _through=None, _active=None):
        """Record the chains ``fun``'s code reads that give data now. A method the
        code calls on the object (``self.dec.forward(x)``) has its reads recorded as
        chains from the same root (``self.dec.s``), so that rebinding ``self.dec`` is
        seen too."""
        code = fun.__code__
        active = _active or set()
        if self._in_primitive or (code, id(self_object)) in active:
            return
        active.add((code, id(self_object)))
        cells = dict(zip(code.co_freevars, fun.__closure__ or ()))
        own = code.co_varnames[0] if code.co_argcount and code.co_varnames else None
        for kind, name, steps in read_chains(code):
            prefix = None
            if (kind == "local" or kind == "closure" and name in code.co_cellvars) and \
                    name == own and self_object is not None:
                root, prefix = self_object, _through  # the method's object
            elif kind == "closure":
                try:
                    root = cells[name].cell_contents
                except (KeyError, ValueError):
                    continue
            elif kind == "global" and name in fun.__globals__:
                root = fun.__globals__[name]
            else:
                continue  # (another local: not known now)
            if is_library_module(root):
                continue
            if isinstance(root, types.ModuleType) and self._module_function(root, steps):
                continue
            try:
                value, read = follow_plainly(root, steps)
            except Exception:  # not plain; or the code would raise too, or reads it
                # only on another path
                continue
            if prefix is not None:  # read from where the caller reached the object
                root, name, read = prefix[0], prefix[1], prefix[2] + read
            if read[-1][0] == "method":
                function = getattr(value, "__func__", value)
                bound = getattr(value, "__self__", None)
                if not _is_library(function):
                    # (chains from the caller's root where it reached the object; from
                    # the class itself for a classmethod)
                    through = None if isinstance(bound, type) else (root, name, read[:-1])
                    self.note_chains(function, bound, through, active)
                continue
            where = (id(root), read)
            if is_data(value) and source(read) is not None and where not in self._chained:
                self._chained.add(where)
                self.chains.append((root, read, value, label(name, read)))

    def _module_function(self, module, steps):
        """Whether ``module.name`` is a function of the user's (``helpers.penalty(w)``):
        its binding is checked, and its own reads are recorded as a global's function's
        are (a global of its module rebound is seen)."""
        member = module.__dict__.get(steps[0][1])
        if steps[0][0] == "item" or not isinstance(member, types.FunctionType) or \
                _is_library(member):
            return False
        _bind(self, module.__dict__, steps[0][1], member)
        if id(member) not in self._visited:
            self._visited.add(id(member))
            try:
                self.module_functions.append(_function_key(member, set(), self))
            except _NoKey:
                self.module_functions.append(None)
        return True


_MISSING = object()


def same_value(a, b):
    """The same constant for a plan: of one type (np.float32(0.5) computes otherwise
    than 0.5) and the same bits."""
    return type(a) is type(b) and same(a, b)


@functools.lru_cache(maxsize=256)
def _checker_maker(kinds, chains=()):
    """A function of (missing, same, holder, value, ..., root, value, ...) making
    ``still_bound`` for bindings of these kinds (a global's name, or None for a closure
    cell) and chains (their steps' source), generated once per kinds and chains: a
    jitted object is made per call where an operator is rebuilt. A chain's value is
    compared by identity, then by type and bits (an equal number assigned again keeps
    the plans)."""
    params, tests = ["_missing", "_same"], []
    for k, name in enumerate(kinds):
        params += [f"_h{k}", f"_v{k}"]
        tests.append(f"_h{k}.cell_contents is _v{k}" if name is None else
                     f"_h{k}.get({name!r}, _missing) is _v{k}")
    for k, steps in enumerate(chains):
        params += [f"_r{k}", f"_w{k}"]
        tests.append(f"((_x := _r{k}{steps}) is _w{k} or _same(_x, _w{k}))")
    code = (f"def make({', '.join(params)}):\n"
            "    def still_bound():\n"
            "        try:\n"
            f"            return {' and '.join(tests)}\n"
            "        except Exception:  # a closure variable or an attribute deleted\n"
            "            return False\n"
            "    return still_bound\n")
    namespace = {}
    exec(compile(code, "<jitgrad bindings>", "exec"), namespace)
    return namespace["make"]


def function_key(fun, reads=None):
    """A hashable key equal for callables that compute the same thing, or None; what
    it read is recorded in ``reads`` (a ``Reads``)."""
    reads = Reads() if reads is None else reads
    try:
        key = _function_key(fun, set(), reads)
        if None in reads.module_functions:
            return None
        # The values read along chains and the functions reached through modules (a
        # module's key, its name, tells neither).
        return key, tuple((spelled, _value_key(value, set(), reads))
                          for _, _, value, spelled in reads.chains), \
            tuple(reads.module_functions)
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


def _all_keys(values, active, reads):
    keys, missing = [], False
    for value in values:
        try:
            keys.append(_value_key(value, active, reads))
        except _NoKey:
            missing = True
    if missing:
        raise _NoKey
    return keys


def _function_key(fun, active, reads, self_object=None):
    """The key of one callable, computed once per ``function_key`` call: helpers that
    call each other are reached along many paths, and each walk visits every value
    (2**20 walks for 20 helpers each calling the next two)."""
    if id(fun) in active or self_object is not None:
        return _uncached_function_key(fun, active, reads, self_object)
    known = reads.keys.get(id(fun), _MISSING)
    if known is _MISSING:
        try:
            known = _uncached_function_key(fun, active, reads)
        except _NoKey:
            known = _NoKey
        reads.keys[id(fun)] = known
    if known is _NoKey:
        raise _NoKey
    return known


def _uncached_function_key(fun, active, reads, self_object=None):
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
        reads.note_chains(fun, self_object)
        # Every value is visited, even after one without a key: the functions among
        # them record what they read too.
        keys = _all_keys([cell.cell_contents for cell in cells]
                         + [fun.__defaults__, fun.__kwdefaults__]
                         + [fun.__globals__[name] for name in names], active, reads)
        return ("function", fun.__code__, id(fun.__globals__), tuple(keys[:len(cells)]),
                keys[len(cells)], keys[len(cells) + 1],
                tuple(zip(names, keys[len(cells) + 2:])))
    if isinstance(fun, types.MethodType) and isinstance(fun.__func__, types.FunctionType) \
            and not _is_library(fun.__func__):
        # What the method reads off its object is checked before each call; the rest of
        # the object could change unseen, so the method has no key (plans of its own).
        _function_key(fun.__func__, active, reads, fun.__self__)
        raise _NoKey
    if isinstance(fun, functools.partial):
        if isinstance(fun.func, types.FunctionType) and fun.args and \
                not _is_library(fun.func) and _is_plain_object(fun.args[0]):
            # partial(Model.loss, model): the function's first argument is its object
            _function_key(fun.func, active, reads, fun.args[0])
            raise _NoKey
        return ("partial", _function_key(fun.func, active, reads),
                _value_key(fun.args, active, reads), _value_key(fun.keywords, active, reads))
    described = getattr(fun, "function_key_parts", None)  # Derivative, JitFunction
    if described is not None:
        return (type(fun).__name__,) + tuple(_value_key(part, active, reads)
                                             for part in described())
    if isinstance(fun, (types.BuiltinFunctionType, np.ufunc)):
        return ("builtin", fun)
    call = getattr(type(fun), "__call__", None)
    if isinstance(call, types.FunctionType) and not _is_library(call):
        # An object with __call__ (a layer): what its call reads off it is checked.
        _function_key(call, active, reads, fun)
    raise _NoKey


def _is_plain_object(value):
    return not isinstance(value, (type, types.ModuleType, types.FunctionType,
                                  np.ndarray, np.generic, int, float, complex, str,
                                  bytes, bool, tuple, list, dict, type(None)))


_LIBRARIES = ("jitgrad", "numpy", "scipy")


def _is_library(fun):
    """Whether ``fun`` is jitgrad's, NumPy's or SciPy's own (its behaviour is fixed)."""
    module = getattr(fun, "__module__", None) or ""
    return module.partition(".")[0] in _LIBRARIES


@functools.lru_cache(maxsize=1024)
def _global_names(code):
    """The names ``code`` (and the functions and lambdas defined in it) reads as
    globals, sorted. (Not ``co_names``, which holds attribute names too: a method
    reading ``self.step`` in a script looping ``for step in ...`` saw the global
    ``step`` rebound on every call.)"""
    names = {ins.argval for ins in dis.get_instructions(code)
             if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME", "STORE_GLOBAL", "DELETE_GLOBAL")}
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
