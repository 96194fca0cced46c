"""Gate and register one candidate outside `pipeline run`: the Argo DAG's separate steps.

The candidate is a stage-2 run folder (its run.json) plus its eval report JSON. The
decision, the lineage and the headline metrics come from the pipeline's own steps
(``pipeline.steps``), read from the run folders instead of the pipeline state.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from taigimed.artifacts import folder_digest, write_json_atomic
from taigimed.config import Config
from taigimed.pipeline import steps
from taigimed.registry.register import RegisteredVersion, register_model
from taigimed.registry.store import RegistryError
from taigimed.workdir import Workdir


def _run_info(stage2_run: Path) -> dict[str, Any]:
    path = Path(stage2_run) / "run.json"
    if not path.exists():
        raise RegistryError(
            f"{stage2_run} is not a finished training run (no run.json); pass the folder "
            "`taigimed train --stage 2` printed"
        )
    info = json.loads(path.read_text(encoding="utf-8"))
    if info.get("stage") != 2:
        raise RegistryError(
            f"{stage2_run} is a stage-{info.get('stage')} run; the gate needs stage 2"
        )
    return info


def _report(eval_json: Path) -> dict[str, Any]:
    if not Path(eval_json).exists():
        raise RegistryError(f"eval report {eval_json} not found; run `taigimed eval --out` first")
    return json.loads(Path(eval_json).read_text(encoding="utf-8"))


def _knowledge_json(eval_json: Path) -> Path:
    """Where ``model gate`` keeps the knowledge report the decision was made on."""
    return Path(eval_json).with_suffix(".knowledge.json")


def _gated_knowledge(cfg: Config, workdir: Workdir, decision: dict[str, Any]) -> Path:
    """The knowledge build the gate judged; refused if the cards changed since."""
    from taigimed.knowledge.base import build_knowledge

    gated = decision.get("knowledge_version")
    if not gated:
        raise RegistryError(
            "the gate decision names no knowledge version; run `taigimed model gate` again"
        )
    folder = build_knowledge(cfg.knowledge, workdir)
    if folder.name != gated:
        raise RegistryError(
            f"the cards changed since the gate judged knowledge {gated} (now {folder.name}); "
            "run `taigimed model gate` again"
        )
    return folder


def gate_candidate(
    cfg: Config,
    workdir: Workdir,
    eval_json: Path,
    stage2_run: Path,
    out: Path | None = None,
    tracking_uri: str | None = None,
) -> dict[str, Any]:
    """Decide, write the decision into the eval JSON and ``out`` (default ``<eval>.gate.json``),
    log it on the stage-2 MLflow run, and return it."""
    from taigimed.registry.champion import find_champion

    info = _run_info(stage2_run)
    report = _report(eval_json)
    champion = find_champion(cfg, workdir, tracking_uri=tracking_uri)
    knowledge = steps.knowledge(cfg, workdir, _knowledge_json(eval_json))
    kreport = json.loads(Path(knowledge.report).read_text(encoding="utf-8"))
    decision = steps.gate_decision(cfg, report, info.get("metrics", {}), champion, kreport)
    attempt = {
        "attempt": 1,
        "adjustments": {},
        "passed": decision["passed"],
        "reasons": decision["reasons"],
        "stage2_run": info.get("run_name"),
        "report": str(eval_json),
    }
    steps.record_gate(Path(eval_json), decision, [attempt], Path(knowledge.report))
    write_json_atomic(out or Path(eval_json).with_suffix(".gate.json"), decision)
    steps.log_gate_to_mlflow(
        cfg, workdir, info.get("mlflow_run_id"), Path(eval_json), decision, attempt, tracking_uri
    )
    return decision


def _manifest_sha256(info: dict[str, Any]) -> str | None:
    """The sha256 of the data manifest the run trained on: recorded in run.json when it
    trained, else (older runs) that of the manifest still in its data folder."""
    if info.get("data_manifest_sha256"):
        return info["data_manifest_sha256"]
    from taigimed.data.load import PreparedDataError, load_prepared

    try:
        return load_prepared(Path(info.get("data_dir", ""))).manifest_sha256
    except PreparedDataError:
        return None


def register_candidate(
    cfg: Config,
    workdir: Workdir,
    eval_json: Path,
    stage2_run: Path,
    tracking_uri: str | None = None,
) -> RegisteredVersion:
    """Register the stage-2 model whose eval JSON carries a passing gate decision."""
    info = _run_info(stage2_run)
    report = _report(eval_json)
    decision = report.get("gate")
    if decision is None:
        raise RegistryError(f"{eval_json} has no gate decision; run `taigimed model gate` first")
    model_dir = Path(stage2_run) / "model"
    stage1_info = Path(str(info.get("start_model", ""))).parent / "run.json"
    stage1 = json.loads(stage1_info.read_text()) if stage1_info.exists() else {}
    lineage = steps.lineage(
        cfg,
        data_version=info.get("data_version"),
        data_manifest_sha256=_manifest_sha256(info),
        stage1=stage1,
        # run.json records the digest where the model was written; older runs did not
        stage2={**info, "model_digest": info.get("model_digest") or folder_digest(model_dir)},
    )
    metrics = steps.headline_values(steps.key_metrics(report))
    return register_model(
        cfg,
        workdir,
        model_dir,
        eval_report=Path(eval_json),
        decision=decision,
        lineage=lineage,
        metrics=metrics,
        alias="staging",
        run_id=info.get("mlflow_run_id"),
        tracking_uri=tracking_uri,
        knowledge=_gated_knowledge(cfg, workdir, decision),
    )
