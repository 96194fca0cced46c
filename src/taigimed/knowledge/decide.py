"""Whether the best card answers a question, or the reply says there is no vetted information.

Until December 2026 the decision was one threshold on the best card's relevance (the share
of the question's bigrams it holds, ``knowledge.index``). Two blind everyday checks showed
what that costs (docs/evaluation.md): a patient's question carries words no card holds (who
said it, how long, what was already tried), so the share fell under the threshold although
the right card ranked first, while a short off-topic question that shared one phrase with a
card cleared it.

The decision is now a logistic regression over seven features of the retrieval
(``FEATURES``), each relative to the question and the card set rather than to one card, so
that it carries over to another card set:

- ``relevance`` and ``relevance_2``: the bigram share of the best card and of the best card
  on another topic (three hypertension cards that tie are one topic, not a doubt);
- ``held_bigrams``: how many of the question's bigrams the best card holds (log): a long
  question that names its subject in three places is answered even when its share is low;
- ``query_bigrams``: how many bigrams the question has (log);
- ``margin``: how far the best card's BM25 score stands above that other topic's best, as
  a share of its own: a clear winner is a topic, a tie between unrelated cards is filler;
- ``unigram_share``: the share of the question's single characters/syllables it holds;
- ``romanised``: the question has no Han characters (romanised questions have fewer,
  less ambiguous terms).

It is fitted by ``python -m taigimed.generate.answer_decision`` on the question sets that
have been read (``generate/answer_decision.py`` lists them; never on the held-out set the
gate judges) and shipped as ``model/answer_decision.json``. A knowledge build copies it
(``DECISION_FILE``), and its SHA-256 is part of the knowledge version, so a model is served
with the decision it was evaluated with. Serving needs numpy only.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from taigimed.knowledge.index import Hit
from taigimed.knowledge.terms import is_bigram, query_terms

FORMAT = "taigimed-answer-decision/1"
DECISION_PATH = Path(__file__).parent / "model" / "answer_decision.json"
DECISION_FILE = "decision.json"  # its name inside a knowledge build
FEATURES = (
    "relevance",
    "relevance_2",
    "held_bigrams",
    "query_bigrams",
    "margin",
    "unigram_share",
    "romanised",
)


class DecisionError(ValueError):
    """A decision file that cannot be used; the message names it and how to rebuild it."""


SEARCH_DEPTH = 10  # hits read to find the best card on another topic


def features(question: str, hits: list[Hit], topics: Mapping[str, str]) -> dict[str, float]:
    """The decision's inputs for a (standardised) question and its hits, best first
    (``SEARCH_DEPTH`` of them), with each card's topic."""
    query = query_terms(question)
    best = hits[0]
    second = next((h for h in hits[1:] if topics[h.doc_id] != topics[best.doc_id]), None)
    return {
        "relevance": best.relevance,
        "relevance_2": second.relevance if second else 0.0,
        "held_bigrams": math.log1p(best.held),
        "query_bigrams": math.log1p(sum(is_bigram(t) for t in query)),
        "margin": (best.score - second.score) / best.score if second and best.score else 1.0,
        "unigram_share": best.unigram_share,
        "romanised": float(not any(t.startswith("h:") for t in query)),
    }


@dataclass(frozen=True)
class AnswerDecision:
    """A fitted logistic regression (standardised features) and its threshold."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float
    meta: dict

    def confidence(self, question: str, hits: list[Hit], topics: Mapping[str, str]) -> float:
        """The probability that the best card answers ``question`` (0 without hits)."""
        if not hits:
            return 0.0
        x = features(question, hits, topics)
        z = self.intercept + sum(
            c * (x[name] - m) / s
            for name, m, s, c in zip(FEATURES, self.mean, self.scale, self.coef, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-z))

    def to_json(self) -> dict:
        return {
            "format": FORMAT,
            "features": list(FEATURES),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "coef": list(self.coef),
            "intercept": self.intercept,
            "threshold": self.threshold,
            **self.meta,
        }

    @classmethod
    def load(cls, path: Path = DECISION_PATH) -> AnswerDecision:
        rebuild = "rebuild it with 'python -m taigimed.generate.answer_decision'"
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DecisionError(
                f"{path}: cannot read the answer decision ({exc}); {rebuild}"
            ) from exc
        if raw.get("format") != FORMAT or raw.get("features") != list(FEATURES):
            raise DecisionError(
                f"{path}: format {raw.get('format')!r} with features {raw.get('features')} is "
                f"not {FORMAT} with {list(FEATURES)}; {rebuild}"
            )
        n = len(FEATURES)
        arrays = [raw.get(key) for key in ("mean", "scale", "coef")]
        if any(not isinstance(a, list) or len(a) != n for a in arrays) or 0 in raw["scale"]:
            raise DecisionError(f"{path}: mean, scale and coef need {n} values each; {rebuild}")
        if not 0 <= raw.get("threshold", -1) <= 1:
            raise DecisionError(f"{path}: threshold must be a probability; {rebuild}")
        known = {"format", "features", "mean", "scale", "coef", "intercept", "threshold"}
        return cls(
            *(tuple(float(v) for v in a) for a in arrays),
            float(raw["intercept"]),
            float(raw["threshold"]),
            {k: v for k, v in raw.items() if k not in known},
        )
