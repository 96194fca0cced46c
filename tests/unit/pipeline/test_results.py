"""Typed step results: the state file keeps its shape, and a stored record that no longer
reads (or names files that are gone) makes its step run again instead of failing."""

from __future__ import annotations

import json

import pytest

from taigimed.pipeline.results import (
    Evaluation,
    GateResult,
    GgufExports,
    GgufFile,
    KnowledgeResult,
    PreparedData,
    Registration,
    TrainedStage,
)
from taigimed.pipeline.runner import Runner
from taigimed.pipeline.state import PipelineState

# Outputs exactly as state.json holds them (one per step, key format 2).
STORED = {
    PreparedData: {
        "data_dir": "/w/data/v1",
        "version": "v1",
        "manifest_sha256": "ab" * 32,
        "peak_rss_mb": 812.5,
    },
    TrainedStage: {
        "run_dir": "/w/runs/s2",
        "run_name": "s2",
        "model_dir": "/w/runs/s2/model",
        "model_digest": "cd" * 32,
        "mlflow_run_id": None,
        "metrics": {"val_loss_before": 2.5, "val_loss_after": 2.0},
        "peak_rss_mb": 1536.0,
    },
    GgufExports: {"gguf": {"f16": {"path": "/w/m-f16.gguf", "sha256": "ef" * 32}}},
    Evaluation: {
        "report": "/w/eval/report.json",
        "report_sha256": "01" * 32,
        "metrics": {"medqa_tw.acc": {"value": 0.3, "ci_low": 0.2, "ci_high": 0.4, "n": 10}},
        "sample": {},
        "peak_rss_mb": 900.0,
    },
    KnowledgeResult: {
        "folder": "/w/knowledge/k1",
        "version": "k1",
        "report": "/w/eval/knowledge/k1.json",
        "report_sha256": "23" * 32,
        "metrics": {"heldout.recall@1": 0.5},
    },
    GateResult: {"passed": False, "reasons": ["medqa_tw.acc low"], "checks": [], "champion": None},
    Registration: {"name": "taigimed", "version": 3, "run_id": "r1"},
}


@pytest.mark.parametrize("cls", list(STORED), ids=lambda c: c.__name__)
def test_results_read_and_write_the_state_files_shape(cls):
    outputs = STORED[cls]
    result = cls.from_outputs(json.loads(json.dumps(outputs)))
    assert result.to_outputs() == outputs


def test_results_say_what_they_are():
    assert TrainedStage.from_outputs(STORED[TrainedStage]).summary() == "val loss 2.500 → 2.000"
    assert Evaluation.from_outputs(STORED[Evaluation]).summary() == "medqa_tw.acc=0.300"
    gate = GateResult.from_outputs(STORED[GateResult])
    assert not gate.passed and gate.summary() == "failed: medqa_tw.acc low"
    exports = GgufExports({"q8_0": GgufFile("/w/q8.gguf", "9" * 64)})
    assert exports.as_registry_files() == {"q8_0": {"path": "/w/q8.gguf", "sha256": "9" * 64}}
    # A step that ran in the pipeline's own process stores no peak at all.
    assert "peak_rss_mb" not in PreparedData("/d", "v", None).to_outputs()


def test_a_record_missing_a_field_does_not_read():
    broken = {k: v for k, v in STORED[TrainedStage].items() if k != "model_digest"}
    with pytest.raises(TypeError, match="model_digest"):
        TrainedStage.from_outputs(broken)
    with pytest.raises(TypeError, match="passed"):
        GateResult.from_outputs({"reasons": []})


def test_runner_reruns_a_stored_result_that_is_unreadable_or_gone(tmp_path):
    data_dir = tmp_path / "v1"
    data_dir.mkdir()
    state = PipelineState.load(tmp_path / "state.json")
    runner = Runner(state, lambda _: None)
    calls: list[bool] = []

    def prepare(resume: bool) -> PreparedData:
        calls.append(resume)
        return PreparedData(str(data_dir), "v1", None, peak_rss_mb=64.0)

    first = runner.run("data", "fp", prepare, PreparedData)
    assert first == runner.run("data", "fp", prepare, PreparedData)  # cached, read back typed
    assert calls == [False]
    assert [(r.status, r.detail, r.peak_rss_mb) for r in runner.rows] == [
        ("ran", "version v1", 64.0),
        ("cached", "version v1", None),
    ]
    stored = PipelineState.load(tmp_path / "state.json").finished("data", "fp")["outputs"]
    assert stored == {"data_dir": str(data_dir), "version": "v1", "manifest_sha256": None,
                      "peak_rss_mb": 64.0}  # fmt: skip

    del state.steps["data"]["fp"]["outputs"]["version"]  # a record of another shape
    runner.run("data", "fp", prepare, PreparedData)
    assert calls == [False, False] and runner.rows[-1].status == "ran"

    data_dir.rmdir()  # the prepared folder was deleted since
    runner.run("data", "fp", prepare, PreparedData)
    assert calls == [False, False, False]

    # ``valid`` replaces the files check (the register step asks the registry instead)
    runner.run("data", "fp", prepare, PreparedData, valid=lambda _: True)
    assert calls == [False, False, False] and runner.rows[-1].status == "cached"
