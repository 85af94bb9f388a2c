"""Where in the user's code something happened: the first frame outside jitgrad,
NumPy and SciPy (their Python layers call a jitted gradient, as ``scipy.optimize.
minimize`` does, or turn a traced value into a number, as ``np.linspace`` does), so
that a warning points at the user's line and a guard names the line that took it."""
import os
import sys

_JITGRAD = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_found = {}  # library name -> its directory, once imported


def _library_directories():
    if len(_found) < 2:  # (SciPy may be imported after the first guard)
        for name in ("numpy", "scipy"):
            module = sys.modules.get(name)
            if name not in _found and getattr(module, "__file__", None):
                _found[name] = os.path.dirname(os.path.abspath(module.__file__))
    return (_JITGRAD, *_found.values())


def _first_user_frame(frame):
    """``frame`` or the first frame it was called from outside the libraries (None if
    there is none), and how many frames up that is."""
    level = 0
    while frame is not None and (frame.f_code.co_filename.startswith("<jitgrad") or
                                 frame.f_code.co_filename.startswith(_library_directories())):
        frame, level = frame.f_back, level + 1
    return frame, level


def user_stacklevel():
    """The ``stacklevel`` of ``warnings.warn`` called by this function's caller that
    points at the first frame outside the libraries."""
    return 1 + _first_user_frame(sys._getframe(1))[1]


def user_location():
    """``file.py:line`` of the first frame outside the libraries, or None."""
    frame = _first_user_frame(sys._getframe(1))[0]
    if frame is None:
        return None
    return f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"
