"""CLI commands of `taigimed.pipeline`: `taigimed pipeline run`."""

from __future__ import annotations

import typer

from taigimed.cli_options import ConfigOpt, SetOpt, TrackingOpt, WorkdirOpt, load, workdir

pipeline_app = typer.Typer(help="The whole job, with caching and resume.", no_args_is_help=True)

EXIT_GATE_FAILED = 3


@pipeline_app.command("run")
def run_cmd(
    config: ConfigOpt = None,
    set_: SetOpt = None,
    workdir_: WorkdirOpt = None,
    tracking_uri: TrackingOpt = None,
) -> None:
    """Prepare data, train both stages, evaluate, gate (retrying), register as `staging`.

    taigimed pipeline run                              # embedded defaults, CPU
    taigimed pipeline run --config tiny --workdir /tmp/tm   # about a minute

    Unchanged steps are skipped; an interrupted run resumes. Exit status 3 means the
    gate failed on every attempt and nothing was registered.
    """
    import os

    from rich.console import Console

    from taigimed.config import ConfigError
    from taigimed.pipeline.run import PipelineFailed, PipelineLocked, run_pipeline
    from taigimed.pipeline.summary import print_steps, print_summary

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    cfg = load(config, set_)
    console = Console()
    try:
        result = run_pipeline(cfg, workdir(workdir_), tracking_uri, say=console.print)
    except (ConfigError, PipelineLocked) as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc
    except PipelineFailed as exc:
        print_steps(exc.rows, console)
        typer.secho(f"error: {exc}", fg="red", err=True)
        typer.secho(
            "Fix the cause and run the same command again: finished steps are kept.", err=True
        )
        raise typer.Exit(1) from exc
    print_summary(result, console)
    if result.status != "registered":
        raise typer.Exit(EXIT_GATE_FAILED)


def register(app: typer.Typer) -> None:
    """Add the `pipeline` group to the `taigimed` app."""
    app.add_typer(pipeline_app, name="pipeline")
