"""Numba's on-disk cache for jitgrad's kernels, pinned to a directory jitgrad checked.

Numba finds a cached function's index through its source file (``__pycache__`` beside
it, or ``NUMBA_CACHE_DIR``) and unpickles what it finds there. A kernel's cache here is
a ``KernelCache`` attached to its dispatcher instead: it reads and writes only the
kernel directory, checks that directory's trust right before each read, heals files it
cannot read, never lets a failed write cost the compiled kernel, and makes processes
that share the directory compile each kernel once (a lock per kernel, held while one
process compiles; the others then load).
"""
import os
import sys
import time
import warnings

from numba.core import caching, event

from . import cache

try:
    import fcntl
except ImportError:  # not POSIX: no lock, each process may compile
    fcntl = None

counts = cache.counts
LOCK_TIMEOUT = 300.0  # seconds to wait for another process compiling the same kernel


class _Locator:
    """What Numba asks of a locator when it saves: the directory, and a file to name."""

    def __init__(self, directory, py_file):
        self._directory = directory
        self._py_file = py_file

    def ensure_cache_path(self):
        cache.make_private_dirs(self._directory)

    def get_cache_path(self):
        return self._directory


class _Impl(caching.CompileResultCacheImpl):
    def __init__(self, py_func, locator, filename_base):  # no search for a locator
        self._lineno = py_func.__code__.co_firstlineno
        self._locator = locator
        self._filename_base = filename_base


class _IndexDataFile(caching.IndexDataCacheFile):
    def _open_for_write(self, filepath):
        return cache.atomic_file(filepath)


class KernelCache(caching.FunctionCache):
    def __init__(self, py_func, directory, key, root):
        self._name = repr(py_func)
        self._py_func = py_func
        base = "k_{}-py{}{}{}".format(key, *sys.version_info[:2], getattr(sys, "abiflags", ""))
        self._impl = _Impl(py_func, _Locator(directory, py_func.__code__.co_filename), base)
        self._cache_path = directory
        # The stamp Numba compares with the index's is the key: a hash of the source.
        self._cache_file = _IndexDataFile(directory, base, key)
        self._root = root
        self._lock_path = os.path.join(directory, f"k_{key}.lock")
        self._lock = None
        self.enable()

    def load_overload(self, sig, target_context):
        self._release()
        reason = cache.untrusted_reason(self._cache_path, self._root)
        if reason is not None:  # changed since the kernel was loaded
            cache._warn_once(reason)
            self.disable()
            return None
        self._lock = _acquire(self._lock_path)
        target_context.refresh()
        try:
            result = self._load_overload(sig, target_context)
        except Exception as error:
            self._heal(sig, target_context, error)
            result = None
        if result is not None:
            counts["loaded"] += 1
            self._release()
        return result  # None: Numba compiles, then calls save_overload (lock held)

    def save_overload(self, sig, data):
        try:
            self._save_overload(sig, data)
        except Exception as error:  # a full disk: the kernel compiled, and is used
            cache._warn_once(f"jitgrad: cannot store a compiled kernel in {self._cache_path} "
                             f"({type(error).__name__}: {error}); it is used from memory in "
                             "this process.")
        finally:
            self._release()

    def _heal(self, sig, target_context, error):
        """Remove the file that could not be read (the index, or this signature's data)."""
        index = self._cache_file._index_path
        try:
            overloads = self._cache_file._load_index()
        except Exception:
            bad = [index]
        else:
            name = overloads.get(self._index_key(sig, target_context.codegen()))
            bad = [self._cache_file._data_path(name)] if name else [index]
        for path in bad:
            cache._remove(path)
        warnings.warn(f"jitgrad: {', '.join(bad)} in the kernel cache could not be read "
                      f"({type(error).__name__}: {str(error)[:100]}); removed, and the kernel "
                      "is compiled again.", RuntimeWarning, stacklevel=2)

    def _release(self):
        if self._lock is not None:
            os.close(self._lock)  # closing the file releases the lock
            self._lock = None


def _acquire(path):
    """An exclusive lock on ``path`` (a file descriptor), or None when it cannot be had
    in time: then this process compiles too, which costs time, not correctness."""
    if fcntl is None:
        return None
    try:
        handle = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError:
        return None
    deadline = time.monotonic() + LOCK_TIMEOUT
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return handle
        except BlockingIOError:
            if time.monotonic() > deadline:
                break
            time.sleep(0.005)
        except OSError:
            break
    os.close(handle)
    return None


class _CompileListener(event.Listener):
    """Counts kernel compiles, and frees the lock of a compile that failed (Numba then
    never calls save_overload)."""

    def on_start(self, ev):
        pass

    def on_end(self, ev):
        dispatcher = ev.data["dispatcher"]
        # (a function made by exec may have no module: not a kernel of ours)
        if not (getattr(dispatcher.py_func, "__module__", None) or "").startswith(
                "jitgrad_kernel_"):
            return
        # Event.is_failed answers the opposite (Numba 0.68): read what it reads.
        if getattr(ev, "_exc_details", None) is not None:
            if isinstance(dispatcher._cache, KernelCache):
                dispatcher._cache._release()
        else:
            counts["compiled"] += 1


_listener = []


def listen_to_compiles():
    if not _listener:
        _listener.append(_CompileListener())
        event.register("numba:compile", _listener[0])
