"""The rule tables: how each primitive is differentiated in reverse and forward mode.

``primitive_vjps[f](argnums, ans, args, kwargs)`` returns a function of the output
cotangent ``g`` giving one cotangent per argnum; ``primitive_jvps[f](argnums, gs,
ans, args, kwargs)`` returns the output tangent. The ``def*`` helpers build these
entries from autograd's one-function-per-argument convention.

The jit's fuser reads facts declared here too, next to each primitive's rules:
``def_scalar_body`` (elementwise: its scalar and array-loop bodies, and whether the
body is exact IEEE arithmetic), ``def_reduction`` (a sum or mean over all axes), and
``def_shape_from_values``. They are tables keyed by primitive; nothing reads a body's
text to learn what kind of function it is.
"""
import itertools

from .vspace import VSpace, vspace

primitive_vjps = {}
primitive_jvps = {}
# For the jit's fuser, facts declared next to each elementwise primitive: its scalar
# expression, with ``{0}``, ``{1}``... standing for its arguments (``"math.exp({0})"``,
# the libm call NumPy's scalar path makes too), and the expression its array loops
# use: the same for arithmetic, a vectorizable one for transcendentals
# (``"vmath.exp({0})"``, jitgrad/kernels/vmath.py), or none: NumPy's call then.
scalar_bodies = {}
array_bodies = {}
# The elementwise primitives whose bodies are exact IEEE arithmetic (see def_scalar_body).
exact_arithmetic = set()
# The reductions fused kernels may accumulate: primitive -> "sum" or "mean".
reductions = {}


def def_scalar_body(fun, body, array_body="same", exact=False):
    """Declare ``fun`` elementwise, computing ``body`` per element (Numba-compilable);
    ``array_body`` is what array loops compute instead ("same", or None to leave
    arrays to NumPy: a transcendental without a vectorizable version).

    ``exact=True`` declares the body one correctly rounded IEEE operation (``+ - * /``
    or a negation of its arguments and literals): any loop computes the bits NumPy's
    loops do, in float32 too, so float32 regions may take it. Calls (libm, vmath,
    ``**``) are not exact, nor are bodies of several operations (Numba computes a
    float64 literal's expression in float64 and rounds once, where NumPy rounds each
    step to float32): float32 regions leave those to NumPy."""
    scalar_bodies[fun] = body
    if array_body == "same":
        array_bodies[fun] = body
    elif array_body is not None:
        array_bodies[fun] = array_body
    if exact:
        exact_arithmetic.add(fun)
    else:
        exact_arithmetic.discard(fun)


def def_shape_from_values(fun, when=True):
    """Declare that ``fun``'s result shape can depend on its arguments' values, not
    only on their shapes (``nonzero``, ``unique``, indexing with a mask): the jit
    then guards that shape wherever Python looks at it, and never fuses the step or
    what follows from it. ``when(args)``, if given, says for which calls it holds
    (``where`` with one argument, not three)."""
    fun.shape_from_values = when
    return fun


def def_dtype_from_values(fun):
    """Declare that ``fun``'s result dtype can depend on its arguments' values (``eig``,
    ``eigvals`` and ``roots`` give real results or complex ones): the jit guards it, so
    a replay whose result would change dtype traces again."""
    fun.dtype_from_values = True
    return fun


def shape_from_values(fun, args):
    """Whether this call of ``fun`` may give a shape that depends on values."""
    fact = getattr(fun, "shape_from_values", False)
    return bool(fact(args)) if callable(fact) else bool(fact)


def def_reduction(fun, kind):
    """Declare ``fun(x)`` (no other argument) a reduction over all of x's axes that
    fused kernels may accumulate at a region's exit: ``kind`` "sum" or "mean" (a sum
    may also reduce leading axes: see kernels/regions.py)."""
    if kind not in ("sum", "mean"):
        raise ValueError(f"a fused reduction is a 'sum' or a 'mean', not {kind!r}")
    reductions[fun] = kind


# For the fuser: primitives whose result is their first argument with its entries moved
# along one axis (``roll``), by the function telling a call's (shift, axis).
shifted_reads = {}


def def_shifted_read(fun, shift_of):
    """Declare ``fun(x, ...)`` to be ``x`` rolled: ``shift_of(args, kwargs)`` gives the
    call's ``(shift, axis)`` (ints: result[i] = x[(i - shift) mod n] along ``axis``), or
    None where it is not one such roll. A fused kernel then reads ``x`` at the shifted
    positions instead of the rolled copy (and the copy is not made when only kernels read
    it)."""
    shifted_reads[fun] = shift_of


# For the jit's plans: functions computing what a primitive's own computes, to the bit,
# faster (compiled in jitgrad/kernels/), keyed by the function a plan would call.
replays = {}


def def_replay(fun, implementation):
    """Declare ``implementation`` the function jit plans call in place of ``fun``'s own:
    the same bits for every input, faster on the ones it handles, ``fun``'s own for the
    rest. Plans use it once they are fused (``JITGRAD_FUSE=0`` keeps ``fun``'s own)."""
    replays[getattr(fun, "fun", fun)] = implementation


def _name(fun):
    return getattr(fun, "__name__", repr(fun))


def _missing(kind, fun, argnum):
    helper = "defvjp" if kind == "VJP" else "defjvp"
    raise NotImplementedError(
        f"{kind} of {_name(fun)} with respect to argument {argnum} is not defined; "
        f"define it with jitgrad.extend.{helper}({_name(fun)}, ...).")


def _zero_vjp(argnum):
    return lambda ans, *args, **kwargs: lambda g: vspace(args[argnum]).zeros()


def defvjp_argnums(fun, vjpmaker):
    """``vjpmaker(argnums, ans, args, kwargs)`` returns ``g -> tuple of cotangents``."""
    primitive_vjps[_required_primitive(fun, "VJP")] = vjpmaker


def _required_primitive(fun, rule):
    """``fun``, if calls of it are traced (a rule of anything else is never used)."""
    if not getattr(fun, "_is_autograd_primitive", False):
        name = getattr(fun, "__name__", repr(fun))
        raise TypeError(f"{name} is not a jitgrad primitive, so a {rule} rule for it would "
                        f"never be used: make it one first ({name} = "
                        f"jitgrad.extend.primitive({name}), or decorate it with @primitive)")
    return fun


def defvjp_argnum(fun, vjpmaker):
    """``vjpmaker(argnum, ans, args, kwargs)`` returns ``g -> cotangent``."""
    def vjp_argnums(argnums, ans, args, kwargs):
        vjps = [vjpmaker(argnum, ans, args, kwargs) for argnum in argnums]
        return lambda g: tuple(vjp(g) for vjp in vjps)
    defvjp_argnums(fun, vjp_argnums)


def defvjp(fun, *vjpmakers, **kwargs):
    """Staged VJPs, one per argument: ``vjpmaker(ans, *args, **kwargs)`` returns
    ``g -> cotangent``. ``None`` means the cotangent is zero."""
    argnums = kwargs.get("argnums", itertools.count())
    makers = {argnum: (_zero_vjp(argnum) if maker is None else maker)
              for argnum, maker in zip(argnums, vjpmakers)}

    def vjp_argnums(argnums, ans, args, kwargs):
        vjps = []
        for argnum in argnums:
            maker = makers.get(argnum)
            if maker is None:
                _missing("VJP", fun, argnum)
            vjps.append(maker(ans, *args, **kwargs))
        if len(vjps) == 1:
            vjp = vjps[0]
            return lambda g: (vjp(g),)
        return lambda g: tuple(vjp(g) for vjp in vjps)
    defvjp_argnums(fun, vjp_argnums)


def defjvp_argnums(fun, jvpmaker):
    """``jvpmaker(argnums, gs, ans, args, kwargs)`` returns the output tangent."""
    primitive_jvps[_required_primitive(fun, "JVP")] = jvpmaker


def defjvp_argnum(fun, jvpmaker):
    """``jvpmaker(argnum, g, ans, args, kwargs)`` returns that argument's tangent share."""
    def jvp_argnums(argnums, gs, ans, args, kwargs):
        return _sum_tangents(ans, (jvpmaker(argnum, g, ans, args, kwargs)
                                   for argnum, g in zip(argnums, gs)))
    defjvp_argnums(fun, jvp_argnums)


def defjvp(fun, *jvpfuns, **kwargs):
    """Tangent rules, one per argument: ``jvpfun(g, ans, *args, **kwargs)``.

    ``None`` means the argument does not change the output; ``"same"`` means the
    function is linear in that argument, so its tangent is ``fun`` applied to ``g``.
    """
    argnums = kwargs.get("argnums", itertools.count())
    rules = {}
    for argnum, jvpfun in zip(argnums, jvpfuns):
        if jvpfun == "same":
            jvpfun = _linear_jvp(fun, argnum)
        rules[argnum] = jvpfun

    def jvp_argnums(argnums, gs, ans, args, kwargs):
        shares = []
        for argnum, g in zip(argnums, gs):
            if argnum not in rules:
                _missing("JVP", fun, argnum)
            if rules[argnum] is not None:
                share = rules[argnum](g, ans, *args, **kwargs)
                if share is None:  # (summed as no share: a zero tangent, silently)
                    raise TypeError(
                        f"the JVP rule of {getattr(fun, '__name__', fun)} for argument "
                        f"{argnum} returned None; return the output's tangent (give None "
                        "in place of the rule for an argument that does not change it)")
                shares.append(share)
        return _sum_tangents(ans, shares)
    defjvp_argnums(fun, jvp_argnums)


def _linear_jvp(fun, argnum):
    def jvp(g, ans, *args, **kwargs):
        args = list(args)
        args[argnum] = g
        return fun(*args, **kwargs)
    return jvp


def def_linear(fun):
    """Declare ``fun`` linear in each argument: its JVP is ``fun`` of the tangent."""
    defjvp_argnum(fun, lambda argnum, g, ans, args, kwargs:
                  _linear_jvp(fun, argnum)(g, ans, *args, **kwargs))


def _sum_tangents(ans, shares):
    total = None
    for share in shares:
        total = share if total is None else vspace(ans).add(total, share)
    return vspace(ans).zeros() if total is None else total


def _func(method):
    return getattr(method, "__func__", method)


# Rules of the vector-space primitives, so that sums of cotangents differentiate too.
for _method in (VSpace.add, VSpace.mut_add):
    defvjp(_func(_method), None, lambda ans, vs, x, y: lambda g: g,
           lambda ans, vs, x, y: lambda g: g)
defvjp(_func(VSpace.scalar_mul), None,
       lambda ans, vs, x, a: lambda g: vs.scalar_mul(g, a),
       lambda ans, vs, x, a: lambda g: vs.inner(g, vs.covector(x)))  # conj for complex x
defvjp(_func(VSpace.inner), None,
       lambda ans, vs, x, y: lambda g: vs.scalar_mul(vs.covector(y), g),
       lambda ans, vs, x, y: lambda g: vs.scalar_mul(vs.covector(x), g))
defvjp(_func(VSpace.covector), None, lambda ans, vs, x: lambda g: vs.covector(g))

for _method in (VSpace.add, VSpace.mut_add):
    defjvp(_func(_method), None, lambda g, ans, vs, x, y: g, lambda g, ans, vs, x, y: g)
# Sums of cotangents fuse too; mut_add does not: it writes into its first argument,
# which a fused kernel (computing a new value) would leave unchanged.
def_scalar_body(_func(VSpace.add), "({1} + {2})", exact=True)
defjvp(_func(VSpace.scalar_mul), None, "same", "same")
defjvp(_func(VSpace.inner), None, "same", "same")
defjvp(_func(VSpace.covector), None, "same")
