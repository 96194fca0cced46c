"""``prepare``: sources → cleaned, filtered, deduplicated, split, versioned datasets.

    taigimed data prepare --config tiny        # a few seconds
    TAIGIMED_DATA_ROOT=../shared/data taigimed data prepare

Writes ``WORKDIR/data/<version>/`` (version = short hash of the data config section, the
source files' hashes and the package version) and points ``WORKDIR/data/current.json``
at it. Unchanged inputs are a cache hit. The folder is built under a temporary name and
renamed into place, so an interrupted run never leaves a half-written version.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

from taigimed import __version__
from taigimed.artifacts import file_sha256, fingerprint, write_json_atomic
from taigimed.config import Config
from taigimed.data import build
from taigimed.data.manifest import write_outputs
from taigimed.data.sources import data_root, resolve_sources
from taigimed.workdir import Workdir

CURRENT = "current.json"


class StepTimer:
    """Times named steps and shows them as a rich progress bar (on stderr)."""

    def __init__(self, steps: list[str], show: bool = True):
        self.seconds: dict[str, float] = {}
        self._progress = None
        if show:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("data prepare: {task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._task = self._progress.add_task("start", total=len(steps))

    @contextmanager
    def step(self, name: str):
        if self._progress is not None:
            self._progress.update(self._task, description=name)
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(time.perf_counter() - start, 3)
            if self._progress is not None:
                self._progress.advance(self._task)

    def __enter__(self):
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc):
        if self._progress is not None:
            self._progress.stop()


def data_version(cfg: Config, file_hashes: dict[str, str], is_demo: bool) -> str:
    # Settings that change how fast, not what, are left out (workers).
    settings = cfg.data.model_dump(mode="json", exclude={"workers"})
    payload = {
        "data": settings,
        "seed": cfg.seed,
        "root": str(data_root(cfg.data) or ""),
        "files": file_hashes,
        "demo": is_demo,
        "package": __version__,
    }
    return fingerprint(payload)[:12]


def _is_complete(folder: Path, version: str, on_error: str) -> bool:
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return False
    try:
        meta = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    if on_error == "raise" and meta.get("skipped_unreadable_rows", 0):
        return False  # rebuild, so the bad rows are reported as errors again
    return meta.get("version") == version


def _remove_stale_temps(target: Path) -> None:
    """Delete half-written folders left by interrupted runs (their process is gone)."""
    for old in target.parent.glob(f".tmp-{target.name}-*"):
        pid = old.name.rsplit("-", 1)[-1]
        try:
            os.kill(int(pid), 0)  # still running: leave it alone
        except (ValueError, ProcessLookupError):
            shutil.rmtree(old, ignore_errors=True)
        except PermissionError:
            pass


def prepare(
    cfg: Config,
    workdir: Workdir,
    out: Path | None = None,
    on_error: str = "raise",
    progress: bool = True,
) -> Path:
    """Build (or reuse) the prepared datasets and return their folder.

    ``on_error='skip'`` counts and reports unreadable rows instead of raising on the first.
    """
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    started = time.perf_counter()
    cache_dir = workdir.ensure(workdir.data / "cache")
    sources = resolve_sources(cfg.data, cache_dir)
    file_hashes = {str(p): file_sha256(p) for p in sources.files()}
    # on_error is not part of the version: a run that raises writes nothing, and a run
    # that skips nothing produces the same data either way.
    version = data_version(cfg, file_hashes, sources.medqa_is_demo)
    target = Path(out).resolve() if out else workdir.data / version

    if not _is_complete(target, version, on_error):
        foreign = out and target.exists() and any(target.iterdir())
        if foreign and not (target / "manifest.json").is_file():
            # Never replace a folder this pipeline did not write.
            raise FileExistsError(
                f"--out {target} exists and is not a prepared-data folder; "
                "choose an empty or new one"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_temps(target)
        tmp = target.parent / f".tmp-{target.name}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            steps = [*build.STEPS, "write"]
            with StepTimer(steps, show=progress) as timer:
                result = build.build(cfg, sources, on_error, timer)
                with timer.step("write"):
                    write_outputs(
                        tmp, cfg, version, sources, file_hashes, result, timer.seconds, started
                    )
            if target.exists():
                shutil.rmtree(target)
            os.replace(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    workdir.ensure(workdir.data)
    write_json_atomic(
        workdir.data / CURRENT, {"version": version, "path": str(target), "updated": time.time()}
    )
    return target
