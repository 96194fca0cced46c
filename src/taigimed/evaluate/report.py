"""The human-readable report: Markdown tables plus PNG plots beside the JSON.

``<stem>.md`` and ``<stem>_<set>.png`` (metric bars with 95 % intervals, the
champion beside the challenger when a champion report is given, and the answer
letter distribution for MCQ sets).
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from taigimed.artifacts import write_bytes_atomic, write_text_atomic
from taigimed.evaluate.metrics import LOWER_IS_BETTER


def key_metrics(report: dict[str, Any]) -> dict[str, dict[str, float]]:
    """``set.metric`` → {value, ci_low, ci_high, n} for every headline metric in a report."""
    out = {}
    for set_name, res in report.get("sets", {}).items():
        for metric, m in res.get("metrics", {}).items():
            out[f"{set_name}.{metric}"] = {k: m.get(k) for k in ("value", "ci_low", "ci_high", "n")}
    return out


def headline_values(metrics: dict[str, dict[str, float]]) -> dict[str, float]:
    """``set.metric`` → value, from ``key_metrics``, leaving out what could not be computed."""
    return {k: v["value"] for k, v in metrics.items() if v.get("value") is not None}


def _fmt(m: dict[str, Any]) -> str:
    return f"{m['value']:.4f} [{m['ci_low']:.4f}, {m['ci_high']:.4f}] (n={m['n']})"


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def write_report(report: dict[str, Any], out_json: Path, champion: dict | None = None) -> Path:
    """Write ``<stem>.md`` and its plots; returns the Markdown path."""
    out_json = Path(out_json)
    stem = out_json.with_suffix("")
    sample = report["sample"]
    lines = [
        f"# Evaluation of `{report['model']['name']}`",
        "",
        f"Model: `{report['model']['path']}`. Time: {report['seconds']:.0f} s.",
        "",
    ]
    if sample["full"]:
        lines.append("Scored the **full** sets.")
    else:
        lines.append(
            f"Scored a **fixed, seeded, stratified sample** (seed {sample['seed']}, up to "
            f"{sample['sample_per_set']} items per set), not the full sets: intervals reflect it."
        )
    for name, why in report.get("skipped_sets", {}).items():
        lines += ["", f"**{name} not scored**: {why}."]
    lines += ["", "| set | n |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in sample["per_set_n"].items()]
    lines += ["", "Every value: point [95 % bootstrap interval] (n)."]
    if champion:
        lines.append(f"Champion: `{champion['model']['path']}`.")
    for name, res in report["sets"].items():
        lines += [
            "",
            f"## {name}",
            "",
            "| metric | challenger |" + (" champion |" if champion else ""),
        ]
        lines.append("|---|---|" + ("---|" if champion else ""))
        champ_set = (champion or {}).get("sets", {}).get(name, {})
        for metric_name, m in res["metrics"].items():
            row = (
                f"| {metric_name}{' (lower is better)' if metric_name in LOWER_IS_BETTER else ''} "
            )
            row += f"| {_fmt(m)} |"
            if champion:
                cm = champ_set.get("metrics", {}).get(metric_name)
                row += f" {_fmt(cm) if cm else '–'} |"
            lines.append(row)
        lines += _baseline_lines(res) + _power_lines(res)
        if res.get("categories"):
            metric_names = sorted({k for c in res["categories"].values() for k in c})
            lines += ["", "| category | " + " | ".join(metric_names) + " |"]
            lines.append("|---|" + "---|" * len(metric_names))
            for cat, ms in res["categories"].items():
                cells = [_fmt(ms[k]) if k in ms else "–" for k in metric_names]
                lines.append(f"| {cat} | " + " | ".join(cells) + " |")
        if "letter_distribution" in res:
            lines += [
                "",
                "Predicted letters (log-likelihood): " + _dist(res["letter_distribution"]),
            ]
            lines.append("Gold letters: " + _dist(res.get("gold_letter_distribution", {})))
            if "gen_letter_distribution" in res:
                lines.append("Generated letters: " + _dist(res["gen_letter_distribution"]))
        png = _plot_set(name, res, champ_set or None, Path(f"{stem}_{_slug(name)}.png"))
        lines += ["", f"![{name}]({png.name})"]
    md = stem.with_suffix(".md")
    write_text_atomic(md, "\n".join(lines) + "\n")
    return md


def _baseline_lines(res: dict[str, Any]) -> list[str]:
    """Baselines that read no question, and the set's position/length balance."""
    if not res.get("baselines"):
        return []
    lines = ["", "Baselines (what a score must beat; none reads the question):", ""]
    lines += ["| baseline | value |", "|---|---|"]
    lines += [f"| {k} | {_fmt(m)} |" for k, m in res["baselines"].items()]
    bal = res.get("balance")
    if bal:
        verdict = "balanced" if bal["passed"] else "NOT balanced: " + "; ".join(bal["problems"])
        lines += [
            "",
            f"Set balance (all {bal['n']} items of the set, ties split): correct option "
            f"longest in {bal['longest_share']:.0%}, shortest in {bal['shortest_share']:.0%}; "
            f"{verdict}.",
        ]
    return lines


def _power_lines(res: dict[str, Any]) -> list[str]:
    if not res.get("power"):
        return []
    cells = [
        f"{k} ±{p['mde']:.3g} (n={p['n']})" if p["mde"] is not None else f"{k} n/a (n={p['n']})"
        for k, p in res["power"].items()
    ]
    first = next(iter(res["power"].values()))
    return [
        "",
        f"Minimal detectable paired difference vs a champion (alpha {first['alpha']:g}, "
        f"power {first['power']:.0%}): " + "; ".join(cells) + ".",
    ]


def _dist(d: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in d.items())


def _plot_set(name: str, res: dict, champ: dict | None, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = list(res["metrics"])
    panels = len(metrics) + (1 if "letter_distribution" in res else 0)
    fig, axes = plt.subplots(1, panels, figsize=(2.6 * panels + 0.6, 3.2), squeeze=False)
    for ax, metric_name in zip(axes[0], metrics, strict=False):
        bars = [("challenger", res["metrics"][metric_name], "tab:blue")]
        if champ and metric_name in champ.get("metrics", {}):
            bars.insert(0, ("champion", champ["metrics"][metric_name], "tab:gray"))
        for x, (label, m, color) in enumerate(bars):
            err = [[m["value"] - m["ci_low"]], [m["ci_high"] - m["value"]]]
            ax.bar(x, m["value"], yerr=err, color=color, capsize=4, label=label)
        ax.set_xticks(range(len(bars)), [b[0] for b in bars])
        ax.set_title(metric_name + (" ↓" if metric_name in LOWER_IS_BETTER else ""), fontsize=9)
    if "letter_distribution" in res:
        ax = axes[0][-1]
        letters = list(res["letter_distribution"])
        ax.bar(letters, [res["letter_distribution"][k] for k in letters], color="tab:blue")
        gold = res.get("gold_letter_distribution", {})
        ax.plot(letters, [gold.get(k, 0) for k in letters], "k_", markersize=18, label="gold")
        ax.set_title("predicted letters", fontsize=9)
    fig.suptitle(name, fontsize=10)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.14, top=0.8, wspace=0.45)
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=90)
    plt.close(fig)
    write_bytes_atomic(path, png.getvalue())
    return path
