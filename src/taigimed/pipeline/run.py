"""``run_pipeline``: data prepare → stage 1 → stage 2 → evaluate → gate (→ adjust, retrain)
→ register → alias ``staging``.

Every step is keyed by a fingerprint of what it reads: the content hashes of its
inputs plus the config parts it uses (``hashing.config_part``). A step whose
fingerprint already finished is skipped, its outputs taken from the state file;
a step that was running when the process died is rerun (training resumes from
its last checkpoint). When the gate fails, the recipe is adjusted per
``gate.adjustments`` and retrained, up to ``gate.max_attempts``; every attempt is
recorded in the eval report, the state and MLflow. If all fail, nothing is
registered.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from taigimed.config import Config
from taigimed.pipeline import steps
from taigimed.pipeline.hashing import config_part, fingerprint
from taigimed.pipeline.isolate import peak_rss_mb
from taigimed.pipeline.policy import adjusted, check_policy
from taigimed.pipeline.runner import PipelineLocked, Runner, Say, StepRow, WorkdirLock
from taigimed.pipeline.state import PipelineState
from taigimed.workdir import Workdir

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


def _exists(*keys: str) -> Callable[[dict[str, Any]], bool]:
    return lambda out: all(out.get(k) and Path(out[k]).exists() for k in keys)


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


def _run(cfg: Config, workdir: Workdir, tracking_uri: str | None, runner: Runner):
    from taigimed.registry.champion import find_champion

    data = _data(cfg, workdir, runner)
    champion = find_champion(cfg, workdir, tracking_uri=tracking_uri)
    attempts: list[dict[str, Any]] = []
    result = PipelineResult(status="gate_failed")
    for attempt in range(1, cfg.gate.max_attempts + 1):
        acfg, changes = adjusted(cfg, attempt - 1)
        if attempt > 1:
            runner.say(f"[yellow]↻ retry {attempt}: {changes}[/yellow]")
        if any(k.startswith("data.") for k in changes):
            # Adjustments may touch data settings (the replay share): prepare again.
            data = _data(acfg, workdir, runner, attempt)
        s1, s2 = _train(acfg, workdir, data, tracking_uri, runner, attempt)
        ev, decision = _evaluate_and_gate(
            acfg, workdir, data, s2, champion, runner, attempt, tracking_uri
        )
        record = {
            "attempt": attempt,
            "adjustments": changes,
            "passed": decision["passed"],
            "reasons": decision["reasons"],
            "stage1_run": s1["run_name"],
            "stage2_run": s2["run_name"],
            "report": ev["report"],
            "metrics": {k: v["value"] for k, v in ev["metrics"].items()},
        }
        attempts.append(record)
        if runner.rows[-1].status != "cached":  # a cached decision is already on record
            steps.record_gate(Path(ev["report"]), decision, attempts)
            steps.log_gate_to_mlflow(
                acfg,
                workdir,
                s2["mlflow_run_id"],
                Path(ev["report"]),
                decision,
                record,
                tracking_uri,
            )
        result.attempts, result.decision = attempts, decision
        result.metrics, result.report = ev["metrics"], ev["report"]
        if decision["passed"]:
            trained = (s1, s2, ev)
            reg = _register(acfg, workdir, data, trained, decision, attempt, tracking_uri, runner)
            result.status, result.version = "registered", reg["version"]
            return result
    runner.say(
        f"[red]✗ the gate failed on all {cfg.gate.max_attempts} attempt(s); "
        "nothing registered[/red]"
    )
    return result


def _data(cfg: Config, workdir: Workdir, runner: Runner, attempt: int | None = None):
    data_fp = fingerprint(
        step="data", config=config_part(cfg, "data", "seed"), sources=steps.source_hashes(cfg)
    )
    return runner.step(
        "data",
        data_fp,
        lambda _resume: steps.prepare_data(cfg, workdir),
        attempt=attempt,
        valid=_exists("data_dir"),
        detail=lambda o: f"version {o['version']}",
    )


def _evaluate_and_gate(acfg, workdir, data, s2, champion, runner: Runner, attempt, tracking_uri):
    # The GGUF files are what CPU serving runs and what the gguf scorer scores.
    ex = runner.step(
        "export",
        fingerprint(
            step="export",
            model=s2["model_sha256"],
            types=steps.GGUF_TYPES,
            config=config_part(acfg, "model", "eval"),
        ),
        lambda _resume, c=acfg: steps.export_gguf(c, workdir, s2["model_dir"]),
        attempt=attempt,
        valid=lambda o: all(Path(g["path"]).exists() for g in o["gguf"].values()),
        detail=lambda o: ", ".join(f"{t} {g['sha256'][:12]}" for t, g in o["gguf"].items()),
    )
    ev_fp = fingerprint(
        step="evaluate",
        config=config_part(acfg, "eval", "model", "seed"),
        model=s2["model_sha256"],
        data=steps.dataset_hashes(Path(data["data_dir"]), steps.EVAL_DATASETS),
        authored=steps.authored_set_hash(acfg),
        champion=champion.describe() if champion else None,
    )
    # One folder per model and evaluation settings, so a cached report is never overwritten.
    out_json = workdir.eval / "pipeline" / f"{s2['run_name']}-{ev_fp[:8]}" / "report.json"
    ev = runner.step(
        "evaluate",
        ev_fp,
        lambda _resume, c=acfg: steps.evaluate(
            c, workdir, s2["model_dir"], data["data_dir"], out_json, champion
        ),
        attempt=attempt,
        valid=_exists("report"),
        detail=lambda o: _headline(o["metrics"]),
    )
    ev = {**ev, "gguf": ex["gguf"]}
    gate_fp = fingerprint(
        step="gate",
        config=config_part(acfg, "gate"),
        report=ev["report_sha256"],
        stage2=s2["metrics"],
        champion=champion.describe() if champion else None,
    )
    decision = runner.step(
        "gate",
        gate_fp,
        lambda _resume, c=acfg: _decide(c, ev, s2, champion),
        attempt=attempt,
        detail=lambda d: "passed" if d["passed"] else "failed: " + "; ".join(d["reasons"]),
    )
    return ev, decision


def _train(acfg, workdir, data, tracking_uri, runner: Runner, attempt: int):
    data_dir = Path(data["data_dir"])
    s1_fp = fingerprint(
        step="stage1",
        config=config_part(acfg, "model", "train", "seed", drop=("train.stage2",)),
        data=steps.dataset_hashes(data_dir, steps.STAGE_DATASETS[1]),
    )
    s1 = runner.step(
        "stage1",
        s1_fp,
        lambda resume: steps.train_stage(
            acfg, workdir, 1, data["data_dir"], None, resume, tracking_uri
        ),
        attempt=attempt,
        valid=_exists("model_dir"),
        detail=_loss_detail,
    )
    s2_fp = fingerprint(
        step="stage2",
        config=config_part(acfg, "model", "train", "seed", drop=("train.stage1",)),
        data=steps.dataset_hashes(data_dir, steps.STAGE_DATASETS[2]),
        init=s1["model_sha256"],
    )
    s2 = runner.step(
        "stage2",
        s2_fp,
        lambda resume: steps.train_stage(
            acfg, workdir, 2, data["data_dir"], s1["model_dir"], resume, tracking_uri
        ),
        attempt=attempt,
        valid=_exists("model_dir"),
        detail=_loss_detail,
    )
    return s1, s2


def _decide(acfg: Config, ev: dict, s2: dict, champion) -> dict[str, Any]:
    import json

    report = json.loads(Path(ev["report"]).read_text(encoding="utf-8"))
    return steps.gate_decision(acfg, report, s2["metrics"], champion)


def _register(acfg, workdir, data, trained, decision, attempt, tracking_uri, runner):
    from taigimed.registry.register import register_model

    s1, s2, ev = trained
    reg_fp = fingerprint(
        step="register",
        model=s2["model_sha256"],
        report=ev["report_sha256"],
        gguf={t: g["sha256"] for t, g in (ev.get("gguf") or {}).items()},
        passed=decision["passed"],
        tracking=config_part(acfg, "tracking"),
        uri=tracking_uri,
    )
    data_dir = Path(data["data_dir"])
    lineage = steps.lineage(
        acfg,
        data_version=data["version"],
        data_manifest_sha256=data["manifest_sha256"],
        stage1=s1,
        stage2=s2,
        datasets_sha256=steps.dataset_hashes(
            data_dir, tuple(sorted({*steps.STAGE_DATASETS[1], *steps.STAGE_DATASETS[2]}))
        ),
        gate_attempt=attempt,
    )
    headline = steps.headline_values(ev["metrics"])

    def do(_resume: bool) -> dict[str, Any]:
        rv = register_model(
            acfg,
            workdir,
            Path(s2["model_dir"]),
            eval_report=Path(ev["report"]),
            decision=decision,
            lineage=lineage,
            metrics=headline,
            alias="staging",
            run_id=s2["mlflow_run_id"],
            tracking_uri=tracking_uri,
            gguf=ev.get("gguf"),
        )
        return {"name": rv.name, "version": rv.version, "run_id": rv.run_id}

    def still_registered(out: dict[str, Any]) -> bool:
        from taigimed.registry.store import client

        try:
            client(acfg, workdir, tracking_uri).get_model_version(out["name"], str(out["version"]))
        except Exception:  # deleted from the registry since: register again
            return False
        return True

    return runner.step(
        "register",
        reg_fp,
        do,
        attempt=attempt,
        valid=still_registered,
        detail=lambda o: f"{o['name']} version {o['version']} → staging",
    )


def _loss_detail(o: dict[str, Any]) -> str:
    m = o.get("metrics", {})
    before, after = m.get("val_loss_before"), m.get("val_loss_after")
    if before is None or after is None:
        return ""
    return f"val loss {before:.3f} → {after:.3f}"


def _headline(metrics: dict[str, dict[str, float]]) -> str:
    keys = ("medqa_tw.acc", "taigi_medical.acc", "taigi_general.bits_per_char")
    return ", ".join(f"{k}={metrics[k]['value']:.3f}" for k in keys if k in metrics)
