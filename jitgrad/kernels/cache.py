"""Compiled kernels, kept in memory and on disk.

A kernel's source is written to ``JITGRAD_CACHE_DIR`` (default: the user's cache
home) under a name hashed from the source and the Numba and jitgrad versions,
then imported, so that Numba's own ``cache=True`` stores the machine code next to
it: a later process loads the kernel instead of compiling it. Writes are atomic.
A directory that cannot be written, or a file that is not what we wrote, is
passed over with one warning and the kernel compiled in memory.
"""
import hashlib
import importlib.util
import os
import sys
import tempfile
import threading
import warnings

_compiled = {}
_lock = threading.Lock()
_warned = set()


def cache_dir():
    root = os.environ.get("JITGRAD_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "jitgrad")
    return os.path.join(root, "kernels")


def load_kernel(source):
    """The Numba dispatcher of ``source``'s function ``kernel`` (compiled on first call)."""
    import numba
    from .. import __version__
    key = hashlib.sha256(f"{source}\n{numba.__version__}\n{__version__}".encode()).hexdigest()[:32]
    with _lock:
        if key in _compiled:
            return _compiled[key]
        try:
            dispatcher = _import_from_disk(key, source)
        except (OSError, ImportError, SyntaxError, RuntimeError) as error:
            _warn_once(f"jitgrad: the kernel cache in {cache_dir()} cannot be used ({error}); "
                       "kernels are compiled in memory for this process.")
            dispatcher = _compile_in_memory(source)
        _compiled[key] = dispatcher
        return dispatcher


def _import_from_disk(key, source):
    directory = cache_dir()
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"k_{key}.py")
    if not _holds(path, source):
        if os.path.exists(path):
            _warn_once(f"jitgrad: {path} in the kernel cache was not written by this version "
                       "of jitgrad; it is replaced.")
        handle, temporary = tempfile.mkstemp(dir=directory, suffix=".tmp")
        with os.fdopen(handle, "w") as file:
            file.write(source)
        os.replace(temporary, path)  # atomic: readers never see half a file
    name = f"jitgrad_kernel_{key}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module.kernel


def _holds(path, source):
    try:
        with open(path) as file:
            return file.read() == source
    except (OSError, UnicodeDecodeError):
        return False


def _compile_in_memory(source):
    namespace = {}
    exec(compile(source.replace("cache=True", "cache=False"), "<jitgrad kernel>", "exec"),
         namespace)
    return namespace["kernel"]


def _warn_once(message):
    if message not in _warned:
        _warned.add(message)
        warnings.warn(message, RuntimeWarning, stacklevel=4)
