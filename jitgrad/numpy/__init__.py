"""``import jitgrad.numpy as np``: NumPy, with every function traced for differentiation."""
from .numpy_wrapper import *  # noqa: F401,F403
from . import numpy_wrapper, numpy_vjps, numpy_jvps  # noqa: F401
from . import elementwise, reductions, shapes, products, indexing  # noqa: F401
from .numpy_boxes import ArrayBox, NDArrayBox  # noqa: F401
from . import assembly, constructors, sorting  # noqa: F401
from .assembly import (  # noqa: F401
    append, array_split, atleast_1d, atleast_2d, atleast_3d, block, broadcast_arrays,
    column_stack, concat, concatenate, dsplit, dstack, hsplit, hstack, row_stack, select,
    split, stack, unstack, vsplit, vstack)
from .constructors import (  # noqa: F401
    array, asanyarray, asarray, copy, empty, empty_like, full, full_like, ones, ones_like,
    zeros, zeros_like)
from .indexing import choose, take, take_along_axis  # noqa: F401
from .sorting import partition, sort, sort_complex  # noqa: F401
from .reductions import average  # noqa: F401
from .products import polyval  # noqa: F401
from . import complex, fft, linalg, random  # noqa: F401
from .shapes import make_diagonal  # noqa: F401
from .where_wrapper import where  # noqa: F401
from numpy import __version__  # noqa: F401
from .index_tricks import c_, r_  # noqa: F401,E402
from .shapes import roll  # noqa: F401,E402  (a faster np.roll)
