"""Traced tuples, lists and dicts: their boxes, vector spaces and primitives."""
import weakref
from collections import OrderedDict

import numpy as np

from .core import Box, getval, lazy_registrars, primitive
from . import tree
from .rules import defjvp, defjvp_argnums, defvjp, defvjp_argnum
from .vspace import VSpace, vspace


@primitive
def container_take(A, idx):
    return A[idx]


@primitive
def container_untake(x, idx, vs):
    keys = _untaken_keys(vs, idx)
    parts = dict(zip(keys, x)) if isinstance(idx, slice) else {keys[0]: x}
    return vs.build(_as_entry(parts[key]) if key in parts else _placeholder_zeros(sub_vs)
                    for key, sub_vs in vs.items())


def _as_entry(value):
    # A scalar cotangent entry is a 0-d array, as autograd returns it ({'a': array(6.)}).
    return np.asarray(value) if isinstance(value, (float, complex, np.generic)) else value


# Zero arrays that container_untake filled a cotangent container with, by id: adding
# one of them to anything is a no-op, so container sums skip them (a tuple of
# parameters would otherwise add whole zero matrices at every use of one parameter).
# id -> (weak reference, frozen); a frozen one is a jit plan's private copy (see
# ``frozen_placeholder``).
_placeholders = {}


def _register(zeros, frozen):
    key = id(zeros)
    _placeholders[key] = (weakref.ref(zeros, lambda _, key=key: _placeholders.pop(key, None)),
                          frozen)
    return zeros


def _placeholder_zeros(vs):
    zeros = vs.zeros()
    return _register(zeros, False) if type(zeros) is np.ndarray else zeros


def _placeholder(value):
    """(weak reference, frozen) when ``value`` is a placeholder, else None."""
    entry = _placeholders.get(id(value))
    return entry if entry is not None and entry[0]() is value else None


def is_placeholder(value):
    return _placeholder(value) is not None


def _is_frozen(value):
    entry = _placeholder(value)
    return entry is not None and entry[1]


def frozen_placeholder(snapshot):
    """``snapshot``, a jit plan's private copy of a placeholder, marked as one: the plan
    replays the sums that skip it. Frozen, it is never the result of a sum, which
    would hand the plan's own array to a caller."""
    return _register(snapshot, True)


def _add_entries(vs, a, b):
    if is_placeholder(a):
        return a if _is_frozen(b) else b
    if is_placeholder(b):
        return a
    return vs.add(a, b)


def sum_untaken(vs, structure, *values):
    """What a tree of cotangent sums over ``container_untake``s gives, without the
    zero arrays each untake would fill its container with (a jit plan's replacement
    for such a tree: jitgrad/jit/container_sums.py).

    ``structure`` is ``("add", left, right)``, ``("untake", k, idx)`` (``values[k]``
    at ``idx``, an entry key or ``("slice", start, stop, step)``) or ``("whole", k)``
    (``values[k]``, a container of space ``vs``). Entries are combined as the sums
    would have combined them, in the same order, placeholders included; an entry no
    leaf gives is placeholder zeros, as it was."""
    sources = _lone_sources(vs, structure)
    if sources is not None:
        return vs.build(_lone_entry(values, source, sub_vs)
                        for source, (_, sub_vs) in zip(sources, vs.items()))
    entries = _sparse_sum(vs, structure, values)
    return vs.build(entries[key] if key in entries else _placeholder_zeros(sub_vs)
                    for key, sub_vs in vs.items())


# id(vs), structure -> (vs, sources or None); see _lone_sources.
_LONE_SOURCES = {}


def _lone_sources(vs, structure):
    """Where each entry of the sum comes from, ``(k, i)`` (``values[k]``, or its entry
    ``i`` for an untake at a slice) or None (nothing gives it), when no entry is given
    twice and every entry is an array: the sum then adds nothing, and replays only
    gather (a parameter tuple's gradient, every call). None when it must add."""
    cache_key = (id(vs), structure)
    known = _LONE_SOURCES.get(cache_key)
    if known is None or known[0] is not vs:
        if len(_LONE_SOURCES) > 4096:  # the spaces of plans long gone
            _LONE_SOURCES.clear()
        known = _LONE_SOURCES[cache_key] = (vs, _find_lone_sources(vs, structure))
    return known[1]


def _find_lone_sources(vs, structure):
    if not all(_zeros_are_placeholders(sub_vs) for _, sub_vs in vs.items()):
        return None  # scalar entries: every untake gives their zeros, which are added
    keys = [key for key, _ in vs.items()]
    found = {}
    pending = [structure]
    while pending:
        part = pending.pop()
        if part[0] == "add":
            pending += [part[1], part[2]]
            continue
        if part[0] != "untake":
            return None
        k, idx = part[1], _raw_index(part[2])
        for i, key in enumerate(_untaken_keys(vs, idx)):
            source = (k, i) if isinstance(idx, slice) else (k, None)
            if key in found:
                return None
            found[key] = source
    return [found.get(key) for key in keys]


def _untaken_keys(vs, idx):
    """The keys of ``vs`` an untake at ``idx`` gives: a slice's positions, or the one
    key (a negative position counted from the end)."""
    if isinstance(idx, slice):
        return list(range(len(vs.shape))[idx])
    if isinstance(vs, SequenceVSpace) and idx < 0:
        idx += len(vs.shape)
    return [idx]


def _raw_index(idx):
    """The index a plan's hashable ``("slice", start, stop, step)`` or ``("key",
    key)`` stands for."""
    return slice(*idx[1:]) if idx[0] == "slice" else idx[1]


def _lone_entry(values, source, vs):
    """The entry from ``source`` as the sums would leave it: the one given, except a
    plan's frozen placeholder (never handed out: fresh placeholder zeros instead)."""
    if source is None:
        return _placeholder_zeros(vs)
    k, i = source
    entry = _as_entry(values[k] if i is None else values[k][i])
    return _placeholder_zeros(vs) if _is_frozen(entry) else entry


def _sparse_sum(vs, structure, values):
    """The entries ``structure`` gives, by key; an entry absent is placeholder zeros.
    (Entries whose zeros are no placeholder, scalars', are zeros the sums add: they
    are given by every leaf, as each untake gave them.)"""
    kind = structure[0]
    if kind == "untake":
        x, idx = values[structure[1]], _raw_index(structure[2])
        keys_given = _untaken_keys(vs, idx)
        if isinstance(idx, slice):
            given = {key: _as_entry(part) for key, part in zip(keys_given, x)}
        else:
            given = {keys_given[0]: _as_entry(x)}
        for key, sub_vs in vs.items():
            if key not in given and not _zeros_are_placeholders(sub_vs):
                given[key] = sub_vs.zeros()
        return given
    if kind == "whole":
        x = values[structure[1]]
        return dict(zip((key for key, _ in vs.items()), vs.entries(x)))
    left = _sparse_sum(vs, structure[1], values)
    right = _sparse_sum(vs, structure[2], values)
    spaces = dict(vs.items())
    for key, a in left.items():
        if key not in right and _is_frozen(a):  # the sum returns the other's zeros
            left[key] = _placeholder_zeros(spaces[key])
    for key, b in right.items():
        left[key] = _add_present(spaces[key], left.get(key, _ABSENT), b)
    return left


_ABSENT = object()
_ZEROS_ARE_PLACEHOLDERS = {}  # id(vs) -> (vs, whether its zeros are an ndarray)


def _zeros_are_placeholders(vs):
    known = _ZEROS_ARE_PLACEHOLDERS.get(id(vs))
    if known is None or known[0] is not vs:
        if len(_ZEROS_ARE_PLACEHOLDERS) > 4096:  # the spaces of plans long gone
            _ZEROS_ARE_PLACEHOLDERS.clear()
        known = _ZEROS_ARE_PLACEHOLDERS[id(vs)] = (vs, type(vs.zeros()) is np.ndarray)
    return known[1]


def _add_present(vs, a, b):
    """``_add_entries(vs, a, b)`` where ``a`` may be absent (placeholder zeros not
    made): made only where the sum would tell one placeholder from another."""
    if a is _ABSENT:
        if not is_placeholder(b):
            return b
        a = _placeholder_zeros(vs)
    return _add_entries(vs, a, b)


defvjp(container_take, lambda ans, A, idx: lambda g: container_untake(g, idx, vspace(A)))
defjvp(container_take, "same")
defvjp(container_untake, lambda ans, x, idx, vs: lambda g: container_take(g, idx))
defjvp(container_untake, "same")


@primitive
def make_sequence(seq_type, *elements):
    return tree.sequence_builder(seq_type)(elements)


@primitive
def make_dict(dict_type, keys, *values):
    return dict_type(zip(keys, values))


def _element_vjp(first_element_argnum, key):
    def vjp_maker(argnum, ans, args, kwargs):
        return lambda g: container_take(g, key(argnum - first_element_argnum, args))
    return vjp_maker


defvjp_argnum(make_sequence, _element_vjp(1, lambda i, args: i))
defvjp_argnum(make_dict, _element_vjp(2, lambda i, args: args[1][i]))


def _sequence_jvp(argnums, gs, ans, args, kwargs):
    tangents = [vspace(x).zeros() for x in args[1:]]
    for argnum, g in zip(argnums, gs):
        tangents[argnum - 1] = g
    return make_sequence(args[0], *tangents)


def _dict_jvp(argnums, gs, ans, args, kwargs):
    tangents = [vspace(x).zeros() for x in args[2:]]
    for argnum, g in zip(argnums, gs):
        tangents[argnum - 2] = g
    return make_dict(args[0], args[1], *tangents)


defjvp_argnums(make_sequence, _sequence_jvp)
defjvp_argnums(make_dict, _dict_jvp)


def pack_container(value):
    """Turn a plain container (nested; see ``tree``) holding boxes into one traced value."""
    kind = tree.node_kind(type(value))
    if kind == "sequence":
        return make_sequence(type(value), *[pack_container(v) for v in value])
    if kind == "dict":
        keys = tuple(value)
        return make_dict(type(value), keys, *[pack_container(value[k]) for k in keys])
    return value


class SequenceBox(Box):
    __slots__ = []

    def __getitem__(self, idx):
        return container_take(self, idx)

    def __len__(self):
        return len(self._value)

    def __iter__(self):
        for i in range(len(self._value)):
            yield container_take(self, i)

    def __add__(self, other):
        return make_sequence(type(self._value), *self, *other)

    def __radd__(self, other):
        return make_sequence(type(self._value), *other, *self)

    def __contains__(self, item):
        return item in self._value

    def index(self, value):
        return self._value.index(value)


class DictBox(Box):
    __slots__ = []

    def __getitem__(self, key):
        return container_take(self, key)

    def __len__(self):
        return len(self._value)

    def __iter__(self):
        return iter(self._value)

    def __contains__(self, key):
        return key in self._value

    def keys(self):
        return self._value.keys()

    def values(self):
        return [self[key] for key in self._value]

    def items(self):
        return [(key, self[key]) for key in self._value]

    def get(self, key, default=None):
        return self[key] if key in self._value else default


class ContainerVSpace(VSpace):
    """A product of the vector spaces of a container's entries."""
    __slots__ = ["shape", "container_type"]

    def __init__(self, value):
        self.container_type = type(value)
        self.shape = self._spaces(value)

    @property
    def size(self):
        return sum(vs.size for _, vs in self.items())

    def _key(self):
        return (self.container_type, tuple(self.items()))

    def zeros(self):
        return self.build(vs.zeros() for _, vs in self.items())

    def ones(self):
        return self.build(vs.ones() for _, vs in self.items())

    def randn(self):
        return self.build(vs.randn() for _, vs in self.items())

    def standard_basis(self):
        for key, vs in self.items():
            for basis_vector in vs.standard_basis():
                yield self.build(basis_vector if k == key else other.zeros()
                                 for k, other in self.items())

    def _add(self, x, y):
        return self._map(_add_entries, x, y)

    def _mut_add(self, x, y):
        return self._map(lambda vs, a, b: vs.mut_add(a, b), x, y)

    def _scalar_mul(self, x, a):
        return self._map(lambda vs, xi: vs.scalar_mul(xi, a), x)

    def _inner_prod(self, x, y):
        return sum(vs.inner_prod(a, b) for (_, vs), a, b in
                   zip(self.items(), self.entries(x), self.entries(y)))

    def _covector(self, x):
        return self._map(lambda vs, xi: vs.covector(xi), x)

    def _map(self, f, *containers):
        return self.build(f(vs, *parts) for (_, vs), *parts in
                          zip(self.items(), *map(self.entries, containers)))


class SequenceVSpace(ContainerVSpace):
    __slots__ = []

    def _spaces(self, value):
        return [vspace(x) for x in value]

    def items(self):
        return enumerate(self.shape)

    def entries(self, x):
        return [x[i] for i in range(len(self.shape))]

    def build(self, parts):
        return tree.sequence_builder(self.container_type)(list(parts))


class DictVSpace(ContainerVSpace):
    __slots__ = []

    def _spaces(self, value):
        return self.container_type((key, vspace(x)) for key, x in value.items())

    def items(self):
        return self.shape.items()

    def entries(self, x):
        return [x[key] for key in self.shape]

    def build(self, parts):
        return self.container_type(zip(self.shape, parts))


class NamedTupleBox(SequenceBox):
    """A traced namedtuple (a user's, or NumPy's EighResult, SVDResult...): a tuple whose
    fields are also attributes."""
    __slots__ = []

    def __getattr__(self, name):
        cls = type(getval(self))
        if name in cls._fields:
            return container_take(self, cls._fields.index(name))
        raise AttributeError(f"{cls.__name__} has no field {name!r}")


def _register_namedtuple(cls):
    """Every namedtuple class is a traced container, registered when first seen."""
    if not tree.is_namedtuple_class(cls):
        return False
    NamedTupleBox.register(cls)
    SequenceVSpace.register(cls)
    return True


lazy_registrars.append(_register_namedtuple)

for _type in (list, tuple):
    SequenceBox.register(_type)
    SequenceVSpace.register(_type)
for _type in (dict, OrderedDict):
    DictBox.register(_type)
    DictVSpace.register(_type)
