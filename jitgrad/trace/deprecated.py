"""autograd's old way of giving a primitive its derivatives, as methods of the
primitive: ``f.defgrad(maker, argnum)``, ``f.defvjp(vjp, argnum)`` and
``f.defvjp_is_zero(argnums)``. Each warns, then registers in the ordinary VJP
table (``rules``), so old code keeps working while it is being updated.

``core.primitive`` attaches them to every primitive it makes. This module imports
``rules`` only when a method is called: ``rules`` imports ``core``, which imports this.
"""
import warnings
import weakref
from functools import partial

# Per primitive: {argnum: new-style VJP maker, or None for a zero cotangent}.
_registered = weakref.WeakKeyDictionary()


def attach_old_methods(fun):
    fun.defgrad = partial(_defgrad, fun)
    fun.defvjp = partial(_defvjp, fun)
    fun.defvjp_is_zero = partial(_defvjp_is_zero, fun)


def _warn(fun, method, replacement):
    name = getattr(fun, "__name__", "f")
    warnings.warn(f"{name}.{method}(...) is autograd's deprecated API; write "
                  f"{replacement.format(name=name)} instead (from jitgrad.extend import "
                  "defvjp).", DeprecationWarning, stacklevel=3)


def _defgrad(fun, vjp_maker, argnum=0):
    """``vjp_maker(ans, *args, **kwargs)`` returns ``g -> cotangent`` of ``argnum``."""
    _warn(fun, "defgrad", "defvjp({name}, vjp_maker, argnums=[argnum])")
    _register(fun, {argnum: vjp_maker})


def _defvjp(fun, vjp, argnum=0):
    """The oldest form: ``vjp(g, ans, vs, gvs, *args, **kwargs)`` is the cotangent,
    ``vs`` and ``gvs`` the vector spaces of argument ``argnum`` and of ``g``."""
    _warn(fun, "defvjp", "defvjp({name}, lambda ans, *args: lambda g: ..., argnums=[argnum])")
    from .vspace import vspace

    def vjp_maker(ans, *args, **kwargs):
        return lambda g: vjp(g, ans, vspace(args[argnum]), vspace(g), *args, **kwargs)
    _register(fun, {argnum: vjp_maker})


def _defvjp_is_zero(fun, argnums=(0,)):
    _warn(fun, "defvjp_is_zero", "defvjp({name}, None, ..., argnums=argnums)")
    _register(fun, dict.fromkeys(argnums))


def _register(fun, makers):
    from .rules import defvjp
    known = _registered.setdefault(fun, {})
    known.update(makers)
    argnums = sorted(known)
    defvjp(fun, *(known[argnum] for argnum in argnums), argnums=argnums)
