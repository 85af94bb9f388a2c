"""Whole small plans as one Numba function: one dispatch per call instead of a NumPy
call per step (issue 12 item 4).

A plan whose every step is something Numba computes as NumPy does (elementwise
arithmetic and the transcendentals kernels compile, ``dot``/``matmul``/``tensordot`` of
1-D and 2-D float64 arrays, ``sum``/``mean`` over all axes or a leading or trailing run
of them, reshapes, transposes, ``expand_dims``, ``squeeze``, ``broadcast_to``, basic
indexing and its gradient, comparisons of scalars, cotangent tuples and lists) is
translated into the source of one function of the plan's inputs. Shapes are fixed by
the plan's signature, so they are literals in the source. Consecutive elementwise steps
of one shape share one loop and keep their values in locals; an array is written only
where a later step or the outputs read it.

Numerics, against the step-by-step plan: elementwise arithmetic is the same bit for
bit; transcendentals use the fused kernels' bodies (``vmath`` on arrays, libm on
scalars), a few ulp from NumPy's as in fused kernels; sums follow NumPy's order
(pairwise over contiguous runs, row by row over leading axes: ``kernels/pairwise.py``).
Products call BLAS through ``np.dot`` in the routine NumPy picks for the shapes (dot,
gemv, gemm). Numba reaches SciPy's OpenBLAS, not NumPy's (0.3.30 and 0.3.31 here, both
SkylakeX kernels): their results were the same bit for bit on every shape in
``tests/test_whole_plan.py``; where two builds differed, the difference would be
rounding, within the jit's 1e-12 relative contract. A product of a matrix with its own
transpose (NumPy's syrk) and products of strided views are left to the plan.

Guards are checked inline: a failing one raises RuntimeError in the function, and
the wrapper runs the plan's Python code, which raises ``GuardFailed`` with the guard's
number and the value seen, as always. So does an input Numba was not compiled for (a
non-contiguous or read-only array). Plans with loops, random draws, effects, or any
other step are left as they are (``translate`` raises ``Unsupported``).

Settings: ``JITGRAD_WHOLE_PLAN=0`` turns this off; ``JITGRAD_FUSE=0`` too.

This module installs the function in a plan and wraps it; ``whole_plan_source``
translates the steps, ``whole_plan_arrays`` holds the array steps' translations.
"""
import logging
import math
import time

import numpy as np

from .. import settings
from .passes import Constant
from .whole_plan_source import Unsupported, translate  # noqa: F401

logger = logging.getLogger("jitgrad.jit")

LONG_COMPILE_SECONDS = 0.5
# Plans whose arrays all have at most this many elements compile whole: about the size
# below which fused kernels of arithmetic do not pay either (kernels/cost.py).
MAX_ELEMENTS = 4096


def _largest_array(nodes):
    sizes = [np.size(node.value) for node in nodes
             if isinstance(getattr(node, "value", None), np.ndarray)]
    return max(sizes, default=0)


def enabled():
    from .. import kernels
    return settings.flag("JITGRAD_WHOLE_PLAN", True) and \
        kernels.fusion_enabled()


def install(plan):
    """Make ``plan.run`` the compiled whole plan when every step compiles; sets
    ``plan.whole_plan`` (the ``WholePlan``, or None)."""
    plan.whole_plan = None
    if not enabled():
        return
    largest = _largest_array(plan.graph.nodes)
    if largest > MAX_ELEMENTS:
        # Per-step dispatch is small beside the work here, and the whole plan's loops
        # ran slower than fused kernels (the chain gradient at 1e5: 4.4 ms against
        # 0.98 ms fused, 3.8 ms unfused): leave large plans to the kernels.
        logger.debug("plan not compiled whole: an array of %d elements", largest)
        return
    fallback = plan.run
    try:
        whole = WholePlan(translate(*plan._optimized, plan.n_inputs), fallback)
    except Unsupported as why:
        logger.debug("plan not compiled whole: %s", why)
        return
    except Exception as error:  # a bug here must not become the user's: the plan runs
        logger.warning("jitgrad: a plan could not be translated into one function "
                       "(%s: %s); it runs step by step", type(error).__name__, error)
        return
    if whole.dispatcher is not None:
        plan.whole_plan = whole
        plan.run = whole.run  # the generated wrapper itself: one call less per replay


class WholePlan:
    """``whole(*leaves)``: the plan's outputs from one call of the compiled function;
    the plan's own code (``fallback``) where a guard fails or the inputs do not fit."""

    def __init__(self, program, fallback):
        self.program = program
        self.fallback = fallback
        self.dispatcher = _compile(program)
        self.run = None
        if self.dispatcher is not None:
            self.run = _wrapper(program, self.dispatcher, fallback)

    def __call__(self, *leaves):
        return self.run(*leaves)

    def __repr__(self):
        return f"<whole plan: {self.program.n_steps} steps in one Numba function>"


def _compile(program):
    """The Numba dispatcher compiled for the program's argument types (or loaded from
    the disk cache); None, after a debug log, where Numba refused it."""
    from ..kernels.cache import load_kernel
    from numba import types
    signature = tuple(types.Array(types.float64, kind[1], "C") if kind[0] == "array"
                      else types.int64[::1] if kind[0] == "index" else types.float64
                      for kind in program.arg_types)
    start = time.perf_counter()
    try:
        dispatcher = load_kernel(program.source)
        if signature not in dispatcher.overloads:  # (plans of one source share it)
            dispatcher.disable_compile(False)
            dispatcher.compile(signature)
    except Exception as error:  # a Numba failure must not become the user's
        logger.debug("whole plan failed to compile (%s: %s); the plan runs step by step",
                     type(error).__name__, str(error)[:300])
        return None
    # Other argument types (a strided or read-only array) would compile again at the
    # call, for seconds: they raise TypeError instead, and the plan's code runs.
    dispatcher.disable_compile()
    seconds = time.perf_counter() - start
    level = logging.INFO if seconds > LONG_COMPILE_SECONDS else logging.DEBUG
    logger.log(level, "compiled a plan of %d steps into one Numba function in %.1f s "
               "(cached on disk: later runs load it)", program.n_steps, seconds)
    return dispatcher


def _wrapper(program, dispatcher, fallback):
    """A Python function of the plan's inputs allocating the output buffers, calling
    the dispatcher once and building the output tree from the buffers and results."""
    namespace = {"_fallback": fallback}
    params = ", ".join(f"a{i}" for i in range(program.n_inputs))
    # Where the kernel refuses, the plan's own code runs (and raises GuardFailed with
    # the guard's number and the value seen, as it always does).
    lines = replay_lines(program, dispatcher, namespace, "    ",
                         on_failure=f"return _fallback({params})", check_layout=True)
    source = "\n".join([f"def whole({params}):", *lines, ""])
    exec(compile(source, "<jitgrad whole plan>", "exec"), namespace)
    return namespace["whole"]


def replay_lines(program, dispatcher, namespace, indent, on_failure, on_success=(),
                 on_refused=None, check_layout=False):
    """Source lines (at ``indent``) replaying the program on the inputs ``a0, a1, ...``
    and returning its output tree; ``on_failure`` is the statement run where the
    inputs do not fit what it was compiled for or a guard fails (``on_refused``, where
    given, where Numba's dispatcher refused the arguments' types), ``on_success`` the
    statements run before returning. With ``check_layout``, arrays the function does
    not take (strided, read-only: a transposed matrix) are found in Python, taking
    ``on_failure`` at once: the dispatcher's refusal alone costs ~40 us. (The plan's
    code then computes on them as eager does, its results laid out as eager's.) The
    names used are put in ``namespace``."""
    from .plan import _tree_source
    namespace.update({"_kernel": dispatcher, "_empty": np.empty})
    params = [f"a{i}" for i in program.passed]
    constants = []
    for k, value in enumerate(program.constants):
        namespace[f"_c{k}"] = value
        constants.append(f"_c{k}")
    names = {}
    counter = [0]

    def operand(leaf):
        if isinstance(leaf, Constant):
            if type(leaf.value) in (bool, int, type(None), str) or (
                    type(leaf.value) is float and math.isfinite(leaf.value)):
                return repr(leaf.value)
            counter[0] += 1
            name = f"_k{counter[0]}"
            namespace[name] = leaf.value
            return name
        if leaf.index in program.returned:
            expression, convert = program.returned[leaf.index]
            if isinstance(expression, list):  # a tuple or list of cotangents
                entries = ", ".join(expression)
                return f"({entries},)" if convert is tuple else f"[{entries}]"
            if convert is None:
                return expression
            counter[0] += 1
            namespace[f"_t{counter[0]}"] = convert
            return f"_t{counter[0]}({expression})"
        return names[leaf.index]  # an input returned as it came

    for index, position in getattr(program, "inputs_returned", {}).items():
        names[index] = f"a{position}"
    body = _tree_source(program.outputs, operand)
    buffers = [name for name, _ in program.buffers]
    call = ", ".join(params + constants + buffers)
    arrays = [f"a{i}" for i, kind in zip(program.passed, program.arg_types)
              if kind[0] == "array"]
    layout = []
    if check_layout and arrays:
        carray = " and ".join(f"{a}.flags.carray" for a in arrays)
        layout = [f"if not ({carray}):", f"    {on_failure}"]
    refusals = ["except TypeError:  # types it was not compiled for",
                f"    {on_refused}"] if on_refused is not None else []
    return [f"{indent}{line}" for line in [
        *layout,
        # (np.empty(10) is 13 ns faster than np.empty((10,)))
        *(f"{name} = _empty({shape[0] if len(shape) == 1 else shape!r})"
          for name, shape in program.buffers),
        "try:",
        f"    _r = _kernel({call})",
        *refusals,
        "except (TypeError, RuntimeError):",
        "    # Inputs it was not compiled for, or a guard that failed.",
        f"    {on_failure}",
        *on_success,
        f"return {body}"]]
