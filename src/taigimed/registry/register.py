"""Register a model that passed the gate, with its lineage, and point ``staging`` at it.

Each registration is its own MLflow run (``register-...``) holding the model
folder, the eval report, the gate decision, the full config and a lineage record
(dataset manifest hashes, git commit, training runs); the model version points at
that run's ``model/`` artifact and carries the key facts as tags, so the MLflow UI
answers "where did this model come from" without opening files.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from taigimed.artifacts import file_sha256, git_commit
from taigimed.config import Config
from taigimed.registry import store
from taigimed.workdir import Workdir


@dataclass(frozen=True)
class RegisteredVersion:
    name: str
    version: int
    run_id: str
    source: str


def _flat_tags(lineage: dict[str, Any], metrics: dict[str, float]) -> dict[str, str]:
    tags = {f"taigimed.{k}": str(v) for k, v in lineage.items() if isinstance(v, str | int | float)}
    tags.update({f"taigimed.metric.{k}": f"{v:.6g}" for k, v in metrics.items()})
    return tags


def _has_model_artifact(client, run_id: str) -> bool:
    try:
        return any(f.path.endswith("config.json") for f in client.list_artifacts(run_id, "model"))
    except Exception:  # an unknown run id (another tracking store): log a fresh copy
        return False


def _log_run(client, cfg, workdir, model_dir, run_id, lineage, metrics) -> tuple[str, str]:
    """The run the version points at, and the model's artifact URI in it."""
    from taigimed.tracking import ensure_experiment

    if run_id and _has_model_artifact(client, run_id):
        for key, value in _flat_tags(lineage, {}).items():
            client.set_tag(run_id, key, value)
        for key, value in metrics.items():
            client.log_metric(run_id, f"gate.{key}", float(value))
        return run_id, f"{client.get_run(run_id).info.artifact_uri}/model"
    exp_id = ensure_experiment(cfg, workdir, client.tracking_uri)
    run = client.create_run(
        exp_id,
        run_name=f"register-{model_dir.parent.name}",
        tags={"taigimed.step": "register", **_flat_tags(lineage, {})},
    )
    try:
        for key, value in metrics.items():
            client.log_metric(run.info.run_id, f"gate.{key}", float(value))
        client.log_artifacts(run.info.run_id, str(model_dir), "model")
        client.set_terminated(run.info.run_id, "FINISHED")
    except BaseException:
        client.set_terminated(run.info.run_id, "FAILED")
        raise
    return run.info.run_id, f"{run.info.artifact_uri}/model"


def register_model(
    cfg: Config,
    workdir: Workdir,
    model_dir: Path,
    *,
    eval_report: Path,
    decision: dict[str, Any],
    lineage: dict[str, Any],
    metrics: dict[str, float] | None = None,
    alias: str | None = "staging",
    run_id: str | None = None,
    tracking_uri: str | None = None,
    gguf: dict[str, dict[str, str]] | None = None,
    knowledge: Path | None = None,
) -> RegisteredVersion:
    """Log ``model_dir`` with its lineage, create a registry version and set ``alias`` on it.

    ``decision`` is the gate decision as a dict (``GateDecision.to_dict()``); a model
    that did not pass is refused here too, so no code path can register one.
    ``run_id`` is the training run that produced the model: when it already holds the
    model as its ``model/`` artifact, the version points there instead of a second copy.
    """
    if not decision.get("passed"):
        raise store.RegistryError(
            "refusing to register a model that did not pass the gate: "
            + "; ".join(decision.get("reasons", []) or ["no reasons recorded"])
        )
    model_dir = Path(model_dir)
    if not (model_dir / "config.json").exists():
        raise store.RegistryError(f"{model_dir} is not a model folder (no config.json)")
    if not Path(eval_report).exists():
        raise store.RegistryError(f"eval report {eval_report} does not exist")
    # Checked before anything is logged: a GGUF that changed since export is refused.
    gguf_files, gguf_tags = [], {}
    for outtype, g in sorted((gguf or {}).items()):
        path = Path(g["path"])
        if not path.exists():
            raise store.RegistryError(f"GGUF export {path} does not exist")
        actual = file_sha256(path)
        if actual != g["sha256"]:
            raise store.RegistryError(f"{path}: sha256 {actual} != recorded {g['sha256']}")
        gguf_files.append(path)
        gguf_tags[f"taigimed.gguf.{outtype}.artifact"] = f"gguf/{path.name}"
        gguf_tags[f"taigimed.gguf.{outtype}.sha256"] = actual
    client = store.client(cfg, workdir, tracking_uri)
    name = cfg.tracking.registered_model
    lineage = {**lineage, **{f"git_{k}": v for k, v in git_commit().items()}}
    lineage.setdefault("config_fingerprint", cfg.fingerprint())
    metrics = metrics or {}

    run_id, source = _log_run(client, cfg, workdir, model_dir, run_id, lineage, metrics)
    with tempfile.TemporaryDirectory() as tmp:
        side = Path(tmp) / "registry"
        side.mkdir()
        (side / "lineage.json").write_text(json.dumps(lineage, indent=2, ensure_ascii=False))
        (side / "gate.json").write_text(json.dumps(decision, indent=2, ensure_ascii=False))
        (side / "config.yaml").write_text(
            yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
        )
        (side / "eval_report.json").write_bytes(Path(eval_report).read_bytes())
        client.log_artifacts(run_id, str(side), "registry")
    for path in gguf_files:
        client.log_artifact(run_id, str(path), "gguf")
    knowledge_tags = {}
    if knowledge is not None:
        manifest = json.loads((Path(knowledge) / "manifest.json").read_text("utf-8"))
        client.log_artifacts(run_id, str(knowledge), store.KNOWLEDGE_ARTIFACT)
        knowledge_tags[store.TAG_KNOWLEDGE_VERSION] = manifest["version"]

    try:
        client.get_registered_model(name)
    except Exception:  # RESOURCE_DOES_NOT_EXIST; MLflow raises one exception type for all
        client.create_registered_model(name, description="TaigiMed models that passed the gate.")
    tags = _flat_tags(lineage, metrics)
    tags.update(
        {
            store.TAG_GATE_PASSED: "true",
            store.TAG_EVAL_REPORT: store.EVAL_REPORT_ARTIFACT,
            **gguf_tags,
            **knowledge_tags,
        }
    )
    mv = client.create_model_version(name, source=source, run_id=run_id, tags=tags)
    version = int(mv.version)
    if alias:
        from taigimed.registry.aliases import set_alias

        set_alias(client, name, alias, version)
    return RegisteredVersion(name=name, version=version, run_id=run_id, source=source)
