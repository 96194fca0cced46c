"""The deployment gate: may this challenger replace what is deployed?

Three kinds of check, each recorded as {name, value, threshold, passed, detail}:

* absolute floors/ceilings on report metrics (``gate.at_least`` / ``gate.at_most``);
* no statistically significant regression against the champion (the model at
  ``gate.champion_alias``) on the items both reports scored: exact McNemar for MCQ
  correctness, paired bootstrap for other per-item values;
* stage 2 must have improved its own Taigi validation loss (``gate.min_stage2_gain``);
* beating the set's strongest baseline (``gate.above_baseline``): one-sided test of the
  model's per-item correctness against chance, the majority letter, always-longest/-shortest
  and its own options-only score (``taigimed.evaluate.baselines``); advisory (recorded, not
  blocking) when ``gate.above_baseline_advisory`` says the recipe's model is at chance;
* the stage-2 forgetting bound: the Mandarin medical validation loss may rise during
  stage 2 (relative to the stage-1 model it started from, as stage 2's run.json
  records) by at most ``gate.max_forgetting``.

A check that cannot be computed (metric missing) fails, naming what is missing: a
gate that silently passes on absent evidence would deploy anything.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from taigimed.evaluate.config import GateConfig
from taigimed.evaluate.metrics import LOWER_IS_BETTER, MCQ_ITEM_FIELDS


def _set_result(report: dict, key: str) -> tuple[dict | None, str]:
    set_name, _, metric = key.rpartition(".")
    return report.get("sets", {}).get(set_name), metric


def metric_value(report: dict, key: str) -> float | None:
    """The value of ``set.metric`` (e.g. ``medqa_tw.acc``) in an eval report, or None."""
    res, metric = _set_result(report, key)
    m = (res or {}).get("metrics", {}).get(metric)
    if m is None or m.get("value") is None or math.isnan(m["value"]):
        return None
    return float(m["value"])


def item_values(report: dict, key: str) -> dict[str, float] | None:
    """Per-item values of ``set.metric`` keyed by item id, or None when absent."""
    from taigimed.evaluate.metrics import item_values as values_of

    res, metric = _set_result(report, key)
    if res is None:
        return None
    try:
        found = values_of(res, metric)
    except KeyError:
        return None
    return found or None


@dataclass
class Check:
    name: str
    value: float | None
    threshold: float | None
    passed: bool
    detail: str = ""
    blocking: bool = True


@dataclass
class GateDecision:
    passed: bool
    reasons: list[str]
    checks: list[Check] = field(default_factory=list)
    champion: dict[str, Any] | None = None
    knowledge_version: str | None = None  # the cards judged with the model; registered with it

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "reasons": list(self.reasons),
            "checks": [asdict(c) for c in self.checks],
            "champion": self.champion,
            "knowledge_version": self.knowledge_version,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GateDecision:
        return cls(
            passed=bool(d["passed"]),
            reasons=list(d.get("reasons", [])),
            checks=[Check(**c) for c in d.get("checks", [])],
            champion=d.get("champion"),
            knowledge_version=d.get("knowledge_version"),
        )


def _fmt(x: float | None) -> str:
    return "missing" if x is None else f"{x:.4g}"


def _absolute(report: dict, gate: GateConfig) -> list[Check]:
    checks = []
    for key, floor in sorted(gate.at_least.items()):
        v = metric_value(report, key)
        ok = v is not None and v >= floor
        checks.append(
            Check(
                f"{key} >= {floor:g}",
                v,
                floor,
                ok,
                "" if v is not None else f"the report has no metric {key}",
            )
        )
    for key, ceiling in sorted(gate.at_most.items()):
        v = metric_value(report, key)
        ok = v is not None and v <= ceiling
        checks.append(
            Check(
                f"{key} <= {ceiling:g}",
                v,
                ceiling,
                ok,
                "" if v is not None else f"the report has no metric {key}",
            )
        )
    return checks


def _regression(report: dict, champion: dict, key: str, gate: GateConfig, seed: int) -> Check:
    from taigimed.evaluate import stats

    name = f"{key}: no significant regression vs champion"
    mine, theirs = item_values(report, key), item_values(champion, key)
    if mine is None or theirs is None:
        which = "challenger" if mine is None else "champion"
        return Check(name, None, gate.alpha, False, f"the {which} report has no per-item {key}")
    shared = set(mine) & set(theirs)
    if len(shared) < gate.min_paired_items:
        # Different item samples (e.g. a data release changed the test set) cannot be
        # paired; the floors still apply, so this is recorded as a pass with the reason.
        return Check(
            name,
            None,
            gate.alpha,
            True,
            f"skipped: only {len(shared)} items in common (< {gate.min_paired_items})",
        )
    metric = key.rsplit(".", 1)[-1]
    if metric in MCQ_ITEM_FIELDS:
        res = stats.mcnemar(theirs, mine)
        test = "McNemar"
    else:
        res = stats.paired_bootstrap(theirs, mine, seed=seed)
        test = "paired bootstrap"
    diff, p = res["diff"], res["p_value"]
    worse = diff > 0 if metric in LOWER_IS_BETTER else diff < 0
    ok = not (worse and p < gate.alpha)
    mde = _paired_mde(theirs, mine, metric, gate.alpha)
    detail = (
        f"{test} on {res['n']} items: challenger - champion = {diff:+.4g}, p = {p:.3g}; "
        f"detectable at 80 % power: {mde:.3g}"
    )
    return Check(name, p, gate.alpha, ok, detail)


def _paired_mde(a: dict[str, float], b: dict[str, float], metric: str, alpha: float) -> float:
    """The smallest difference this paired comparison could see (taigimed.evaluate.power)."""
    from taigimed.evaluate import power

    ids = sorted(set(a) & set(b))
    diffs = [b[i] - a[i] for i in ids]
    if metric in MCQ_ITEM_FIELDS:
        return power.mde_binary(len(ids), sum(d != 0 for d in diffs) / len(ids), alpha)
    mean = sum(diffs) / len(diffs)
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / max(len(diffs) - 1, 1))
    return power.mde_values(len(ids), sd, alpha)


def _above_baseline(report: dict, key: str, gate: GateConfig) -> Check:
    from taigimed.evaluate import stats
    from taigimed.evaluate.baselines import strongest

    res, metric = _set_result(report, key)
    blocking = not gate.above_baseline_advisory
    name = f"{key} > strongest baseline (one-sided, alpha {gate.alpha:g})"
    mine = item_values(report, key)
    found = strongest((res or {}).get("baselines", {}), metric)
    if mine is None or found is None or metric not in MCQ_ITEM_FIELDS:
        why = f"the report has no per-item {key} or no baselines for it"
        return Check(name, None, gate.alpha, False, why, blocking)
    base_name, _ = found
    base = {
        it["id"]: float(it["baselines"][base_name])
        for it in res.get("items", [])
        if base_name in it.get("baselines", {})
    }
    out = stats.above_baseline(mine, base)
    ok = out["p_value"] < gate.alpha
    detail = (
        f"{out['test']} on {out['n']} items: {out['model']:.3f} vs {base_name} "
        f"{out['baseline']:.3f}, p = {out['p_value']:.3g}"
        + ("" if blocking else "; advisory: this recipe's model is at chance (smoke test)")
    )
    return Check(name, out["p_value"], gate.alpha, ok, detail, blocking)


def forgetting_check(gate: GateConfig, stage2: dict | None) -> Check | None:
    """The forgetting bound on stage 2's run.json ``metrics``; the model card shows this
    same check, so a card can never call "within the bound" what the gate rejects."""
    if gate.forgetting_before is None:
        return None
    before = (stage2 or {}).get(gate.forgetting_before)
    after = (stage2 or {}).get(gate.forgetting_after)
    name = f"forgetting: medical loss rise in stage 2 <= {gate.max_forgetting:.0%}"
    if before is None or after is None:
        missing = gate.forgetting_before if before is None else gate.forgetting_after
        return Check(name, None, gate.max_forgetting, False, f"stage 2 run.json lacks {missing}")
    rise = (after - before) / abs(before) if before else (math.inf if after > before else 0.0)
    ok = rise <= gate.max_forgetting
    return Check(name, rise, gate.max_forgetting, ok, f"{before:.4g} after stage 1 → {after:.4g}")


def _stage2_gain(gate: GateConfig, stage2: dict | None) -> Check | None:
    if gate.min_stage2_gain is None:
        return None
    before = (stage2 or {}).get("val_loss_before")
    after = (stage2 or {}).get("val_loss_after")
    name = f"stage 2 lowers its Taigi validation loss by >= {gate.min_stage2_gain:.0%}"
    if before is None or after is None:
        return Check(name, None, gate.min_stage2_gain, False, "stage 2 run.json lacks val_loss_*")
    gain = (before - after) / abs(before) if before else 0.0
    ok = gain >= gate.min_stage2_gain
    return Check(name, gain, gate.min_stage2_gain, ok, f"{before:.4g} → {after:.4g}")


def knowledge_check(gate: GateConfig, knowledge_report: dict | None) -> Check | None:
    """Held-out recall@3 of the knowledge version, in its weakest script, against the floor."""
    floor = gate.knowledge_min_recall_at_3
    if floor is None:
        return None
    name = f"knowledge: held-out recall@3 >= {floor:.2f} in every script"
    if not knowledge_report:
        return Check(name, None, floor, False, "no knowledge report (taigimed knowledge eval)")
    by_script = knowledge_report["heldout"]["by_script"]
    scored = {s: m["recall@3"]["value"] for s, m in by_script.items() if m["recall@3"]}
    if not scored:
        return Check(name, None, floor, False, "the held-out set has no on-topic questions")
    weakest = min(scored, key=scored.get)
    detail = f"version {knowledge_report['knowledge_version']}, weakest script {weakest}"
    return Check(name, scored[weakest], floor, scored[weakest] >= floor, detail)


def decide(
    report: dict,
    gate: GateConfig,
    *,
    champion_report: dict | None = None,
    champion: dict[str, Any] | None = None,
    stage2_metrics: dict | None = None,
    knowledge_report: dict | None = None,
    seed: int = 0,
) -> GateDecision:
    """The decision for ``report`` (the challenger's eval report).

    ``champion_report`` is the production model's report (None when nothing is in
    production: the relative checks are then skipped and say so); ``champion``
    describes it (name, version) for the record; ``stage2_metrics`` is the
    ``metrics`` of stage 2's run.json (its medical loss before and after stage 2);
    ``knowledge_report`` is ``evaluate.knowledge.evaluate_knowledge``'s report on the
    knowledge version the model will serve.
    """
    checks = _absolute(report, gate)
    checks += [_above_baseline(report, k, gate) for k in gate.above_baseline]
    if champion_report is not None:
        checks += [
            _regression(report, champion_report, k, gate, seed) for k in gate.no_regression_on
        ]
    elif gate.no_regression_on:
        why = (
            f"version {champion.get('version')} at {gate.champion_alias!r} has no readable report"
            if champion
            else f"no model holds the alias {gate.champion_alias!r} yet"
        )
        checks.append(Check("champion comparison", None, None, True, f"skipped: {why}"))
    for extra in (
        forgetting_check(gate, stage2_metrics),
        _stage2_gain(gate, stage2_metrics),
        knowledge_check(gate, knowledge_report),
    ):
        if extra is not None:
            checks.append(extra)
    reasons = [
        f"{c.name}: {_fmt(c.value)}" + (f" ({c.detail})" if c.detail else "")
        for c in checks
        if not c.passed and c.blocking
    ]
    passed = not reasons
    if passed:
        blocking = [c for c in checks if c.blocking]
        reasons = [f"all {len(blocking)} checks passed"]
    reasons += [
        f"advisory, not blocking: {c.name}: {_fmt(c.value)} ({c.detail})"
        for c in checks
        if not c.passed and not c.blocking
    ]
    version = knowledge_report.get("knowledge_version") if knowledge_report else None
    return GateDecision(passed, reasons, checks, champion, version)
