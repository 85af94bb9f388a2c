"""Run every example small (``--quick``), eagerly and with ``--jit``, and check that both
print the same final numbers (to 1e-9 relative) and write their pictures.

    python examples/check_all.py [--jobs 2] [NAME ...]

Each example runs as its own process, as a user runs it, with its pictures going to a
temporary folder (``--out``). Exits non-zero if any example fails, differs or draws
nothing. CI runs this after the test suites.
"""
import argparse
import concurrent.futures
import math
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = ["tanh", "logistic_regression", "neural_net", "convnet", "rnn", "lstm",
            "bayesian_neural_net", "gaussian_process", "ode_net", "hmc", "fluidsim",
            "rosenbrock", "define_gradient"]
PICTURES = {"fluidsim": ["fluidsim.png", "fluidsim.gif"]}
RELATIVE_TOLERANCE = 1e-9
FINAL = re.compile(r"^final (\S+) = (.+)$", re.MULTILINE)


def run(name, mode, out):
    """Run one example; returns (its final numbers or None, its output, seconds)."""
    command = [sys.executable, os.path.join(HERE, f"{name}.py"), "--quick", "--out", out]
    if mode == "jit":
        command.append("--jit")
    env = dict(os.environ)
    env.pop("JITGRAD_JIT", None)  # the eager run must be eager
    # As the test suite: two BLAS threads on a busy 2-core machine slow small solves 100x.
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    output = done.stdout + done.stderr
    if done.returncode != 0:
        return None, output, seconds
    return {key: float(value) for key, value in FINAL.findall(done.stdout)}, output, seconds


def differences(eager, jitted):
    if not eager:
        return ["no final numbers printed"]
    if set(eager) != set(jitted):
        return [f"different numbers: eager {sorted(eager)}, jit {sorted(jitted)}"]
    found = []
    for key, a in eager.items():
        b = jitted[key]
        if not (math.isfinite(a) and math.isfinite(b)):
            found.append(f"{key}: eager {a!r}, jit {b!r} (not finite)")
        elif abs(a - b) > RELATIVE_TOLERANCE * max(abs(a), abs(b)):
            found.append(f"{key}: eager {a!r}, jit {b!r}, "
                         f"relative difference {abs(a - b) / max(abs(a), abs(b)):.1e}")
    return found


def check(name):
    """Returns (name, problems, the line to print)."""
    with tempfile.TemporaryDirectory() as eager_out, tempfile.TemporaryDirectory() as jit_out:
        eager, eager_output, eager_seconds = run(name, "eager", eager_out)
        jitted, jit_output, jit_seconds = run(name, "jit", jit_out)
        problems = []
        for mode, numbers, output, out in [("eager", eager, eager_output, eager_out),
                                           ("jit", jitted, jit_output, jit_out)]:
            if numbers is None:
                problems.append(f"{mode} run failed:\n{output}")
            for picture in PICTURES.get(name, [f"{name}.png"]):
                if not os.path.isfile(os.path.join(out, picture)):
                    problems.append(f"{mode} run wrote no {picture}")
        if eager is not None and jitted is not None:
            problems += differences(eager, jitted)
    line = (f"{name:22s} eager {eager_seconds:5.1f} s, --jit {jit_seconds:5.1f} s, "
            f"{len(eager or {})} numbers: {'ok' if not problems else 'FAILED'}")
    return name, problems, line


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("names", nargs="*", default=EXAMPLES, help="examples to run (default: all)")
    parser.add_argument("--jobs", type=int, default=2, help="examples run at the same time")
    args = parser.parse_args(argv)
    try:
        import matplotlib  # noqa: F401
        import PIL  # noqa: F401
    except ImportError as error:
        print(f"check_all needs the examples extra (pip install -e \".[examples]\"): {error}")
        return 1
    start = time.perf_counter()
    failed = []
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for name, problems, line in pool.map(check, args.names):
            print(line, flush=True)
            for problem in problems:
                print("    " + problem.replace("\n", "\n    "))
            if problems:
                failed.append(name)
    print(f"{len(args.names) - len(failed)} passed, {len(failed)} failed "
          f"({time.perf_counter() - start:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
