"""Helpers for writing differential operators: n-ary from unary, and naming."""
import functools
import inspect
import types
import weakref
from functools import wraps as _functools_wraps

from .trace.vspace import check_differentiable


def _argnum_error(opname, argnum, nargs):
    return IndexError(
        f"{opname}: argnum={argnum!r} is out of range for a call with {nargs} positional "
        f"argument{'s' if nargs != 1 else ''}; pass argnum between 0 and {nargs - 1}, or "
        "pass the value you differentiate with respect to as a positional argument.")


def _select(args, argnum, opname):
    try:
        if isinstance(argnum, int):
            return args[argnum]
        return tuple(args[i] for i in argnum)
    except IndexError:
        raise _argnum_error(opname, argnum, len(args)) from None
    except TypeError:
        raise TypeError(f"{opname}: argnum must be an int or a tuple of ints, "
                        f"not {argnum!r}") from None


def _substitute(args, argnum, x):
    args = list(args)
    if isinstance(argnum, int):
        args[argnum] = x
    else:
        for i, xi in zip(argnum, x):
            args[i] = xi
    return tuple(args)


def unary_to_nary(unary_operator):
    """Turn ``unary_operator(fun, x, ...)`` into ``operator(fun, argnum=0, ...)``.

    The result differentiates ``fun(*args, **kwargs)`` with respect to
    ``args[argnum]`` (a tuple of argnums differentiates with respect to a tuple).
    """
    @wraps(unary_operator)
    def nary_operator(fun, argnum=0, *nary_op_args, **nary_op_kwargs):
        if nary_op_args or nary_op_kwargs:
            _check_operator_arguments(unary_operator, nary_op_args, nary_op_kwargs)
        return Derivative(nary_operator, unary_operator, fun, argnum, nary_op_args,
                          nary_op_kwargs)
    # What a pickled derivative calls to be made again (see Derivative.__reduce__);
    # an operator published under another name replaces it.
    nary_operator.rebuild = nary_operator
    return nary_operator


_JIT_OPTIONS = ("static_argnums", "static_argnames", "trace_after")


def _check_operator_arguments(unary_operator, args, kwargs):
    """Arguments the operator does not take are a TypeError when the derivative is made,
    not at its first call (where Python's message names the unary operator's call)."""
    name = unary_operator.__name__
    try:
        parameters = inspect.signature(unary_operator)
    except (TypeError, ValueError):  # no signature to check against: the call will tell
        return
    try:
        parameters.bind(None, None, *args, **kwargs)
    except TypeError as error:
        hint = ""
        if any(option in kwargs for option in _JIT_OPTIONS):
            hint = (f" Options of the jit go to jitgrad.jit: jit({name}(fun), "
                    f"{next(o for o in _JIT_OPTIONS if o in kwargs)}=...).")
        taken = ", ".join(["fun", "argnum=0"] + [str(p) for p in
                                                 list(parameters.parameters.values())[2:]])
        raise TypeError(f"{name}: {error} ({name} takes {taken}).{hint}") from None


class Derivative:
    """``operator(fun, argnum)``: called with ``fun``'s arguments, it applies the
    unary operator to ``fun`` as a function of ``args[argnum]``. It carries ``fun``'s
    name (``grad_of_fun_wrt_argnum_0``), binds as a method as functions do, and
    pickles as "the operator applied to ``fun``" (plain pickle when ``fun`` can be
    imported, cloudpickle otherwise)."""

    def __init__(self, nary_operator, unary_operator, fun, argnum, op_args, op_kwargs):
        wrap_nary_f(fun, unary_operator, argnum)(self)
        self._rebuild = nary_operator.rebuild
        self._unary_operator, self._fun, self._argnum = unary_operator, fun, argnum
        self._op_args, self._op_kwargs = op_args, op_kwargs

    def __call__(self, *args, **kwargs):
        fun, argnum = self._fun, self._argnum
        opname = self._unary_operator.__name__
        x = _select(args, argnum, opname)
        check_differentiable(x, f"{opname}: argument {argnum} of {get_name(fun)}")

        def unary_f(x):
            return fun(*_substitute(args, argnum, x), **kwargs)
        _dress_as(unary_f, fun)
        return self._unary_operator(unary_f, x, *self._op_args, **self._op_kwargs)

    def __get__(self, instance, owner=None):
        return self if instance is None else types.MethodType(self, instance)

    def __repr__(self):
        return f"<derivative {getattr(self, '__qualname__', type(self).__name__)}>"

    def function_key_parts(self):
        """What makes two derivatives the same function (trace/function_key.py)."""
        return (self._unary_operator, self._fun, self._argnum, self._op_args, self._op_kwargs)

    def __reduce__(self):
        return (functools.partial(self._rebuild, **self._op_kwargs),
                (self._fun, self._argnum, *self._op_args))


def _dress_as(f, fun):
    """``wraps(fun)(f)``, with what it copies from ``fun`` worked out once per ``fun``
    (a derivative makes one such ``f`` per call: functools.wraps cost 3 us of a
    20 us gradient of a one-line function)."""
    try:
        attributes = _DRESSES.get(fun)
    except TypeError:  # not weakly referable, or unhashable
        attributes = None
    if attributes is None:
        template = wraps(fun)(lambda x: x)
        attributes = dict(template.__dict__)
        attributes.update((name, getattr(template, name)) for name in
                          ("__module__", "__name__", "__qualname__", "__doc__"))
        try:
            _DRESSES[fun] = attributes
        except TypeError:
            pass
    for name, value in attributes.items():
        try:
            setattr(f, name, value)
        except (AttributeError, TypeError):
            pass
    return f


_DRESSES = weakref.WeakKeyDictionary()  # fun -> the attributes wraps(fun) gives


def wraps(fun, namestr="{fun}", docstr="{doc}", **kwargs):
    """Like functools.wraps, but name and docstring may be templates over ``fun``."""
    def _wraps(f):
        try:
            f = _functools_wraps(fun)(f)
            f.__name__ = namestr.format(fun=get_name(fun), **kwargs)
            if f.__name__ != get_name(fun):
                f.__qualname__ = f.__name__  # so that repr(f) shows the new name too
            f.__doc__ = docstr.format(fun=get_name(fun), doc=get_doc(fun), **kwargs)
        except (AttributeError, TypeError):
            pass
        return f
    return _wraps


# The name and docstring of ``grad(f, 1)`` and its siblings. The docstring is indented
# like one written in a function body, as autograd's is (code that prints it expects so).
_NARY_NAME = "{op}_of_{fun}_wrt_argnum_{argnum}"
_NARY_DOC = """\
    {op} of function {fun} with respect to argument number {argnum}: call it with
    the arguments of {fun} to get the {op} there.
    """


def wrap_nary_f(fun, op, argnum):
    """Name a derivative of ``fun`` after the operator ``op`` and the ``argnum``."""
    return wraps(fun, _NARY_NAME, _NARY_DOC, op=get_name(op), argnum=argnum)


def get_name(f):
    return getattr(f, "__name__", "[unknown name]")


def get_doc(f):
    return getattr(f, "__doc__", "")
