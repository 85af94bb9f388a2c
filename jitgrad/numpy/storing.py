"""Clear errors for traced values that would silently turn into plain numbers.

NumPy's item assignment (``a[i] = v`` on an ndarray) is C code: it converts ``v``
with ``__float__`` (a scalar position) or ``__array__`` (a row), with no Python
frame of its own, so the caller's frame is the one executing the assignment.
Looking at that frame's current instruction tells an assignment apart from an
ordinary ``float(v)``, which keeps returning the value.
"""
import dis
import functools
import sys

# CPython 3.10-3.13 compile ``a[i] = v`` to STORE_SUBSCR and, from 3.12,
# ``a[i:j] = v`` to STORE_SLICE.
_STORE_OPNAMES = frozenset({"STORE_SUBSCR", "STORE_SLICE"})


@functools.lru_cache(maxsize=512)
def _store_offsets(code):
    return frozenset(ins.offset for ins in dis.get_instructions(code)
                     if ins.opname in _STORE_OPNAMES)


def converting_for_assignment(depth):
    """True when the Python frame ``depth`` levels up is storing into a subscript.

    ``depth`` counts from this function: 1 is its caller (``__array__``), 2 the
    frame that called that one (NumPy's C code has no frame of its own).
    """
    try:
        frame = sys._getframe(depth)
    except (ValueError, AttributeError):
        return False
    return _is_storing(frame)


def _is_storing(frame):
    try:
        return frame.f_lasti in _store_offsets(frame.f_code)
    except Exception:  # an unusual frame or bytecode: never turn it into an error
        return False


def assignment_error():
    return TypeError(
        "A traced value (one being differentiated, or computed from one) is being "
        "assigned into a plain NumPy array, which would keep only its number and lose "
        "its derivative. Create the array with jitgrad.numpy inside the differentiated "
        "function (np.zeros, np.ones, np.empty, np.full, np.zeros_like, np.array, "
        "np.copy, ... with `import jitgrad.numpy as np`), so that assignment into it is "
        "traced; or build the result functionally (np.stack, np.concatenate, np.where, "
        "or collect values in a list and call np.array(list)).")


def conversion_error():
    return TypeError(
        "A traced value (one being differentiated, or computed from one) cannot become a "
        "plain NumPy array: that would drop its derivative. This happens when a function "
        "outside jitgrad.numpy / jitgrad.scipy (plain numpy.asarray, a library built on "
        "NumPy) receives it. Call the jitgrad.numpy function instead (np.array / "
        "np.asarray with `import jitgrad.numpy as np`), or wrap the outside function as a "
        "primitive with a gradient rule (jitgrad.extend.primitive and defvjp).")
