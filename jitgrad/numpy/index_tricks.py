"""``np.r_`` and ``np.c_`` that concatenate traced values too.

NumPy's own objects turn every item into a plain array, which a value being
differentiated cannot become; these build the same pieces with jitgrad.numpy and
concatenate them, and hand calls without traced items to NumPy unchanged.
"""
import numpy as _np

from .assembly import concatenate, contains_box
from .constructors import array
from . import numpy_wrapper as anp


class _Concatenator:
    """``obj[item, item, ...]``: items joined along ``axis``, each first given at least
    ``ndmin`` dimensions, its own axes starting at position ``trans1d``."""

    def __init__(self, plain, axis, ndmin, trans1d):
        self.plain = plain
        self.defaults = (axis, ndmin, trans1d)

    def __getitem__(self, key):
        items = key if isinstance(key, tuple) else (key,)
        if not any(contains_box(item) for item in items):
            return self.plain[key]
        axis, ndmin, trans1d = self.defaults
        if isinstance(items[0], str):
            axis, ndmin, trans1d = _directive(items[0], self.defaults)
            items = items[1:]
        pieces = [self._piece(item, ndmin, trans1d) for item in items]
        return concatenate(pieces, axis=axis)

    def _piece(self, item, ndmin, trans1d):
        if isinstance(item, slice):
            return _np.r_[item]  # a range (or linspace, for a complex step)
        piece = array(item, copy=False, ndmin=1)
        missing = ndmin - anp.ndim(piece)
        if missing <= 0:
            return piece
        # New axes have length 1, so placing the item's own axes among them is a reshape.
        first = trans1d if trans1d >= 0 else missing + 1 + trans1d
        first = min(max(first, 0), missing)
        shape = (1,) * first + tuple(anp.shape(piece)) + (1,) * (missing - first)
        return anp.reshape(piece, shape)

    def __len__(self):
        return 0


def _directive(text, defaults):
    """NumPy's leading string: ``"axis"`` or ``"axis,ndmin,trans1d"``."""
    parts = text.split(",")
    if parts[0] in ("r", "c"):
        raise TypeError("np.r_ with the matrix directives 'r'/'c' is not supported on traced "
                        "values; use np.concatenate and np.reshape.")
    numbers = [int(part) for part in parts]
    return tuple(numbers) + defaults[len(numbers):]


r_ = _Concatenator(_np.r_, 0, 1, -1)
c_ = _Concatenator(_np.c_, -1, 2, 0)
