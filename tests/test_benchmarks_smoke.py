"""The benchmark workloads at tiny sizes: jitgrad's gradients against finite
differences, jit against eager, the hand-written Numba kernels against eager, the
program workloads jitted and with autograd against eager, and compare.py (steady state
and --end-to-end) with jitgrad alone, so the benchmark code cannot rot."""
import os
import sys

import numpy
import pytest

import jitgrad
import jitgrad.numpy as np
from jitgrad.test_util import check_grads

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "benchmarks"))
import compare  # noqa: E402
import workloads  # noqa: E402

NAMES = sorted(n for n, w in workloads.WORKLOADS.items() if w.make_loss is not None)
PROGRAMS = sorted(n for n, w in workloads.WORKLOADS.items() if w.make_program is not None)


def tiny(name):
    workload = workloads.WORKLOADS[name]
    return workload, workload.tiny, workload.make_args(workload.tiny)


def flat(tree):
    return compare.flat_gradient(tree)


@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_finite_differences(name):
    workload, size, args = tiny(name)
    check_grads(workload.make_loss(np, size), modes=["rev"], order=1)(*args)


@pytest.mark.parametrize("name", NAMES)
def test_jit_matches_eager(name):
    workload, size, args = tiny(name)
    loss = workload.make_loss(np, size)
    eager = flat(jitgrad.grad(loss, jit=False)(*args))
    assert numpy.any(eager != 0)
    numpy.testing.assert_allclose(flat(jitgrad.grad(loss, jit=True)(*args)), eager,
                                  rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", [n for n in NAMES if workloads.WORKLOADS[n].numba])
def test_numba_kernel_matches_eager(name):
    workload, size, args = tiny(name)
    eager = flat(jitgrad.grad(workload.make_loss(np, size), jit=False)(*args))
    numpy.testing.assert_allclose(workload.numba(size)(*args), eager, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", PROGRAMS)
def test_program_jitted_and_autograd_match_eager(name):
    workload, size, args = tiny(name)
    libraries = [workloads.jitgrad_library(True)]
    if compare.Autograd().missing() is None:
        libraries.append(workloads.autograd_library())
    eager_program = workload.program(workloads.jitgrad_library(False), size)
    eager = flat(eager_program(*args))
    assert numpy.all(numpy.isfinite(eager))
    for lib in libraries:
        program = workload.program(lib, size)
        for _ in range(2):  # the jit's first run traces, the second replays
            numpy.testing.assert_allclose(flat(program(*args)), eager, rtol=1e-10, atol=1e-14,
                                          err_msg=lib.name)
        assert getattr(program, "evaluations", None) == getattr(eager_program, "evaluations", None)


def test_descend_calls_and_moves_the_first_argument():
    seen = []

    def gradient(x, y):
        seen.append((x, y))
        return 2.0 * x
    workloads.descend(gradient, (1.0, "data"), 3, rate=0.1)
    assert len(seen) == 3 and all(type(x) is float and y == "data" for x, y in seen)
    assert seen[0][0] > seen[1][0] > seen[2][0] > 0.7


def test_end_to_end_with_jitgrad_alone(tmp_path, monkeypatch, capsys):
    """--end-to-end runs each contender in a new process, whose tiny sizes come
    from the parent; the report has the program table and no profile or first call."""
    monkeypatch.setitem(sys.modules, "autograd", None)
    monkeypatch.setattr(compare.end_to_end, "RESULTS", str(tmp_path))
    for name in ("optimizer_loop", "overhead"):
        monkeypatch.setattr(workloads.WORKLOADS[name], "sizes", (workloads.WORKLOADS[name].tiny,))
    compare.main(["--end-to-end", "--quick", "--workload", "optimizer_loop",
                  "--workload", "overhead", "--contenders", "eager,jit,autograd"])
    out = capsys.readouterr().out
    assert "skipping autograd: autograd is not installed" in out
    report = (tmp_path / "compare-end_to_end-quick-optimizer_loop-overhead.md").read_text()
    rows = [line for line in report.splitlines() if line.startswith(("| optimizer_loop",
                                                                      "| overhead"))]
    assert len(rows) == 2
    # Each contender timed (seconds or milliseconds: a tiny program may take either).
    assert all((" s |" in row or " ms |" in row) and "failed" not in row
               and "differs" not in row for row in rows)
    assert "| workload | size | calls | jitgrad eager | jitgrad jit | jit / jitgrad eager |" in report
    assert "## First call" not in report and "not run: autograd" in report


def test_fluidsim_is_the_example_program():
    module = workloads.fluidsim_module(numpy)
    assert module.np is numpy
    assert module.__file__.endswith(os.path.join("examples", "fluidsim.py"))
    density = module.blob(8, 0.5, 0.5, 0.2)
    frames = module.simulate(numpy.zeros((2, 8, 8)), density, 3)
    # at rest nothing moves; the densities are one per step plus the start
    assert len(frames) == 4
    numpy.testing.assert_allclose(frames[-1], density, atol=1e-15)


def test_fluidsim_jax_loss_matches_eager():
    pytest.importorskip("jax")
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import jax
    jax.config.update("jax_enable_x64", True)
    workload, size, args = tiny("fluidsim")
    eager = jitgrad.grad(workload.make_loss(np, size))(*args)
    jax_gradient = jax.grad(workload.jax_loss(jax.numpy, size))(*args)
    numpy.testing.assert_allclose(numpy.asarray(jax_gradient), eager, rtol=1e-10, atol=1e-14)


def test_compare_script_with_jitgrad_alone(tmp_path, monkeypatch, capsys):
    for module in ("autograd", "jax", "matplotlib"):
        monkeypatch.setitem(sys.modules, module, None)  # import fails: "not installed"
    monkeypatch.setattr(compare, "RESULTS", str(tmp_path))
    compare.main(["--quick", "--workload", "overhead"])
    out = capsys.readouterr().out
    assert "skipping autograd: autograd is not installed" in out
    assert "skipping JAX jit(grad): jax is not installed" in out
    assert "matplotlib is not installed: skipping the PNG" in out
    report = (tmp_path / "compare-quick-overhead.md").read_text()
    summary, measurements = report.split("## All measurements")
    rows = [line for line in measurements.splitlines() if line.startswith("| overhead")]
    assert len(rows) == 4  # 2 sizes x (eager, jit)
    assert all("refused" not in row and "failed" not in row for row in rows)
    assert "| workload | size | jitgrad eager | jitgrad jit |\n" in summary
    assert "not run: autograd" in report


def test_compare_refuses_a_wrong_gradient(monkeypatch):
    class Wrong(compare.Contender):
        key, name = "wrong", "wrong"

        def build(self, workload, size, args):
            right = jitgrad.grad(workload.make_loss(np, size))
            return (lambda *a: right(*a) * (1 + 1e-6)), args
    workload, size, _ = tiny("chain")
    entries = compare.measure(workload, size, [compare.JitgradEager(), Wrong()],
                              {"repeats": 1, "repeat_seconds": 1e-4})
    assert entries[0].refused is None and len(entries[0].samples) == 1
    assert entries[1].refused.startswith("refused: gradient off by 1.0e-06")
    assert entries[1].samples == []
