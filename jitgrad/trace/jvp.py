"""Forward mode: JVP nodes carry each value's tangent along as it is computed."""
from .core import Node, plain_scope, trace
from .rules import primitive_jvps
from .user_rules import checked_tangent, jvp_step, runs_as_plan_step, user_rule_primitives
from .vspace import vspace


class JVPNode(Node):
    __slots__ = ["g"]

    def __init__(self, value, fun, args, kwargs, parent_argnums, parents):
        try:
            jvpmaker = primitive_jvps[fun]
        except KeyError:
            name = getattr(fun, "__name__", repr(fun))
            raise NotImplementedError(
                f"{name} has no forward-mode rule (JVP) in jitgrad; define one with "
                f"jitgrad.extend.defjvp({name}, ...), or use reverse mode.") from None
        gs = [parent.g for parent in parents]
        if runs_as_plan_step(fun, (value, *args, *gs)):
            g = jvp_step(fun, jvpmaker, parent_argnums, gs, value, args, kwargs)
        else:
            with plain_scope:  # what a rule creates stays plain (see core.PlainScope)
                g = jvpmaker(parent_argnums, gs, value, args, kwargs)
        self.g = checked_tangent(fun, value, g) if fun in user_rule_primitives else g

    def initialize_root(self, g):
        self.g = g

    def initialize_constant(self, value):
        self.g = vspace(value).zeros()


def make_jvp(fun, x):
    """``make_jvp(fun, x)(g)`` returns ``(fun(x), J(x) @ g)`` by forward mode."""
    def jvp(g):
        start_node = JVPNode.new_root(g)
        end_value, end_node = trace(start_node, fun, x)
        if end_node is None:
            return end_value, vspace(end_value).zeros()
        return end_value, end_node.g
    return jvp
