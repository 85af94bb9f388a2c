"""jitgrad: exact gradients of plain NumPy code, autograd's API, and a fusing jit."""
from . import numpy  # noqa: F401  (registers the array boxes and rules)
from .differential_operators import (  # noqa: F401
    checkpoint, deriv, elementwise_grad, grad, grad_and_aux, grad_named, hessian,
    hessian_tensor_product, hessian_vector_product, holomorphic_grad, jacobian,
    make_ggnvp, make_hvp, make_jvp, make_vjp, multigrad_dict, tensor_jacobian_product,
    value_and_grad, vector_jacobian_product)
from .builtins import dict, isinstance, list, tuple, type  # noqa: F401,A001
from .trace import primitive  # noqa: F401
from .jit import explain, jit  # noqa: F401
# autograd's modules are attributes after `import autograd`: code uses autograd.extend...
from . import core, extend, tracer, util  # noqa: F401,E402

__version__ = "0.1.0"
