"""Utilities on top of the operators: flattening containers, optimizers, fixed points,
cached graphs."""
from .graph_cache import const_graph, const_graph_unary  # noqa: F401
from .flatten import flatten, flatten_func  # noqa: F401
from .optimizers import adam, rmsprop, sgd  # noqa: F401
from .fixed_points import fixed_point  # noqa: F401
from . import tracers  # noqa: F401  (autograd.misc.tracers, an attribute there too)
