"""Heavy pipeline steps run in a spawned process: result, error, death and peak RSS come back."""

from __future__ import annotations

import os

import pytest

from taigimed.pipeline.isolate import StepProcessDied, call_in_process, peak_rss_mb
from taigimed.pipeline.runner import Runner
from taigimed.pipeline.state import PipelineState


def test_result_and_the_childs_own_peak_come_back():
    value, peak = call_in_process(divmod, 17, 5)
    assert value == (3, 2)
    assert peak > 0
    # 300 MiB touched in the child shows in its peak and never in ours
    before = peak_rss_mb()
    value, peak = call_in_process(exec, "b = bytearray(300 * 2**20)")
    assert value is None and peak >= 300
    assert peak_rss_mb() - before < 100


def test_an_error_in_the_child_is_raised_here_with_its_traceback():
    with pytest.raises(ValueError, match="invalid literal") as info:
        call_in_process(int, "not a number")
    assert "in the step's process" in "\n".join(getattr(info.value, "__notes__", []))


def test_a_child_killed_without_a_result_is_an_error_naming_the_exit_code():
    with pytest.raises(StepProcessDied, match="exit code -6"):
        call_in_process(os.abort)


def test_runner_rows_carry_a_steps_peak_rss(tmp_path):
    runner = Runner(PipelineState.load(tmp_path / "state.json"), lambda _: None)
    runner.step("heavy", "fp1", lambda _resume: {"peak_rss_mb": 1536.0})
    runner.step("light", "fp2", lambda _resume: {"x": 1})
    runner.step("heavy", "fp1", lambda _resume: {"peak_rss_mb": 9.0})  # cached: nothing ran
    assert [(r.status, r.peak_rss_mb) for r in runner.rows] == [
        ("ran", 1536.0),
        ("ran", None),
        ("cached", None),
    ]


def test_summary_shows_peak_rss_per_step_and_of_the_pipeline():
    from rich.console import Console

    from taigimed.pipeline.run import PipelineResult, StepRow
    from taigimed.pipeline.summary import print_summary

    result = PipelineResult(
        status="gate_failed",
        rows=[StepRow("stage1", 1, "ran", 9.0, "", 1536.0), StepRow("gate", 1, "ran", 0.1)],
        peak_rss_mb=512.0,
    )
    console = Console(record=True, width=160)
    print_summary(result, console)
    text = console.export_text()
    assert "peak RSS" in text and "1.50 GB" in text
    assert "pipeline process itself: 0.50 GB" in text
