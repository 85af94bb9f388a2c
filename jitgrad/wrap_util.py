"""Helpers for writing differential operators: n-ary from unary, and naming."""
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
        opname = unary_operator.__name__

        @wrap_nary_f(fun, unary_operator, argnum)
        def nary_f(*args, **kwargs):
            x = _select(args, argnum, opname)
            check_differentiable(x, f"{opname}: argument {argnum} of {get_name(fun)}")

            @wraps(fun)
            def unary_f(x):
                return fun(*_substitute(args, argnum, x), **kwargs)
            return unary_operator(unary_f, x, *nary_op_args, **nary_op_kwargs)
        return nary_f
    return nary_operator


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
