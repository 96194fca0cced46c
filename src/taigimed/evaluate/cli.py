"""CLI commands of `taigimed.evaluate`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from taigimed.cli_options import ConfigOpt, SetOpt, TrackingOpt, WorkdirOpt, load, workdir


def register(app: typer.Typer) -> None:
    """Add this subpackage's commands to the `taigimed` app: `eval`; `model gate` /
    `model register` in the registry's `model` group (gating a candidate is evaluation's);
    `knowledge eval | medrag | grounding` in the knowledge group."""
    from taigimed.evaluate import knowledge_cli
    from taigimed.knowledge.cli import knowledge_app
    from taigimed.registry.cli import model_app

    knowledge_cli.register(knowledge_app)
    app.command("eval")(eval_command)
    model_app.command("gate")(gate_command)
    model_app.command("register")(register_command)


ModelOpt = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        help="A model folder, or a registry alias/version (staging, production, 3). "
        "Without it, only the --extra-mcq files' balance check is printed.",
    ),
]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="Report JSON to write.")]
ExtraMcqOpt = Annotated[
    list[Path] | None,
    typer.Option("--extra-mcq", help="A JSONL file in the MedQA schema to score as one more set."),
]
FullOpt = Annotated[
    bool,
    typer.Option(
        "--full/--sample",
        help="Full sets (default) or the recipe's seeded sample "
        "(sized by eval.detectable_difference, else eval.sample_per_set).",
    ),
]
ChampionReportOpt = Annotated[
    Path | None,
    typer.Option("--champion-report", help="A champion's report JSON to plot beside this one."),
]
DataDirOpt = Annotated[
    Path | None,
    typer.Option("--data-dir", help="A prepared data folder (default: the newest in WORKDIR)."),
]
GateRunOpt = Annotated[
    Path | None,
    typer.Option(
        "--stage2-run",
        help="The stage-2 run folder of this model: then gate it as `taigimed model gate` does.",
    ),
]


def eval_command(
    model: ModelOpt = None,
    out: OutOpt = None,
    extra_mcq: ExtraMcqOpt = None,
    full: FullOpt = True,
    champion_report: ChampionReportOpt = None,
    data_dir: DataDirOpt = None,
    stage2_run: GateRunOpt = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    workdir_: WorkdirOpt = None,
) -> None:
    """Score a model on MedQA-TW, the Taigi medical set and general Taigi; write JSON + report.

    taigimed eval --model staging --out eval/staging.json
    taigimed eval --config tiny --model ./my-model --out /tmp/r.json --sample --extra-mcq exam.jsonl
    taigimed eval --extra-mcq exam.jsonl      # only check the file's position/length balance

    With --stage2-run the report is then gated as `taigimed model gate` does (same output,
    exit 3 when refused).
    """
    balanced = _print_balance(extra_mcq or ())
    if model is None:
        _exit_after_balance(bool(extra_mcq), balanced)
    if out is None:
        typer.secho("error: --out is required with --model", fg="red", err=True)
        raise typer.Exit(2)
    cfg, wd = load(config, set_), workdir(workdir_)
    model_dir = _resolve(wd, cfg, model)
    report = _evaluate(cfg, wd, model_dir, out, extra_mcq or (), full, champion_report, data_dir)
    _print_report(report, out)
    if stage2_run is None:
        typer.echo(f"gate: taigimed model gate --eval {out} --stage2-run <stage-2 run folder>")
        return
    _gate_after_eval(cfg, wd, out, stage2_run)


def _exit_after_balance(any_files: bool, balanced: bool) -> None:
    """Without --model: exit 0 when every --extra-mcq file is balanced, 1 when not."""
    if not any_files:
        typer.secho("error: give --model (and --out), or --extra-mcq to check", err=True)
        raise typer.Exit(2)
    raise typer.Exit(0 if balanced else 1)


def _gate_after_eval(cfg, wd, out: Path, stage2_run: Path) -> None:
    """``eval --stage2-run``: the one gate on the report just written (bad input exits 2)."""
    from taigimed.registry import RegistryError

    try:
        _gate_and_print(cfg, wd, out, stage2_run)
    except RegistryError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc


def _evaluate(cfg, wd, model_dir, out, extra_mcq, full, champion_report, data_dir) -> dict:
    """``evaluate_model``'s report; a missing or bad input exits 2 with what to fix."""
    from taigimed.evaluate.eval_sets import EvalDataError
    from taigimed.evaluate.run import evaluate_model

    try:
        return evaluate_model(
            cfg,
            wd,
            model_dir,
            out,
            extra_mcq=extra_mcq,
            full=full,
            champion_report=champion_report,
            data_dir=data_dir,
        )
    except (EvalDataError, FileNotFoundError) as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc


def _print_report(report: dict, out: Path) -> None:
    """Each set's metrics with 95 % intervals, baselines and detectable difference."""
    for name, res in report["sets"].items():
        cells = ", ".join(
            f"{k} {m['value']:.4f} [{m['ci_low']:.4f}, {m['ci_high']:.4f}]"
            for k, m in res["metrics"].items()
        )
        typer.echo(f"{name} (n={report['sample']['per_set_n'].get(name, '?')}): {cells}")
        if res.get("baselines"):
            base = ", ".join(f"{k} {m['value']:.3f}" for k, m in res["baselines"].items())
            typer.echo(f"  baselines (no question read): {base}")
        if res.get("power"):
            mde = ", ".join(
                f"{k} ±{p['mde']:.3g}" for k, p in res["power"].items() if p["mde"] is not None
            )
            typer.echo(f"  detectable paired difference at this n: {mde}")
    typer.echo(f"wrote {out} and {out.with_suffix('.md')} in {report['seconds']:.0f} s")


EvalOpt = Annotated[Path, typer.Option("--eval", help="The candidate's eval report JSON.")]
Stage2Opt = Annotated[
    Path, typer.Option("--stage2-run", help="The candidate's stage-2 run folder (has run.json).")
]


def gate_command(
    eval_json: EvalOpt,
    stage2_run: Stage2Opt,
    out: Annotated[
        Path | None, typer.Option("--out", help="Decision JSON (default: <eval>.gate.json).")
    ] = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    workdir_: WorkdirOpt = None,
    tracking_uri: TrackingOpt = None,
) -> None:
    """Decide whether a candidate may be registered (exit 0 passed, 3 refused).

    taigimed model gate --eval W/eval/candidate.json --stage2-run W/runs/stage2/<run>

    (W: the work directory.)

    The decision and its reasons go into the eval JSON, --out and the stage-2 MLflow run.
    `taigimed pipeline run` does this (and retries) by itself; `taigimed eval --stage2-run`
    runs this after evaluating.
    """
    from taigimed.registry import RegistryError

    cfg = load(config, set_)
    try:
        _gate_and_print(cfg, workdir(workdir_), eval_json, stage2_run, out, tracking_uri)
    except RegistryError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(1) from exc


def _gate_and_print(cfg, wd, eval_json, stage2_run, out=None, tracking_uri=None) -> None:
    """The one gate: decide, record, print the verdict and its reasons; exit 3 if refused."""
    from taigimed.evaluate.candidate import decision_lines, gate_candidate

    decision = gate_candidate(cfg, wd, eval_json, stage2_run, out, tracking_uri)
    for line in decision_lines(decision):
        typer.echo(line)
    if not decision["passed"]:
        raise typer.Exit(3)


def register_command(
    eval_json: EvalOpt,
    stage2_run: Stage2Opt,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    workdir_: WorkdirOpt = None,
    tracking_uri: TrackingOpt = None,
) -> None:
    """Register a candidate that passed `taigimed model gate` and point `staging` at it.

    taigimed model register --eval W/eval/candidate.json --stage2-run W/runs/stage2/<run>
    """
    from taigimed.evaluate.candidate import register_candidate
    from taigimed.registry import RegistryError

    cfg = load(config, set_)
    try:
        rv = register_candidate(cfg, workdir(workdir_), eval_json, stage2_run, tracking_uri)
    except RegistryError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"registered {rv.name} version {rv.version} → staging")


def _print_balance(paths) -> bool:
    """Print each extra MCQ file's position/length balance; True when all are balanced."""
    from taigimed.evaluate.balance import check_balance
    from taigimed.evaluate.eval_sets import EvalDataError, load_extra_mcq

    ok = True
    for path in paths:
        try:
            report = check_balance(load_extra_mcq(path))
        except EvalDataError as exc:
            typer.secho(f"error: {exc}", fg="red", err=True)
            raise typer.Exit(2) from exc
        ok &= report.passed
        color = None if report.passed else "yellow"
        typer.secho(f"{path} balance: {report.summary()}", fg=color)
    return ok


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
