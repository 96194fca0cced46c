"""What an MCQ score must beat: baselines that read no question.

Every MCQ set in a report carries, beside the model's scores:

* ``chance``: 1 / options per item (the expected score of a uniform guess);
* ``majority_letter``: always answering the set's most frequent correct letter (an upper
  bound on any one-letter habit; it peeks at the answers);
* ``always_longest`` / ``always_shortest``: picking the option with the most / fewest
  characters (ties broken by a seeded draw, so each item is 0 or 1);
* ``options_only_acc`` / ``options_only_acc_norm``: the model itself, shown the options
  but not the question (Balepur et al. 2024, "Artifacts or Abduction"): what its priors on
  option wording, length and letter earn without reading anything.

Per-item baseline correctness is kept in each item record (``baselines``) so the gate
can run a paired one-sided test against the strongest baseline on the same items.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from taigimed.evaluate.balance import option_length
from taigimed.evaluate.metrics import metric

# The options-only baseline that goes with each MCQ metric (gen_acc has none: it would
# need a generation pass without the question).
OPTIONS_ONLY_FOR = {"acc": "options_only_acc", "acc_norm": "options_only_acc_norm"}
CHANCE = "chance"


def _pick(lengths: dict[str, int], best: int, rng: np.random.Generator) -> str:
    tied = sorted(k for k, v in lengths.items() if v == best)
    return tied[int(rng.integers(len(tied)))]


def item_baselines(items: Sequence[dict], seed: int) -> list[dict[str, float]]:
    """Per item: {baseline name: correctness} for chance, majority letter, longest, shortest."""
    golds = Counter(it["answer_idx"] for it in items)
    # Ties between letters go to the alphabetically first, so the choice is reproducible.
    majority = min(golds, key=lambda k: (-golds[k], k))
    rng = np.random.default_rng(seed)
    out = []
    for it in items:
        lengths = {k: option_length(v) for k, v in it["options"].items()}
        gold = it["answer_idx"]
        longest = _pick(lengths, max(lengths.values()), rng)
        shortest = _pick(lengths, min(lengths.values()), rng)
        out.append(
            {
                CHANCE: 1.0 / len(lengths),
                "majority_letter": float(gold == majority),
                "always_longest": float(gold == longest),
                "always_shortest": float(gold == shortest),
            }
        )
    return out


def baseline_metrics(records: Sequence[dict], n_resamples: int, seed: int) -> dict[str, Any]:
    """``{baseline: metric record}`` from item records that carry ``baselines``."""
    names: list[str] = []
    for r in records:
        names += [k for k in r.get("baselines", {}) if k not in names]
    return {
        name: metric([float(r["baselines"][name]) for r in records], n_resamples, seed)
        for name in names
        if all(name in r.get("baselines", {}) for r in records)
    }


def baselines_for(metric_name: str, available: Sequence[str]) -> list[str]:
    """The baselines a model's ``metric_name`` is compared with (its own options-only twin)."""
    own = OPTIONS_ONLY_FOR.get(metric_name)
    return [b for b in available if not b.startswith("options_only_") or b == own]


def strongest(baselines: dict[str, dict], metric_name: str) -> tuple[str, dict] | None:
    """(name, metric record) of the highest baseline relevant to ``metric_name``."""
    names = baselines_for(metric_name, list(baselines))
    if not names:
        return None
    best = max(names, key=lambda b: (baselines[b]["value"], b == CHANCE))
    return best, baselines[best]
