"""One OpenBLAS thread for small matrix products.

On a busy machine a multithreaded BLAS call waits for threads that are not running:
a product of a few million multiply-adds, 0.2-2 ms on one thread, took 1-4x that
with two OpenBLAS threads on this 2-core machine under load (mean over repeats,
``python benchmarks/blas_threads.py``; less loaded, two threads gained up to 1.7x), and
OpenBLAS's own single-thread cut-off is far lower. Above ``SMALL_PRODUCT`` the
call is long enough to pay for the threads' start. So ``dot`` and ``matmul`` (the
functions jitgrad's primitives call, eagerly and in jitted plans) run products
below that size with OpenBLAS limited to one thread, then restore the user's count.

threadpoolctl finds the OpenBLAS libraries loaded; their thread counts are read and
set through their C entry points (~0.2 us a call; threadpoolctl's own context
manager costs ~1 ms). Other BLAS libraries (MKL, BLIS) are left alone. With
OpenBLAS built on pthreads the count is process-wide: a thread running a big
product while another limits a small one may run it on one thread.

Setting the count costs ~1.4 us a library (two are loaded with SciPy), ~1.5 us a
product: 5% of an RNN gradient's 500 small products. A plan with several products
holds one thread for its whole replay instead (``hold_one_thread``, one set and one
restore), giving a big product its threads back while it runs.
"""
import ctypes
import functools
import logging
import threading

import numpy as np

from .. import settings

logger = logging.getLogger("jitgrad.kernels")

# Multiply-adds (m * k * n) below which a product runs on one thread. Measured on a
# busy 2-core machine; on a quiet many-core one, threads pay off sooner:
# JITGRAD_BLAS_ONE_THREAD_BELOW=<multiply-adds> moves it (0 leaves OpenBLAS alone).
DEFAULT_SMALL_PRODUCT = 5e7


def _small_product():
    return settings.number("JITGRAD_BLAS_ONE_THREAD_BELOW", DEFAULT_SMALL_PRODUCT)


SMALL_PRODUCT = _small_product()
# Below this OpenBLAS itself uses one thread (its matrix-vector cut-off, 2304 * 4
# elements; matrix-matrix from 65536 * 4 multiply-adds): nothing to set.
OPENBLAS_SINGLE = 9216

_state = {}  # "libs": [(get, set)] of the OpenBLAS libraries loaded, once looked up
# Plans holding one thread now, and the (set, count) pairs that restore the counts.
_held = {"depth": 0, "restore": []}
_held_lock = threading.Lock()


def _openblas():
    """(get_num_threads, set_num_threads) of each OpenBLAS library loaded."""
    libs = _state.get("libs")
    if libs is None:
        libs = _state["libs"] = []
        try:
            from threadpoolctl import ThreadpoolController
            controllers = ThreadpoolController().select(internal_api="openblas")
            paths = [info["filepath"] for info in controllers.info()]
        except Exception as error:  # no threadpoolctl, or a library it cannot read
            logger.debug("BLAS threads left alone: %s", error)
            paths = []
        for path in paths:
            pair = _entry_points(path)
            if pair is not None:
                libs.append(pair)
    return libs


def _entry_points(path):
    """openblas_get_num_threads and _set_ of the library at ``path`` (symbol names
    carry a prefix or suffix in some builds: scipy_..., ...64_)."""
    try:
        library = ctypes.CDLL(path)
    except OSError:
        return None
    for prefix in ("", "scipy_"):
        for suffix in ("", "64_", "_64"):
            get = getattr(library, f"{prefix}openblas_get_num_threads{suffix}", None)
            set_ = getattr(library, f"{prefix}openblas_set_num_threads{suffix}", None)
            if get is not None and set_ is not None:
                get.restype, get.argtypes = ctypes.c_int, []
                set_.restype, set_.argtypes = None, [ctypes.c_int]
                return get, set_
    return None


def multiply_adds(a, b):
    """About m * k * n for a product of ``a`` and ``b`` (dot or matmul, any ndim)."""
    try:
        return a.size * b.size / a.shape[-1]
    except (AttributeError, IndexError, ZeroDivisionError):  # lists, scalars, empty
        inner = np.shape(a)[-1] if np.ndim(a) else 1
        return np.size(a) * np.size(b) / inner if inner else 0


def _limited(product, a, b, *args, **kwargs):
    """``product(a, b, ...)`` on one OpenBLAS thread when it is small."""
    work = multiply_adds(a, b)
    if work < OPENBLAS_SINGLE:
        return product(a, b, *args, **kwargs)
    if work >= SMALL_PRODUCT:
        if _held["depth"]:
            return _with_held_threads(product, (a, b, *args), kwargs)
        return product(a, b, *args, **kwargs)
    return _on_one_thread(product, (a, b, *args), kwargs)


def lapack_work(*args, **kwargs):
    """About the multiply-adds of a LAPACK routine on these arguments: every array
    argument's elements times the first one's last dimension (n**3 for an n x n
    factorization, n**2 * k for a triangular solve with k right-hand sides)."""
    arrays = [arg for arg in args if isinstance(arg, np.ndarray)]
    if not arrays or not arrays[0].ndim:
        return 0
    return sum(a.size for a in arrays) * arrays[0].shape[-1]


def limited(routine):
    """``routine`` (a LAPACK-backed function of NumPy or SciPy) run on one OpenBLAS
    thread below ``SMALL_PRODUCT`` multiply-adds. OpenBLAS threads its triangular
    solves and factorizations at far smaller sizes than its products: a 2 x 2
    triangular solve with 300 right-hand sides took 10-100x longer with two threads
    on this busy machine."""
    @functools.wraps(routine)
    def on_one_thread_if_small(*args, **kwargs):
        if lapack_work(*args) >= SMALL_PRODUCT:
            if _held["depth"]:
                return _with_held_threads(routine, args, kwargs)
            return routine(*args, **kwargs)
        return _on_one_thread(routine, args, kwargs)
    on_one_thread_if_small._blas_limited = True
    return on_one_thread_if_small


def _on_one_thread(fun, args, kwargs):
    if _held["depth"]:  # a plan holds one thread already
        return fun(*args, **kwargs)
    restore = _limit_to_one()
    try:
        return fun(*args, **kwargs)
    finally:
        for set_, threads in restore:
            set_(threads)


def _limit_to_one():
    """Set every OpenBLAS library above one thread to one; the (set, count) pairs
    that restore them."""
    restore = []
    for get, set_ in _openblas():
        threads = get()
        if threads > 1:
            set_(1)
            restore.append((set_, threads))
    return restore


def hold_one_thread():
    """Limit OpenBLAS to one thread until the matching ``release_one_thread``: a
    plan's replay, whose small products then set nothing (calls nest)."""
    with _held_lock:
        if not _held["depth"]:
            _held["restore"] = _limit_to_one()
        _held["depth"] += 1


def release_one_thread():
    with _held_lock:
        _held["depth"] -= 1
        if not _held["depth"]:
            for set_, threads in _held["restore"]:
                set_(threads)
            _held["restore"] = []


def _with_held_threads(fun, args, kwargs):
    """A big product while a plan holds one thread: with the user's counts back."""
    restore = list(_held["restore"])
    for set_, threads in restore:
        set_(threads)
    try:
        return fun(*args, **kwargs)
    finally:
        with _held_lock:  # (unless the hold ended meanwhile, in another thread)
            if _held["depth"]:
                for set_, _ in restore:
                    set_(1)


def is_product(fun):
    """Whether ``fun`` is this module's ``dot`` or ``matmul`` (or wraps one)."""
    return _unwraps_to(fun, lambda f: f is dot or f is matmul)


def uses_threads(fun):
    """Whether ``fun`` is one of the products or LAPACK routines limited here (or
    a wrapper of one, through ``__wrapped__``)."""
    return _unwraps_to(fun, lambda f: f is dot or f is matmul or
                       getattr(f, "_blas_limited", False))


def sets_threads(fun, args):
    """Whether ``fun(*args)`` (one of ``uses_threads``'s) sets the thread count: a
    product between OpenBLAS's own one-thread size and ``SMALL_PRODUCT``, a LAPACK
    routine below it."""
    if is_product(fun):
        return len(args) >= 2 and OPENBLAS_SINGLE <= multiply_adds(*args[:2]) < SMALL_PRODUCT
    return lapack_work(*args) < SMALL_PRODUCT


def _unwraps_to(fun, test):
    for _ in range(8):  # (dot's own __wrapped__ is NumPy's: the test meets dot first)
        if test(fun):
            return True
        fun = getattr(fun, "__wrapped__", None)
        if fun is None:
            return False
    return False


def dot(a, b, out=None):
    """``numpy.dot``, on one OpenBLAS thread below ``SMALL_PRODUCT`` multiply-adds."""
    return _limited(np.dot, a, b, out=out)


def matmul(a, b, *args, **kwargs):
    """``numpy.matmul``, on one OpenBLAS thread below ``SMALL_PRODUCT`` multiply-adds."""
    return _limited(np.matmul, a, b, *args, **kwargs)


dot.__wrapped__, matmul.__wrapped__ = np.dot, np.matmul  # what they stand for