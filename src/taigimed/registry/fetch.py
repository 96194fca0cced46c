"""Materialise the model behind a registry alias as a plain folder (vLLM's --model)."""

from __future__ import annotations

import shutil
from pathlib import Path

from taigimed.artifacts import publish_dir
from taigimed.config import Config
from taigimed.registry.resolve import resolve_model
from taigimed.registry.store import RegistryError
from taigimed.workdir import Workdir


class FetchError(RuntimeError):
    """The model could not be resolved or copied; the message says which and why."""


def fetch_model(cfg: Config, workdir: Workdir, spec: str | None, out: Path) -> tuple[Path, str]:
    """Resolve ``spec`` like ``taigimed serve`` does and copy it to ``out`` atomically."""
    try:
        resolved = resolve_model(workdir, cfg, spec)
    except RegistryError as exc:
        raise FetchError(str(exc)) from exc
    source = Path(resolved.path)
    if not source.is_dir():
        raise FetchError(
            f"{spec or 'production'} resolved to {resolved.path!r}, which is not a local folder "
            "(a hub id); vLLM can serve a hub id directly"
        )
    label = f"{resolved.name} v{resolved.version}" if resolved.version else str(resolved.path)
    out = out.resolve()
    with publish_dir(out) as tmp:
        shutil.copytree(source, tmp, dirs_exist_ok=True)
    return out, label
