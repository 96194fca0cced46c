"""MODEL_CARD.md for a trained stage: where it came from, how it was trained, what it scored."""

from __future__ import annotations

from pathlib import Path

from taigimed.config import Config
from taigimed.evaluate.gate import forgetting_check

_PURPOSE = (
    "TaigiMed gives preliminary health information in Taiwanese Hokkien (Taigi) for elderly "
    "speakers. It is **not** a diagnosis tool: answers must say so, and emergencies go to 119."
)


def _fmt(value) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def write_model_card(path: Path, cfg: Config, stage: int, run: dict) -> None:
    stage_cfg = getattr(cfg.train, f"stage{stage}")
    m = run["metrics"]
    lines = [
        f"# TaigiMed stage {stage} model ({run['run_name']})",
        "",
        _PURPOSE,
        "",
        "## Provenance",
        f"- Base model: `{run['base_model']}`; this stage started from `{run['start_model']}`",
        f"- Data version: `{run['data_version']}` ({run['data_dir']})",
        f"- Recipe: `{cfg.name}`, config fingerprint `{run['config_fingerprint'][:16]}`",
        f"- MLflow run: `{run['mlflow_run_id']}`",
        "",
        "## Hyperparameters",
    ]
    lines += [f"- {k}: {_fmt(v)}" for k, v in stage_cfg.model_dump(mode="json").items()]
    lines += [
        f"- precision: {run.get('precision', {}).get('used', cfg.train.precision)}",
        f"- gradient_checkpointing: {cfg.train.gradient_checkpointing}",
        "",
        "## Metrics",
        "| metric | value |",
        "|---|---|",
    ]
    lines += [f"| {k} | {_fmt(v)} |" for k, v in m.items()]
    if stage == 2 and (check := forgetting_check(cfg.gate, m)) is not None:
        if check.value is None:
            verdict = f"not computed: {check.detail}"
        else:
            verdict = (
                f"medical validation loss rose by {check.value:+.1%}, "
                f"{'within' if check.passed else '**exceeds**'} the bound of "
                f"{check.threshold:.0%} (`gate.max_forgetting`)"
            )
        lines += ["", f"Forgetting check (the deployment gate's): {verdict}."]
    lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
