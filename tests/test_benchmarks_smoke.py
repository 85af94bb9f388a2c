"""The benchmark workloads at tiny sizes: jitgrad's gradients against finite
differences, jit against eager, the hand-written Numba kernels against eager, and
compare.py end to end with jitgrad alone, so the benchmark code cannot rot."""
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

NAMES = sorted(workloads.WORKLOADS)


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
