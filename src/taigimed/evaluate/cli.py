"""CLI commands of `taigimed.evaluate`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from taigimed.cli_options import ConfigOpt, SetOpt, WorkdirOpt, load, workdir


def register(app: typer.Typer) -> None:
    """Add this subpackage's commands to the `taigimed` app."""
    app.command("eval")(eval_command)


def eval_command(
    model: Annotated[
        str,
        typer.Option(
            "--model",
            "-m",
            help="A model folder, or a registry alias/version (staging, production, 3).",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Report JSON to write.")],
    extra_mcq: Annotated[
        list[Path] | None,
        typer.Option(
            "--extra-mcq", help="A JSONL file in the MedQA schema to score as one more set."
        ),
    ] = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full/--sample",
            help="Full sets (default) or the recipe's seeded sample of eval.sample_per_set items.",
        ),
    ] = True,
    champion_report: Annotated[
        Path | None,
        typer.Option("--champion-report", help="A champion's report JSON to plot beside this one."),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="A prepared data folder (default: the newest in WORKDIR)."),
    ] = None,
    stage2_run: Annotated[
        Path | None,
        typer.Option(
            "--stage2-run",
            help="The stage-2 run folder of this model: also apply the gate and record it.",
        ),
    ] = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    workdir_: WorkdirOpt = None,
) -> None:
    """Score a model on MedQA-TW, the Taigi medical set and general Taigi; write JSON + report.

    taigimed eval --model staging --out eval/staging.json
    taigimed eval --config tiny --model ./my-model --out /tmp/r.json --sample --extra-mcq exam.jsonl

    With --stage2-run the gate decision and its reasons are added to the report (exit 3 when
    it fails), as `taigimed model gate` does.
    """
    from taigimed.evaluate.run import evaluate_model
    from taigimed.evaluate.sets import EvalDataError

    cfg = load(config, set_)
    wd = workdir(workdir_)
    model_dir = _resolve(wd, cfg, model)
    try:
        report = evaluate_model(
            cfg,
            wd,
            model_dir,
            out,
            extra_mcq=extra_mcq or (),
            full=full,
            champion_report=champion_report,
            data_dir=data_dir,
        )
    except (EvalDataError, FileNotFoundError) as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc
    for name, res in report["sets"].items():
        cells = ", ".join(
            f"{k} {m['value']:.4f} [{m['ci_low']:.4f}, {m['ci_high']:.4f}]"
            for k, m in res["metrics"].items()
        )
        typer.echo(f"{name} (n={report['sample']['per_set_n'].get(name, '?')}): {cells}")
    typer.echo(f"wrote {out} and {out.with_suffix('.md')} in {report['seconds']:.0f} s")
    if stage2_run is None:
        typer.echo(f"gate: taigimed model gate --eval {out} --stage2-run <stage-2 run folder>")
        return
    from taigimed.pipeline.candidate import gate_candidate
    from taigimed.registry import RegistryError

    try:
        decision = gate_candidate(cfg, wd, out, stage2_run)
    except RegistryError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc
    verdict = "PASSED" if decision["passed"] else "FAILED"
    typer.echo(f"gate {verdict}: " + "; ".join(decision["reasons"]))
    if not decision["passed"]:
        raise typer.Exit(3)


def _resolve(wd, cfg, spec: str) -> Path:
    path = Path(spec).expanduser()
    if path.is_dir():
        if not (path / "config.json").exists():
            typer.secho(f"error: {path} has no config.json: not a model folder", fg="red", err=True)
            raise typer.Exit(2)
        return path.resolve()
    from taigimed.registry import RegistryError, resolve_model

    try:
        return Path(resolve_model(wd, cfg, spec).path)
    except RegistryError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc
