"""What tracing a function will cost, estimated from an eager call, before any trace:
the jit's first trace waits until the eager calls made would have paid for it (rent or
buy, as for a signature's new paths once a trace has been timed: ``jitted.py``).

A trace runs the function once with every step recorded (about an eager call), then
builds the plan: passes, loop rolling, the plan's source and its compile, about 60 us
a recorded step, and about a millisecond whatever the size. An eager gradient call
makes about as many primitive calls as the trace records steps (forward and backward),
and counting them costs nothing measurable (``trace.core.primitive_calls``).

Measured on this machine (second traces of fresh functions; 2 shared cores, so +-30%):

| function | eager | primitive calls | trace | estimate |
|---|---:|---:|---:|---:|
| one `sin`, scalar | 0.06 ms | 2 | 1.3 ms | 1.2 ms |
| logistic regression 100x10 | 0.33 ms | 21 | 2.9 ms | 2.6 ms |
| 20 tanh layers of 10 | 2.1 ms | 250 | 23 ms | 18 ms |
| mlp 784-200-200-10, batch 128 | 5.6 ms | 75 | 8.9 ms | 11 ms |
| rnn T=100, hidden 128 | 27 ms | 1328 | 126 ms | 108 ms |
| fluidsim 64x64, 50 steps | 470 ms | 15264 | 1045 ms | 1390 ms |

So a small function's trace costs 9-20 of its eager calls, a large one's about 2. A
process's first trace costs about 1.3 ms more (its first plans' modules and caches):
2.0-2.8 ms against 0.9-1.3 ms for a scalar derivative.
"""

TRACE_FIXED_SECONDS = 1e-3
TRACE_SECONDS_PER_STEP = 60e-6
FIRST_TRACE_EXTRA_SECONDS = 1.3e-3

_traced = [False]  # whether this process has traced a function yet


def note_trace():
    _traced[0] = True


def estimated_trace_seconds(eager_seconds, eager_steps):
    """A trace's cost, from an eager call's time and its count of primitive calls."""
    fixed = TRACE_FIXED_SECONDS + (0.0 if _traced[0] else FIRST_TRACE_EXTRA_SECONDS)
    return fixed + eager_seconds + TRACE_SECONDS_PER_STEP * eager_steps


def calls_paying_for_trace(eager_seconds, eager_steps):
    """How long a new signature runs eagerly before it is traced: ``calls_paying`` for
    its estimated trace."""
    return calls_paying(estimated_trace_seconds(eager_seconds, eager_steps), eager_seconds)


def calls_paying(trace_seconds, eager_seconds):
    """How many eager calls cost what a trace costs, less the one that traces (a new
    path's sightings once a trace was timed use it too)."""
    return int(trace_seconds / eager_seconds) - 1
