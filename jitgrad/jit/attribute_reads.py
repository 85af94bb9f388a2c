"""The attributes and items a function's code reads off its globals, its closure
variables and a bound method's object (``cfg.lr``, ``self.l2``, ``H["l2"]``,
``hp[0]``), so that a jitted call can check they still hold what its plans were
traced with.

A Python number read there is a constant of the plans: without the check, changing
``self.l2`` or ``H["l2"]`` between calls would replay the old value, a silent stale
answer. Found by reading the bytecode (a chain of attribute loads and constant
subscripts after a load of a name), evaluated when the jitted object is made; only
chains of plain reads (no property or ``__getattr__`` runs, which the check would
run again) ending in data (numbers, strings, arrays) are kept. An array changed in
place keeps its identity and is still not seen (README, footgun 1).
"""
import dis
import functools
import types

import numpy as np

_ROOTS = {"LOAD_GLOBAL": "global", "LOAD_NAME": "global", "LOAD_DEREF": "closure",
          "LOAD_CLASSDEREF": "closure"}  # and LOAD_FAST*: "local" (a method's self)
_CONSTANTS = ("LOAD_CONST", "LOAD_SMALL_INT")
_DATA = (type(None), bool, int, float, complex, str, bytes, np.generic, np.ndarray)
_LIBRARY_MODULES = ("jitgrad", "numpy", "scipy", "math", "builtins", "operator")


@functools.lru_cache(maxsize=1024)
def read_chains(code):
    """``(root kind, root name, steps)`` for each chain of loads in ``code`` and the
    code nested in it (its locals aside): a step is ``("attr", name)``,
    ``("item", constant)`` or, last, ``("method", name)``."""
    chains = []
    root, steps = None, []
    instructions = list(dis.get_instructions(code))
    for k, ins in enumerate(instructions):
        name = ins.opname
        if root is not None and name in ("LOAD_ATTR", "LOAD_METHOD"):
            method = name == "LOAD_METHOD" or "NULL|self" in ins.argrepr
            steps.append(("method" if method else "attr", ins.argval))
            if not method:
                continue
        elif root is not None and name in _CONSTANTS and k + 1 < len(instructions) and \
                _is_subscript(instructions[k + 1]):
            steps.append(("item", ins.argval))
            continue
        elif root is not None and _is_subscript(ins) and steps and steps[-1][0] == "item":
            continue  # the subscript of the constant just taken
        if root is not None and steps:
            chains.append((root[0], root[1], tuple(steps)))
        root, steps = None, []
        kind = _ROOTS.get(name) or ("local" if name.startswith("LOAD_FAST") else None)
        if kind is not None and isinstance(ins.argval, str):
            root = (kind, ins.argval)
    if root is not None and steps:
        chains.append((root[0], root[1], tuple(steps)))
    for constant in code.co_consts:  # comprehensions, lambdas, nested functions: their
        if isinstance(constant, types.CodeType):  # reads off globals and closure cells
            chains += [chain for chain in read_chains(constant) if chain[0] != "local"]
    return tuple(dict.fromkeys(chains))


def _is_subscript(ins):
    return ins.opname == "BINARY_SUBSCR" or (ins.opname == "BINARY_OP" and ins.argrepr == "[]")


def is_library_module(value):
    return isinstance(value, types.ModuleType) and \
        value.__name__.partition(".")[0] in _LIBRARY_MODULES


def follow_plainly(root, steps):
    """``root`` read along the code's ``steps``, where every step is a plain read, and
    those steps as read: ``("attr", name)`` for an attribute held in a ``__dict__`` or
    a slot (or a class's plain value), ``("key", key)`` for a dict's item present now,
    ``("index", i)`` for a list's or tuple's, ``("method", name)`` for a function of
    the object's class (the bound method). LookupError where a step is not plain: a
    property, ``__getattr__``, ``__getitem__`` of another type or a dict's missing key
    (defaultdict's would insert it) run code, which the check before every call would
    run again, side effects included."""
    value, read = root, []
    for kind, key in steps:
        if kind == "item":
            if isinstance(value, dict):
                if key not in value:
                    raise LookupError(key)
                kind, value = "key", dict.get(value, key)
            elif type(value) in (list, tuple):
                kind, value = "index", value[key]
            else:
                raise LookupError(key)
        elif kind == "method":
            function = _class_function(value, key)
            if function is None and plain_attribute(value, key):
                # an attribute holding an object with __call__ (a layer): its call
                value, function = getattr(value, key), _class_function(
                    getattr(value, key), "__call__")
                read.append(("attr", key))
                key = "__call__"
            if function is None:
                raise LookupError(key)
            # (a staticmethod's function runs alone, a classmethod's with the class)
            if isinstance(function, _Method):
                value = types.MethodType(function.__func__, value)
            elif isinstance(function, classmethod):
                value = types.MethodType(function.__func__, value if isinstance(value, type)
                                         else type(value))
            else:
                value = function  # a staticmethod's
        elif plain_attribute(value, key):
            value = getattr(value, key)
        else:
            raise LookupError(key)
        read.append((kind, key))
    return value, tuple(read)


def follow(root, read):
    """``root`` read along steps ``follow_plainly`` gave (a missing key: LookupError)."""
    value = root
    for kind, key in read:
        if kind == "key":
            if key not in value:
                raise LookupError(key)
            value = dict.get(value, key)
        else:
            value = value[key] if kind == "index" else getattr(value, key)
    return value


def plain_attribute(value, name):
    """Whether ``value.name`` is read without running code: no property or other data
    descriptor (a slot is plain), no descriptor at all on a class or module."""
    if isinstance(value, type) or isinstance(value, types.ModuleType):
        return name in value.__dict__ and not hasattr(type(value.__dict__[name]), "__get__")
    found = None
    for klass in type(value).__mro__:
        if name in klass.__dict__:
            found = klass.__dict__[name]
            break
    if name in getattr(value, "__dict__", ()):
        return found is None or not hasattr(type(found), "__set__")  # no data descriptor
    return found is not None and (type(found) is types.MemberDescriptorType or  # a slot
                                  not hasattr(type(found), "__get__"))


def _class_function(value, name):
    """What ``value.name(...)`` runs, from the class: a method (run with ``value``
    first: returned wrapped in ``_Method``), a staticmethod's function, a classmethod;
    None for anything else."""
    if name in getattr(value, "__dict__", ()) and not isinstance(value, type):
        return None  # an instance's own callable, not a method
    for klass in (value.__mro__ if isinstance(value, type) else type(value).__mro__):
        if name in klass.__dict__:
            found = klass.__dict__[name]
            if isinstance(found, staticmethod):
                return found.__func__
            if isinstance(found, classmethod) or (isinstance(found, types.FunctionType)
                                                  and not isinstance(value, type)):
                return _Method(found) if isinstance(found, types.FunctionType) else found
            return None
    return None


class _Method:
    """A function of the class, to be bound to the instance it was read from."""
    __slots__ = ["__func__"]

    def __init__(self, function):
        self.__func__ = function


def is_data(value):
    """Whether a value read is data a plan could hold (not a function, module or
    object whose own reads are followed where the code makes them; not an array of
    objects, which no comparison can tell the same)."""
    if isinstance(value, np.ndarray):
        return not value.dtype.hasobject
    if isinstance(value, _DATA):
        return True
    return type(value) is tuple and all(is_data(v) for v in value)


def label(root_name, read):
    """How the code spells the chain: ``cfg.opt.lr``, ``H['l2']``."""
    return root_name + "".join(f"[{key!r}]" if kind in ("key", "index") else f".{key}"
                               for kind, key in read)


def source(read, missing="_missing"):
    """The chain's steps as Python source after a root expression (a dict's item read
    with ``.get``, never running ``__missing__``), or None where a key has no faithful
    spelling."""
    parts = []
    for kind, key in read:
        if kind in ("key", "index"):
            if type(key) not in (int, str, bool, type(None)):
                return None
            parts.append(f".get({key!r}, {missing})" if kind == "key" else f"[{key!r}]")
        else:
            parts.append(f".{key}")
    return "".join(parts)
