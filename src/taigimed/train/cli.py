"""CLI commands of `taigimed.train`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from taigimed.cli_options import ConfigOpt, SetOpt, WorkdirOpt, load, workdir


def register(app: typer.Typer) -> None:
    """Add this subpackage's commands to the `taigimed` app."""

    @app.command("train")
    def train(
        stage: Annotated[int, typer.Option("--stage", help="1 = medical, 2 = Taigi (LoRA).")],
        config: ConfigOpt = None,
        set_: SetOpt = None,
        workdir_: WorkdirOpt = None,
        resume: Annotated[
            bool, typer.Option("--resume", help="Continue the newest unfinished run.")
        ] = False,
        tracking_uri: Annotated[
            str | None,
            typer.Option("--tracking-uri", help="MLflow tracking URI (default: WORKDIR/mlflow)."),
        ] = None,
        data: Annotated[
            Path | None,
            typer.Option(
                "--data", help="Prepared data folder (default: WORKDIR/data/current.json)."
            ),
        ] = None,
        init_model: Annotated[
            Path | None,
            typer.Option("--init-model", help="Start from this model folder instead."),
        ] = None,
    ) -> None:
        """Train one stage and print its run folder.

        taigimed train --stage 1 --config tiny     # seconds, tiny random model
        taigimed train --stage 2 --config tiny
        OMP_WAIT_POLICY=PASSIVE taigimed train --stage 1   # embedded SmolLM2 on CPU, minutes
        taigimed train --stage 1 --resume                  # after an interruption
        """
        from taigimed.train.data import DatasetSchemaError
        from taigimed.train.model import TrainSetupError
        from taigimed.train.run import run_stage

        cfg = load(config, set_)
        try:
            run_dir = run_stage(
                cfg,
                workdir(workdir_),
                stage,
                data_dir=data,
                init_model=init_model,
                resume=resume,
                tracking_uri=tracking_uri,
            )
        except (TrainSetupError, DatasetSchemaError, FileNotFoundError, ValueError) as exc:
            typer.secho(f"error: {exc}", fg="red", err=True)
            raise typer.Exit(2) from exc
        typer.echo(str(run_dir))
