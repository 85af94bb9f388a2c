"""One fused region as a callable step: compiled source (``source.py``), outputs allocated."""
import itertools
import logging
import math
import time
import warnings

import numpy as np

from .cache import load_kernel
from .ops import Shifted
from .regions import operand_key
from .source import Layout, kernel_source, shape_literal, step_arguments

logger = logging.getLogger("jitgrad.kernels")
_announced = []
_warned = set()


class FusedKernel:
    """``kernel(*inputs)`` returns the region's outputs (a list): arrays of the
    region's shape and dtype, and its reductions as NumPy scalars."""

    def __init__(self, region, source, dispatcher, array_inputs, layout=None):
        self.region = region
        self.source = source
        self.dispatcher = dispatcher
        self.array_inputs = array_inputs
        self.layout = layout
        self.shape = region.shape
        self.n_outputs = len(region.outputs)
        self.dtype = region.dtype
        if layout is not None:
            self._input_shapes = iter(layout.input_shapes)
            self._reshape = [next(self._input_shapes) if is_array else None
                             for is_array in array_inputs]
            # per output: None (an array of the region's shape), () (a whole reduction:
            # a NumPy scalar) or the shape of a sum over leading axes
            self._reduced_shape = [(() if region.reductions[step.index][1] is None
                                    else np.shape(step.value))
                                   if step.index in region.reductions else None
                                   for step in region.outputs]
            self._n_arrays = self._reduced_shape.count(None)
            self._pieces = ()
            if any(axes is None for _, axes in region.reductions.values()):
                from .pairwise import pieces
                self._pieces = pieces(math.prod(layout.shape))
            self._call = _straight_call(self)

    @classmethod
    def build(cls, region):
        if region.scalar:
            source, array_inputs = scalar_kernel_source(region)
            kernel = ScalarKernel(region, source, load_kernel(source), array_inputs)
        else:
            shapes = [np.shape(operand.value) for operand in region.inputs
                      if type(operand.value) is np.ndarray]
            splits = {axes for _, axes in region.reductions.values() if axes is not None}
            # A rolled read wraps along its axis: that axis is a loop of its own.
            splits.update(boundary for operand in region.inputs if type(operand) is Shifted
                          for boundary in (operand.axis, operand.axis + 1))
            layout = Layout(region.shape, shapes, splits)
            source, array_inputs = kernel_source(region, layout)
            kernel = cls(region, source, load_kernel(source), array_inputs, layout)
        kernel._compile()
        return kernel

    def _signature(self, types):
        ndim = self.layout.ndim
        out = types.Array(types.float32 if self.dtype == np.float32 else types.float64,
                          ndim, "C")
        element = {np.dtype(np.float32): types.float32, np.dtype(np.float64): types.float64}
        inputs = tuple(types.Array(element[operand.value.dtype], ndim, "C")
                       if is_array else types.float64
                       for operand, is_array in zip(self.region.inputs, self.array_inputs))
        return inputs + (out,) * self._n_arrays + (types.int64,) * ndim + \
            (types.int64[::1],) * len(self._pieces)

    def __repr__(self):
        return f"<fused kernel: {len(self.region.steps)} steps, {self.n_outputs} outputs>"

    failed = False  # Numba could not compile it: the steps run as NumPy calls

    def __call__(self, *inputs):
        if self.failed:
            return _evaluate(self.region, inputs)
        return self._call(*inputs)

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
            self.failed = True
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


def _straight_call(kernel):
    """``call(*inputs)``: the kernel's outputs from one dispatcher call, as straight-line
    Python written for its shapes (each input made C-ordered and shaped as the loops
    read it; the array outputs allocated; each reduction a NumPy scalar or reshaped).
    A generic loop over the same facts cost 2.4 us more per call (rnn: 200 calls)."""
    namespace = {"_dispatcher": kernel.dispatcher, "_empty": np.empty,
                 "_contiguous": np.ascontiguousarray, "_scalar": kernel.dtype.type,
                 "_dtype": kernel.dtype, "_pieces": kernel._pieces}
    params = [f"x{i}" for i in range(len(kernel._reshape))]
    layout, shape = shape_literal(kernel.layout.shape), shape_literal(kernel.shape)
    lines = [f"def call({', '.join(params)}):"]
    lines += [f"    o{j} = _empty({shape}, _dtype)" for j in range(kernel._n_arrays)]
    args = [name if reshape is None else f"_contiguous({name}).reshape({shape_literal(reshape)})"
            for name, reshape in zip(params, kernel._reshape)]
    args += [f"o{j}" if shape == layout else f"o{j}.reshape({layout})"
             for j in range(kernel._n_arrays)]
    args += [str(int(n)) for n in kernel.layout.shape]
    args += [f"_pieces[{k}]" for k in range(len(kernel._pieces))]
    lines.append(f"    r = _dispatcher({', '.join(args)})")
    outputs, arrays, reduced = [], itertools.count(), itertools.count()
    for reduced_shape in kernel._reduced_shape:
        if reduced_shape is None:
            outputs.append(f"o{next(arrays)}")
        elif reduced_shape == ():
            outputs.append(f"_scalar(r[{next(reduced)}])")
        else:
            outputs.append(f"r[{next(reduced)}].reshape({shape_literal(reduced_shape)})")
    lines.append(f"    return [{', '.join(outputs)}]")
    exec(compile("\n".join(lines) + "\n", "<jitgrad kernel call>", "exec"), namespace)
    return namespace["call"]


# (dispatcher, signature) of kernels compiled in this process (the set holds the
# dispatchers, so an id is never reused for another one).
_ready = set()


class ScalarKernel(FusedKernel):
    """A fused run of scalar steps: ``kernel(*inputs)`` returns their outputs."""

    def __call__(self, *inputs):
        if self.failed:
            return [np.float64(value) for value in _evaluate(self.region, inputs)]
        return [np.float64(value) for value in self.dispatcher(*inputs)]

    def _signature(self, types):
        return (types.float64,) * len(self.region.inputs)


def _evaluate(region, inputs):
    """The region's output values, computed step by step with the primitives' own
    NumPy functions."""
    values = {operand_key(op): np.roll(value, op.shift, op.axis) if type(op) is Shifted
              else value for op, value in zip(region.inputs, inputs)}
    for step in region.steps:
        operand_values = [values[operand_key(op)] if operand_key(op) in values else op.value
                          for op in region.operands[step.index]]
        values[operand_key(step)] = step.call(*operand_values)
    return [values[operand_key(step)] for step in region.outputs]


def _warn_once(message):
    if message not in _warned:
        _warned.add(message)
        warnings.warn(message, RuntimeWarning, stacklevel=3)


def scalar_kernel_source(region):
    """Numba source of straight-line code computing a run of scalar steps."""
    params, names = [], {}
    for k, operand in enumerate(region.inputs):
        params.append(f"in{k}")
        names[operand_key(operand)] = f"in{k}"
    body = []
    # Names count from 0 within the region, so regions of the same structure (the
    # steps of a simulation loop) share one source, hence one compiled kernel.
    for number, step in enumerate(region.steps):
        args = step_arguments(region, step, step.scalar_body, names)
        names[operand_key(step)] = f"t{number}"
        body.append(f"    t{number} = {step.scalar_body.format(*args)}")
    results = ", ".join(names[operand_key(step)] for step in region.outputs)
    lines = ["import math", "", "import numba", "", "",
             '@numba.njit(cache=True, error_model="numpy", nogil=True)',
             f"def kernel({', '.join(params)}):", *body, f"    return ({results},)", ""]
    return "\n".join(lines), [False] * len(params)
