"""The knowledge build registered with a model version, fetched into the work directory.

``register_model(..., knowledge=folder)`` logs the build as the run's ``knowledge/``
artifacts and tags the version with ``taigimed.knowledge.version``; here the server gets
that folder back (downloaded once into ``WORKDIR/knowledge/<version>/``, written to a temp
folder and renamed).
"""

from __future__ import annotations

import json
from pathlib import Path

from taigimed.artifacts import publish_dir
from taigimed.config import Config
from taigimed.knowledge.base import MANIFEST, knowledge_dir
from taigimed.registry import store
from taigimed.workdir import Workdir


def _complete(folder: Path, version: str) -> bool:
    try:
        return json.loads((folder / MANIFEST).read_text("utf-8")).get("version") == version
    except (OSError, ValueError):
        return False


def registered_knowledge(
    cfg: Config, workdir: Workdir, spec: str | None
) -> tuple[Path | None, str]:
    """(folder, why): the build registered with the model ``spec`` resolves to, or None
    (build the configured cards) with the reason."""
    from taigimed.registry.resolve import resolve_model

    try:
        resolved = resolve_model(
            workdir, cfg, spec, base_until_registered=cfg.serve.base_until_registered
        )
    except store.RegistryError as exc:
        return None, f"the configured cards (no registered model: {exc})"
    if resolved.source != "registry":
        return None, f"the configured cards (serving the {resolved.source} model)"
    client = store.client(cfg, workdir)
    mv = client.get_model_version(resolved.name, str(resolved.version))
    version = (mv.tags or {}).get(store.TAG_KNOWLEDGE_VERSION)
    if not version:
        return None, f"the configured cards ({resolved.name} v{resolved.version} has none)"
    target = knowledge_dir(workdir) / version
    if not _complete(target, version):
        with publish_dir(target) as tmp:
            store.download_into(
                tmp, client.tracking_uri, run_id=mv.run_id, artifact_path=store.KNOWLEDGE_ARTIFACT
            )
    return target, f"registered with {resolved.name} v{resolved.version}"
