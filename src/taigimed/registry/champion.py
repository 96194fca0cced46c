"""The champion: the version at an alias (``production``) and the eval report it passed with."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taigimed.config import Config
from taigimed.registry import store
from taigimed.workdir import Workdir


@dataclass(frozen=True)
class Champion:
    name: str
    version: int
    alias: str
    run_id: str
    report: dict[str, Any] | None

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "alias": self.alias}


def find_champion(
    cfg: Config, workdir: Workdir, alias: str | None = None, tracking_uri: str | None = None
) -> Champion | None:
    """The version holding ``alias`` (default ``gate.champion_alias``) with its report, or None."""
    alias = alias or cfg.gate.champion_alias
    uri = store.resolve_uri(cfg, workdir, tracking_uri)
    if store.local_store_missing(uri):
        return None
    client = store.client(cfg, workdir, tracking_uri)
    name = cfg.tracking.registered_model
    try:
        mv = client.get_model_version_by_alias(name, alias)
    except Exception:  # no such model or alias: nothing in production yet
        return None
    report = None
    path = mv.tags.get(store.TAG_EVAL_REPORT)
    if path and mv.run_id:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                local = client.download_artifacts(mv.run_id, path, tmp)
                report = json.loads(Path(local).read_text(encoding="utf-8"))
            except Exception:  # a report that cannot be read is treated as absent, and said so
                report = None
    return Champion(name, int(mv.version), alias, mv.run_id or "", report)
