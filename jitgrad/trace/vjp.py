"""Reverse mode: VJP nodes record each primitive's VJP; the backward pass runs them."""
import numpy as np

from . import tree
from .core import Node, plain_scope, trace
from .rules import primitive_vjps
from .user_rules import checked_cotangents, runs_as_plan_step, user_rule_primitives, vjp_step
from .vspace import vspace


class VJPNode(Node):
    __slots__ = ["parents", "vjp"]

    def __init__(self, value, fun, args, kwargs, parent_argnums, parents):
        self.parents = parents
        try:
            vjpmaker = primitive_vjps[fun]
        except KeyError:
            name = getattr(fun, "__name__", repr(fun))
            raise NotImplementedError(
                f"{name} has no gradient rule (VJP) in jitgrad; define one with "
                f"jitgrad.extend.defvjp({name}, ...), or compute it outside the "
                "differentiated function.") from None
        if runs_as_plan_step(fun, (value, *args)):
            self.vjp = vjp_step(fun, vjpmaker, parent_argnums, value, args, kwargs)
            return
        with plain_scope:  # what a rule creates stays plain (see core.PlainScope)
            self.vjp = vjpmaker(parent_argnums, value, args, kwargs)
        if fun in user_rule_primitives:
            self.vjp = checked_cotangents(fun, parent_argnums, args, self.vjp)

    def initialize_root(self):
        self.parents = []
        self.vjp = lambda g: ()

    def initialize_constant(self, value):
        self.parents = []
        self.vjp = None  # marks a constant: its cotangent goes nowhere


def make_vjp(fun, x):
    """Trace ``fun(x)``; return ``(vjp, ans)`` where ``vjp(g)`` is g's pull-back to x."""
    start_node = VJPNode.new_root()
    end_value, end_node = trace(start_node, fun, x)
    if end_node is None:
        def vjp(g):
            return vspace(x).zeros()
    else:
        def vjp(g):
            result = backward_pass(g, end_node)
            return vspace(x).zeros() if result is None else writeable_arrays(result)
    return vjp, end_value


def writeable_arrays(cotangent):
    """``cotangent`` with each read-only array in it copied, and each array that is
    (or views) one already in it: a rule's result may be a broadcast view (sum's) or
    the cotangent it was given (add's, for both arguments), and a gradient's entries
    are the caller's to update in place one by one (``g *= lr``), as autograd's are.
    (Traced values pass as they are; the jit's plans call this on what they return.)"""
    seen = set()  # the arrays (or the bases viewed) the result holds so far

    def own(leaf):
        if type(leaf) is np.ndarray:
            base = leaf if leaf.base is None else leaf.base
            if not leaf.flags.writeable or id(base) in seen:
                leaf = base = leaf.copy()
            seen.add(id(base))
        return leaf
    return tree.tree_map(own, cotangent)


def backward_pass(g, end_node):
    """Propagate cotangent ``g`` from ``end_node`` back to the root, summing at fan-in."""
    outgrads = {end_node: g}
    owned = set()  # nodes whose summed cotangent is an array we made (so may add into)
    result = None
    with plain_scope:  # the rules and the sums create plain values
        for node in toposort(end_node):
            outgrad = outgrads.pop(node)
            if node.vjp is None:
                continue  # a constant: its cotangent goes nowhere
            if not node.parents:
                result = outgrad  # the root: the only parentless node not a constant
            ingrads = tuple(node.vjp(outgrad))
            for parent, ingrad in zip(node.parents, ingrads):
                prev = outgrads.get(parent)
                if prev is None:
                    outgrads[parent] = ingrad
                elif parent in owned and _can_add_into(prev, ingrad):
                    np.add(prev, ingrad, out=prev)
                else:
                    outgrads[parent] = accumulate(prev, ingrad)
                    owned.add(parent)
    return None if result is None else densify(result)


def _can_add_into(prev, new):
    """Plain arrays (not traced: no higher order, no jit) that sum without a new dtype,
    and into the layout that ``prev + new`` would have: both C-ordered, or both
    Fortran-ordered. Traced, every sum is ``prev + new``, laid out by NumPy from both
    operands; a sum over the cotangent later adds in memory order, so an in-place sum
    kept in another layout would round differently from the jit's."""
    return (type(prev) is np.ndarray and type(new) is np.ndarray and prev.shape == new.shape
            and np.result_type(prev, new) == prev.dtype
            and (prev.flags.c_contiguous and new.flags.c_contiguous
                 or prev.flags.f_contiguous and new.flags.f_contiguous))


class SparseObject:
    """A cotangent that only knows how to add itself into a dense one.

    ``mut_add(A)`` adds the sparse value into array ``A`` in place and returns it;
    used by indexing VJPs so that ``x[i]`` does not allocate a full gradient.
    """
    __slots__ = ["vs", "mut_add"]

    def __init__(self, vs, mut_add):
        self.vs = vs
        self.mut_add = mut_add


def accumulate(prev, new):
    if prev is None:
        return new
    # A sparse cotangent is added into fresh zeros first, so that the sum is a
    # traceable add even when the other side is traced (higher order, jit).
    prev, new = densify(prev), densify(new)
    return vspace(prev).add(prev, new)


def densify(g):
    if type(g) is SparseObject:
        return g.mut_add(g.vs.zeros())
    return g


def toposort(end_node, parents=lambda node: node.parents):
    """The nodes ``end_node`` depends on, each one before all the nodes it depends on.

    A depth-first walk over parents lists a node once its last parent is done
    (post-order), which puts parents first; the backward pass wants the reverse.
    The walk keeps its own stack of (node, parents still to visit), so a long
    chain of operations cannot exhaust Python's recursion limit.
    """
    done = []
    seen = {end_node}
    stack = [(end_node, iter(parents(end_node)))]
    while stack:
        node, unvisited = stack[-1]
        for parent in unvisited:
            if parent not in seen:
                seen.add(parent)
                stack.append((parent, iter(parents(parent))))
                break
        else:
            stack.pop()
            done.append(node)
    return reversed(done)
