"""The `taigimed deploy` group that deploy/ (Argo, k8s) runs: each command calls the owner of
its operation (staging smoke test here, canary analysis and drift in monitor/, the model
fetch in registry/)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from taigimed.cli_options import ConfigOpt, SetOpt, WorkdirOpt, load, workdir

deploy_app = typer.Typer(
    help="Deployment checks: staging smoke test, canary analysis, drift report, model fetch.",
    no_args_is_help=True,
)


@deploy_app.command("analyze")
def analyze_cmd(
    canary: Annotated[str, typer.Option("--canary", help="Canary server URL.")],
    baseline: Annotated[str, typer.Option("--baseline", help="Baseline (production) server URL.")],
    prometheus: Annotated[str, typer.Option("--prometheus", help="Prometheus URL.")],
    window: Annotated[
        str | None, typer.Option("--window", help="Range compared, e.g. 30m (default: config).")
    ] = None,
    canary_selector: Annotated[
        str | None,
        typer.Option(
            "--canary-selector",
            help='PromQL label matchers, e.g. track="canary" (default: instance).',
        ),
    ] = None,
    baseline_selector: Annotated[
        str | None,
        typer.Option("--baseline-selector", help='PromQL label matchers, e.g. track="stable".'),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json-out", help="Also write the verdict as JSON here.")
    ] = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
) -> None:
    """Compare canary and baseline over a window; exit 0 promote, 1 rollback, 3 inconclusive.

    taigimed deploy analyze --canary http://127.0.0.1:8001 --baseline http://127.0.0.1:8000 \\
        --prometheus http://127.0.0.1:9090 --window 5m
    """
    from taigimed.monitor.analyze import analyze
    from taigimed.monitor.prometheus import PrometheusError

    cfg = load(config, set_)
    try:
        verdict = analyze(
            cfg.monitor.canary,
            canary,
            baseline,
            prometheus,
            window,
            canary_selector,
            baseline_selector,
        )
    except (PrometheusError, ValueError) as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc
    color = {"promote": "green", "rollback": "red"}.get(verdict.decision, "yellow")
    typer.secho(f"{verdict.decision} (window {verdict.window})", fg=color, bold=True)
    for reason in verdict.reasons:
        typer.echo(f"  - {reason}")
    if json_out:
        from taigimed.artifacts import write_text_atomic

        write_text_atomic(json_out, verdict.to_json())
    raise typer.Exit(verdict.exit_code)


@deploy_app.command("drift")
def drift_cmd(
    out: Annotated[Path, typer.Option("--out", help="Folder for report.md, report.html, plots.")],
    db_url: Annotated[
        str | None, typer.Option("--db-url", help="Serving database (default: as taigimed serve).")
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Prepared data version (default: WORKDIR/data/current)."),
    ] = None,
    since_days: Annotated[
        float | None, typer.Option("--since-days", help="Only production inputs this recent.")
    ] = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    workdir_: WorkdirOpt = None,
) -> None:
    """Drift report: production inputs vs training data (script, length, topics, red flags).

    taigimed deploy drift --out /tmp/drift --workdir /tmp/tm
    """
    from taigimed.monitor.drift import DriftError, drift_report

    cfg = load(config, set_)
    try:
        report = drift_report(cfg, workdir(workdir_), out, db_url, data_dir, since_days)
    except DriftError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(1) from exc
    flagged = [k for k, v in report["drifted"].items() if v]
    typer.echo(
        f"wrote {out / 'report.md'} and report.html; drifted: {', '.join(flagged) or 'none'}"
    )


@deploy_app.command("fetch-model")
def fetch_model_cmd(
    out: Annotated[Path, typer.Option("--out", help="Folder to hold the model (replaced).")],
    model: Annotated[
        str | None,
        typer.Option(
            "--model", help="Alias, version, models:/ URI or folder (default: production)."
        ),
    ] = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    workdir_: WorkdirOpt = None,
) -> None:
    """Copy the model behind a registry alias into a folder, e.g. for vLLM to serve.

    taigimed deploy fetch-model --model production --out /models/current
    """
    from taigimed.registry.fetch import FetchError, fetch_model

    cfg = load(config, set_)
    try:
        path, label = fetch_model(cfg, workdir(workdir_), model, out)
    except FetchError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"{label} → {path}")


@deploy_app.command("smoke")
def smoke_cmd(
    url: Annotated[str, typer.Option("--url", help="Base URL of the server to test.")],
    api_key_env: Annotated[
        str,
        typer.Option("--api-key-env", help="Environment variable holding an API key, if needed."),
    ] = "TAIGIMED_API_KEY",
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds per request.")] = 120.0,
    json_out: Annotated[
        Path | None, typer.Option("--json-out", help="Also write the probes as JSON here.")
    ] = None,
) -> None:
    """Smoke-test a deployed server: health, a chat turn, red flags in every script, dosing.

    taigimed deploy smoke --url http://127.0.0.1:8000

    Exit 0 when every probe passed, 1 otherwise (the promotion stops there).
    """
    import os

    from taigimed.rollout.smoke import smoke_test

    result = smoke_test(url, os.environ.get(api_key_env) or None, timeout)
    for p in result.probes:
        typer.secho(
            f"{'✓' if p.passed else '✗'} {p.name}: {p.detail}", fg=None if p.passed else "red"
        )
    if json_out:
        from taigimed.artifacts import write_text_atomic

        write_text_atomic(json_out, result.to_json())
    verdict = "passed" if result.passed else "FAILED"
    typer.secho(f"smoke test {verdict}: {url}", fg="green" if result.passed else "red", bold=True)
    raise typer.Exit(0 if result.passed else 1)


@deploy_app.command("load")
def load_cmd(
    url: Annotated[
        list[str], typer.Option("--url", help="A server to load (repeat: canary and baseline).")
    ],
    duration: Annotated[str, typer.Option("--duration", help="How long, e.g. 30m.")] = "30m",
    every: Annotated[str, typer.Option("--every", help="Time between rounds, e.g. 30s.")] = "30s",
    prometheus: Annotated[
        str | None,
        typer.Option("--prometheus", help="Skip rounds while the canary's real traffic suffices."),
    ] = None,
    canary_selector: Annotated[
        str, typer.Option("--canary-selector", help="PromQL matchers of the canary's series.")
    ] = 'track="canary"',
    need: Annotated[
        int | None,
        typer.Option("--need", help="Canary requests wanted in the window (default: config)."),
    ] = None,
    api_key_env: Annotated[
        str, typer.Option("--api-key-env", help="Environment variable holding an API key.")
    ] = "TAIGIMED_API_KEY",
    config: ConfigOpt = None,
    set_: SetOpt = None,
) -> None:
    """Benign chat turns to the canary and the baseline during a canary window, so that
    `deploy analyze` has enough requests when real traffic is low.

    taigimed deploy load --url http://canary --url http://stable --duration 30m --every 30s
    """
    import os

    import httpx

    from taigimed.rollout.load import canary_has_enough, parse_duration, synthetic_load

    cfg = load(config, set_)
    try:
        total, step = parse_duration(duration), parse_duration(every)
    except ValueError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc
    key = os.environ.get(api_key_env)
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    enough = None
    if prometheus:
        want = need if need is not None else cfg.monitor.canary.min_requests
        enough = canary_has_enough(prometheus, canary_selector, duration, want)
    clients = {u: httpx.Client(base_url=u.rstrip("/"), headers=headers, timeout=120) for u in url}
    try:
        result = synthetic_load(clients, max(1, int(total // max(step, 1))), step, enough)
    finally:
        for c in clients.values():
            c.close()
    for u in url:
        typer.echo(f"{u}: {result.sent[u]} sent, {result.failed[u]} failed")
    typer.echo(f"{result.rounds} rounds, {result.skipped_rounds} skipped (real traffic enough)")


def register(app: typer.Typer) -> None:
    """Add the `deploy` group to the `taigimed` app."""
    app.add_typer(deploy_app, name="deploy")
