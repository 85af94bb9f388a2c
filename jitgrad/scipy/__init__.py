"""``jitgrad.scipy``: SciPy's special functions, distributions, linear algebra,
signal processing and ODE integration, traced for differentiation."""
from . import special  # noqa: F401
from . import integrate, linalg, misc, signal, stats  # noqa: F401
