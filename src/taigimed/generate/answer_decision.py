"""Fitting the answer-or-refuse decision (scikit-learn is needed only here; serving reads the
JSON with :mod:`taigimed.knowledge.decide`).

    python -m taigimed.generate.answer_decision      # writes knowledge/model/answer_decision.json

Every question of the read sets (``TRAINED_ON``) is retrieved over the demo cards as the
server retrieves it; the label is whether the best card is one of the question's labelled
cards (an off-topic question's never is). A logistic regression over the standardised
features (``knowledge.decide.FEATURES``; C = 0.1, lbfgs: deterministic) is fitted on all of
them, with threshold 0.5: a wrong card is no better than the honest no-card reply.

The JSON records each file with its SHA-256 and, for each file, the leave-one-file-out
figures: questions decided right (on-topic: answered with a labelled card; off-topic:
refused) by a decision fitted without that file, beside the relevance threshold it replaced
(0.08). A test refits and compares.

Not in ``TRAINED_ON``: ``knowledge_questions_heldout_v2.jsonl`` (the set the gate judges)
and every set written after the decision (held-out v4, everyday checks v4 and v5).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from taigimed.artifacts import file_sha256, write_json_atomic
from taigimed.knowledge.base import build_index, standardised
from taigimed.knowledge.cards import load_cards
from taigimed.knowledge.config import KnowledgeConfig
from taigimed.knowledge.decide import (
    DECISION_PATH,
    FEATURES,
    SEARCH_DEPTH,
    AnswerDecision,
    features,
)

_SETS = Path(__file__).resolve().parent.parent / "evaluate" / "sets"
TRAINED_ON = [
    _SETS / "knowledge_questions_dev.jsonl",
    _SETS / "knowledge_questions_heldout.jsonl",  # v1, read since its measurement
    _SETS / "knowledge_questions_heldout_v3.jsonl",  # read since its measurement
    _SETS / "knowledge_everyday_check.jsonl",
    _SETS / "knowledge_everyday_check_v2.jsonl",
    _SETS / "knowledge_everyday_check_v3.jsonl",
]
C = 0.1
THRESHOLD = 0.5
RELEVANCE_RULE = 0.08  # the decision it replaced (knowledge.min_score until terms v3)


def _rows(index, topics: dict[str, str], path: Path) -> list[dict]:
    """One dict per question: its features (None without hits), label and the old rule."""
    out = []
    for line in path.read_text("utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        text, _ = standardised(row["question"])
        hits = index.search(text, SEARCH_DEPTH)
        right = bool(hits) and hits[0].doc_id in row["cards"]
        x = features(text, hits, topics) if hits else None
        out.append(
            {
                "x": [x[f] for f in FEATURES] if x else None,
                "right": right,
                "on_topic": bool(row["cards"]),
                "rule": bool(hits) and hits[0].relevance >= RELEVANCE_RULE,
            }
        )
    return out


def _fit(rows: list[dict]):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    usable = [r for r in rows if r["x"] is not None]
    x = np.array([r["x"] for r in usable])
    y = np.array([int(r["right"]) for r in usable])
    scaler = StandardScaler().fit(x)
    model = LogisticRegression(C=C, max_iter=1000).fit(scaler.transform(x), y)
    return scaler, model


def _decided_right(rows: list[dict], answered: list[bool]) -> int:
    return sum(
        bool(a and r["right"]) if r["on_topic"] else not a
        for r, a in zip(rows, answered, strict=True)
    )


def build(out: Path = DECISION_PATH) -> dict:
    cfg = KnowledgeConfig()
    cards = load_cards(cfg.cards_dirs).cards
    index, topics = build_index(cfg, cards), {c.id: c.topic for c in cards}
    by_file = {p: _rows(index, topics, p) for p in TRAINED_ON}
    cross = {}
    for held, rows in by_file.items():
        scaler, model = _fit([r for p, rs in by_file.items() if p != held for r in rs])
        answered = [
            r["x"] is not None
            and bool(model.predict_proba(scaler.transform([r["x"]]))[0, 1] >= THRESHOLD)
            for r in rows
        ]
        cross[held.name] = {
            "questions": len(rows),
            "decided_right": _decided_right(rows, answered),
            "relevance_rule_right": _decided_right(rows, [r["rule"] for r in rows]),
        }
    scaler, model = _fit([r for rs in by_file.values() for r in rs])
    decision = AnswerDecision(
        tuple(float(v) for v in scaler.mean_),
        tuple(float(v) for v in scaler.scale_),
        tuple(float(v) for v in model.coef_[0]),
        float(model.intercept_[0]),
        THRESHOLD,
        {
            "C": C,
            "trained_on": [
                {"file": p.name, "sha256": file_sha256(p), "questions": len(by_file[p])}
                for p in TRAINED_ON
            ],
            "leave_one_file_out": cross,
        },
    )
    payload = decision.to_json()
    write_json_atomic(out, payload)
    return payload


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else DECISION_PATH
    payload = build(out)
    total = sum(v["questions"] for v in payload["leave_one_file_out"].values())
    new = sum(v["decided_right"] for v in payload["leave_one_file_out"].values())
    old = sum(v["relevance_rule_right"] for v in payload["leave_one_file_out"].values())
    print(f"wrote {out}: leave-one-file-out decided right {new}/{total} (relevance rule {old})")


if __name__ == "__main__":
    main()
