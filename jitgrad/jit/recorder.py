"""The jit's recorder: the outermost trace level, observing tracing through
``jitgrad.trace.hooks`` and recording every step into a ``Graph``.

Besides primitive calls (``GraphNode``), it records untraced results that can steer
later steps (comparisons, argmax), random draws (drawn anew on replay), and
*guards*: the value Python saw whenever it turned a traced value into a number.
What cannot be replayed raises ``TraceUnsupported``: the jit then runs eagerly.
"""
import operator

import numpy as np

from ..trace.core import Box, concrete, isbox, new_box
from .graph import Graph, GraphNode, Guard, PrimitiveRaised, TraceUnsupported
from .user_frames import user_location


class Recorder:
    """Installed (``core.set_recorder``) while a jit trace runs in this thread."""

    def __init__(self, trace_id):
        self.trace_id = trace_id
        self.graph = Graph()
        self.refusals = []  # every TraceUnsupported made during the trace, caught or not
        self.captured = None  # the captured arrays boxed (captured_arrays.py), if any

    def _graph_box(self, value):
        # Peel off the boxes of newer levels (gradients taken inside the jitted
        # function) down to this trace's box, if there is one.
        while isbox(value) and value._trace != self.trace_id:
            value = value._value
        return value if isbox(value) else None

    def untraced_call(self, fun, args, kwargs, ans):
        if getattr(fun, "metadata_only", False):
            # Shapes are fixed by the signature, except downstream of functions like
            # nonzero or mask indexing: Python seeing one of those gets it guarded.
            for arg in args:
                box = self._graph_box(arg)
                if box is not None and box._node.dynamic_shape:
                    self.guard(box, np.shape, np.shape(box._value))
            return ans
        parents, argnums, plain = [], [], list(args)
        for argnum, arg in enumerate(args):
            box = self._graph_box(arg)
            if box is not None:
                parents.append(box._node)
                argnums.append(argnum)
                plain[argnum] = box._value
            elif isbox(arg):
                plain[argnum] = _plain(arg)
        if not parents:
            return ans
        if ans is None:
            # A check run for its effect (raising on bad input): replayed every time.
            node = GraphNode.__new__(GraphNode)
            node._record("effect", None, fun, tuple(plain), kwargs, argnums, parents)
            return None
        if type(ans) not in Box.type_mappings:
            raise TraceUnsupported(f"{getattr(fun, '__name__', fun)} returned a "
                                   f"{type(ans).__name__}, which the jit cannot trace")
        return new_box(ans, self.trace_id, GraphNode(ans, fun, tuple(plain), kwargs,
                                                     argnums, parents))

    def refuse(self, reason):
        raise TraceUnsupported(reason)

    def written_in_place(self, box):
        if self.captured is not None:
            self.captured.written_in_place(box)

    def primitive_raised(self, fun, error):
        raise PrimitiveRaised(
            f"{getattr(fun, '__name__', fun)} raised {type(error).__name__} ({error}) on "
            "traced values, and a plan cannot replay what Python does with an error (a "
            "try/except around it)") from error

    def plain_keywords(self, fun, kwargs):
        """Keyword arguments made plain: integers guarded (an axis, a count); another
        traced value there cannot be followed, so the jit runs eagerly."""
        plain = kwargs
        for name, value in kwargs.items():
            box = self._graph_box(value)
            if box is None:
                continue
            if not _is_integer(box._value):
                raise TraceUnsupported(
                    f"a traced value is passed to {getattr(fun, '__name__', fun)} as "
                    f"keyword argument {name!r}, which primitives do not trace")
            if plain is kwargs:
                plain = dict(kwargs)
            plain[name] = concrete(box, operator.index)
        return plain

    def plain_integers(self, args):
        """``args`` with each integer this trace follows replaced by its value, guarded,
        also inside tuples and lists (a shape)."""
        def plain(arg):
            if isbox(arg):
                if arg._trace == self.trace_id and _is_integer(arg._value):
                    return concrete(arg, operator.index)
                return arg
            if type(arg) in (tuple, list) and any(isbox(a) or type(a) in (tuple, list)
                                                  for a in arg):
                return type(arg)(plain(a) for a in arg)
            return arg
        return tuple(plain(arg) for arg in args)

    def source_call(self, fun, args, kwargs):
        """A random draw: recorded even without traced arguments, drawn anew on replay."""
        if kwargs:  # a traced int count (size=n): its value, guarded
            kwargs = dict(zip(kwargs, self.plain_integers(tuple(kwargs.values()))))
        plain = [_plain(arg) for arg in args]
        ans = fun.fun(*plain, **kwargs)
        parents, argnums = [], []
        for argnum, arg in enumerate(args):
            box = self._graph_box(arg)
            if box is not None:
                parents.append(box._node)
                argnums.append(argnum)
        node = GraphNode.__new__(GraphNode)
        node._record("source", ans, fun, tuple(plain), kwargs, argnums, parents)
        if ans is None:  # seed, set_state: a change of the generator, replayed in order
            return None
        return new_box(ans, self.trace_id, node)

    def guard(self, box, convert, result):
        if box._trace == self.trace_id and box._node.kind != "const":
            self.graph.guards.append(Guard(box._node, convert, result, len(self.graph.nodes),
                                           user_location()))


def _is_integer(value):
    return (isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
            ) or (isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iu")


def _plain(value):
    while isbox(value):
        value = value._value
    return value
