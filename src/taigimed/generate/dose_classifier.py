"""Building the learned dosing reading (scikit-learn is needed only here; serving reads the
JSON with :mod:`taigimed.safety.dose`).

Every blind file found dosing questions the rules miss: each writer asks about amounts,
timing and ways of taking a medicine in new words (held-out v8: 30 of 48 redirected). Beside
the rules, a logistic regression over the triage classifier's syllable-reading features
(``safety.classifier.syllable_features``: character 1–3-grams of the heard text with its
Latin words taken out, and syllable 1–2-grams of its canonical form, so every script is read
by its syllables) scores "is this a question about an amount, a frequency, doubling,
skipping or stopping a medicine".

Trained on every row of the read files (``generate/read_files.FILES``), the two tuning
corpora, held-out v8 to v12 (tuning sets since they were judged blind) and the dosing
training file (``dose_tuning.jsonl``): ``"intent": "dose"`` rows against every other row.
Each row is read as serving reads the turn it judges: the last user turn, standardised and
heard (``safety/hearing.py``).

The threshold is calibrated on 5-fold cross-validated scores of those rows only: the lowest
(the highest recall) at which the reading adds redirects to at most ``MAX_EXTRA`` of the
**medicine-not-amount** rows (no dosing intent, no emergency, a medicine named: storage,
refills, expiry, interactions with food), on top of what the rules redirect. Serving
redirects when the rules say so or the score reaches the threshold on a turn that names a
medicine (``needs_medicine``) and is no emergency.

Rebuild with one command (deterministic: liblinear, fixed folds); no data root needed::

    python -m taigimed.generate.dose_classifier

It writes ``safety/model/dose_classifier.json`` (n-grams, idf, weights, threshold, the
calibration, the files trained on with their SHA-256 and the rules version); a test
rebuilds it and compares. ``benchmarks/dose_lofo.py`` leaves each file out in turn.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from taigimed.artifacts import file_sha256, write_text_atomic
from taigimed.generate import read_files
from taigimed.generate.classifier import SEED, _linear, _train
from taigimed.safety.classifier import features_text, syllable_features
from taigimed.safety.dose import DOSE_MODEL_PATH, FORMAT, is_dose_question, names_for_reading
from taigimed.safety.evaluation import EVAL_DIR, row_turns
from taigimed.safety.hearing import hear
from taigimed.safety.rules import RuleSet, load_rules
from taigimed.text.romanize import standardize_input

# At most this share of the medicine-not-amount rows may be redirected by the reading alone
# (cross-validated), on top of the rules.
MAX_EXTRA = 0.02
NEEDS_MEDICINE = True

FILES: list[tuple[Path, str]] = [
    *read_files.FILES,
    (EVAL_DIR / "triage_tuning.jsonl", "triage"),
    (EVAL_DIR / "triage_tuning_conversations.jsonl", "triage"),
    # Written as training material by a writer who saw none of the rules (480 rows, 272
    # dosing, 128 medication questions about something else, 56 of them hard negatives).
    (EVAL_DIR / "dose_tuning.jsonl", "triage"),
]


@dataclass(frozen=True)
class Row:
    turns: list[str]  # standardised user turns, oldest first
    dose: bool
    emergency: bool
    file: str


def file_rows(path: Path, role: str) -> list[Row]:
    if not path.is_file():
        raise read_files.ReadFileError(f"{path}: a file the dosing reading trains on is missing")
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise read_files.ReadFileError(f"{path}:{n}: not valid JSON: {exc}") from exc
        single = [row.get("question") or row.get("text")]
        turns = row_turns(row) if role == "triage" else single
        if not turns or not all(isinstance(t, str) and t.strip() for t in turns):
            raise read_files.ReadFileError(f"{path}:{n}: no text, question or user turn")
        out.append(
            Row(
                turns=[standardize_input(t)[0] for t in turns],
                dose=row.get("intent") == "dose",
                emergency=bool(row.get("categories")),
                file=path.name,
            )
        )
    return out


def training_rows(exclude: tuple[str, ...] = ()) -> tuple[list[Row], list[dict]]:
    rows, record = [], []
    for path, role in FILES:
        if path.name in exclude:
            continue
        got = file_rows(path, role)
        rows += got
        record.append(
            {
                "file": path.name,
                "role": role,
                "rows": len(got),
                "dosing": sum(r.dose for r in got),
                "sha256": file_sha256(path),
            }
        )
    return rows, record


def grams(rules: RuleSet, standardised: str) -> list[str]:
    """The n-grams the reading scores (as :meth:`safety.dose.DoseReading.score` makes them)."""
    return syllable_features(features_text(hear(rules, standardised), rules.variants))


def _identity(doc):
    return doc


def _weights(y: np.ndarray) -> np.ndarray:
    pos = y == 1
    w = np.where(pos, 1 / max(1, pos.sum()), 1 / max(1, (~pos).sum()))
    return w * len(y) / w.sum()


def _cross_validated(docs: list, y: np.ndarray) -> np.ndarray:
    from sklearn.model_selection import StratifiedKFold

    cv = np.zeros(len(docs))
    for tr, te in StratifiedKFold(5, shuffle=True, random_state=SEED).split(docs, y):
        vec, clf = _train([docs[i] for i in tr], y[tr], _weights(y[tr]), analyzer=_identity)
        cv[te] = clf.predict_proba(vec.transform([docs[i] for i in te]))[:, 1]
    return cv


def calibrate(
    cv: np.ndarray,
    rows: list[Row],
    by_rules: np.ndarray,
    medicine: np.ndarray,
    needs_medicine: bool = NEEDS_MEDICINE,
) -> dict:
    """The lowest threshold (steps of 0.01) at which the reading alone redirects at most
    MAX_EXTRA of the medicine-not-amount rows, and what it gives on the cross-validated
    scores."""
    dose = np.array([r.dose for r in rows])
    emergency = np.array([r.emergency for r in rows])
    gate = medicine if needs_medicine else np.ones(len(rows), bool)
    not_amount = ~dose & ~emergency & medicine
    best = None
    for t in np.round(np.arange(0.99, 0.04, -0.01), 2):
        learned = gate & (cv >= t) & ~emergency
        extra = int((learned & not_amount & ~by_rules).sum())
        if extra > MAX_EXTRA * not_amount.sum():
            break
        best = (float(t), learned, extra)
    if best is None:
        best = (1.0, np.zeros(len(rows), bool), 0)
    t, learned, extra = best
    union = by_rules | learned
    return {
        "threshold": t,
        "max_extra": MAX_EXTRA,
        "needs_medicine": needs_medicine,
        "medicine_not_amount_rows": int(not_amount.sum()),
        "medicine_not_amount_redirected_rules": int((by_rules & not_amount).sum()),
        "medicine_not_amount_redirected_with_learned": int((union & not_amount).sum()),
        "dosing_rows": int(dose.sum()),
        "dosing_redirected_rules": int((by_rules & dose).sum()),
        "dosing_redirected_with_learned": int((union & dose).sum()),
        "other_redirected_rules": int((by_rules & ~dose).sum()),
        "other_redirected_with_learned": int((union & ~dose).sum()),
    }


def build(
    exclude: tuple[str, ...] = (),
    rules: RuleSet | None = None,
    needs_medicine: bool = NEEDS_MEDICINE,
) -> dict:
    """Train on FILES (those named in ``exclude`` left out) and return the JSON-ready model;
    ``needs_medicine=False`` only for the benchmark's comparison."""
    rules = rules or load_rules()
    rows, trained_on = training_rows(exclude)
    docs = [grams(rules, r.turns[-1]) for r in rows]
    y = np.array([int(r.dose) for r in rows])
    by_rules = np.array([is_dose_question(rules, r.turns[-1]) for r in rows])
    medicine = np.array([any(names_for_reading(rules, t) for t in r.turns) for r in rows])
    calibration = calibrate(_cross_validated(docs, y), rows, by_rules, medicine, needs_medicine)
    vec, clf = _train(docs, y, _weights(y), analyzer=_identity)
    return {
        "format": FORMAT,
        "kind": "logistic regression over Han char 1-3-grams and canonical syllable 1-2-grams "
        "(safety.classifier.syllable_features; sublinear tf-idf, l2): is this a dosing question",
        "rules_version": rules.version,
        "threshold": calibration["threshold"],
        "needs_medicine": needs_medicine,
        "calibration": {
            "on": "5-fold cross-validated scores of the training rows",
            "rule": "lowest threshold at which the reading alone redirects at most max_extra of "
            "the medicine-not-amount rows (no dosing intent, no emergency, a medicine named)",
            **calibration,
        },
        "trained_on": trained_on,
        **_linear(vec, clf),
    }


def main() -> None:
    try:
        model = build()
    except read_files.ReadFileError as e:
        sys.exit(f"cannot rebuild the dosing reading: {e}")
    write_text_atomic(DOSE_MODEL_PATH, json.dumps(model, ensure_ascii=False, indent=0) + "\n")
    c = model["calibration"]
    print(
        f"{len(model['ngrams'])} n-grams, threshold {model['threshold']} (cross-validated: "
        f"dosing {c['dosing_redirected_rules']} → {c['dosing_redirected_with_learned']} of "
        f"{c['dosing_rows']}, medicine-not-amount {c['medicine_not_amount_redirected_rules']} → "
        f"{c['medicine_not_amount_redirected_with_learned']} of "
        f"{c['medicine_not_amount_rows']}) → {DOSE_MODEL_PATH}"
    )


if __name__ == "__main__":
    main()
