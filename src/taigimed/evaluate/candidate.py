"""Gating a candidate: the gate's decision on an eval report, recorded where its readers find
it (the eval JSON and its Markdown, the stage-2 MLflow run), and registering a candidate
that passed.

The rule is ``evaluate.gate.decide``; this module applies it. ``taigimed pipeline run``
calls ``gate_decision``, ``record_gate`` and ``log_gate_to_mlflow`` step by step (with its
retries); ``taigimed model gate`` / ``model register`` (the Argo DAG's separate steps) call
``gate_candidate`` / ``register_candidate`` on a stage-2 run folder and its eval report.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from taigimed.artifacts import folder_digest, write_json_atomic, write_text_atomic
from taigimed.config import Config
from taigimed.evaluate.gate import decide
from taigimed.evaluate.knowledge import KNOWLEDGE_SECTION, build_and_evaluate, knowledge_markdown
from taigimed.evaluate.report import headline_values, key_metrics
from taigimed.registry.store import RegistryError
from taigimed.workdir import Workdir

if TYPE_CHECKING:
    from taigimed.registry.champion import Champion
    from taigimed.registry.register import RegisteredVersion


def gate_decision(
    cfg: Config,
    report: dict[str, Any],
    stage2_metrics: dict,
    champion: Champion | None,
    knowledge_report: dict[str, Any] | None = None,
) -> dict:
    """The gate's decision on an eval report, as the JSON-ready dict every caller records."""
    return decide(
        report,
        cfg.gate,
        champion_report=champion.report if champion else None,
        champion=champion.describe() if champion else None,
        stage2_metrics=stage2_metrics,
        knowledge_report=knowledge_report,
        seed=cfg.eval.seed if cfg.eval.seed is not None else cfg.seed,
    ).to_dict()


def decision_lines(decision: dict[str, Any]) -> list[str]:
    """The decision as every gate command prints it: the verdict, then one reason a line."""
    verdict = "passed" if decision["passed"] else "refused"
    return [f"gate {verdict}:", *(f"  - {reason}" for reason in decision["reasons"])]


def gate_markdown(decision: dict[str, Any], attempts: list[dict[str, Any]]) -> str:
    lines = ["", "## Gate decision", "", f"**{'PASSED' if decision['passed'] else 'FAILED'}**", ""]
    lines += [f"- {r}" for r in decision["reasons"]]
    lines += ["", "| check | value | threshold | passed | detail |", "|---|---|---|---|---|"]
    for c in decision["checks"]:
        value = "–" if c["value"] is None else f"{c['value']:.4g}"
        thr = "–" if c["threshold"] is None else f"{c['threshold']:.4g}"
        lines.append(f"| {c['name']} | {value} | {thr} | {c['passed']} | {c['detail']} |")
    if attempts:
        lines += ["", "### Attempts", "", "| attempt | adjustments | passed | reasons |"]
        lines.append("|---|---|---|---|")
        for a in attempts:
            adj = ", ".join(f"{k}={v:.4g}" for k, v in a.get("adjustments", {}).items()) or "–"
            lines.append(f"| {a['attempt']} | {adj} | {a['passed']} | {'; '.join(a['reasons'])} |")
    return "\n".join(lines) + "\n"


def record_gate(
    report_path: Path,
    decision: dict[str, Any],
    attempts: list[dict[str, Any]],
    knowledge_report: Path | None = None,
) -> None:
    """Write the decision and every attempt so far into the eval JSON and its Markdown report,
    with the retrieval section of the knowledge version judged beside the model."""
    report = json.loads(report_path.read_text(encoding="utf-8"))
    report["gate"] = decision
    report["attempts"] = attempts
    write_json_atomic(report_path, report)
    md = report_path.with_suffix(".md")
    if md.exists():
        text = md.read_text(encoding="utf-8")
        for section in (KNOWLEDGE_SECTION, "\n## Gate decision\n"):
            text = text.split(section)[0]
        text = text.rstrip("\n") + "\n"
        if knowledge_report is not None:
            kreport = json.loads(Path(knowledge_report).read_text(encoding="utf-8"))
            text += knowledge_markdown(kreport)
        write_text_atomic(md, text + gate_markdown(decision, attempts))


def log_gate_to_mlflow(
    cfg: Config,
    workdir: Workdir,
    run_id: str | None,
    report_path: Path,
    decision: dict[str, Any],
    attempt: dict[str, Any],
    tracking_uri: str | None,
) -> None:
    """Record the decision on the stage-2 training run it judged (tags, metric, artifacts)."""
    if not run_id:
        return
    from taigimed.registry import store

    client = store.client(cfg, workdir, tracking_uri)
    n = attempt["attempt"]
    client.set_tag(run_id, store.TAG_GATE_PASSED, str(decision["passed"]).lower())
    client.set_tag(run_id, "taigimed.gate_attempt", str(n))
    client.log_metric(run_id, "gate_passed", 1.0 if decision["passed"] else 0.0)
    client.log_dict(run_id, {"decision": decision, "attempt": attempt}, f"gate/attempt-{n}.json")
    client.log_artifact(run_id, str(report_path), "eval")
    md = report_path.with_suffix(".md")
    if md.exists():
        client.log_artifact(run_id, str(md), "eval")
        for png in report_path.parent.glob(f"{report_path.stem}_*.png"):
            client.log_artifact(run_id, str(png), "eval")


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


def gate_candidate(
    cfg: Config,
    workdir: Workdir,
    eval_json: Path,
    stage2_run: Path,
    out: Path | None = None,
    tracking_uri: str | None = None,
) -> dict[str, Any]:
    """Decide, write the decision into the eval JSON and ``out`` (default ``<eval>.gate.json``),
    log it on the stage-2 MLflow run, and return it.

    The knowledge report the decision was made on is kept as ``<eval>.knowledge.json``.
    """
    from taigimed.registry.champion import find_champion

    info = _run_info(stage2_run)
    report = _report(eval_json)
    champion = find_champion(cfg, workdir, tracking_uri=tracking_uri)
    knowledge_json = Path(eval_json).with_suffix(".knowledge.json")
    _, _, kreport = build_and_evaluate(cfg, workdir, knowledge_json)
    decision = gate_decision(cfg, report, info.get("metrics", {}), champion, kreport)
    attempt = {
        "attempt": 1,
        "adjustments": {},
        "passed": decision["passed"],
        "reasons": decision["reasons"],
        "stage2_run": info.get("run_name"),
        "report": str(eval_json),
    }
    record_gate(Path(eval_json), decision, [attempt], knowledge_json)
    write_json_atomic(out or Path(eval_json).with_suffix(".gate.json"), decision)
    log_gate_to_mlflow(
        cfg, workdir, info.get("mlflow_run_id"), Path(eval_json), decision, attempt, tracking_uri
    )
    return decision


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
    from taigimed.registry.lineage import lineage
    from taigimed.registry.register import register_model

    info = _run_info(stage2_run)
    report = _report(eval_json)
    decision = report.get("gate")
    if decision is None:
        raise RegistryError(f"{eval_json} has no gate decision; run `taigimed model gate` first")
    model_dir = Path(stage2_run) / "model"
    stage1_info = Path(str(info.get("start_model", ""))).parent / "run.json"
    stage1 = json.loads(stage1_info.read_text()) if stage1_info.exists() else {}
    record = lineage(
        cfg,
        data_version=info.get("data_version"),
        data_manifest_sha256=_manifest_sha256(info),
        stage1=stage1,
        # run.json records the digest where the model was written; older runs did not
        stage2={**info, "model_digest": info.get("model_digest") or folder_digest(model_dir)},
    )
    return register_model(
        cfg,
        workdir,
        model_dir,
        eval_report=Path(eval_json),
        decision=decision,
        lineage=record,
        metrics=headline_values(key_metrics(report)),
        alias="staging",
        run_id=info.get("mlflow_run_id"),
        tracking_uri=tracking_uri,
        knowledge=_gated_knowledge(cfg, workdir, decision),
    )
