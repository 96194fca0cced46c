"""Where a registered model came from: the lineage its registry tags record."""

from __future__ import annotations

from typing import Any

from taigimed.config import Config


def lineage(
    cfg: Config,
    *,
    data_version: str | None,
    data_manifest_sha256: str | None,
    stage1: dict[str, Any],
    stage2: dict[str, Any],
    **extra: Any,
) -> dict[str, Any]:
    """Recipe, data, both training runs and the model's digest.

    ``stage1``/``stage2`` hold ``run_name`` and ``mlflow_run_id`` (the pipeline's
    ``TrainedStage.to_outputs()``, or the run.json files); ``stage2`` also
    ``model_digest``. Unknown values (None) are left out, so the registry's tags only
    state what is known.
    """
    record = {
        "recipe": cfg.name,
        "data_version": data_version,
        "data_manifest_sha256": data_manifest_sha256,
        "stage1_run": stage1.get("run_name"),
        "stage1_mlflow_run_id": stage1.get("mlflow_run_id"),
        "stage2_run": stage2.get("run_name"),
        "stage2_mlflow_run_id": stage2.get("mlflow_run_id"),
        "model_digest": stage2.get("model_digest"),
        "config_fingerprint": cfg.fingerprint(),
        **extra,
    }
    return {k: v for k, v in record.items() if v is not None}
