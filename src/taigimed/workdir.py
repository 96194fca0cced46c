"""Where all state lives: one work directory per installation.

Every subcommand takes ``--workdir``; otherwise ``TAIGIMED_HOME``; otherwise
``$XDG_DATA_HOME/taigimed`` (``~/.local/share/taigimed``). Each step owns one
sub-folder, so a newcomer can look inside and see what the pipeline produced.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ENV_HOME = "TAIGIMED_HOME"


def default_workdir() -> Path:
    if env := os.environ.get(ENV_HOME):
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "taigimed"


@dataclass(frozen=True)
class Workdir:
    """The layout of a work directory. Folders are created on first use, not here."""

    root: Path

    @classmethod
    def resolve(cls, path: Path | str | None = None) -> Workdir:
        return cls(Path(path).expanduser().resolve() if path else default_workdir().resolve())

    @property
    def data(self) -> Path:
        """Prepared, versioned datasets (``data prepare`` output)."""
        return self.root / "data"

    @property
    def models(self) -> Path:
        """Base-model cache (``base-model pull``, the tiny test model)."""
        return self.root / "models"

    @property
    def runs(self) -> Path:
        """Training runs, one folder per stage and run."""
        return self.root / "runs"

    @property
    def eval(self) -> Path:
        """Evaluation reports."""
        return self.root / "eval"

    @property
    def mlflow(self) -> Path:
        """The embedded MLflow store: SQLite database and artifact folder."""
        return self.root / "mlflow"

    @property
    def pipeline(self) -> Path:
        """Pipeline state: which steps finished, with their input hashes."""
        return self.root / "pipeline"

    @property
    def serve(self) -> Path:
        """Serving state: the embedded SQLite database of exchanges and feedback."""
        return self.root / "serve"

    @property
    def feedback(self) -> Path:
        """Datasets exported from production feedback for the next training run."""
        return self.root / "feedback"

    def ensure(self, path: Path) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        return path
