"""Writing artifacts so that no reader ever sees half of one, and recording what made them.

Every JSON record (manifests, run.json, state files, pointers such as ``current.json``) and
every published folder (a prepared data version, a fetched model, a drift report) goes
through here: it is written beside its final place and renamed into it, so an interrupted
writer leaves the previous version or nothing, never a torn file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# The checkout this package runs from (src/taigimed/ → the repository root).
SOURCE_CHECKOUT = Path(__file__).resolve().parents[2]


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temp file in the same folder and a rename."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temp file in the same folder and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, payload: Any, *, sort_keys: bool = False) -> None:
    """``payload`` as indented UTF-8 JSON at ``path``, replaced atomically."""
    text = json.dumps(payload, indent=2, ensure_ascii=False, sort_keys=sort_keys)
    write_text_atomic(path, text + "\n")


@contextmanager
def publish_dir(target: Path) -> Iterator[Path]:
    """Yield an empty temp folder beside ``target``; when the block finishes, it replaces
    ``target`` (an older version there is removed). If the block raises, the temp folder
    is removed and ``target`` is left as it was."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
        if target.exists():
            shutil.rmtree(target)
        tmp.replace(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def publish_file(target: Path) -> Iterator[Path]:
    """Yield a temp path beside ``target`` for a writer that needs a file name (a download,
    a GGUF writer); when the block finishes the file replaces ``target``. If the block
    raises, the temp file is removed and ``target`` is left as it was."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


# "sha256" in a field, tag or variable name always means the bytes of one file
# (``file_sha256``). A folder has a *digest* (``folder_digest``) and a JSON payload a
# *fingerprint* (``fingerprint``); each artifact is hashed once, where it is written, and
# readers use the recorded value.


def file_sha256(path: Path) -> str:
    """Hex sha256 of one file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# Files that record how a folder was fetched, not what it holds.
_NOT_CONTENT = frozenset({".DS_Store", ".taigimed-download-complete"})


def folder_digest(folder: Path, pattern: str = "**/*") -> str:
    """sha256 of a folder's listing as ``sha256sum`` prints it: one ``<file sha256>  <path>``
    line per file matching ``pattern`` (path relative to ``folder``, sorted by path).

    Built from each file's ``file_sha256``, so a folder's digest follows its files' bytes
    and names, and a file can be checked against it with ``sha256sum``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot hash {folder}: it is not a folder")
    files = sorted(p for p in folder.glob(pattern) if p.is_file() and p.name not in _NOT_CONTENT)
    listing = "".join(f"{file_sha256(p)}  {p.relative_to(folder).as_posix()}\n" for p in files)
    return hashlib.sha256(listing.encode()).hexdigest()


def content_digest(path: Path) -> str:
    """A file's ``file_sha256``, or a folder's ``folder_digest``."""
    path = Path(path)
    if path.is_file():
        return file_sha256(path)
    if path.is_dir():
        return folder_digest(path)
    raise FileNotFoundError(f"cannot hash {path}: it does not exist")


def fingerprint(payload: Any) -> str:
    """sha256 of ``payload`` as canonical JSON (sorted keys; other values by ``str``):
    the config's fingerprint and the pipeline's cache keys."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def git_commit(repo: Path | None = None) -> dict[str, Any]:
    """``{"commit", "dirty"}`` of the source checkout this package runs from.

    An installed wheel has no checkout: that is recorded as ``commit: "unknown"``,
    ``dirty: None`` rather than failing.
    """
    repo = repo or SOURCE_CHECKOUT

    def git(*args: str) -> str:
        cmd = ["git", "-C", str(repo), *args]
        return subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=10).stdout

    try:
        commit = git("rev-parse", "HEAD").strip()
        dirty = git("status", "--porcelain", "--untracked-files=no").strip()
    except (OSError, subprocess.SubprocessError):
        return {"commit": "unknown", "dirty": None}
    return {"commit": commit, "dirty": bool(dirty)}
