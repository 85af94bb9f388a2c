"""Compatibility module: helpers forward-mode rules are written with."""
from .numpy_vjps import broadcast, match_complex, repeat_to_match_shape, unbroadcast  # noqa: F401
