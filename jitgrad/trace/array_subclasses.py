"""NumPy array subclasses that jitgrad does not trace, and what to pass instead."""
import numpy as np


def unsupported_array(value):
    """Why ``value`` (an np.matrix or a masked array) cannot be traced and what to do
    instead, as the end of a sentence naming it; None for any other value."""
    if not isinstance(value, np.ndarray) or type(value) is np.ndarray:
        return None
    if isinstance(value, np.ma.MaskedArray):
        return ("is a masked array: jitgrad computes with plain arrays and would drop its "
                "mask silently. Pass its data and its mask as plain arrays (np.ma.getdata, "
                "np.ma.getmaskarray) and combine them with np.where")
    if isinstance(value, np.matrix):
        return ("is an np.matrix, on which * is a matrix product and every result stays "
                "2-d, unlike the arrays jitgrad's rules compute with. Convert it with np.asarray "
                "and write matrix products with @")
    return None
