"""The readable end of `taigimed pipeline run`: what ran, what was cached, metrics, decision."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from taigimed.pipeline.run import PipelineResult, StepRow

_STATUS_STYLE = {"ran": "green", "resumed": "yellow", "cached": "dim", "failed": "red"}


def _gb(mb: float | None) -> str:
    return "–" if mb is None else f"{mb / 1024:.2f} GB"


def _num(x) -> str:
    return "–" if x is None else f"{x:.4g}"


def print_steps(rows: list[StepRow], console: Console) -> None:
    steps = Table(title="Pipeline steps")
    for col in ("step", "attempt", "status", "seconds", "peak RSS", "detail"):
        steps.add_column(col)
    for r in rows:
        style = _STATUS_STYLE.get(r.status, "")
        steps.add_row(
            r.step,
            "" if r.attempt is None else str(r.attempt),
            f"[{style}]{r.status}[/{style}]" if style else r.status,
            f"{r.seconds:.1f}",
            _gb(r.peak_rss_mb),
            r.detail,
        )
    console.print(steps)


def print_summary(result: PipelineResult, console: Console | None = None) -> None:
    console = console or Console()
    print_steps(result.rows, console)

    if result.metrics:
        metrics = Table(title="Evaluation (95 % bootstrap intervals)")
        for col in ("metric", "value", "interval", "n"):
            metrics.add_column(col)
        for key, m in sorted(result.metrics.items()):
            interval = f"[{_num(m.get('ci_low'))}, {_num(m.get('ci_high'))}]"
            metrics.add_row(key, _num(m.get("value")), interval, str(m.get("n", "")))
        console.print(metrics)

    if result.attempts:
        attempts = Table(title="Gate attempts")
        for col in ("attempt", "adjustments", "decision", "reasons"):
            attempts.add_column(col)
        for a in result.attempts:
            adj = (
                ", ".join(f"{k}={v:.4g}" for k, v in a["adjustments"].items()) or "recipe as given"
            )
            verdict = "[green]passed[/green]" if a["passed"] else "[red]failed[/red]"
            attempts.add_row(
                str(a["attempt"]), adj or "recipe as given", verdict, "\n".join(a["reasons"])
            )
        console.print(attempts)

    if result.status == "registered":
        console.print(
            f"[bold green]Registered version {result.version} with alias 'staging'.[/bold green] "
            f"Report: {result.report}. Promote with `taigimed model promote --to canary`."
        )
    else:
        console.print(
            f"[bold red]The gate failed on all {len(result.attempts)} attempt(s); nothing was "
            f"registered.[/bold red] Report: {result.report}."
        )
    console.print(f"Total time: {result.seconds:.1f} s.")
    if result.peak_rss_mb is not None:
        # the heavy steps ran in processes of their own (their peaks are in the table)
        console.print(f"Peak RSS of the pipeline process itself: {_gb(result.peak_rss_mb)}.")
