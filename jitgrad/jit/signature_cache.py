"""The plan cache of a jitted function: signatures to their plans, least recently used
first, remembering the signature served last so that the next call with arguments of
that signature is recognized without computing its key.

A training loop calls its gradient with arrays of the same shapes thousands of times.
Computing the key of three arrays and looking it up costs about 0.7 us, a fifth of a
small jitted call (tight_loop: 3.4 us); comparing them with the last signature's
shapes and dtypes in generated code costs about 0.25 us.
"""
from collections import OrderedDict

import numpy as np


class Signatures(OrderedDict):
    """An OrderedDict of signature -> paths whose ``recent`` is the paths served last
    (their ``fits`` tells whether positional arguments have their signature), or None.
    Any change of the entries forgets it, so that a recognized call always finds what
    looking its key up would find; paths leaving it forget their express function, so
    that no front (express.py) serves them."""
    recent = None

    def __setitem__(self, key, value):
        self.recent = None
        _forgotten(self.get(key), value)
        super().__setitem__(key, value)

    def __delitem__(self, key):
        self.recent = None
        _forgotten(self.get(key))
        super().__delitem__(key)

    def popitem(self, last=True):
        self.recent = None
        key, value = super().popitem(last)
        _forgotten(value)
        return key, value

    def pop(self, *args):
        self.recent = None
        _forgotten(self.get(args[0]) if args else None)
        return super().pop(*args)

    def clear(self):
        self.recent = None
        for value in self.values():
            _forgotten(value)
        super().clear()


def _forgotten(paths, kept=None):
    """``paths`` leaves the cache (unless it is ``kept``): its express function too."""
    if paths is not None and paths is not kept and hasattr(paths, "express"):
        paths.express = None


def fits_function(signature):
    """A function of positional arguments telling whether ``_positional_key`` would give
    them this ``signature`` (a tuple of ``(shape, dtype)`` for arrays, ``float`` and
    ``int`` for Python floats and ints): the same types, shapes and dtypes, compared
    without building a key.
    A dtype is compared by identity (NumPy's built-in dtypes are single objects); an
    equal dtype that is another object is not recognized and takes the key's way."""
    namespace = {}
    params, test = fits_source(signature, namespace)
    source = f"def fits({params}):\n    return {test}\n"
    exec(compile(source, "<jitgrad signature>", "exec"), namespace)
    return namespace["fits"]


def fits_source(signature, namespace, checked_later=()):
    """``fits_function``'s parameters and test as source, the names they use put in
    ``namespace`` (express.py tests the same in its own function). Of the arrays at
    positions ``checked_later`` only the type is tested: the caller's compiled
    function checks their shape and dtype itself."""
    namespace.update({"_ndarray": np.ndarray, "_missing": object()})
    params = [f"a{i}=_missing" for i in range(len(signature))]
    tests = []
    for i, part in enumerate(signature):
        if part is float or part is int:
            tests.append(f"type(a{i}) is {part.__name__}")
        elif i in checked_later:
            tests.append(f"type(a{i}) is _ndarray")
        else:
            namespace[f"_shape{i}"], namespace[f"_dtype{i}"] = part
            tests.append(f"type(a{i}) is _ndarray and a{i}.shape == _shape{i} "
                         f"and a{i}.dtype is _dtype{i}")
    tests.append("not more")  # (fewer arguments leave a parameter _missing)
    return ", ".join(params + ["*more"]), " and ".join(tests)
