"""The attributes and items a function's code reads off its globals, its closure
variables and a bound method's object (``cfg.lr``, ``self.l2``, ``H["l2"]``,
``hp[0]``), so that a jitted call can check they still hold what its plans were
traced with.

A Python number read there is a constant of the plans: without the check, changing
``self.l2`` or ``H["l2"]`` between calls would replay the old value, a silent stale
answer. Found by reading the bytecode (a chain of attribute loads and constant
subscripts after a load of a name), evaluated when the jitted object is made; only
chains ending in data (numbers, strings, arrays) are kept. An array changed in
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
    """``(root kind, root name, steps)`` for each chain of loads in ``code``: a step is
    ``("attr", name)``, ``("item", constant)`` or, last, ``("method", name)``."""
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
    return tuple(dict.fromkeys(chains))


def _is_subscript(ins):
    return ins.opname == "BINARY_SUBSCR" or (ins.opname == "BINARY_OP" and ins.argrepr == "[]")


def is_library_module(value):
    return isinstance(value, types.ModuleType) and \
        value.__name__.partition(".")[0] in _LIBRARY_MODULES


def follow(root, steps):
    """``root`` read along ``steps`` (attributes and items), as the code would: a
    property runs, as it does at every eager call."""
    value = root
    for kind, key in steps:
        value = value[key] if kind == "item" else getattr(value, key)
    return value


def is_data(value):
    """Whether a value read is data a plan could hold (not a function, module or
    object whose own reads are followed where the code makes them)."""
    if isinstance(value, _DATA):
        return True
    return type(value) is tuple and all(isinstance(v, _DATA) for v in value)


def label(root_name, steps):
    """How the code spells the chain: ``cfg.opt.lr``, ``H['l2']``."""
    return root_name + "".join(f".{key}" if kind != "item" else f"[{key!r}]"
                               for kind, key in steps)


def source(steps):
    """The chain's steps as Python source after a root expression, or None where a key
    has no faithful spelling."""
    parts = []
    for kind, key in steps:
        if kind == "item":
            if type(key) not in (int, str, bool, type(None)):
                return None
            parts.append(f"[{key!r}]")
        else:
            parts.append(f".{key}")
    return "".join(parts)
