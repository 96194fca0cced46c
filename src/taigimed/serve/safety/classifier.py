"""The learned second opinion beside the red-flag rules, as serving reads it.

A logistic regression over character 1–3-grams of the standardised text and its canonical
form (:mod:`taigimed.serve.safety.canonical`), shipped as JSON (``model/triage_classifier.json``:
n-grams, idf, weights, threshold, the SHA-256 of its corpus and the rules version it was
built beside) and scored here with numpy: no fit, no pickle, no scikit-learn. It runs beside
the rules: a message is an emergency when either fires. ``safety.in_effect`` loads it only
together with the rules it was built for.

How it is trained and its threshold calibrated: :mod:`taigimed.serve.safety.builders.classifier`,
rebuilt with ``python -m taigimed.serve.safety.builders.classifier``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from taigimed.serve.safety.canonical import canonical

MODEL_PATH = Path(__file__).parent / "model" / "triage_classifier.json"
REBUILD_COMMAND = "python -m taigimed.serve.safety.builders.classifier"
NGRAMS = (1, 3)


def features_text(standardised: str, variants: dict[str, str] | None = None) -> str:
    """What the classifier reads: the standardised text and its canonical form."""
    return f"{standardised.lower()} ‖ {canonical(standardised, variants)}"


@dataclass(frozen=True)
class TriageClassifier:
    vocabulary: dict[str, int]
    idf: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float
    # The rules version it was built beside; ``safety.in_effect`` refuses any other.
    rules_version: str = ""

    def score(self, standardised: str, variants: dict[str, str] | None = None) -> float:
        """P(emergency) for one standardised message."""
        text = features_text(standardised, variants)
        counts: dict[int, int] = {}
        lo, hi = NGRAMS
        for n in range(lo, hi + 1):
            for i in range(len(text) - n + 1):
                j = self.vocabulary.get(text[i : i + n])
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
        if not counts:
            z = self.intercept
        else:
            idx = np.fromiter(counts.keys(), dtype=np.int64)
            tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64))
            w = tf * self.idf[idx]
            w /= np.linalg.norm(w)
            z = float(w @ self.coef[idx]) + self.intercept
        return 1.0 / (1.0 + math.exp(-z))

    def fires(self, score: float) -> bool:
        return score >= self.threshold


def load_classifier(path: Path | str = MODEL_PATH) -> TriageClassifier:
    """The shipped model (cached)."""
    return _load(str(Path(path).resolve()))


@lru_cache(maxsize=4)
def _load(path: str) -> TriageClassifier:
    try:
        tree = json.loads(Path(path).read_text(encoding="utf-8"))
        return TriageClassifier(
            vocabulary={g: i for i, g in enumerate(tree["ngrams"])},
            idf=np.asarray(tree["idf"], dtype=np.float64),
            coef=np.asarray(tree["coef"], dtype=np.float64),
            intercept=float(tree["intercept"]),
            threshold=float(tree["threshold"]),
            rules_version=str(tree["rules_version"]),
        )
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(
            f"{path}: cannot load the triage classifier ({exc}); rebuild it with "
            f"`{REBUILD_COMMAND}`"
        ) from exc
