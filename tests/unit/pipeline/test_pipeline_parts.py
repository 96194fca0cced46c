"""Pipeline building blocks: state file, content hashes, retry policy, summary."""

from __future__ import annotations

import json

import pytest

from taigimed.config import ConfigError, load_config
from taigimed.pipeline.keys import KEY_FORMAT, step_key
from taigimed.pipeline.policy import adjusted, check_policy
from taigimed.pipeline.state import PipelineState


def test_state_round_trip_and_interruption(tmp_path):
    path = tmp_path / "pipeline" / "state.json"
    state = PipelineState.load(path)
    state.start("stage1", "fp1")
    # A process that dies here leaves "running" behind: the next run resumes that step.
    again = PipelineState.load(path)
    assert again.was_interrupted("stage1", "fp1")
    assert not again.was_interrupted("stage1", "other")
    again.finish("stage1", "fp1", {"model_dir": "/x"}, 1.5)
    final = PipelineState.load(path)
    assert final.finished("stage1", "fp1")["outputs"] == {"model_dir": "/x"}
    assert final.running is None
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]  # no temp files left


def test_corrupt_state_names_the_file(tmp_path):
    path = tmp_path / "state.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match=r"state\.json is not valid JSON"):
        PipelineState.load(path)


def test_stage_fingerprints_ignore_the_other_stage():
    cfg = load_config("tiny")
    s1 = cfg.part("model", "train", "seed", drop=("train.stage2",))
    assert "stage2" not in s1["train"] and "stage1" in s1["train"]
    changed = load_config("tiny", ["train.stage2.learning_rate=0.5"])
    assert changed.part("model", "train", "seed", drop=("train.stage2",)) == s1
    s2 = cfg.part("model", "train", "seed", drop=("train.stage1",))
    s2_changed = changed.part("model", "train", "seed", drop=("train.stage1",))
    assert step_key(c=s2) != step_key(c=s2_changed)


def test_a_key_of_another_format_is_another_key(monkeypatch):
    """Records stored under an older key format are never found, so never misread."""
    from taigimed.pipeline import keys

    now = step_key(step="data", config={"seed": 1})
    monkeypatch.setattr(keys, "KEY_FORMAT", KEY_FORMAT - 1)
    assert keys.step_key(step="data", config={"seed": 1}) != now


def test_retry_policy_compounds_and_validates():
    cfg = load_config(
        "tiny",
        [
            "gate.adjustments=[{field: train.stage2.learning_rate, multiply: 0.5},"
            " {field: train.stage2.max_steps, multiply: 1.5},"
            " {field: data.replay_fraction, add: 0.2, maximum: 0.5}]"
        ],
    )
    same, changes = adjusted(cfg, 0)
    assert same is cfg and changes == {}
    twice, changes = adjusted(cfg, 2)
    assert twice.train.stage2.learning_rate == pytest.approx(cfg.train.stage2.learning_rate / 4)
    assert twice.train.stage2.max_steps == round(round(cfg.train.stage2.max_steps * 1.5) * 1.5)
    assert twice.data.replay_fraction == 0.5  # capped
    assert twice.train.stage1 == cfg.train.stage1

    bad = load_config("tiny", ["gate.adjustments=[{field: train.stage9.lr, multiply: 2}]"])
    with pytest.raises(ConfigError, match=r"train\.stage9\.lr"):
        check_policy(bad)
    nonsense = load_config("tiny", ["gate.adjustments=[{field: model.base, add: 1}]"])
    with pytest.raises(ConfigError, match="not numeric"):
        check_policy(nonsense)


def test_summary_lists_steps_attempts_and_verdict():
    from rich.console import Console

    from taigimed.pipeline.run import PipelineResult, StepRow
    from taigimed.pipeline.summary import print_summary

    result = PipelineResult(
        status="gate_failed",
        rows=[StepRow("data", None, "cached", 0.0, "version v1"), StepRow("gate", 1, "ran", 0.1)],
        attempts=[
            {"attempt": 1, "adjustments": {}, "passed": False, "reasons": ["medqa_tw.acc low"]}
        ],
        metrics={"medqa_tw.acc": {"value": 0.25, "ci_low": 0.2, "ci_high": 0.3, "n": 100}},
        report="/w/report.json",
    )
    console = Console(record=True, width=160)
    print_summary(result, console)
    text = console.export_text()
    assert "cached" in text and "medqa_tw.acc low" in text
    assert "nothing was registered" in text
    assert json.dumps(result.attempts)  # attempts stay JSON-serialisable for the state file


def test_runner_skips_finished_steps_and_reruns_invalid_or_interrupted_ones(tmp_path):
    from taigimed.pipeline.runner import Runner, WorkdirLock

    state = PipelineState.load(tmp_path / "state.json")
    runner = Runner(state, lambda _: None)
    calls: list[bool] = []

    def work(resume: bool) -> dict:
        calls.append(resume)
        return {"out": str(tmp_path)}

    assert runner.step("s", "fp", work) == {"out": str(tmp_path)}
    assert runner.step("s", "fp", work) == {"out": str(tmp_path)}
    assert calls == [False] and [r.status for r in runner.rows] == ["ran", "cached"]
    runner.step("s", "fp", work, valid=lambda _: False)  # outputs gone: run again
    assert calls == [False, False]

    def boom(resume: bool) -> dict:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        runner.step("t", "fp2", boom)
    assert runner.rows[-1].status == "failed"
    fresh = Runner(PipelineState.load(tmp_path / "state.json"), lambda _: None)
    fresh.step("t", "fp2", work)  # the interrupted step reruns, told to resume
    assert calls[-1] is True and fresh.rows[-1].status == "resumed"

    from taigimed.pipeline.runner import PipelineLocked

    with WorkdirLock(tmp_path / "lock"), pytest.raises(PipelineLocked, match="another"):
        WorkdirLock(tmp_path / "lock").__enter__()
    (tmp_path / "lock").write_text("999999999")  # left by a process that no longer exists
    with WorkdirLock(tmp_path / "lock"):
        assert (tmp_path / "lock").read_text() != "999999999"
