"""Pytrees: which values are containers, for signatures, arguments and outputs.

Tuples, lists, dicts, OrderedDicts and namedtuples are containers; ``register``
adds a class of your own, so that ``jit`` traces the arrays inside its instances
(a model object passed as an argument) instead of running eagerly::

    jitgrad.tree.register(Model, lambda m: ((m.w, m.b), m.name),
                          lambda name, parts: Model(*parts, name=name))
"""
from .trace.tree import leaves, register, tree_map  # noqa: F401
