"""``import jitgrad.numpy as np``: NumPy, with every function traced for differentiation."""
from .numpy_wrapper import *  # noqa: F401,F403
from . import numpy_wrapper, numpy_vjps, numpy_jvps  # noqa: F401
from . import elementwise, reductions, shapes, products, indexing  # noqa: F401
from .numpy_boxes import ArrayBox  # noqa: F401
from .shapes import array, asarray, concatenate, stack  # noqa: F401
from .reductions import average  # noqa: F401
from . import fft, linalg, random  # noqa: F401
