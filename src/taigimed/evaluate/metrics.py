"""Metric records ``{value, n, ci_low, ci_high}`` and per-item values for paired tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from taigimed.evaluate.stats import bootstrap_ci

Metric = dict[str, float | int]

# Item field holding each MCQ metric's per-item correctness in a report.
MCQ_ITEM_FIELDS = {"acc": "correct", "acc_norm": "correct_norm", "gen_acc": "gen_correct"}
LOWER_IS_BETTER = {"bits_per_char", "rubric_violations"}
# Metrics whose per-item values are 0/1 (paired by McNemar, not by bootstrap).
BINARY_METRICS = {*MCQ_ITEM_FIELDS, "rubric_violations"}


def metric(
    values: Sequence[float], n_resamples: int, seed: int, weights: Sequence[float] | None = None
) -> Metric:
    """Mean (or ratio of sums with ``weights``) with a bootstrap 95 % interval."""
    value, low, high = bootstrap_ci(values, n_resamples=n_resamples, seed=seed, weights=weights)
    return {"value": value, "n": len(values), "ci_low": low, "ci_high": high}


def chrf_metric(
    hyps: Sequence[str], refs: Sequence[str], n_resamples: int, seed: int, word_order: int = 0
) -> tuple[Metric, list[float]]:
    """Corpus chrF (sacrebleu) with an interval from resampling sentences, and sentence chrF.

    ``word_order=2`` gives chrF++ (character n-grams plus word uni- and bigrams).

    The corpus score sums character n-gram statistics over sentences, so the
    bootstrap resamples those per-sentence statistics rather than averaging scores.
    """
    from sacrebleu.metrics import CHRF

    chrf = CHRF(word_order=word_order)
    if not hyps:
        return {"value": float("nan"), "n": 0, "ci_low": float("nan"), "ci_high": float("nan")}, []
    stats = np.asarray(chrf._extract_corpus_statistics(list(hyps), [list(refs)]), dtype=float)
    value = chrf._compute_score_from_stats(stats.sum(axis=0).tolist()).score
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(stats), size=(n_resamples, len(stats)))
    boot = [chrf._compute_score_from_stats(stats[row].sum(axis=0).tolist()).score for row in idx]
    low, high = np.quantile(boot, [0.025, 0.975])
    sentence = [chrf.sentence_score(h, [r]).score for h, r in zip(hyps, refs, strict=True)]
    return {"value": float(value), "n": len(hyps), "ci_low": float(low), "ci_high": float(high)}, (
        sentence
    )


def item_values(set_result: dict[str, Any], metric_name: str) -> dict[str, float]:
    """``{item id: value}`` for one metric of one set in a report, for paired tests.

    MCQ metrics give 0/1 correctness; chrF and bits-per-character give the
    sentence-level value. Both models' reports align on these ids.
    """
    if metric_name in MCQ_ITEM_FIELDS:
        field = MCQ_ITEM_FIELDS[metric_name]
        return {it["id"]: float(it[field]) for it in set_result.get("items", []) if field in it}
    rows = set_result.get("items", []) + set_result.get("open_items", [])
    found = {it["id"]: float(it["value"]) for it in rows if it.get("metric") == metric_name}
    if not found:
        raise KeyError(f"no per-item values for metric {metric_name!r} in this set")
    return found
