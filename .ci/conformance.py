"""Run autograd 1.9.1's own test suite against jitgrad (../shared/conformance) and
fail unless every test passes, except those listed with a reason in
tests/conformance_expected_failures.txt (autograd limitations jitgrad lifts).

    python .ci/conformance.py            # eager
    JITGRAD_JIT=1 python .ci/conformance.py   # every operator jitted

A listed test that passes also fails the run: the list must stay exact.
"""
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
HARNESS = ROOT.parent / "shared" / "conformance" / "run_autograd_suite.sh"
EXPECTED = ROOT / "tests" / "conformance_expected_failures.txt"


def expected_failures():
    """{test id: reason} from the expectations file (``id  # reason`` per line)."""
    expected = {}
    for line in EXPECTED.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        test_id, _, reason = line.partition("#")
        if not reason.strip():
            sys.exit(f"{EXPECTED.name}: {test_id.strip()} has no reason; every entry needs one")
        expected[test_id.strip()] = reason.strip()
    return expected


def main():
    if not HARNESS.exists():
        sys.exit(f"conformance harness not found at {HARNESS} (../shared beside the clone)")
    mode = "jitted" if os.environ.get("JITGRAD_JIT", "0") not in ("", "0") else "eager"
    with tempfile.TemporaryDirectory() as tmp:
        report = pathlib.Path(tmp) / "outcomes.json"
        run = subprocess.run(["bash", str(HARNESS), "jitgrad"], cwd=ROOT, text=True,
                             capture_output=True, env={**os.environ, "AG_JSON": str(report)})
        print(run.stdout[-3000:], end="")
        last = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
        score = re.search(r"autograd-suite: (\d+) passed of (\d+)", run.stdout)
        if run.returncode != 0 or score is None or not report.exists():
            print(run.stderr[-3000:], file=sys.stderr)
            sys.exit(f"conformance ({mode}): the harness failed (exit {run.returncode}): {last}")
        outcomes = json.loads(report.read_text())["outcomes"]
        messages = json.loads(report.read_text()).get("messages", {})
    expected = expected_failures()
    unexpected = sorted(t for t, o in outcomes.items() if o != "passed" and t not in expected)
    stale = sorted(t for t in expected if outcomes.get(t) == "passed")
    missing = sorted(t for t in expected if t not in outcomes)
    passed, total = map(int, score.groups())
    print(f"conformance ({mode}): {passed} passed of {total}; {len(expected)} expected "
          f"failures listed in {EXPECTED.name}")
    for test_id in unexpected:
        print(f"  UNEXPECTED {outcomes[test_id]}: {test_id}: "
              f"{(messages.get(test_id) or '')[:300]}")
    for test_id in stale:
        print(f"  NOW PASSES (remove it from {EXPECTED.name}): {test_id}")
    for test_id in missing:
        print(f"  NOT IN THE SUITE (remove it from {EXPECTED.name}): {test_id}")
    if unexpected or stale or missing:
        sys.exit(1)


if __name__ == "__main__":
    main()
