"""Container types that work on traced values: ``tuple``, ``list``, ``dict``,
plus ``isinstance`` and ``type`` that see through boxes.

``jitgrad.builtins.tuple([a, b])`` with traced ``a, b`` is one traced tuple, so a
function can return it (or pass it to a primitive) and be differentiated.
"""
import builtins as _builtins
from collections import OrderedDict  # noqa: F401

from .trace import getval
from .trace.containers import (  # noqa: F401
    ContainerVSpace, DictBox, DictVSpace, SequenceBox, SequenceVSpace,
    container_take, container_untake, make_dict, make_sequence)


class _SeesThroughBoxes(type):
    def __instancecheck__(cls, instance):
        return _builtins.isinstance(getval(instance), cls.__bases__[0])


class tuple(_builtins.tuple, metaclass=_SeesThroughBoxes):
    def __new__(cls, iterable=()):
        return make_sequence(_builtins.tuple, *iterable)


class list(_builtins.list, metaclass=_SeesThroughBoxes):
    def __new__(cls, iterable=()):
        return make_sequence(_builtins.list, *iterable)


class dict(_builtins.dict, metaclass=_SeesThroughBoxes):
    def __new__(cls, *args, **kwargs):
        plain = _builtins.dict(*args, **kwargs)
        keys = _builtins.tuple(plain)
        return make_dict(_builtins.dict, keys, *[plain[key] for key in keys])


def isinstance(obj, classinfo):
    return _builtins.isinstance(obj, classinfo) or _builtins.isinstance(getval(obj), classinfo)


def type(obj):
    return _builtins.type(getval(obj))
