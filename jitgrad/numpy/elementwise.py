"""Rules of the elementwise primitives (NumPy ufuncs and friends).

A unary function is defined by its derivative ``dfdx(ans, x)``: its VJP is
``g * dfdx`` and its JVP is ``g * dfdx`` (autograd's complex convention makes the
two the same expression for holomorphic functions). A binary function is defined
by its two partial derivatives; the VJP sums back over broadcast axes and the
JVP spreads to the output's shape.
"""
from ..trace import defjvp, defvjp
from . import numpy_wrapper as anp
from .numpy_vjps import broadcast, match_complex, replace_zero, unbroadcast_f


def def_unary(fun, dfdx):
    defvjp(fun, lambda ans, x: lambda g: g * dfdx(ans, x))
    defjvp(fun, lambda g, ans, x: g * dfdx(ans, x))


def def_binary(fun, dfdx, dfdy):
    """``dfdx(ans, x, y)``; ``None`` for a partial derivative that is always zero."""
    def vjp(d, argnum):
        if d is None:
            return None
        return lambda ans, x, y: unbroadcast_f((x, y)[argnum], lambda g: g * d(ans, x, y))

    def jvp(d):
        if d is None:
            return None
        return lambda g, ans, x, y: broadcast(g * d(ans, x, y), ans)
    defvjp(fun, vjp(dfdx, 0), vjp(dfdy, 1))
    defjvp(fun, jvp(dfdx), jvp(dfdy))


# Linear ones, written out to skip a multiplication by one.
defvjp(anp.add, lambda ans, x, y: unbroadcast_f(x, lambda g: g),
       lambda ans, x, y: unbroadcast_f(y, lambda g: g))
defjvp(anp.add, lambda g, ans, x, y: broadcast(g, ans),
       lambda g, ans, x, y: broadcast(g, ans))
defvjp(anp.subtract, lambda ans, x, y: unbroadcast_f(x, lambda g: g),
       lambda ans, x, y: unbroadcast_f(y, lambda g: -g))
defjvp(anp.subtract, lambda g, ans, x, y: broadcast(g, ans),
       lambda g, ans, x, y: broadcast(-g, ans))
defvjp(anp.negative, lambda ans, x: lambda g: -g)
defjvp(anp.negative, lambda g, ans, x: -g)

def_binary(anp.multiply, lambda ans, x, y: y, lambda ans, x, y: x)
def_binary(anp.true_divide, lambda ans, x, y: 1.0 / y, lambda ans, x, y: -ans / y)
def_binary(anp.power,
           lambda ans, x, y: y * x ** anp.where(y == 0, 1, y - 1),
           lambda ans, x, y: ans * anp.log(replace_zero(x, 1)))

def_unary(anp.exp, lambda ans, x: ans)
def_unary(anp.log, lambda ans, x: 1.0 / x)
def_unary(anp.sin, lambda ans, x: anp.cos(x))
def_unary(anp.cos, lambda ans, x: -anp.sin(x))
def_unary(anp.tanh, lambda ans, x: 1.0 - ans ** 2)
def_unary(anp.sqrt, lambda ans, x: 0.5 / ans)

# |x|: the subgradient at 0 is 0; for complex x the gradient follows conj(x)/|x|.
defvjp(anp.abs, lambda ans, x: lambda g:
       g * replace_zero(anp.conj(x), 0.0) / replace_zero(ans, 1.0))
defjvp(anp.abs, lambda g, ans, x:
       anp.real(g * replace_zero(anp.conj(x), 0.0)) / replace_zero(ans, 1.0))

# where(cond, x, y): the condition is a plain boolean array.
defvjp(anp.where, None,
       lambda ans, c, x=None, y=None: unbroadcast_f(x, lambda g: anp.where(c, g, 0)),
       lambda ans, c, x=None, y=None: unbroadcast_f(y, lambda g: anp.where(c, 0, g)))
defjvp(anp.where, None,
       lambda g, ans, c, x=None, y=None: anp.where(c, g, anp.zeros_like(ans)),
       lambda g, ans, c, x=None, y=None: anp.where(c, anp.zeros_like(ans), g))

# Complex parts.
defvjp(anp.real, lambda ans, x: lambda g: match_complex(x, g))
defjvp(anp.real, "same")
defvjp(anp.imag, lambda ans, x: lambda g: match_complex(x, -1j * g))
defjvp(anp.imag, "same")
defvjp(anp.conj, lambda ans, x: lambda g: anp.conj(g))
defjvp(anp.conj, "same")
