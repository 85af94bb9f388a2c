"""One fused region as a callable step: generated Numba source, outputs preallocated."""
import logging
import math
import re
import time
import warnings

import numpy as np

from .cache import load_kernel
from .regions import operand_key, used_positions

logger = logging.getLogger("jitgrad.kernels")
_announced = []
_warned = set()


class FusedKernel:
    """``kernel(*inputs)`` returns the region's output arrays (a list)."""

    def __init__(self, region, source, dispatcher, array_inputs):
        self.region = region
        self.source = source
        self.dispatcher = dispatcher
        self.array_inputs = array_inputs
        self.shape = region.shape
        self.n_outputs = len(region.outputs)

    @classmethod
    def build(cls, region, scalar_bodies):
        kind = ScalarKernel if region.scalar else cls
        source, array_inputs = kernel_source(region, scalar_bodies)
        kernel = kind(region, source, load_kernel(source), array_inputs)
        kernel._compile()
        return kernel

    def _signature(self, types):
        array = types.float64[::1]
        return tuple(array if is_array else types.float64 for is_array in
                     self.array_inputs) + (array,) * self.n_outputs

    def __repr__(self):
        return f"<fused kernel: {len(self.region.steps)} steps, {self.n_outputs} outputs>"

    def __call__(self, *inputs):
        outputs = [np.empty(self.shape) for _ in range(self.n_outputs)]
        args = [np.ravel(x) if is_array else x for x, is_array in zip(inputs, self.array_inputs)]
        self.dispatcher(*args, *[out.reshape(-1) for out in outputs])
        return outputs

    def _compile(self):
        """Compile now (or load from the disk cache), so the first call pays for it.
        A kernel compiled before in this process (the same source and signature, as
        each turn of a simulation loop gives) is ready already."""
        from numba import types
        signature = self._signature(types)
        if (self.dispatcher, signature) in _ready:
            return
        start = time.perf_counter()
        try:
            self.dispatcher.compile(signature)
        except Exception as error:  # a Numba failure must not become the user's
            _warn_once(f"jitgrad: a fused kernel failed to compile ({type(error).__name__}: "
                       f"{str(error)[:200]}); its steps run as NumPy calls instead.")
            self.dispatcher = self._numpy_steps
            return
        _ready.add((self.dispatcher, signature))
        seconds = time.perf_counter() - start
        if seconds > 0.5 and not _announced:
            _announced.append(True)
            logger.info("compiled a fused kernel of %d steps in %.1f s with Numba; kernels "
                        "are cached on disk, so later runs load them", len(self.region.steps),
                        seconds)
        else:
            logger.debug("fused kernel of %d steps ready in %.2f s", len(self.region.steps),
                         seconds)

    def _numpy_steps(self, *args):
        """The region's steps as plain NumPy calls (the fallback when Numba fails)."""
        n_inputs = len(self.region.inputs)
        for out, value in zip(args[n_inputs:], _evaluate(self.region, args[:n_inputs])):
            out[:] = np.ravel(value)


# (dispatcher, signature) of kernels compiled in this process (the set holds the
# dispatchers, so an id is never reused for another one).
_ready = set()


class ScalarKernel(FusedKernel):
    """A fused run of scalar steps: ``kernel(*inputs)`` returns their outputs."""

    def __call__(self, *inputs):
        return [np.float64(value) for value in self.dispatcher(*inputs)]

    def _signature(self, types):
        return (types.float64,) * len(self.region.inputs)

    def _numpy_steps(self, *inputs):
        return tuple(_evaluate(self.region, inputs))


def _evaluate(region, inputs):
    """The region's output values, computed step by step with the primitives' own
    NumPy functions."""
    values = {operand_key(op): value for op, value in zip(region.inputs, inputs)}
    for step in region.steps:
        operand_values = [values[operand_key(op)] if operand_key(op) in values else op.value
                          for op in region.operands[step.index]]
        values[operand_key(step)] = getattr(step.fun, "fun", step.fun)(*operand_values)
    return [values[operand_key(step)] for step in region.outputs]


def _warn_once(message):
    if message not in _warned:
        _warned.add(message)
        warnings.warn(message, RuntimeWarning, stacklevel=3)


def kernel_source(region, scalar_bodies):
    """Numba source of a loop computing the region element by element."""
    params, reads, array_inputs = [], [], []
    names = {}
    for k, operand in enumerate(region.inputs):
        params.append(f"in{k}")
        is_array = type(operand.value) is np.ndarray
        array_inputs.append(is_array)
        if is_array:
            reads.append(f"        x{k} = in{k}[i]")
            names[operand_key(operand)] = f"x{k}"
        else:
            names[operand_key(operand)] = f"in{k}"
    outputs = {step.index: f"out{j}" for j, step in enumerate(region.outputs)}
    body = []
    # Names count from 0 within the region, so regions of the same structure (the
    # steps of a simulation loop) share one source, hence one compiled kernel.
    for number, step in enumerate(region.steps):
        args = []
        used = used_positions(scalar_bodies[step.fun])
        for position, operand in enumerate(region.operands[step.index]):
            key = operand_key(operand)
            if position not in used:
                args.append(None)  # not in the body (the vector space of a cotangent sum)
            elif key in names:
                args.append(names[key])
            else:
                args.append(_literal(operand.value))
        names[operand_key(step)] = f"t{number}"
        expression = (scalar_bodies[step.fun] if region.scalar
                      else getattr(scalar_bodies, "array", scalar_bodies)[step.fun])
        body.append(f"        t{number} = {expression.format(*args)}")
        if step.index in outputs:
            body.append(f"        {outputs[step.index]}[i] = t{number}")
    header = ["import math", "", "import numba", ""]
    if any("vmath." in line for line in body):
        from . import vmath
        # vmath's fingerprint is part of the source, hence of the cache key: a kernel
        # compiled with another version of vmath inlined is never loaded.
        header += ["from jitgrad.kernels import vmath  # " + vmath.fingerprint(), ""]
    header += ["", '@numba.njit(cache=True, error_model="numpy", nogil=True)']
    if region.scalar:  # straight-line code returning the outputs
        body = [line[4:] for line in body if "[i] = " not in line]
        results = ", ".join(names[operand_key(step)] for step in region.outputs)
        lines = header + [f"def kernel({', '.join(params)}):", *body,
                          f"    return ({results},)", ""]
        return "\n".join(lines), array_inputs
    signature = ", ".join(params + list(outputs.values()))
    fast_body, slow_flags = _fast_trig(body)
    if slow_flags is None:
        lines = header + [f"def kernel({signature}):",
                          "    for i in range(out0.shape[0]):",
                          *reads, *body, ""]
    else:
        # Two passes: the common one vectorizes (sin_fast/cos_fast, exact up to
        # TRIG_MAX) and flags larger arguments; only then the loop runs again with the
        # exact sin/cos (libm beyond TRIG_MAX), rewriting every output.
        lines = header + [f"def kernel({signature}):",
                          "    slow = False",
                          "    for i in range(out0.shape[0]):",
                          *reads, *fast_body,
                          f"        slow |= {' | '.join(slow_flags)}",
                          "    if slow:",
                          "        for i in range(out0.shape[0]):",
                          *["    " + line for line in reads + body], ""]
    return "\n".join(lines), array_inputs


_TRIG_CALL = re.compile(r"vmath\.(sin|cos)\(([^()]*)\)")


def _fast_trig(body):
    """``body`` with vmath.sin/cos calls as sin_fast/cos_fast, and the trig_slow tests
    of their arguments; (body, None) when it calls neither."""
    flags = []

    def fast(match):
        flags.append(f"vmath.trig_slow({match.group(2)})")
        return f"vmath.{match.group(1)}_fast({match.group(2)})"
    fast_body = [_TRIG_CALL.sub(fast, line) for line in body]
    if not flags or any(_TRIG_CALL.search(line) or "vmath.sin(" in line or
                        "vmath.cos(" in line for line in fast_body):
        return body, None  # no trig, or a call this rewrite cannot read: one exact pass
    return fast_body, list(dict.fromkeys(flags))


def _literal(value):
    if isinstance(value, (bool, np.bool_)):
        return repr(bool(value))
    if isinstance(value, (int, np.integer)):
        return repr(int(value))
    value = float(value)
    if math.isnan(value):
        return "math.nan"
    if math.isinf(value):
        return "math.inf" if value > 0 else "-math.inf"
    return repr(value)
