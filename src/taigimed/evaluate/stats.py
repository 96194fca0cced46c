"""Intervals and paired tests over per-item scores.

Every metric in a report carries a seeded percentile-bootstrap 95 % interval.
The gate compares a challenger with the champion on the *same* items, so the
paired tests here take per-item values (or 0/1 correctness) keyed by item id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

Values = Sequence[float] | Mapping[str, float] | np.ndarray


def bootstrap_ci(
    values: Values,
    statistic: Callable[[np.ndarray], float] | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    weights: Sequence[float] | np.ndarray | None = None,
) -> tuple[float, float, float]:
    """(point, low, high): percentile bootstrap over items.

    ``statistic`` maps a resampled value array to a number (default: mean). With
    ``weights`` the statistic is the ratio of sums sum(values)/sum(weights), which
    is how corpus-level rates (bits per character) pool items of different sizes.
    """
    arr = _as_array(values)
    if arr.size == 0:
        return float("nan"), float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, arr.size, size=(n_resamples, arr.size))
    if weights is not None:
        w = np.asarray(weights, dtype=float)
        if w.shape != arr.shape:
            raise ValueError("weights must have one entry per value")
        point = float(arr.sum() / w.sum())
        stats = arr[idx].sum(axis=1) / w[idx].sum(axis=1)
    elif statistic is None:
        point = float(arr.mean())
        stats = arr[idx].mean(axis=1)
    else:
        point = float(statistic(arr))
        stats = np.array([statistic(arr[row]) for row in idx])
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(stats, [alpha, 1.0 - alpha])
    return point, float(low), float(high)


def paired_bootstrap(
    a_items: Values,
    b_items: Values,
    n_resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> dict[str, float]:
    """Mean difference b - a over the items both share, with interval and two-sided p-value.

    Mappings are aligned on their common ids; sequences must be aligned already.
    p is the share of resampled differences on the other side of zero, doubled.
    """
    a, b = _align(a_items, b_items)
    if a.size == 0:
        raise ValueError("paired_bootstrap needs at least one item scored by both models")
    diff = b - a
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, diff.size, size=(n_resamples, diff.size))
    stats = diff[idx].mean(axis=1)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(stats, [alpha, 1.0 - alpha])
    point = float(diff.mean())
    tail = float(np.mean(stats <= 0)) if point >= 0 else float(np.mean(stats >= 0))
    p = min(1.0, 2.0 * max(tail, 1.0 / n_resamples)) if np.any(diff != 0) else 1.0
    return {
        "n": int(diff.size),
        "mean_a": float(a.mean()),
        "mean_b": float(b.mean()),
        "diff": point,
        "ci_low": float(low),
        "ci_high": float(high),
        "p_value": p,
    }


def mcnemar(a_correct: Values, b_correct: Values) -> dict[str, float]:
    """Exact McNemar test on paired correctness (two-sided binomial on discordant pairs).

    ``a_only``: items only model a got right; ``b_only``: items only b got right.
    """
    from scipy.stats import binomtest

    a, b = _align(a_correct, b_correct)
    a = a.astype(bool)
    b = b.astype(bool)
    a_only = int(np.sum(a & ~b))
    b_only = int(np.sum(~a & b))
    discordant = a_only + b_only
    p = 1.0 if discordant == 0 else float(binomtest(b_only, discordant, 0.5).pvalue)
    return {
        "n": int(a.size),
        "a_only": a_only,
        "b_only": b_only,
        "diff": (b_only - a_only) / a.size if a.size else 0.0,
        "p_value": p,
    }


def _as_array(values: Values) -> np.ndarray:
    if isinstance(values, Mapping):
        return np.asarray(list(values.values()), dtype=float)
    return np.asarray(values, dtype=float)


def _align(a: Values, b: Values) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(a, Mapping) != isinstance(b, Mapping):
        raise TypeError("pass both as {id: value} mappings or both as aligned sequences")
    if isinstance(a, Mapping):
        ids = sorted(set(a) & set(b))
        return (
            np.asarray([float(a[i]) for i in ids], dtype=float),
            np.asarray([float(b[i]) for i in ids], dtype=float),
        )
    aa, bb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if aa.shape != bb.shape:
        raise ValueError(f"paired inputs differ in length: {aa.size} vs {bb.size}")
    return aa, bb


def above_baseline(model_correct: Values, baseline: Values) -> dict[str, float]:
    """One-sided exact test that a model's 0/1 correctness beats a baseline's on the same items.

    A baseline whose per-item values are all 0 or 1 (always-longest, options-only, ...) is
    compared by McNemar's exact test, one-sided (the model must win more of the items they
    disagree on). A fractional baseline (chance: 1/options per item) is a known expected
    score, so the model's count of correct items is tested against it with a one-sided
    binomial test.
    """
    from scipy.stats import binomtest

    m, b = _align(model_correct, baseline)
    if m.size == 0:
        raise ValueError("above_baseline needs at least one item scored by both")
    model = m.astype(bool)
    if np.all((b == 0) | (b == 1)):
        base = b.astype(bool)
        wins, losses = int(np.sum(model & ~base)), int(np.sum(~model & base))
        n_disc = wins + losses
        p = 1.0 if n_disc == 0 else float(binomtest(wins, n_disc, 0.5, "greater").pvalue)
        test = "one-sided McNemar"
    else:
        k, p0 = int(model.sum()), float(b.mean())
        p = float(binomtest(k, model.size, p0, "greater").pvalue)
        test = "one-sided binomial"
    return {
        "n": int(m.size),
        "model": float(m.mean()),
        "baseline": float(b.mean()),
        "diff": float(m.mean() - b.mean()),
        "p_value": p,
        "test": test,
    }
