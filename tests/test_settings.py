"""JITGRAD_* environment settings: flags in any of the usual spellings, numbers checked,
and a value jitgrad does not understand warned about once (it used to be ignored, or,
for JITGRAD_JIT=false, to turn the jit on)."""
import warnings

import pytest

from jitgrad import grad, settings
from jitgrad.jit.jitted import JitFunction, fuse_after_seconds, trace_after_calls


@pytest.mark.parametrize("value, expected", [
    ("1", True), ("true", True), ("Yes", True), ("ON", True),
    ("0", False), ("false", False), ("No", False), ("off", False), ("", False)])
def test_flags_take_the_usual_spellings(value, expected, monkeypatch):
    monkeypatch.setenv("JITGRAD_JIT", value)
    assert isinstance(grad(lambda x: x * x), JitFunction) is expected


@pytest.mark.parametrize("name, value, read, default", [
    ("JITGRAD_JIT", "maybe", lambda: settings.flag("JITGRAD_JIT", False), False),
    ("JITGRAD_FUSE_AFTER", "abc", fuse_after_seconds, 1.0),
    ("JITGRAD_FUSE_AFTER", "nan", fuse_after_seconds, 1.0),
    ("JITGRAD_TRACE_AFTER", "-1", trace_after_calls, 1),
    ("JITGRAD_TRACE_AFTER", "1.5", trace_after_calls, 1)])
def test_a_value_not_understood_warns_once_and_uses_the_default(name, value, read, default,
                                                                 monkeypatch):
    monkeypatch.setenv(name, value)
    monkeypatch.setattr(settings, "_warned", set())
    with pytest.warns(UserWarning, match=f"{name}='{value}' is not understood"):
        assert read() == default
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read() == default  # once


def test_numbers_in_range_are_read(monkeypatch):
    monkeypatch.setenv("JITGRAD_FUSE_AFTER", "0.25")
    monkeypatch.setenv("JITGRAD_TRACE_AFTER", "3")
    assert fuse_after_seconds() == 0.25 and trace_after_calls() == 3
