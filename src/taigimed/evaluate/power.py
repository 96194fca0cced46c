"""Minimal detectable differences of paired comparisons, and the sample sizes they need.

A paired test on n items cannot see a small change: a no-regression check that passes on
150 items says only that any drop was smaller than what 150 items can detect. Every report
states that size, and a recipe may size its samples for a stated detectable difference.

Normal approximations at power ``power`` and two-sided level ``alpha`` (the gate's):

* 0/1 correctness (McNemar): MDE = (z_{1-alpha/2} + z_power) * sqrt(p_disc / n), where
  p_disc is the share of items the two models disagree on. Observed when both reports
  exist; otherwise assumed 2 p (1 - p) (two models of accuracy p with independent errors;
  correlated models disagree less, so the real MDE is usually smaller).
* per-item values (paired bootstrap): MDE = (z + z) * sd(difference) / sqrt(n), with
  sd(difference) assumed sqrt(2) * sd(values) when only one report exists.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from scipy.stats import norm

from taigimed.evaluate.metrics import BINARY_METRICS

# The share of disagreeing items assumed when sizing a sample before any model is scored:
# 0.5 is the most any two models at accuracy 0.5 with independent errors disagree.
WORST_DISCORDANCE = 0.5


def _z(alpha: float, power: float) -> float:
    return float(norm.ppf(1 - alpha / 2) + norm.ppf(power))


def mde_binary(n: int, discordance: float, alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest accuracy difference a two-sided McNemar test detects on ``n`` paired items."""
    if n <= 0:
        return math.inf
    return _z(alpha, power) * math.sqrt(max(discordance, 0.0) / n)


def mde_values(n: int, sd_diff: float, alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest mean difference of per-item values a paired test detects on ``n`` items."""
    if n <= 1:
        return math.inf
    return _z(alpha, power) * sd_diff / math.sqrt(n)


def n_for_mde(
    mde: float,
    discordance: float = WORST_DISCORDANCE,
    alpha: float = 0.05,
    power: float = 0.8,
) -> int:
    """Items a paired McNemar comparison needs to detect an accuracy change of ``mde``."""
    if not 0 < mde < 1:
        raise ValueError(f"a detectable difference must be in (0, 1), got {mde}")
    return math.ceil(_z(alpha, power) ** 2 * discordance / mde**2)


def assumed_discordance(accuracy: float) -> float:
    return 2 * accuracy * (1 - accuracy)


def set_power(
    metrics: dict[str, dict],
    item_values: dict[str, Sequence[float]],
    alpha: float,
    power: float,
) -> dict[str, dict]:
    """``{metric: {n, mde, basis}}`` for one report set, before any champion is known.

    ``item_values`` maps a metric to its per-item values (0/1 for ``BINARY_METRICS``).
    """
    out: dict[str, dict] = {}
    for name, values in item_values.items():
        n = len(values)
        if n == 0 or name not in metrics:
            continue
        binary = name in BINARY_METRICS
        mde: float | None
        if binary:
            p = sum(values) / n
            disc = assumed_discordance(p)
            basis = f"McNemar, assumed disagreement 2p(1-p) = {disc:.2f}"
            if disc == 0:
                # All right or all wrong: 2p(1-p) says nothing; assume the worst case.
                disc = WORST_DISCORDANCE
                basis = f"McNemar, no variation in this sample: worst-case disagreement {disc}"
            mde = mde_binary(n, disc, alpha, power)
        else:
            mean = sum(values) / n
            sd = math.sqrt(sum((v - mean) ** 2 for v in values) / max(n - 1, 1))
            mde = mde_values(n, math.sqrt(2) * sd, alpha, power) if sd > 0 else None
            basis = (
                "paired bootstrap, assumed sd(diff) = sqrt(2) sd(items)"
                if sd > 0
                else "paired bootstrap, no variation in this sample: not estimable"
            )
        out[name] = {"n": n, "mde": mde, "alpha": alpha, "power": power, "basis": basis}
    return out
