"""Where MLflow runs go: one rule shared by training, evaluation and the registry.

Precedence: an explicit override (``--tracking-uri``), then ``MLFLOW_TRACKING_URI``,
then ``tracking.tracking_uri`` in the recipe, else the embedded SQLite store
``WORKDIR/mlflow/mlflow.db`` with artifacts in ``WORKDIR/mlflow/artifacts``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from taigimed.workdir import Workdir

if TYPE_CHECKING:
    from taigimed.config import Config

ENV_URI = "MLFLOW_TRACKING_URI"


def _embedded(workdir: Workdir) -> str:
    return f"sqlite:///{workdir.ensure(workdir.mlflow) / 'mlflow.db'}"


def tracking_uri(cfg: Config, workdir: Workdir, override: str | None = None) -> str:
    """The MLflow tracking URI for this run."""
    return override or os.environ.get(ENV_URI) or cfg.tracking.tracking_uri or _embedded(workdir)


def artifact_location(cfg: Config, workdir: Workdir, override: str | None = None) -> str | None:
    """Artifact root for a new experiment: the workdir folder for the embedded store;
    None (the server's own default) for anything else."""
    if tracking_uri(cfg, workdir, override) == _embedded(workdir):
        return workdir.ensure(workdir.mlflow / "artifacts").as_uri()
    return None


def ensure_experiment(cfg: Config, workdir: Workdir, override: str | None = None) -> str:
    """Point mlflow at the tracking URI and return the experiment id, creating it if needed."""
    import mlflow

    mlflow.set_tracking_uri(tracking_uri(cfg, workdir, override))
    name = cfg.tracking.experiment
    found = mlflow.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    return mlflow.create_experiment(
        name, artifact_location=artifact_location(cfg, workdir, override)
    )
