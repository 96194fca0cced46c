"""CLI commands of `taigimed.registry`: the `taigimed model` group (registered models).

Not to be confused with `taigimed base-model` (the base models training starts from).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from taigimed.cli_options import ConfigOpt, SetOpt, TrackingOpt, WorkdirOpt, load, workdir

model_app = typer.Typer(
    help="Registered models: list versions, promote and roll back aliases.", no_args_is_help=True
)


def _fail(exc: Exception) -> None:
    typer.secho(f"error: {exc}", fg="red", err=True)
    raise typer.Exit(1) from exc


@model_app.command("list")
def list_cmd(
    config: ConfigOpt = None,
    set_: SetOpt = None,
    workdir_: WorkdirOpt = None,
    tracking_uri: TrackingOpt = None,
) -> None:
    """List registered versions with aliases, gate status, knowledge version and key metrics.

    taigimed model list --workdir /tmp/tm
    """
    from rich.console import Console
    from rich.table import Table

    from taigimed.registry import RegistryError, list_versions

    cfg = load(config, set_)
    try:
        rows = list_versions(cfg, workdir(workdir_), tracking_uri)
    except RegistryError as exc:
        _fail(exc)
    table = Table(title=f"registered model {cfg.tracking.registered_model!r}")
    for col in ("version", "aliases", "gate", "knowledge", "metrics"):
        table.add_column(col)
    for r in rows:
        metrics = ", ".join(f"{k}={v}" for k, v in sorted(r["metrics"].items()))
        gate = "passed" if r["gate_passed"] else "never passed"
        knowledge = r["knowledge"] or "—"
        table.add_row(str(r["version"]), ", ".join(r["aliases"]), gate, knowledge, metrics)
    Console().print(table)


@model_app.command("promote")
def promote_cmd(
    to: Annotated[str, typer.Option("--to", help="canary or production.")],
    version: Annotated[
        int | None,
        typer.Option(
            "--version",
            help="Version to promote (default: staging's for canary, canary's for production).",
        ),
    ] = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    workdir_: WorkdirOpt = None,
    tracking_uri: TrackingOpt = None,
) -> None:
    """Point an alias at a version that passed the gate.

    taigimed model promote --to canary          # staging's version becomes canary
    taigimed model promote --to production --version 3
    """
    from taigimed.registry import RegistryError, promote

    cfg = load(config, set_)
    try:
        move = promote(cfg, workdir(workdir_), to, version, tracking_uri)
    except RegistryError as exc:
        _fail(exc)
    was = f" (was version {move.previous})" if move.previous is not None else ""
    typer.echo(f"{move.alias} → version {move.version}{was}")


@model_app.command("rollback")
def rollback_cmd(
    alias: Annotated[str, typer.Option("--alias", help="Alias to roll back.")] = "production",
    config: ConfigOpt = None,
    set_: SetOpt = None,
    workdir_: WorkdirOpt = None,
    tracking_uri: TrackingOpt = None,
) -> None:
    """Return an alias to the version it held before.

    taigimed model rollback                 # production goes back one version
    taigimed model rollback --alias canary
    """
    from taigimed.registry import RegistryError, rollback

    cfg = load(config, set_)
    try:
        move = rollback(cfg, workdir(workdir_), alias, tracking_uri)
    except RegistryError as exc:
        _fail(exc)
    was = f"version {move.previous}" if move.previous is not None else "unset"
    if move.version is None:
        typer.echo(
            f"{move.alias} → no version (was {was}): nothing earlier and no production "
            f"version to return to; nothing serves {move.alias} now"
        )
    else:
        typer.echo(f"{move.alias} → version {move.version} (was {was})")


@model_app.command("first-release")
def first_release_cmd(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the release path here: 'first' or 'canary'."),
    ] = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    workdir_: WorkdirOpt = None,
    tracking_uri: TrackingOpt = None,
) -> None:
    """Release the very first model: with no production version yet, staging's goes to
    canary and production (its smoke test was the gate); otherwise nothing moves.

    taigimed model first-release --out /tmp/release-path

    Run after `taigimed deploy smoke` passed on staging. Writes 'first' (released: restart
    the production and canary servers) or 'canary' (production exists: run the canary
    analysis). Exit 0 either way, 1 when nothing is in staging.
    """
    from taigimed.artifacts import write_text_atomic
    from taigimed.registry import RegistryError, first_release

    cfg = load(config, set_)
    try:
        release = first_release(cfg, workdir(workdir_), tracking_uri)
    except RegistryError as exc:
        _fail(exc)
    if release.version is not None:
        typer.echo(f"canary, production → version {release.version}: {release.reason}")
    else:
        typer.echo(release.reason)
    if out:
        write_text_atomic(out, release.path)


def register(app: typer.Typer) -> None:
    """Add the `model` group to the `taigimed` app.

    `model gate` and `model register` judge and register a candidate from its eval report:
    evaluation's work (``evaluate.candidate``), so ``evaluate.cli`` adds them to this group.
    """
    app.add_typer(model_app, name="model")
