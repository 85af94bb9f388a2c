"""Compiled kernels, kept in memory and on disk.

Layout: the cache root (``JITGRAD_CACHE_DIR``, default ``$XDG_CACHE_HOME/jitgrad`` or
``~/.cache/jitgrad``) holds ``kernels/``. There each kernel, named by a hash of its
generated source and the Numba and jitgrad versions, has its source ``k_<key>.py``
(for people and tracebacks: it is never imported) and Numba's index and machine code
(``k_<key>-py311.nbi``, ``k_<key>-py311.1.nbc``), so that a later process loads the
kernel instead of compiling it.

Trust. Numba's index and data files are pickles, so whoever can write them runs code
in every process that loads them. Nothing is read from a directory unless it and its
parents up to the root belong to the current user and are closed to group and others;
jitgrad creates them 0700. A refused directory gets one warning naming it and the fix,
and kernels are compiled in memory. Kernels are compiled from the source jitgrad just
generated, never imported, so no ``.pyc`` is written or read there.

Healing. A source file that is not what jitgrad generated is replaced; a Numba file
that cannot be read is named in a warning, removed, and the kernel compiled again
(``numba_cache``); ``.pyc`` files (left by versions that imported kernels) are removed.
Writes go to a temporary file renamed into place, which is removed if the write fails;
a kernel that compiled is used even when it cannot be stored.
"""
import contextlib
import hashlib
import os
import shutil
import stat
import sys
import tempfile
import threading
import types
import warnings

_compiled = {}
_lock = threading.Lock()
_warned = set()
_swept = set()
counts = {"compiled": 0, "loaded": 0}  # kernels compiled, and loaded from disk


def stats():
    """This process's kernel compiles and loads from the disk cache (a copy)."""
    return dict(counts)


def cache_root():
    return os.environ.get("JITGRAD_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "jitgrad")


def cache_dir():
    return os.path.join(cache_root(), "kernels")


def kernel_key(source):
    import numba
    from .. import __version__
    return hashlib.sha256(f"{source}\n{numba.__version__}\n{__version__}".encode()).hexdigest()[:32]


def load_kernel(source):
    """The Numba dispatcher of ``source``'s function ``kernel`` (compiled on first call,
    or loaded from the disk cache)."""
    key = kernel_key(source)
    with _lock:
        if key in _compiled:
            return _compiled[key]
        directory = usable_directory()
        path = None if directory is None else _store_source(directory, key, source)
        dispatcher = _compile(source, key, path)
        if directory is not None:
            _attach_disk_cache(dispatcher, directory, key)
        _compiled[key] = dispatcher
        return dispatcher


def usable_directory():
    """The kernel directory, created private if missing; None (after one warning) when
    it cannot be created or is not trusted."""
    directory = cache_dir()
    try:
        make_private_dirs(directory)
    except OSError as error:
        _warn_once(f"jitgrad: the kernel cache in {directory} cannot be used ({error}); "
                   "kernels are compiled in memory for this process.")
        return None
    reason = untrusted_reason(directory)
    if reason is not None:
        _warn_once(reason)
        return None
    _sweep_compiled_python(directory)
    return directory


def make_private_dirs(directory):
    """Create ``directory`` and its missing parents, each 0700."""
    missing = []
    path = os.path.abspath(directory)
    while not os.path.isdir(path) and os.path.dirname(path) != path:
        missing.append(path)
        path = os.path.dirname(path)
    for path in reversed(missing):
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass  # made by another process meanwhile: the trust check judges it


def untrusted_reason(directory, root=None):
    """None when ``directory`` and its parents up to the cache root belong to this user
    and only this user can write them; otherwise the warning that refuses it."""
    if not hasattr(os, "geteuid"):
        return None  # no POSIX owners here
    uid = os.geteuid()
    root = os.path.abspath(root or cache_root())
    path = os.path.abspath(directory)
    chain = [path]
    if os.path.commonpath([root, path]) == root:  # else the directory alone
        while path != root:
            path = os.path.dirname(path)
            chain.append(path)
    for path in reversed(chain):  # the topmost problem first: fixing it may fix all
        try:
            link = os.lstat(path)
            info = os.stat(path)
        except OSError as error:
            return _refusal(path, f"it cannot be inspected ({error})", "check its permissions")
        if stat.S_ISLNK(link.st_mode) and link.st_uid not in (uid, 0):
            return _refusal(path, f"it is a symbolic link made by {_user(link.st_uid)}",
                            "remove the link, or set JITGRAD_CACHE_DIR to a directory of "
                            "your own")
        if not stat.S_ISDIR(info.st_mode):  # not a trust matter: say only what is wrong
            return (f"jitgrad: the kernel cache {path} is not a directory, so kernels are "
                    "compiled in memory instead. Fix: move that file away, or set "
                    "JITGRAD_CACHE_DIR to another directory.")
        if info.st_uid != uid:
            return _refusal(path, f"it belongs to {_user(info.st_uid)}, not to you",
                            "set JITGRAD_CACHE_DIR to a directory of your own (jitgrad "
                            "creates it private)")
        if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return _refusal(path, f"group or others can write to it (mode "
                            f"{stat.S_IMODE(info.st_mode):04o})",
                            f"`chmod 700 {path}`, then `python -m jitgrad.cache clear` to drop "
                            "anything planted while it was open")
    return None


def _refusal(path, problem, fix):
    return (f"jitgrad: the kernel cache {path} is not trusted: {problem}, so another user "
            f"could plant code that jitgrad would run. Kernels are compiled in memory "
            f"instead. Fix: {fix}.")


def _user(uid):
    try:
        import pwd
        return f"user {pwd.getpwuid(uid).pw_name!r} (uid {uid})"
    except (ImportError, KeyError):
        return f"uid {uid}"


def _sweep_compiled_python(directory):
    """Remove ``.pyc`` files and ``__pycache__`` (left by jitgrad versions that imported
    kernels: a corrupt one made every run fail): nothing reads them any more."""
    if directory in _swept:
        return
    _swept.add(directory)
    removed = []
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.name.endswith(".pyc") or entry.name == "__pycache__":
                removed.append(entry.path)
                _remove(entry.path)
    if removed:
        _warn_once(f"jitgrad: removed {', '.join(removed)} from the kernel cache: jitgrad "
                   "compiles kernels from their source and never reads compiled Python "
                   "files there.")


def _remove(path):
    with contextlib.suppress(OSError):
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)  # refuses to follow symbolic links inside
        else:
            os.unlink(path)


def _store_source(directory, key, source):
    """Write the kernel's source (for tracebacks and people); its path, or None."""
    path = os.path.join(directory, f"k_{key}.py")
    try:
        with open(path, encoding="utf-8") as file:
            current = file.read()
    except FileNotFoundError:
        current = None
    except (OSError, UnicodeDecodeError):
        current = ""
    if current == source:
        return path
    if current is not None:
        _warn_once(f"jitgrad: {path} in the kernel cache was not written by this version "
                   "of jitgrad (or is corrupt); it is replaced.")
    try:
        write_atomically(path, source.encode("utf-8"))
    except OSError as error:
        _warn_once(f"jitgrad: cannot write to the kernel cache in {directory} ({error}); "
                   "kernels that compile are used from memory.")
        return None
    return path


@contextlib.contextmanager
def atomic_file(path):
    """A binary file that becomes ``path`` when the block ends, and leaves nothing
    behind when it fails (readers never see half a file)."""
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path),
                                         prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        try:
            file = os.fdopen(handle, "wb")
        except BaseException:
            os.close(handle)
            raise
        with file:
            yield file
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def write_atomically(path, data):
    with atomic_file(path) as file:
        file.write(data)


def _compile(source, key, path):
    from .numba_cache import listen_to_compiles
    listen_to_compiles()
    # cache=False: Numba's own cache would find its index through the source file's
    # __pycache__; the disk cache is attached below, in the directory checked here.
    # The kernel's module is registered: Numba finds it by name when it loads the
    # kernel's environment from its cache.
    module = types.ModuleType(f"jitgrad_kernel_{key}")
    module.__file__ = path or f"<jitgrad kernel {key}>"
    exec(compile(source.replace("cache=True", "cache=False"), module.__file__, "exec"),
         module.__dict__)
    sys.modules[module.__name__] = module
    return module.kernel


def _attach_disk_cache(dispatcher, directory, key):
    from .numba_cache import KernelCache
    try:
        dispatcher._cache = KernelCache(dispatcher.py_func, directory, key, cache_root())
    except Exception as error:  # Numba's cache internals changed: no disk cache then
        _warn_once(f"jitgrad: kernels cannot be cached on disk with this Numba "
                   f"({type(error).__name__}: {error}); they are compiled in memory.")


def clear_cache():
    """Remove every kernel from the disk cache; returns (files, bytes) removed.
    Kernels this process holds already stay in use (they are not stored again)."""
    directory = cache_dir()
    files, size = _usage(directory)
    with _lock:
        _swept.clear()
        if os.path.islink(directory):
            os.unlink(directory)
        elif os.path.isdir(directory):
            shutil.rmtree(directory)
    return files, size


def cache_info():
    """Where the disk cache is, whether it is trusted, and what it holds."""
    directory = cache_dir()
    files, size = _usage(directory)
    kernels = set()
    if os.path.isdir(directory):
        kernels = {name[2:].split(".")[0].split("-")[0] for name in os.listdir(directory)
                   if name.startswith("k_")}
    trusted = untrusted_reason(directory) if os.path.isdir(directory) else None
    return {"directory": directory, "exists": os.path.isdir(directory),
            "refused": trusted, "kernels": len(kernels), "files": files, "bytes": size}


def _usage(directory):
    files = size = 0
    for folder, _, names in os.walk(directory):
        for name in names:
            with contextlib.suppress(OSError):
                size += os.lstat(os.path.join(folder, name)).st_size
                files += 1
    return files, size


def _warn_once(message):
    if message not in _warned:
        _warned.add(message)
        warnings.warn(message, RuntimeWarning, stacklevel=4)
