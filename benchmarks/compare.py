"""Gradient timings side by side: jitgrad eager and jit, autograd, JAX, hand-written Numba.

    python benchmarks/compare.py [--quick] [--workload NAME ...] [--contenders NAME,...]
    python benchmarks/compare.py --end-to-end [--quick] [--repeats N] [--workload NAME ...]
                                 [--first-call-steps 5,50,100] [--profile]

Every workload of benchmarks/workloads.py runs in this one process. Before timing,
each contender's gradient is checked against jitgrad eager's (relative error 1e-8 at
most, in the largest entry) and a contender that disagrees is refused, not timed.
Then the contenders take turns, repeat after repeat, and each reports the median
and minimum time per call; the first call (jitgrad's trace, JAX's and Numba's
compilation) is reported apart. A markdown table with the machine, versions and date
goes to benchmarks/results/compare*.md, and a bar chart (log scale) beside it when
matplotlib is installed. The competitors are the ``bench`` extra (pip install -e
".[bench]"); one that is missing is skipped with a line saying so.

The program workloads (*optimizer_loop*, *ode_callback*) are timed per whole program
run, after a first run, by jitgrad eager, jitgrad jit and autograd.

``--end-to-end`` times whole programs instead, first calls included, each contender in
a fresh process with an empty kernel cache: see benchmarks/end_to_end.py.
"""
import argparse
import datetime
import gc
import importlib.metadata
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time

import numpy

try:
    from . import end_to_end, workloads
except ImportError:  # run as a script
    import end_to_end
    import workloads

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
TOLERANCE = 1e-8
# repeats (at least 7, contenders alternating) and the least time one repeat measures
FULL = {"repeats": 15, "repeat_seconds": 0.2}
QUICK = {"repeats": 7, "repeat_seconds": 0.01}


class Contender:
    """One way to compute a workload's gradient. ``build`` returns the function to
    time and the arguments to call it with; ``to_numpy`` turns its output into NumPy."""
    key = name = ""

    def missing(self):
        """Why this contender cannot run here, or None."""
        return None

    def applies(self, workload):
        return workload.make_loss is not None  # not a program workload

    def to_numpy(self, out):
        return out


class JitgradEager(Contender):
    key, name = "eager", "jitgrad eager"

    def applies(self, workload):
        return True

    def build(self, workload, size, args):
        if workload.make_program:
            return workload.make_program(workloads.jitgrad_library(False), size), args
        import jitgrad
        return jitgrad.grad(workload.make_loss(jitgrad.numpy, size), jit=False), args


class JitgradJit(Contender):
    key, name = "jit", "jitgrad jit"

    def applies(self, workload):
        return True

    def build(self, workload, size, args):
        if workload.make_program:
            return workload.make_program(workloads.jitgrad_library(True), size), args
        import jitgrad
        return jitgrad.grad(workload.make_loss(jitgrad.numpy, size), jit=True), args


class Autograd(Contender):
    key, name = "autograd", "autograd"

    def missing(self):
        return _missing_module("autograd")

    def applies(self, workload):
        return True

    def build(self, workload, size, args):
        if workload.make_program:
            return workload.make_program(workloads.autograd_library(), size), args
        import autograd
        import autograd.numpy
        return autograd.grad(workload.make_loss(autograd.numpy, size)), args


class Jax(Contender):
    key, name = "jax", "JAX jit(grad)"

    def missing(self):
        return _missing_module("jax")

    def build(self, workload, size, args):
        os.environ.setdefault("JAX_PLATFORMS", "cpu")  # compare on the CPU
        import jax
        import jax.numpy as jnp
        jax.config.update("jax_enable_x64", True)
        gradient = jax.jit(jax.grad(workload.jax_loss(jnp, size)))
        # data lives on the device already, as it would in a JAX program
        device_args = jax.tree_util.tree_map(jnp.asarray, args)

        def call(*call_args):
            return jax.block_until_ready(gradient(*call_args))
        return call, device_args

    def to_numpy(self, out):
        import jax
        return jax.tree_util.tree_map(numpy.asarray, out)


class HandNumba(Contender):
    key, name = "numba", "Numba by hand"

    def applies(self, workload):
        return workload.numba is not None

    def build(self, workload, size, args):
        return workload.numba(size), args


CONTENDERS = [JitgradEager(), JitgradJit(), Autograd(), Jax(), HandNumba()]


def _missing_module(name):
    try:
        __import__(name)
    except ImportError:
        return f"{name} is not installed (pip install -e \".[bench]\")"
    return None


class Entry:
    """One contender on one workload size: its function, samples and verdict."""

    def __init__(self, contender, settings):
        self.contender = contender
        self.repeat_seconds = settings["repeat_seconds"]
        self.name = contender.name
        self.samples = []
        self.first_call = None
        self.refused = None
        self.function = self.args = None
        self.number = 1

    @property
    def median(self):
        return statistics.median(self.samples) if self.samples else None

    @property
    def minimum(self):
        return min(self.samples) if self.samples else None


def flat_gradient(tree):
    if isinstance(tree, (tuple, list)):
        return numpy.concatenate([flat_gradient(t) for t in tree])
    return numpy.ravel(numpy.asarray(tree, dtype=float))


def relative_error(value, reference):
    scale = numpy.max(numpy.abs(reference))
    return float(numpy.max(numpy.abs(value - reference)) / (scale if scale > 0 else 1.0))


def prepare(entry, workload, size, args, reference):
    """First call (timed apart), correctness gate, and the calls per repeat."""
    try:
        entry.function, entry.args = entry.contender.build(workload, size, args)
        start = time.perf_counter()
        out = entry.function(*entry.args)
        entry.first_call = time.perf_counter() - start
        gradient = flat_gradient(entry.contender.to_numpy(out))
    except Exception as error:  # a contender that fails is reported, not fatal
        entry.refused = f"failed: {type(error).__name__}: {_one_line(error)}"
        return None
    if reference is not None:
        if gradient.shape != reference.shape:
            entry.refused = f"refused: gradient shape {gradient.shape} != {reference.shape}"
            return None
        error = relative_error(gradient, reference)
        if not error <= TOLERANCE:
            entry.refused = f"refused: gradient off by {error:.1e} (relative)"
            return None
    # Calls per sample from a quarter repeat of warm calls, not from one call: a jit's
    # second call may still be loading kernels (tight_loop's took 200 us, which made
    # its samples 40 calls long, each paying the caches the collector had emptied).
    calls, start = 0, time.perf_counter()
    while True:
        entry.function(*entry.args)
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= entry.repeat_seconds / 4:
            break
    entry.number = max(1, int(entry.repeat_seconds * calls / elapsed))
    return gradient


def _one_line(error):
    text = str(error).strip().splitlines()
    return (text[0] if text else "")[:120]


def measure(workload, size, contenders, settings):
    """Time every contender on one size of a workload; returns its entries."""
    args = workload.make_args(size)
    entries = [Entry(c, settings) for c in contenders if c.applies(workload)]
    eager = next((e for e in entries if isinstance(e.contender, JitgradEager)), None)
    reference_entry = eager or Entry(JitgradEager(), settings)
    reference = prepare(reference_entry, workload, size, args, None)
    if reference is None:
        raise RuntimeError(f"jitgrad eager, the reference, failed on {workload.name} "
                           f"{workload.label(size)}: {reference_entry.refused}")
    for entry in entries:
        if entry is not eager:
            prepare(entry, workload, size, args, reference)
    timed = [e for e in entries if e.refused is None]
    # The collector stays on (eager tracers make garbage), but what exists now is
    # frozen: a full collection would otherwise walk every object of every library
    # loaded, and with JAX's in the heap that slowed eager gradients by up to 1.8x.
    gc.collect()
    gc.freeze()
    for repeat in range(settings["repeats"]):
        turn = repeat % max(len(timed), 1)  # each contender leads a repeat in turn
        for entry in timed[turn:] + timed[:turn]:
            function, call_args = entry.function, entry.args
            # The garbage the previous contender left (eager tracers make cycles) is
            # collected untimed: otherwise the next one to allocate a tuple pays for it
            # (tight_loop's jitted call measured 4.7 -> 6.7 us after eager's samples).
            gc.collect()
            start = time.perf_counter()
            for _ in range(entry.number):
                function(*call_args)
            entry.samples.append((time.perf_counter() - start) / entry.number)
    return entries


def format_seconds(seconds):
    if seconds is None:
        return ""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def format_ratio(time_, reference):
    if time_ is None or reference is None:
        return ""
    ratio = time_ / reference
    return f"{ratio:.2f}" if ratio < 10 else f"{ratio:.3g}"


def table(rows):
    """Markdown table of (workload, label, entries) rows."""
    lines = ["| workload | size | contender | median | min | time / autograd "
             "| time / Numba by hand | first call |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for workload, label, entries in rows:
        by_name = {e.name: e for e in entries}
        autograd = by_name.get(Autograd.name)
        numba = by_name.get(HandNumba.name)
        for e in entries:
            if e.refused:
                lines.append(f"| {workload} | {label} | {e.name} | {e.refused} | | | | "
                             f"{format_seconds(e.first_call)} |")
                continue
            lines.append(
                f"| {workload} | {label} | {e.name} | {format_seconds(e.median)} "
                f"| {format_seconds(e.minimum)} "
                f"| {format_ratio(e.median, autograd and autograd.median)} "
                f"| {format_ratio(e.median, numba and numba.median)} "
                f"| {format_seconds(e.first_call)} |")
    return "\n".join(lines)


def summary(rows):
    """Markdown table with one row per workload size: each contender's median, and the
    jit's time divided by autograd's, JAX's and the hand-written kernel's."""
    present = [c.name for c in CONTENDERS
               if any(e.name == c.name for _, _, entries in rows for e in entries)]
    others = [name for name in (Autograd.name, Jax.name, HandNumba.name) if name in present]
    lines = ["| workload | size | " + " | ".join(present) + "".join(
                 f" | jit / {name}" for name in others) + " |",
             "| --- | --- |" + " ---: |" * (len(present) + len(others))]
    for workload, label, entries in rows:
        by_name = {e.name: e for e in entries}
        cells = [(by_name[name].refused or format_seconds(by_name[name].median)).split(":")[0]
                 if name in by_name else "" for name in present]
        jit = by_name.get(JitgradJit.name)
        for name in others:
            other = by_name.get(name)
            cells.append(format_ratio(jit and jit.median, other and other.median))
        lines.append(f"| {workload} | {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine():
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    pinned = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    cores = f"{os.cpu_count()} cores" + (f" (this process pinned to {pinned})"
                                          if pinned and pinned < os.cpu_count() else "")
    return f"{model}, {cores}, {platform.system()} {platform.release()}"


def versions():
    names = ["jitgrad", "numpy", "scipy", "numba", "autograd", "jax", "jaxlib"]
    found = [f"Python {platform.python_version()}"]
    for name in names:
        try:
            found.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            pass
    return ", ".join(found)


def report(rows, settings, command, skipped):
    header = [
        "# Gradient timings: jitgrad, autograd, JAX, hand-written Numba",
        "",
        f"- date: {datetime.date.today().isoformat()}",
        f"- machine: {machine()}",
        f"- versions: {versions()}",
        f"- command: `{command}`",
        f"- median and minimum time per gradient call over {settings['repeats']} repeats, "
        "contenders alternating; *first call* is the first call alone (jitgrad jit traces and "
        "compiles its fused kernels into an empty cache, JAX traces and compiles with XLA, "
        "Numba compiles; Numba's one-off start-up lands on the first kernel compiled in "
        "the process; `benchmarks/bench_compile.py` times first calls in new processes)",
        "- the garbage collector stays on while timing; objects that existed before are "
        "frozen (`gc.freeze()`), so no library's heap slows another's collections, "
        "and each sample starts after a collection, so none pays for another's garbage",
        "- *time / autograd* and *time / Numba by hand* divide the median by that "
        "contender's: below 1 is faster",
        "- *optimizer_loop* and *ode_callback* are whole programs (200 adam iterations; one "
        "odeint solve whose right side builds a Jacobian at each of its ~200 calls): their "
        "times are per program run, after a first run, and their results (trained "
        "parameters, the solution) are what must agree",
        f"- every gradient agreed with jitgrad eager's to {TOLERANCE:g} (relative) before "
        "it was timed; one that did not is marked refused",
        "- JAX: `jax.jit(jax.grad(f))` on the CPU with float64 enabled, arguments already "
        "on the device; fluidsim's time loop is `lax.fori_loop` (XLA compiles an unrolled "
        "50-step loop too slowly to measure)",
    ]
    for name, reason in skipped:
        header.append(f"- not run: {name}: {reason}")
    return ("\n".join(header) + "\n\n## Summary: median time per gradient call\n\n"
            + summary(rows) + "\n\n## All measurements\n\n" + table(rows) + "\n")


def bar_chart(rows, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: skipping the PNG (pip install -e \".[bench]\")")
        return None
    names = [c.name for c in CONTENDERS]
    colors = dict(zip(names, ["#8da0cb", "#1b9e77", "#d95f02", "#7570b3", "#666666"]))
    groups = [(f"{workload}\n{label}", {e.name: e.median for e in entries if e.median})
              for workload, label, entries in rows]
    height = 0.8 / len(names)
    fig, ax = plt.subplots(figsize=(10, 1.2 + 0.8 * len(groups)))
    for g, (_, medians) in enumerate(groups):
        for c, name in enumerate(names):
            if name in medians:
                ax.barh(g + (c - len(names) / 2 + 0.5) * height, medians[name], height,
                        color=colors[name], label=name if name not in
                        ax.get_legend_handles_labels()[1] else None)
    ax.set_yticks(range(len(groups)))
    ax.set_yticklabels([label for label, _ in groups], fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("median time per gradient call (s), log scale")
    ax.grid(axis="x", which="both", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    ax.set_title(f"gradient timings, {datetime.date.today().isoformat()}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK['repeats']} short repeats instead of {FULL['repeats']}")
    parser.add_argument("--workload", action="append", choices=sorted(workloads.WORKLOADS),
                        help="run only this workload (may be repeated)")
    parser.add_argument("--contenders",
                        help="comma-separated subset of: " + ", ".join(c.key for c in CONTENDERS)
                             + " (all); with --end-to-end of: eager, jit, autograd (all three)")
    parser.add_argument("--end-to-end", action="store_true",
                        help="time whole programs, first calls included, in fresh processes")
    parser.add_argument("--repeats", type=int,
                        help="--end-to-end: runs per contender (5; --quick: 1)")
    parser.add_argument("--first-call-steps",
                        help="--end-to-end: fluidsim step counts whose first call is timed "
                             "alone, comma-separated (5,50,100; --quick: 5; '' for none)")
    parser.add_argument("--profile", action="store_true",
                        help="--end-to-end: profile each program the jit made slower")
    parser.add_argument("--one-core", action="store_true",
                        help="pin every thread of the process to one core first (OpenBLAS's "
                             "workers too): every contender then computes on one thread's "
                             "worth of CPU (JAX's XLA threads its "
                             "matrix products whatever its flags say; jitgrad runs products "
                             "below 5e7 multiply-adds on one BLAS thread)")
    return parser.parse_args(argv)


def pin_to_one_core():
    """Every thread of the process on one core: also OpenBLAS's workers, which NumPy's
    import started (a thread keeps the affinity it was made with), so that autograd's
    two-thread products do not borrow the other core."""
    core = {min(os.sched_getaffinity(0))}
    for task in os.listdir("/proc/self/task"):
        try:
            os.sched_setaffinity(int(task), core)
        except OSError:  # a thread that ended meanwhile
            pass
    os.sched_setaffinity(0, core)


def main(argv=None):
    options = parse_args(argv)
    if options.one_core:  # before JAX starts its thread pool
        pin_to_one_core()
    if options.end_to_end:
        command = " ".join(["python benchmarks/compare.py"]
                           + (sys.argv[1:] if argv is None else list(argv)))
        return end_to_end.main(options, command)
    settings = QUICK if options.quick else FULL
    wanted = (options.contenders or ",".join(c.key for c in CONTENDERS)).split(",")
    unknown = set(wanted) - {c.key for c in CONTENDERS}
    if unknown:
        raise SystemExit(f"unknown contender(s) {sorted(unknown)}; choose from "
                         + ", ".join(c.key for c in CONTENDERS))
    contenders, skipped = [], []
    for contender in CONTENDERS:
        if contender.key not in wanted:
            continue
        reason = contender.missing()
        if reason:
            print(f"skipping {contender.name}: {reason}")
            skipped.append((contender.name, reason))
        else:
            contenders.append(contender)
    names = options.workload or list(workloads.WORKLOADS)
    jobs = [(workloads.WORKLOADS[name], size) for name in names
            for size in workloads.WORKLOADS[name].sizes]
    # First calls compile fused kernels afresh: an empty kernel cache, removed after.
    # Steady state is the fused plan's: the jit traces at the first call and fuses
    # at once (its tiering, for short programs, is what --end-to-end measures).
    settings_now = {"JITGRAD_CACHE_DIR": tempfile.mkdtemp(prefix="jitgrad-compare-"),
                    "JITGRAD_FUSE_AFTER": "0", "JITGRAD_TRACE_AFTER": "0"}
    previous = {name: os.environ.get(name) for name in settings_now}
    os.environ.update(settings_now)
    try:
        rows = run(jobs, contenders, settings)
    finally:
        shutil.rmtree(settings_now["JITGRAD_CACHE_DIR"], ignore_errors=True)
        for name, value in previous.items():
            if value is None:
                del os.environ[name]
            else:
                os.environ[name] = value
    write_results(options, argv, rows, settings, skipped)


def run(jobs, contenders, settings):
    rows = []
    started = time.perf_counter()
    for number, (workload, size) in enumerate(jobs, 1):
        entries = measure(workload, size, contenders, settings)
        label = workload.label(size)
        rows.append((workload.name, label, entries))
        summary = ", ".join(f"{e.name} {e.refused or format_seconds(e.median)}" for e in entries)
        print(f"[{number}/{len(jobs)}] {workload.name} {label}: {summary} "
              f"({time.perf_counter() - started:.0f} s)", flush=True)
    return rows


def write_results(options, argv, rows, settings, skipped):
    stem = "compare" + ("-quick" if options.quick else "")
    if options.workload:
        stem += "-" + "-".join(options.workload)
    if options.one_core:  # a full run is kept beside compare.md; others are scratch
        stem = "compare_one_core" if stem == "compare" else stem + "-one-core"
    os.makedirs(RESULTS, exist_ok=True)
    command = " ".join(["python benchmarks/compare.py"]
                       + (sys.argv[1:] if argv is None else list(argv)))
    markdown = os.path.join(RESULTS, stem + ".md")
    with open(markdown, "w") as out:
        out.write(report(rows, settings, command, skipped))
    print(f"wrote {os.path.relpath(markdown)}")
    png = bar_chart(rows, os.path.join(RESULTS, stem + ".png"))
    if png:
        print(f"wrote {os.path.relpath(png)}")


if __name__ == "__main__":
    main()
