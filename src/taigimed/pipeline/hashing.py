"""Content hashes: what a step's inputs are, so an unchanged step can be skipped."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from taigimed.config import Config

# Files that record *how* something was produced, not what it is.
_IGNORED = {".DS_Store", ".taigimed-download-complete"}


def hash_path(path: Path) -> str:
    """sha256 over a file, or over a folder's relative paths and file contents (sorted)."""
    path = Path(path)
    h = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    if not path.exists():
        raise FileNotFoundError(f"cannot hash {path}: it does not exist")
    for f in files:
        if f.name in _IGNORED:
            continue
        h.update(str(f.relative_to(path) if f != path else f.name).encode())
        h.update(b"\0")
        with f.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        h.update(b"\0")
    return h.hexdigest()


def config_part(cfg: Config, *paths: str, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """The named config parts (dotted paths such as ``train.stage1``) as plain data.

    ``drop`` removes dotted paths from the result, so stage 1 can hash the whole
    ``train`` section except ``train.stage2`` (and keeps doing so as fields are added).
    """
    dumped = cfg.model_dump(mode="json")
    out: dict[str, Any] = {}
    for p in paths:
        node: Any = dumped
        for part in p.split("."):
            node = node[part]
        out[p] = json.loads(json.dumps(node))
    for d in drop:
        head, _, leaf = d.rpartition(".")
        node = out.get(head) if head in out else None
        if isinstance(node, dict):
            node.pop(leaf, None)
    return out


def fingerprint(**parts: Any) -> str:
    """sha256 of JSON-serialisable parts (config pieces, upstream hashes)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
