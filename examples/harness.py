"""What the examples share: the command line, running eagerly and jitted, the printout.

Every example is run as ``python examples/NAME.py [--quick] [--jit] [--out DIR]``:

- ``--quick``: a small problem (fewer iterations, less data) that runs in a few seconds;
- ``--jit``: run the experiment twice in this process, eagerly and then with
  ``jit=True``, from the same seeds, and print both end-to-end times and their ratio;
- ``--out DIR``: where the pictures go (default: next to the script).

Its ``main(argv=None)`` returns the final numbers (a dict of floats) and prints each on a
line ``final NAME = REPR``, at full precision, so that ``examples/check_all.py`` can
compare an eager run with a jitted one.
"""
import argparse
import os
import sys
import time

import numpy

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_args(argv, doc, add_arguments=None):
    parser = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="a small problem that runs in a few seconds")
    parser.add_argument("--jit", action="store_true",
                        help="run eagerly, then with jit=True, and print both times")
    parser.add_argument("--out", default=HERE,
                        help="folder for the pictures (default: next to this script)")
    if add_arguments is not None:
        add_arguments(parser)
    return parser.parse_args(argv)


def run(experiment, args, seed=0):
    """Run ``experiment(args, jit)``, which returns (final numbers, anything the pictures
    need); with ``--jit`` run it eagerly and then jitted, each from the same seed of
    NumPy's global generator (which ``jitgrad.numpy.random`` draws from). Returns the last
    run's numbers and extra, after printing the numbers (and the times)."""
    times, cpu_times, results = {}, {}, {}
    for jit in ([False, True] if args.jit else [False]):
        if args.jit:
            print(f"-- {'jitted' if jit else 'eager'} run", flush=True)
        numpy.random.seed(seed)
        start, cpu_start = time.perf_counter(), time.process_time()
        numbers, extra = experiment(args, jit)
        times[jit] = time.perf_counter() - start
        cpu_times[jit] = time.process_time() - cpu_start
        results[jit] = {name: float(value) for name, value in numbers.items()}
    numbers = results[args.jit]
    for name, value in numbers.items():
        print(f"final {name} = {value!r}")
    if args.jit:
        print(f"largest relative difference of the jitted numbers from eager's: "
              f"{largest_relative_difference(results[False], numbers):.1e}")
    # CPU time too: on a shared machine the wall clock also counts other people's work.
    for name, spent in [("time", times), ("cpu time", cpu_times)]:
        if args.jit:
            eager, jitted = spent[False], spent[True]
            print(f"{name} eager {eager:.2f} s, jit {jitted:.2f} s, "
                  f"eager/jit {eager / jitted:.2f}x")
        else:
            print(f"{name} {spent[False]:.2f} s")
    sys.stdout.flush()
    return numbers, extra


def largest_relative_difference(a, b):
    return max((abs(a[k] - b[k]) / max(abs(a[k]), abs(b[k])) for k in a if a[k] != b[k]),
               default=0.0)


def pyplot():
    """matplotlib's pyplot drawing off-screen, or None (with a note) when it is missing."""
    try:
        import matplotlib
    except ImportError:
        print('matplotlib is not installed: no pictures (pip install -e ".[examples]")')
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def save(fig, args, name):
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, name)
    fig.savefig(path, dpi=80)
    pyplot().close(fig)
    print(f"wrote {path}")
    return path
