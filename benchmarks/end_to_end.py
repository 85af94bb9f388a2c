"""Whole programs timed end to end, first calls included, each in a fresh process.

    python benchmarks/compare.py --end-to-end [--quick] [--repeats N] [--workload NAME ...]
                                 [--contenders eager,jit,autograd] [--first-call-steps 5,50,100]
                                 [--profile]

(this module is the mode's parent, and ``python benchmarks/end_to_end.py --child SPEC``
its child).

A steady-state table (compare.py's default) hides what a user pays once per program:
the jit's trace, plan building and kernel compilation. Here every workload runs as a
whole program (``Workload.program``: the loss workloads make ``calls`` gradient calls
with new argument values between calls, the program workloads run once) in a new
Python process per contender and repeat, with an empty kernel cache
(``JITGRAD_CACHE_DIR`` a new temporary directory) and one OpenBLAS thread unless
``OPENBLAS_NUM_THREADS`` says otherwise. Contenders take turns; the tables give
medians. *program* is the time from building the operator to the program's end
(imports and data excluded: they are the same with and without the jit, and Numba's
import, which only the jit pays, happens inside); *first call* is the first call of
the first operator the program builds.

Then the first call alone of fluidsim 64x64's jitted gradient at a few step counts:
cold (an empty cache) and warm (a second process on the cache the first one filled),
against one eager gradient, with peak memory: what ``tracemalloc`` saw allocated during
the call (NumPy's buffers and Python objects, in a run of its own: tracing slows the
call), and the growth of the process's peak resident memory (Numba's and LLVM's too).

``--profile`` runs each program that the jit made slower than eager once more under
cProfile and adds where the time went (tracing, plan building, kernel compilation,
replay) and the top functions to the report. Results: a markdown table and the raw
samples as JSON in benchmarks/results/, named with the date.
"""
import cProfile
import datetime
import gc
import io
import json
import os
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc

import numpy

try:
    from . import workloads
except ImportError:  # run as a script
    import workloads

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
RESULT_MARK = "END_TO_END_RESULT "
TOLERANCE = 1e-8
LIBRARIES = {"eager": lambda: workloads.jitgrad_library(False),
             "jit": lambda: workloads.jitgrad_library(True),
             "autograd": workloads.autograd_library}
NAMES = {"eager": "jitgrad eager", "jit": "jitgrad jit", "autograd": "autograd"}
FULL = {"repeats": 5, "first_call_steps": (5, 50, 100)}
QUICK = {"repeats": 1, "first_call_steps": (5,)}
# issue 11, item 3: fluidsim 64x64 first call of the jitted gradient
TARGETS = {50: {"cold": 2.5, "warm": 1.0}, 100: {"cold": 4.0}}
MEMORY_TARGET = 3.0  # the jit's first call's peak memory / eager's
FLUIDSIM_GRID = 64
# The jit's tier settings, left at their defaults in the children (see run_child).
TIER_SETTINGS = ("JITGRAD_FUSE_AFTER", "JITGRAD_TRACE_AFTER")


# -- the child: one program in this fresh process ---------------------------------
class _FirstCall:
    """Wraps a library's operators so that the first call of the first derivative
    built is timed (later ones are handed back unwrapped), and keeps the jit's
    counters of every derivative built."""

    def __init__(self):
        self.seconds = None
        self.counters = []

    def jit_stats(self):
        """Traces, replays, guard misses and eager fallbacks summed over the operators
        built (``jacobian(f)`` built anew shares the plans, not the counters)."""
        if not self.counters:
            return None
        keys = ("traces", "hits", "guard_misses", "fallbacks", "eager_calls")
        return {key: sum(stats.get(key, 0) for stats in self.counters) for key in keys}

    def wrap(self, operator):
        def build(fun, *args, **kwargs):
            derivative = operator(fun, *args, **kwargs)
            if isinstance(getattr(derivative, "stats", None), dict):
                self.counters.append(derivative.stats)
            if self.seconds is not None:
                return derivative

            def call(*call_args, **call_kwargs):
                if self.seconds is not None:
                    return derivative(*call_args, **call_kwargs)
                start = time.perf_counter()
                out = derivative(*call_args, **call_kwargs)
                self.seconds = time.perf_counter() - start
                return out
            return call
        return build


def _tuples(value):
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _resident_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_resident_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux


def flat(tree):
    if isinstance(tree, (tuple, list)):
        return numpy.concatenate([flat(t) for t in tree])
    return numpy.ravel(numpy.asarray(tree, dtype=float))


def child(spec):
    """Run ``spec``'s task and return its measurements (a dict of numbers)."""
    start = time.perf_counter()
    lib = LIBRARIES[spec["contender"]]()
    imported = time.perf_counter() - start
    workload = workloads.WORKLOADS[spec["workload"]]
    size = _tuples(spec["size"])
    args = workload.make_args(size)
    first = _FirstCall()
    lib.grad, lib.jacobian = first.wrap(lib.grad), first.wrap(lib.jacobian)
    gc.collect()
    resident = _resident_bytes()
    profiler = cProfile.Profile() if spec.get("profile") else None
    if spec.get("memory"):
        tracemalloc.start()
    if profiler:
        profiler.enable()
    start, cpu_start = time.perf_counter(), time.process_time()
    if spec["task"] == "program":
        run = workload.program(lib, size)
        out = run(*args)
    else:  # "first_call": one gradient of the loss
        run = None
        out = lib.grad(workload.make_loss(lib.np, size))(*args)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    if profiler:
        profiler.disable()
        profiler.dump_stats(spec["profile"])
    result = {"seconds": seconds, "cpu_seconds": cpu_seconds, "first_call": first.seconds,
              "import": imported,
              "peak_resident_growth": max(0, _peak_resident_bytes() - resident)}
    if spec.get("memory"):
        result["traced_peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    if getattr(run, "evaluations", None):
        result["evaluations"] = run.evaluations
    if first.jit_stats():
        result["jit_stats"] = first.jit_stats()
    if spec.get("result"):
        numpy.save(spec["result"], flat(out))
    return result


# -- the parent: fresh processes, turns, medians ------------------------------------
class ChildFailed(RuntimeError):
    pass


def run_child(spec, cache_dir, timeout=1200):
    env = dict(os.environ, JITGRAD_CACHE_DIR=cache_dir)
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env.pop("JITGRAD_JIT", None)  # each contender says itself whether it jits
    # End to end means as a user runs it: the jit's tiering (when to trace, when to
    # fuse) at its defaults, whatever the parent's environment says.
    for name in TIER_SETTINGS:
        env.pop(name, None)
    if spec["task"] == "first_call":
        # The first call alone is timed to see what a trace costs (issue 11, item 3):
        # traced at once, not run eagerly as the default tiers would.
        env["JITGRAD_TRACE_AFTER"] = "0"
    process = subprocess.run([sys.executable, os.path.abspath(__file__), "--child",
                              json.dumps(spec)], env=env, capture_output=True, text=True,
                             timeout=timeout)
    lines = [line for line in process.stdout.splitlines() if line.startswith(RESULT_MARK)]
    if process.returncode or not lines:
        tail = (process.stderr.strip().splitlines() or ["no output"])[-1]
        raise ChildFailed(f"{spec['contender']} on {spec['workload']}: {tail[:200]}")
    return json.loads(lines[-1][len(RESULT_MARK):])


class Scratch:
    """Temporary directories for kernel caches and results, removed at the end."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="jitgrad-end-to-end-")

    def directory(self):
        return tempfile.mkdtemp(dir=self.root)

    def remove(self):
        shutil.rmtree(self.root, ignore_errors=True)


def median(samples, key):
    values = [s[key] for s in samples if s.get(key) is not None]
    return statistics.median(values) if values else None


def relative_error(value, reference):
    if value.shape != reference.shape:
        return float("inf")
    scale = numpy.max(numpy.abs(reference)) if reference.size else 0.0
    return float(numpy.max(numpy.abs(value - reference), initial=0.0)
                 / (scale if scale > 0 else 1.0))


def measure_program(workload, size, contenders, repeats, scratch, profile=False):
    """Every contender's samples on one workload size, contenders taking turns."""
    samples = {key: [] for key in contenders}
    failed, outputs = {}, {}
    spec = {"workload": workload.name, "size": size, "task": "program"}
    for repeat in range(repeats):
        turn = repeat % len(contenders)
        for key in contenders[turn:] + contenders[:turn]:
            if key in failed:
                continue
            result = os.path.join(scratch.directory(), "result.npy") if repeat == 0 else None
            cache = scratch.directory()
            try:
                samples[key].append(run_child(dict(spec, contender=key, result=result), cache))
            except (ChildFailed, subprocess.TimeoutExpired) as error:
                failed[key] = f"failed: {error}"
                continue
            finally:
                shutil.rmtree(cache, ignore_errors=True)
            if result:
                outputs[key] = numpy.load(result)
    errors = {key: relative_error(out, outputs["eager"]) for key, out in outputs.items()
              if "eager" in outputs}
    row = {"workload": workload.name, "size": size, "label": workload.label(size),
           "calls": workload.calls if workload.make_program is None else None,
           "calls_why": workload.calls_why, "samples": samples, "failed": failed,
           "errors": errors}
    jit, eager = median(samples.get("jit", []), "seconds"), median(samples.get("eager", []), "seconds")
    if profile and jit and eager and jit > eager:
        row["profile"] = profile_program(spec, scratch)
    return row


def measure_first_calls(steps_list, repeats, scratch):
    """fluidsim's first call: eager, jit cold and warm; then peak memory, traced."""
    rows = []
    for steps in steps_list:
        size = (FLUIDSIM_GRID, steps)
        spec = {"workload": "fluidsim", "size": size, "task": "first_call"}
        samples = {"eager": [], "cold": [], "warm": []}
        for repeat in range(repeats):
            order = ["eager", "jit"] if repeat % 2 == 0 else ["jit", "eager"]
            for key in order:
                cache = scratch.directory()
                try:
                    if key == "eager":
                        samples["eager"].append(run_child(dict(spec, contender="eager"), cache))
                    else:
                        samples["cold"].append(run_child(dict(spec, contender="jit"), cache))
                        samples["warm"].append(run_child(dict(spec, contender="jit"), cache))
                finally:
                    shutil.rmtree(cache, ignore_errors=True)
        memory = {}
        for key in ("eager", "jit"):
            cache = scratch.directory()
            memory[key] = run_child(dict(spec, contender=key, memory=True), cache)
            shutil.rmtree(cache, ignore_errors=True)
        rows.append({"steps": steps, "samples": samples, "memory": memory})
        print(f"  fluidsim {FLUIDSIM_GRID}x{FLUIDSIM_GRID}, {steps} steps, first call: "
              f"eager {median(samples['eager'], 'seconds'):.2f} s, jit cold "
              f"{median(samples['cold'], 'seconds'):.2f} s, warm "
              f"{median(samples['warm'], 'seconds'):.2f} s; load {_load()}", flush=True)
    return rows


# -- profiles of the programs the jit made slower ------------------------------------
# (file name, function name) of the jit's phases; inclusive times, from cProfile.
PHASES = [
    ("eager calls (the tiers' first calls and new paths)", [("jitted.py", "_run_eagerly")]),
    ("trace and build (all traces)", [("jitted.py", "_trace_plan")]),
    ("  plan building (passes, rolling, codegen, compile)", [("plan.py", "__init__")]),
    ("fusing (regions, kernels)", [("plan.py", "fuse")]),
    ("kernel compile or cache load (Numba)", [("dispatcher.py", "compile"),
                                              ("dispatcher.py", "_compile_for_args")]),
    ("replay (plan calls)", [("plan.py", "__call__")]),
    ("signature, common calls' key", [("jitted.py", "_positional_key")]),
    ("signature, general walk", [("jitted.py", "_general_signature")]),
]


def profile_program(spec, scratch, top=25):
    """Run the jitted program once under cProfile; its phases and top functions."""
    path = os.path.join(scratch.directory(), "program.prof")
    cache = scratch.directory()
    result = run_child(dict(spec, contender="jit", profile=path), cache)
    shutil.rmtree(cache, ignore_errors=True)
    stats = pstats.Stats(path)
    phases = {}
    for name, functions in PHASES:
        phases[name] = max((stats.stats[f][3] for f in stats.stats
                            if any(f[0].endswith(os.sep + base) and f[2] == function
                                   for base, function in functions)), default=None)
    text = io.StringIO()
    stats.stream = text
    stats.sort_stats("cumulative").print_stats(top)
    by_cumulative = _strip_header(text.getvalue())
    text = io.StringIO()
    stats.stream = text
    stats.sort_stats("tottime").print_stats(top)
    return {"seconds": result["seconds"], "phases": phases,
            "cumulative": by_cumulative, "tottime": _strip_header(text.getvalue())}


def _strip_header(text):
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip().startswith("ncalls")), 0)
    prefixes = [os.path.dirname(HERE) + os.sep] + sorted(
        {os.path.dirname(os.path.dirname(numpy.__file__)) + os.sep}, key=len, reverse=True)
    kept = []
    for line in lines[start:]:
        for prefix in prefixes:
            line = line.replace(prefix, "")
        if line.strip():
            kept.append(line)
    return "\n".join(kept)


# -- the report ------------------------------------------------------------------------
def _load():
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def _seconds(value):
    if value is None:
        return ""
    return f"{value:.3g} s" if value >= 0.01 else f"{value * 1e3:.3g} ms"


def _megabytes(value):
    return "" if value is None else f"{value / 2**20:.0f} MB"


def _ratio(a, b):
    return "" if a is None or not b else f"{a / b:.2f}"


def program_table(rows, contenders):
    names = [NAMES[key] for key in contenders]
    head = (["workload", "size", "calls"] + names
            + [f"jit / {NAMES[k]}" for k in contenders if k != "jit" and "jit" in contenders]
            + ["jit / eager, CPU time", "jit first call", "eager first call",
               "peak RSS growth, jit / eager", "jit traces / replays / eager calls / fallbacks"])
    lines = ["| " + " | ".join(head) + " |",
             "| --- | --- | --- |" + " ---: |" * (len(head) - 3)]
    for row in rows:
        medians = {key: median(row["samples"][key], "seconds") for key in contenders}
        cells = [row["workload"], row["label"],
                 str(row["calls"]) if row["calls"] else "1 program"]
        for key in contenders:
            error = row["errors"].get(key, 0.0)
            flag = f" (differs by {error:.0e})" if error > TOLERANCE else ""
            cells.append(row["failed"].get(key) or _seconds(medians[key]) + flag)
        cells += [_ratio(medians.get("jit"), medians[k]) for k in contenders
                  if k != "jit" and "jit" in contenders]
        cells += [_ratio(median(row["samples"].get("jit", []), "cpu_seconds"),
                         median(row["samples"].get("eager", []), "cpu_seconds")),
                  _seconds(median(row["samples"].get("jit", []), "first_call")),
                  _seconds(median(row["samples"].get("eager", []), "first_call")),
                  " / ".join(_megabytes(median(row["samples"].get(k, []), "peak_resident_growth"))
                             for k in ("jit", "eager")),
                  _counters(row["samples"].get("jit", []))]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _counters(samples):
    stats = [s["jit_stats"] for s in samples if s.get("jit_stats")]
    if not stats:
        return ""
    return " / ".join(str(stats[0].get(key, 0))
                      for key in ("traces", "hits", "eager_calls", "fallbacks"))


def first_call_table(rows):
    lines = ["| steps | eager gradient | jit cold | jit warm | target cold / warm "
             "| traced peak eager | jit | jit / eager | peak RSS growth eager | jit cold |",
             "| ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |"]
    for row in rows:
        samples, memory = row["samples"], row["memory"]
        target = TARGETS.get(row["steps"], {})
        eager_peak = memory["eager"].get("traced_peak")
        jit_peak = memory["jit"].get("traced_peak")
        lines.append(
            f"| {row['steps']} | {_seconds(median(samples['eager'], 'seconds'))} "
            f"| {_seconds(median(samples['cold'], 'seconds'))} "
            f"| {_seconds(median(samples['warm'], 'seconds'))} "
            f"| {' / '.join(_seconds(target.get(k)) or '-' for k in ('cold', 'warm'))} "
            f"| {_megabytes(eager_peak)} | {_megabytes(jit_peak)} "
            f"| {_ratio(jit_peak, eager_peak)} "
            f"| {_megabytes(median(samples['eager'], 'peak_resident_growth'))} "
            f"| {_megabytes(median(samples['cold'], 'peak_resident_growth'))} |")
    return "\n".join(lines)


def profile_section(rows):
    parts = []
    for row in rows:
        profile = row.get("profile")
        if not profile:
            continue
        phases = "\n".join(f"    {name}: {_seconds(seconds) or 'not seen'}"
                           for name, seconds in profile["phases"].items())
        parts.append(f"### {row['workload']}, {row['label']}: jit program "
                     f"{_seconds(profile['seconds'])} under cProfile\n\n```\n{phases}\n```\n\n"
                     f"<details><summary>top functions, cumulative and own time</summary>\n\n"
                     f"```\n{profile['cumulative']}\n\n{profile['tottime']}\n```\n\n</details>\n")
    return "\n".join(parts)


def _git_state():
    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=HERE, capture_output=True, text=True,
                                  timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    commit = git("rev-parse", "--short", "HEAD")
    changed = len([line for line in git("status", "--porcelain", "--", "../jitgrad").splitlines()
                   if line.strip()])
    return f"{commit}" + (f" with {changed} uncommitted changes in jitgrad/" if changed else "")


def report(command, settings, contenders, rows, first_calls, loads, skipped, states):
    try:  # one description of the machine for both modes (compare imports us: lazily)
        from .compare import machine, versions
    except ImportError:
        from compare import machine, versions
    lines = [
        "# End to end: whole programs, first calls included",
        "",
        f"- date: {datetime.date.today().isoformat()}",
        f"- machine: {machine()}; load average (1, 5, 15 min) at the start {loads[0]}, "
        f"at the end {loads[1]}",
        f"- versions: {versions()}; jitgrad at {states[0]} at the start"
        + ("" if states[1] == states[0] else f", {states[1]} at the end"),
        f"- command: `{command}`",
        f"- each run a new process with an empty kernel cache (`JITGRAD_CACHE_DIR` a new "
        f"temporary directory), OPENBLAS_NUM_THREADS="
        f"{os.environ.get('OPENBLAS_NUM_THREADS', '1')}; medians of {settings['repeats']} "
        "runs per contender, contenders taking turns",
        "- *program*: from building the operator to the last call (imports and data "
        "excluded; Numba's import, paid by the jit alone, is inside); loss workloads make "
        "*calls* gradient calls with the first argument moved between calls; "
        "*optimizer_loop* and *ode_callback* run their program once",
        "- *jit / X* below 1: the jitted program is faster (wall time); *CPU time*: the same "
        "ratio in the processes' own CPU time, less disturbed by other load on the machine; "
        "*first call*: the first call of the first operator built (with the jit's default "
        "tiers an eager call: the trace comes later); *peak RSS growth*: the process's "
        "peak resident memory during the program over its size before",
        "- the jit at its default tiers (`JITGRAD_TRACE_AFTER`, `JITGRAD_FUSE_AFTER` unset "
        "in the children): a signature's first calls run eagerly until they would have paid "
        "for its trace (at least two), plans fuse once fusing has been paid for",
        f"- results agree with eager's to {TOLERANCE:g} (relative) unless marked",
    ]
    for name, reason in skipped:
        lines.append(f"- not run: {name}: {reason}")
    calls = {}
    for row in rows:
        calls.setdefault(row["workload"], row["calls_why"])
    lines += ["", "Calls per program: " + "; ".join(f"*{w}* {why}" for w, why in calls.items()),
              "", "## Programs: seconds end to end", "", program_table(rows, contenders), ""]
    evaluations = [(row["label"], median(row["samples"].get(k, []), "evaluations"))
                   for row in rows for k in contenders if row["workload"] == "ode_callback"]
    if evaluations:
        counts = sorted({int(n) for _, n in evaluations if n})
        lines += [f"ode_callback's right side was called {', '.join(map(str, counts))} times "
                  "per solve.", ""]
    if first_calls:
        lines += [f"## First call of fluidsim {FLUIDSIM_GRID}x{FLUIDSIM_GRID}'s jitted gradient",
                  "",
                  "The trace's cost: the gradient traced at its first call "
                  "(`JITGRAD_TRACE_AFTER=0`; with the default tiers the first call runs "
                  "eagerly and this cost moves to the second). "
                  "Cold: an empty kernel cache; warm: a second new process on the cache the "
                  "cold one filled. *Traced peak*: the most memory `tracemalloc` saw allocated "
                  "during the call (a run of its own); *peak RSS growth*: the process's, "
                  "Numba's and LLVM's memory included. Targets from issue 11, item 3.", "",
                  first_call_table(first_calls), ""]
    profiles = profile_section(rows)
    if profiles:
        lines += ["## Where the time goes in programs the jit made slower", "",
                  "One more jitted run under cProfile (which slows Python-heavy code, so "
                  "compare phases with each other, not with the table). Inclusive times.", "",
                  profiles]
    return "\n".join(lines) + "\n"


def main(options, command):
    """``options`` as compare.py parses them; writes the report and the samples."""
    settings = dict(QUICK if options.quick else FULL)
    if options.repeats:
        settings["repeats"] = options.repeats
    contenders = (options.contenders or "eager,jit,autograd").split(",")
    unknown = set(contenders) - set(LIBRARIES)
    if unknown or "eager" not in contenders:
        raise SystemExit(f"end to end: choose contenders among {', '.join(LIBRARIES)}, "
                         "eager included (the reference)")
    skipped = []
    if "autograd" in contenders:
        try:
            import autograd  # noqa: F401
        except ImportError:
            reason = 'autograd is not installed (pip install -e ".[bench]")'
            print(f"skipping autograd: {reason}")
            skipped.append(("autograd", reason))
            contenders.remove("autograd")
    names = options.workload or list(workloads.WORKLOADS)
    steps = settings["first_call_steps"]
    if options.first_call_steps is not None:
        steps = tuple(int(s) for s in options.first_call_steps.split(",") if s.strip())
    if "fluidsim" not in names or "jit" not in contenders:
        steps = ()
    jobs = [(workloads.WORKLOADS[name], size) for name in names
            for size in workloads.WORKLOADS[name].sizes]
    scratch = Scratch()
    loads = [_load()]
    state = _git_state()  # other engineers may change jitgrad/ while this runs
    started = time.perf_counter()
    rows, first_calls = [], []
    try:
        for number, (workload, size) in enumerate(jobs, 1):
            row = measure_program(workload, size, contenders, settings["repeats"], scratch,
                                  profile=options.profile)
            rows.append(row)
            summary = ", ".join(
                f"{NAMES[k]} {row['failed'].get(k) or _seconds(median(row['samples'][k], 'seconds'))}"
                for k in contenders)
            print(f"[{number}/{len(jobs)}] {workload.name} {row['label']}: {summary} "
                  f"({time.perf_counter() - started:.0f} s, load {_load()})", flush=True)
        if steps:
            first_calls = measure_first_calls(steps, settings["repeats"], scratch)
    finally:
        scratch.remove()
    loads.append(_load())
    states = (state, _git_state())
    write_results(options, command, settings, contenders, rows, first_calls, loads, skipped,
                  states)
    return rows, first_calls


def write_results(options, command, settings, contenders, rows, first_calls, loads, skipped,
                  states):
    commit = states[0].split()[0] if states[0] else "unknown"
    stem = f"end_to_end-{datetime.date.today().isoformat()}-{commit}"
    if options.quick or options.workload:  # scratch, ignored by git as compare.py's are
        stem = "compare-end_to_end" + ("-quick" if options.quick else "") + "".join(
            "-" + name for name in options.workload or ())
    os.makedirs(RESULTS, exist_ok=True)
    markdown = os.path.join(RESULTS, stem + ".md")
    with open(markdown, "w") as out:
        out.write(report(command, settings, contenders, rows, first_calls, loads, skipped,
                         states))
    raw = {"command": command, "loads": loads, "jitgrad": states, "contenders": contenders,
           "programs": [{k: v for k, v in row.items() if k != "profile"} for row in rows],
           "first_calls": first_calls}
    with open(os.path.join(RESULTS, stem + ".json"), "w") as out:
        json.dump(raw, out, indent=1, default=str)
    print(f"wrote {os.path.relpath(markdown)} and its .json")


if __name__ == "__main__":  # a child; the parent is compare.py --end-to-end
    if len(sys.argv) != 3 or sys.argv[1] != "--child":
        raise SystemExit("usage: python benchmarks/compare.py --end-to-end [options]")
    print(RESULT_MARK + json.dumps(child(json.loads(sys.argv[2]))), flush=True)
