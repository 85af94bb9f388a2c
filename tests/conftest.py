import os

# One BLAS thread: on a busy 2-core machine two OpenBLAS threads make small solves
# hundreds of times slower (set before NumPy loads BLAS; CI sets it too).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# Fuse at the first call (by default plans fuse after a second of replays), so that
# every jitted test exercises the kernels.
os.environ.setdefault("JITGRAD_FUSE_AFTER", "0")
# Trace at the first call (by default a signature's first call runs eagerly), so that
# every jitted test replays, and trace counts are those of the calls made.
os.environ.setdefault("JITGRAD_TRACE_AFTER", "0")

import numpy  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _seed():
    """Every test draws the same random inputs on every run."""
    numpy.random.seed(0)


@pytest.fixture(autouse=True)
def _fresh_plans():
    """Each test starts without plans shared from another test's jitted functions, so
    trace counts are the test's own."""
    from jitgrad.jit import clear_shared_plans
    clear_shared_plans()


@pytest.fixture
def whole_plans_at_once(monkeypatch, tmp_path_factory):
    """Plans traced at the first call, fused and compiled whole at once (whole-plan
    and express-call tests), their kernels cached in the session's temporary folder."""
    monkeypatch.setenv("JITGRAD_FUSE", "1")
    monkeypatch.setenv("JITGRAD_WHOLE_PLAN", "1")
    monkeypatch.setenv("JITGRAD_FUSE_AFTER", "0")
    monkeypatch.setenv("JITGRAD_TRACE_AFTER", "0")
    monkeypatch.setenv("JITGRAD_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def pytest_collection_modifyitems(config, items):
    """Under JITGRAD_JIT=1 (the suite's jitted run), skip tests about eager itself."""
    import os
    if os.environ.get("JITGRAD_JIT", "0") in ("", "0"):
        return
    skip = pytest.mark.skip(reason="about eager itself, or sets jit= itself: runs in the eager pass")
    for item in items:
        if item.get_closest_marker("eager_only"):
            item.add_marker(skip)


@pytest.fixture
def small_kernels_and_private_cache(monkeypatch, tmp_path_factory):
    """Fusion on for arrays of 8 elements and more, fused at the trace, as fused kernels
    (not whole plans), with a kernel cache of the test run's own."""
    monkeypatch.setenv("JITGRAD_FUSE", "1")
    monkeypatch.setenv("JITGRAD_FUSE_MIN_SIZE", "8")
    monkeypatch.setenv("JITGRAD_WHOLE_PLAN", "0")
    monkeypatch.setenv("JITGRAD_FUSE_AFTER", "0")
    monkeypatch.setenv("JITGRAD_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
