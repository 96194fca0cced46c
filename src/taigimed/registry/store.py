"""The MLflow registry client and the tag names the registry writes.

One place decides which store a registry call talks to (the training code's
``tracking_uri``), so the pipeline, the ``model`` commands and the server always
agree on where versions and aliases live.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from taigimed.config import Config
from taigimed.workdir import Workdir

if TYPE_CHECKING:
    from mlflow import MlflowClient

ALIASES = ("staging", "canary", "production")

# Version tags; ``promote`` trusts only these, so a version registered by hand in
# the MLflow UI (without a gate decision) can never reach canary or production.
TAG_GATE_PASSED = "taigimed.gate_passed"
TAG_EVAL_REPORT = "taigimed.eval_report"
# Registered-model tag holding each alias's history (JSON list of versions), for rollback.
TAG_HISTORY_PREFIX = "taigimed.alias_history."
# Version tag: which step released this version to production, and why.
TAG_RELEASE_DECISION = "taigimed.release_decision"

EVAL_REPORT_ARTIFACT = "registry/eval_report.json"
# The knowledge build a version was evaluated with: its version tag and artifact folder.
TAG_KNOWLEDGE_VERSION = "taigimed.knowledge.version"
KNOWLEDGE_ARTIFACT = "knowledge"


class RegistryError(RuntimeError):
    """A registry request that cannot be honoured; the message says what to do instead."""


def resolve_uri(cfg: Config, workdir: Workdir, override: str | None = None) -> str:
    from taigimed.tracking import tracking_uri

    return tracking_uri(cfg, workdir, override)


def local_store_missing(uri: str) -> bool:
    """True for a SQLite store whose file does not exist yet (nothing was ever registered).

    Lets ``resolve_model`` fall back to the base model without creating an empty
    database, which takes seconds of schema migration.
    """
    if not uri.startswith("sqlite:///"):
        return False
    from pathlib import Path

    return not Path(uri.removeprefix("sqlite:///")).exists()


def client(cfg: Config, workdir: Workdir, override: str | None = None) -> MlflowClient:
    from mlflow import MlflowClient

    uri = resolve_uri(cfg, workdir, override)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def download_into(folder: Path, tracking_uri: str, **where) -> None:
    """Download MLflow artifacts (``artifact_uri=…`` or ``run_id=…, artifact_path=…``) and
    leave their content directly in ``folder`` (a ``publish_dir`` temp folder), whatever
    sub-folder MLflow put them in."""
    import mlflow.artifacts

    staging = Path(folder) / ".download"
    staging.mkdir()
    got = Path(
        mlflow.artifacts.download_artifacts(
            dst_path=str(staging), tracking_uri=tracking_uri, **where
        )
    )
    for item in got.iterdir():
        item.rename(Path(folder) / item.name)
    shutil.rmtree(staging)
