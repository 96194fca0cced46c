"""Options shared by the subcommands: ``--workdir``, ``--config``, ``--set`` and ``--tracking-uri``
read the same everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from taigimed.config import Config, ConfigError, load_config
from taigimed.workdir import Workdir

WorkdirOpt = Annotated[
    Path | None,
    typer.Option(
        "--workdir",
        help="Work directory for all state (default: $TAIGIMED_HOME or ~/.local/share/taigimed).",
    ),
]
ConfigOpt = Annotated[
    str | None,
    typer.Option("--config", "-c", help="Recipe name (default, tiny, gpu-7b) or a YAML file."),
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override one field, e.g. --set train.stage1.max_steps=10."),
]

TrackingOpt = Annotated[
    str | None, typer.Option("--tracking-uri", help="MLflow tracking/registry URI override.")
]


def load(config: str | None, overrides: list[str] | None) -> Config:
    """Load the recipe or exit with the validation message (no traceback for a user error)."""
    try:
        return load_config(config, overrides)
    except ConfigError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc


def workdir(path: Path | None) -> Workdir:
    return Workdir.resolve(path)
