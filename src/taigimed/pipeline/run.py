"""``run_pipeline``: data prepare → stage 1 → stage 2 → evaluate → gate (→ adjust, retrain)
→ register → alias ``staging``.

Every step is keyed by a fingerprint of what it reads: the content hashes of its
inputs plus the config parts it uses (``pipeline.keys``). A step whose
fingerprint already finished is skipped, its outputs taken from the state file;
a step that was running when the process died is rerun (training resumes from
its last checkpoint). When the gate fails, the recipe is adjusted per
``gate.adjustments`` and retrained, up to ``gate.max_attempts``; every attempt is
recorded in the eval report, the state and MLflow. If all fail, nothing is
registered.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from taigimed.artifacts import file_sha256
from taigimed.config import Config
from taigimed.evaluate.candidate import gate_decision, log_gate_to_mlflow, record_gate
from taigimed.pipeline import steps
from taigimed.pipeline.isolate import peak_rss_mb
from taigimed.pipeline.keys import step_key
from taigimed.pipeline.policy import adjusted, check_policy
from taigimed.pipeline.results import (
    Evaluation,
    GateResult,
    GgufExports,
    KnowledgeResult,
    PreparedData,
    Registration,
    TrainedStage,
)
from taigimed.pipeline.runner import PipelineLocked, Runner, Say, StepRow, WorkdirLock
from taigimed.pipeline.state import PipelineState
from taigimed.workdir import Workdir

if TYPE_CHECKING:
    from taigimed.registry.champion import Champion

__all__ = ["PipelineFailed", "PipelineLocked", "PipelineResult", "StepRow", "run_pipeline"]


@dataclass
class PipelineResult:
    status: str  # registered | gate_failed
    rows: list[StepRow] = field(default_factory=list)
    attempts: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    decision: dict[str, Any] | None = None
    version: int | None = None
    report: str | None = None
    seconds: float = 0.0
    peak_rss_mb: float | None = None  # this process's; each heavy step's is on its row


class PipelineFailed(RuntimeError):
    """A step raised; carries the rows so far so the summary can show where it stopped."""

    def __init__(self, step: str, rows: list[StepRow], cause: BaseException):
        super().__init__(f"step {step!r} failed: {type(cause).__name__}: {cause}")
        self.step, self.rows, self.cause = step, rows, cause


def run_pipeline(
    cfg: Config,
    workdir: Workdir,
    tracking_uri: str | None = None,
    say: Say = lambda _: None,
) -> PipelineResult:
    """Run (or resume) the whole job; see the module docstring."""
    from taigimed.registry.store import resolve_uri

    check_policy(cfg)
    started = time.perf_counter()
    # Resolved once and passed to every step: mlflow.set_tracking_uri() rewrites
    # MLFLOW_TRACKING_URI in this process, so resolving later could differ.
    tracking_uri = resolve_uri(cfg, workdir, tracking_uri)
    state_path = workdir.ensure(workdir.pipeline) / "state.json"
    with WorkdirLock(workdir.pipeline / "lock"):
        state = PipelineState.load(state_path)
        runner = Runner(state, say)
        try:
            result = _run(cfg, workdir, tracking_uri, runner)
        except Exception as exc:  # KeyboardInterrupt passes through untouched
            failed = next((r.step for r in reversed(runner.rows) if r.status == "failed"), "?")
            raise PipelineFailed(failed, runner.rows, exc) from exc
        result.rows = runner.rows
        result.seconds = time.perf_counter() - started
        result.peak_rss_mb = round(peak_rss_mb(), 1)
        state.runs.append(
            {
                "finished": time.time(),
                "status": result.status,
                "version": result.version,
                "seconds": round(result.seconds, 1),
                "ran": [r.step for r in runner.rows if r.status != "cached"],
                "peak_rss_mb": {
                    "pipeline": result.peak_rss_mb,
                    **{r.step: r.peak_rss_mb for r in runner.rows if r.peak_rss_mb is not None},
                },
            }
        )
        state.runs = state.runs[-50:]
        state.save()
    return result


@dataclass
class _Job:
    """What every step of one run shares."""

    workdir: Workdir
    tracking_uri: str | None
    runner: Runner
    champion: Champion | None = None  # the version to beat, if any

    def champion_id(self) -> dict[str, Any] | None:
        return self.champion.describe() if self.champion else None


def _run(cfg: Config, workdir: Workdir, tracking_uri: str | None, runner: Runner):
    from taigimed.registry.champion import find_champion

    job = _Job(workdir, tracking_uri, runner)
    data = _prepare(job, cfg)
    knowledge = _knowledge(job, cfg)
    job.champion = find_champion(cfg, workdir, tracking_uri=tracking_uri)
    result = PipelineResult(status="gate_failed")
    for attempt in range(1, cfg.gate.max_attempts + 1):
        acfg, changes = adjusted(cfg, attempt - 1)
        if attempt > 1:
            runner.say(f"[yellow]↻ retry {attempt}: {changes}[/yellow]")
        if any(k.startswith("data.") for k in changes):
            # Adjustments may touch data settings (the replay share): prepare again.
            data = _prepare(job, acfg, attempt)
        s1 = _train(job, acfg, attempt, data, stage=1)
        s2 = _train(job, acfg, attempt, data, stage=2, init=s1)
        exports = _export(job, acfg, attempt, s2)
        ev = _evaluate(job, acfg, attempt, data, s2)
        decision = _gate(job, acfg, attempt, ev, s2, knowledge)
        result.attempts.append(_attempt_record(attempt, changes, decision, s1, s2, ev))
        if runner.rows[-1].status != "cached":  # a cached decision is already on record
            _record_gate(job, acfg, s2, ev, decision, result.attempts, knowledge)
        result.decision, result.metrics, result.report = decision.record, ev.metrics, ev.report
        if decision.passed:
            reg = _register(job, acfg, attempt, data, s1, s2, ev, exports, decision, knowledge)
            result.status, result.version = "registered", reg.version
            return result
    runner.say(
        f"[red]✗ the gate failed on all {cfg.gate.max_attempts} attempt(s); "
        "nothing registered[/red]"
    )
    return result


def _prepare(job: _Job, cfg: Config, attempt: int | None = None) -> PreparedData:
    fp = step_key(step="data", config=cfg.part("data", "seed"), sources=steps.source_hashes(cfg))
    return job.runner.run(
        "data",
        fp,
        lambda _resume: steps.prepare_data(cfg, job.workdir),
        PreparedData,
        attempt=attempt,
    )


def _knowledge(job: _Job, cfg: Config) -> KnowledgeResult:
    """The cards the model will answer from: built, evaluated, and later registered with it."""
    from taigimed.evaluate.knowledge import OPEN_SET, QUESTION_SETS
    from taigimed.knowledge.cards import load_cards

    cards = load_cards(cfg.knowledge.cards_dirs, require_reviewed=cfg.knowledge.require_reviewed)
    fp = step_key(
        step="knowledge",
        config=cfg.part("knowledge", "seed"),
        bootstrap=cfg.eval.bootstrap_samples,
        cards={p.name: file_sha256(p) for p in cards.files},
        questions={p.name: file_sha256(p) for p in (*QUESTION_SETS.values(), OPEN_SET)},
    )
    out_json = job.workdir.eval / "knowledge" / f"{fp[:12]}.json"
    return job.runner.run(
        "knowledge",
        fp,
        lambda _resume: steps.knowledge(cfg, job.workdir, out_json),
        KnowledgeResult,
    )


def _train(
    job: _Job,
    acfg: Config,
    attempt: int,
    data: PreparedData,
    stage: int,
    init: TrainedStage | None = None,
) -> TrainedStage:
    """Stage 1 from the base model, or stage 2 from stage 1's model (``init``)."""
    other = {1: "train.stage2", 2: "train.stage1"}[stage]
    fp = step_key(
        step=f"stage{stage}",
        config=acfg.part("model", "train", "seed", drop=(other,)),
        data=steps.dataset_digests(Path(data.data_dir), steps.STAGE_DATASETS[stage]),
        **({"init": init.model_digest} if init else {}),
    )
    init_model = init.model_dir if init else None
    return job.runner.run(
        f"stage{stage}",
        fp,
        lambda resume: steps.train_stage(
            acfg, job.workdir, stage, data.data_dir, init_model, resume, job.tracking_uri
        ),
        TrainedStage,
        attempt=attempt,
    )


def _export(job: _Job, acfg: Config, attempt: int, s2: TrainedStage) -> GgufExports:
    # The GGUF files are what CPU serving runs and what the gguf scorer scores.
    fp = step_key(
        step="export",
        model=s2.model_digest,
        types=steps.GGUF_TYPES,
        config=acfg.part("model", "eval"),
    )
    return job.runner.run(
        "export",
        fp,
        lambda _resume: steps.export_gguf(acfg, job.workdir, s2.model_dir),
        GgufExports,
        attempt=attempt,
    )


def _evaluate(
    job: _Job, acfg: Config, attempt: int, data: PreparedData, s2: TrainedStage
) -> Evaluation:
    fp = step_key(
        step="evaluate",
        config=acfg.part("eval", "model", "seed"),
        model=s2.model_digest,
        data=steps.dataset_digests(Path(data.data_dir), steps.EVAL_DATASETS),
        authored=steps.authored_set_digest(acfg),
        champion=job.champion_id(),
    )
    # One folder per model and evaluation settings, so a cached report is never overwritten.
    out_json = job.workdir.eval / "pipeline" / f"{s2.run_name}-{fp[:8]}" / "report.json"
    return job.runner.run(
        "evaluate",
        fp,
        lambda _resume: steps.evaluate(
            acfg, job.workdir, s2.model_dir, data.data_dir, out_json, job.champion
        ),
        Evaluation,
        attempt=attempt,
    )


def _gate(
    job: _Job,
    acfg: Config,
    attempt: int,
    ev: Evaluation,
    s2: TrainedStage,
    knowledge: KnowledgeResult,
) -> GateResult:
    fp = step_key(
        step="gate",
        config=acfg.part("gate"),
        report=ev.report_sha256,
        stage2=s2.metrics,
        champion=job.champion_id(),
        knowledge=knowledge.report_sha256,
    )

    def decide(_resume: bool) -> GateResult:
        report = json.loads(Path(ev.report).read_text(encoding="utf-8"))
        kreport = json.loads(Path(knowledge.report).read_text(encoding="utf-8"))
        return GateResult(gate_decision(acfg, report, s2.metrics, job.champion, kreport))

    return job.runner.run("gate", fp, decide, GateResult, attempt=attempt)


def _attempt_record(
    attempt: int,
    changes: dict[str, float],
    decision: GateResult,
    s1: TrainedStage,
    s2: TrainedStage,
    ev: Evaluation,
) -> dict[str, Any]:
    """One gate attempt as the eval report, MLflow and the state record it (JSON)."""
    return {
        "attempt": attempt,
        "adjustments": changes,
        "passed": decision.passed,
        "reasons": decision.reasons,
        "stage1_run": s1.run_name,
        "stage2_run": s2.run_name,
        "report": ev.report,
        "metrics": {k: v["value"] for k, v in ev.metrics.items()},
    }


def _record_gate(
    job: _Job,
    acfg: Config,
    s2: TrainedStage,
    ev: Evaluation,
    decision: GateResult,
    attempts: list[dict[str, Any]],
    knowledge: KnowledgeResult,
) -> None:
    """The decision and every attempt so far into the eval report, and onto the stage-2 run."""
    report = Path(ev.report)
    record_gate(report, decision.record, attempts, Path(knowledge.report))
    log_gate_to_mlflow(
        acfg,
        job.workdir,
        s2.mlflow_run_id,
        report,
        decision.record,
        attempts[-1],
        job.tracking_uri,
    )


def _register(
    job: _Job,
    acfg: Config,
    attempt: int,
    data: PreparedData,
    s1: TrainedStage,
    s2: TrainedStage,
    ev: Evaluation,
    exports: GgufExports,
    decision: GateResult,
    knowledge: KnowledgeResult,
) -> Registration:
    from taigimed.evaluate.report import headline_values
    from taigimed.registry.lineage import lineage as registration_lineage
    from taigimed.registry.register import register_model

    fp = step_key(
        step="register",
        model=s2.model_digest,
        report=ev.report_sha256,
        gguf={t: g.sha256 for t, g in exports.gguf.items()},
        passed=decision.passed,
        knowledge=knowledge.version,
        tracking=acfg.part("tracking"),
        uri=job.tracking_uri,
    )
    lineage = registration_lineage(
        acfg,
        data_version=data.version,
        data_manifest_sha256=data.manifest_sha256,
        stage1=s1.to_outputs(),
        stage2=s2.to_outputs(),
        datasets_digest=steps.dataset_digests(
            Path(data.data_dir),
            tuple(sorted({*steps.STAGE_DATASETS[1], *steps.STAGE_DATASETS[2]})),
        ),
        gate_attempt=attempt,
    )

    def register(_resume: bool) -> Registration:
        rv = register_model(
            acfg,
            job.workdir,
            Path(s2.model_dir),
            eval_report=Path(ev.report),
            decision=decision.record,
            lineage=lineage,
            metrics=headline_values(ev.metrics),
            alias="staging",
            run_id=s2.mlflow_run_id,
            tracking_uri=job.tracking_uri,
            gguf=exports.as_registry_files(),
            knowledge=Path(knowledge.folder),
        )
        return Registration(name=rv.name, version=rv.version, run_id=rv.run_id)

    def still_registered(reg: Registration) -> bool:
        from taigimed.registry.store import client

        try:
            client(acfg, job.workdir, job.tracking_uri).get_model_version(
                reg.name, str(reg.version)
            )
        except Exception:  # deleted from the registry since: register again
            return False
        return True

    return job.runner.run(
        "register", fp, register, Registration, attempt=attempt, valid=still_registered
    )
