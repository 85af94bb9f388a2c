"""The plan's steps as the fuser reads them (``kernels.ops``): this module is where the
jit's nodes and the primitives' declared facts (``trace.rules``) meet kernels/."""
from ..kernels.ops import FusionOp, Literal
from ..trace import rules
from .passes import Constant, arguments


class FusionOps:
    """Makes the ``FusionOp`` of each node once (``resolve`` maps a parent to the node or
    ``Constant`` replacing it), so that a value read by several steps is one op."""

    def __init__(self, resolve):
        self.resolve = resolve
        self.made = {}  # id(node) -> its op

    def step(self, node, kind=None):
        """``node`` as a step of the search, with its operands; ``kind`` "opaque" for a
        step the fusion must leave alone (it gets its own op)."""
        op = self._op(node, kind) if kind is not None else self.value(node)
        if not op.operands:
            op.operands = [self.operand(o) for o in arguments(node, self.resolve)]
        return op

    def value(self, node):
        """``node`` as a value steps read (its operands are made only for a step)."""
        op = self.made.get(id(node))
        if op is None:
            op = self.made[id(node)] = self._op(node)
        return op

    def operand(self, operand):
        if isinstance(operand, Constant):
            return Literal(operand.value, operand)
        return self.value(operand)

    def _op(self, node, kind=None):
        kind = kind or node.kind
        name = getattr(node, "name", kind)
        op = FusionOp(node.index, kind, name, node.value, node, dynamic_shape=node.dynamic_shape)
        op.c_ordered = getattr(node, "c_ordered", True)
        fun = node.fun
        if node.kind == "op" and fun is not None:
            op.fun, op.call, op.kwargs = fun, getattr(fun, "fun", fun), node.kwargs
            op.scalar_body = rules.scalar_bodies.get(fun)
            op.array_body = rules.array_bodies.get(fun)
            op.reduction = rules.reductions.get(fun)
            op.exact = fun in rules.exact_arithmetic
            shift_of = rules.shifted_reads.get(fun)
            # Only a shift and axis that are the plan's constants: a traced shift (an
            # int computed from the inputs) may differ on replay.
            if shift_of is not None and tuple(node.parent_argnums) == (0,):
                op.shifted = shift_of(node.args, node.kwargs)
        else:
            op.fun, op.kwargs = fun, node.kwargs
        return op
