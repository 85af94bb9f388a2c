"""The fastest examples, run small (--quick) in this process, eagerly and with --jit:
both must give the same final numbers and draw their pictures.

examples/check_all.py runs all of them, each in its own process, in CI.
"""
import importlib
import math
import os
import sys

import pytest

pytest.importorskip("matplotlib")

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")
FAST = ["tanh", "logistic_regression", "define_gradient"]


@pytest.fixture(scope="module")
def examples_on_path():
    sys.path.insert(0, EXAMPLES)
    yield
    sys.path.remove(EXAMPLES)


@pytest.mark.eager_only
@pytest.mark.parametrize("name", FAST)
def test_example_jitted_gives_eager_numbers(name, examples_on_path, tmp_path, capsys):
    example = importlib.import_module(name)
    eager = example.main(["--quick", "--out", str(tmp_path / "eager")])
    jitted = example.main(["--quick", "--jit", "--out", str(tmp_path / "jit")])
    assert eager and set(eager) == set(jitted)
    for key, value in eager.items():
        assert math.isfinite(value)
        assert jitted[key] == pytest.approx(value, rel=1e-9, abs=0), key
    for mode in ("eager", "jit"):
        assert (tmp_path / mode / f"{name}.png").is_file()
    printed = capsys.readouterr().out
    assert f"final {next(iter(eager))} = " in printed and "eager/jit" in printed
