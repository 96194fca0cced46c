"""CLI commands of `taigimed.data`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from taigimed.cli_options import ConfigOpt, SetOpt, WorkdirOpt, load, workdir

data_app = typer.Typer(help="Prepare versioned datasets from the sources.", no_args_is_help=True)


@data_app.command("prepare")
def prepare_cmd(
    config: ConfigOpt = None,
    set_: SetOpt = None,
    workdir_: WorkdirOpt = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write here instead of WORKDIR/data/<version>/.")
    ] = None,
    on_error: Annotated[
        str,
        typer.Option("--on-error", help="raise: stop at the first bad row; skip: count and skip."),
    ] = "raise",
) -> None:
    """Build the training and evaluation datasets (cached by content hash).

    taigimed data prepare --config tiny                       # demo sample, a few seconds
    TAIGIMED_DATA_ROOT=../shared/data taigimed data prepare   # the real files
    """
    from rich.console import Console
    from rich.table import Table

    from taigimed.data.load import load_prepared
    from taigimed.data.prepare import prepare
    from taigimed.data.report import DataFormatError
    from taigimed.data.sources import SourceError

    if on_error not in ("raise", "skip"):
        typer.secho("error: --on-error must be raise or skip", fg="red", err=True)
        raise typer.Exit(2)
    cfg = load(config, set_)
    try:
        path = prepare(cfg, workdir(workdir_), out=out, on_error=on_error)
    except (SourceError, DataFormatError, FileExistsError) as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(1) from exc
    manifest = load_prepared(path).manifest

    console = Console()
    table = Table(title=f"prepared data {manifest['version']}")
    for col in ("dataset", "rows"):
        table.add_column(col)
    for name, meta in manifest["datasets"].items():
        table.add_row(name, str(meta["rows"]))
    console.print(table)
    for name, stats in manifest["filters"].items():
        removed = sum(stats["removed"].values())
        line = f"{name}: read {stats['read']}, kept {stats['kept']}, removed {removed}"
        if stats["skipped_unreadable"]:
            line += f", skipped {stats['skipped_unreadable']} unreadable rows"
        console.print(line)
    for name, meta in manifest["sources"].items():
        if meta["absent"]:
            console.print(f"{name}: absent ({meta['absent']})")
    if manifest["demo_medqa"]:
        console.print("MedQA: demo set (set TAIGIMED_DATA_ROOT or data.medqa_dir for real data)")
    console.print(f"written to {path}")
    _knowledge(cfg, workdir(workdir_), console)


def _knowledge(cfg, wd, console) -> None:
    """The health-education cards, validated and indexed beside the datasets."""
    from taigimed.knowledge.base import build_knowledge, open_knowledge
    from taigimed.knowledge.cards import CardError

    try:
        kb = open_knowledge(cfg.knowledge, wd, build_knowledge(cfg.knowledge, wd))
    except CardError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(1) from exc
    m = kb.manifest
    note = f", {len(m['unreviewed'])} UNREVIEWED" if m["unreviewed"] else ""
    console.print(f"knowledge {m['version']}: {m['cards']} cards{note} → {kb.folder}")


@data_app.command("export-feedback")
def export_feedback_cmd(
    config: ConfigOpt = None,
    set_: SetOpt = None,
    workdir_: WorkdirOpt = None,
    db_url: Annotated[
        str | None,
        typer.Option("--db-url", help="Serving database (default: the one `taigimed serve` uses)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Parent folder instead of WORKDIR/feedback/.")
    ] = None,
) -> None:
    """Export stored answers with feedback or reviews as a scrubbed, versioned dataset.

    taigimed data export-feedback --workdir /tmp/tm     # the feedback loop's input
    """
    import json

    from taigimed.data.feedback_export import FeedbackExportError, export_feedback

    cfg = load(config, set_)
    try:
        path = export_feedback(cfg, workdir(workdir_), db_url=db_url, out=out)
    except FeedbackExportError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(1) from exc
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    rows = {name: meta["rows"] for name, meta in manifest["datasets"].items()}
    typer.echo(f"{path}: {rows}; personal data scrubbed: {manifest['pii_scrubbed']}")


@data_app.command("fetch")
def fetch_cmd(
    config: ConfigOpt = None,
    set_: SetOpt = None,
    workdir_: WorkdirOpt = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Sources folder instead of WORKDIR/sources/.")
    ] = None,
) -> None:
    """Pull new corpus files and their manifest from the object store (data.store).

    taigimed data fetch --set data.store.bucket=corpus --set data.store.endpoint_url=http://127.0.0.1:9000

    Then TAIGIMED_DATA_ROOT=WORKDIR/sources/current taigimed data prepare. An unchanged
    store downloads nothing and keeps the version, so the prepare after it is a cache hit.
    """
    from taigimed.data.fetch import FetchError, fetch_sources

    cfg = load(config, set_)
    target = out or workdir(workdir_).root / "sources"
    try:
        result = fetch_sources(cfg.data.store, target)
    except FetchError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(1) from exc
    state = "new version" if result.changed else "unchanged"
    typer.echo(
        f"sources {result.version} ({state}): downloaded {len(result.downloaded)}, "
        f"already held {result.reused}; data root {target / 'current'}"
    )
    for key in result.ignored:
        typer.echo(f"  not in any data.store.sources prefix, skipped: {key}")


def register(app: typer.Typer) -> None:
    """Add this subpackage's commands to the `taigimed` app."""
    app.add_typer(data_app, name="data")
