"""Building the triage classifier (scikit-learn is needed only here; serving reads the JSON
with :mod:`taigimed.safety.classifier`).

A logistic regression over character 1–3-grams of the standardised text and its canonical
form, trained on the tuning corpus (``eval/triage_tuning.jsonl``; never on the held-out
file) read through the shipped rules' spelling variants. Two fits: the first picks the
``MAX_FEATURES`` n-grams with the largest weights, the second is fitted on those only, so
the shipped model is small and exactly reproducible.

The threshold is calibrated for recall: on 5-fold cross-validated scores of the tuning
corpus, the highest threshold at which the classifier alone still finds 95 % of the
emergencies.

Rebuild with one command (deterministic: liblinear, fixed folds)::

    python -m taigimed.safety.builders.classifier

It writes ``model/triage_classifier.json`` (n-grams, idf, weights, threshold, the SHA-256
of the corpus it was trained on and the rules version it was built beside); a test
rebuilds it and compares.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from taigimed.artifacts import file_sha256, write_text_atomic
from taigimed.safety.classifier import (
    MODEL_PATH,
    NGRAMS,
    TriageClassifier,
    _Linear,
    features_text,
    romanised,
    syllable_features,
)

MAX_FEATURES = 4000
C = 4.0
SEED = 20261201
RECALL_TARGET = 0.95
AGREEMENT_FILE = "triage_tuning_conversations.jsonl"


def _fit(texts: list[str], y: np.ndarray, vocabulary=None, analyzer="char"):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = TfidfVectorizer(
        analyzer=analyzer,
        # Only the letters' analyzer takes a range; the syllable one makes its own n-grams.
        **({"ngram_range": NGRAMS} if analyzer == "char" else {}),
        sublinear_tf=True,
        lowercase=False,
        vocabulary=vocabulary,
    )
    x = vec.fit_transform(texts)
    clf = LogisticRegression(C=C, solver="liblinear", class_weight="balanced", random_state=SEED)
    clf.fit(x, y)
    return vec, clf


def _train(texts: list[str], y: np.ndarray, analyzer="char"):
    vec, clf = _fit(texts, y, analyzer=analyzer)
    names = vec.get_feature_names_out()
    keep = np.argsort(-np.abs(clf.coef_[0]), kind="stable")[:MAX_FEATURES]
    vocab = sorted(names[k] for k in keep)
    return _fit(texts, y, vocabulary=vocab, analyzer=analyzer)


def _linear(vec, clf) -> dict:
    return {
        "ngrams": list(vec.get_feature_names_out()),
        "idf": [round(float(v), 10) for v in vec.idf_],
        "coef": [round(float(v), 10) for v in clf.coef_[0]],
        "intercept": round(float(clf.intercept_[0]), 10),
    }


def _agreement_threshold(letters: TriageClassifier, syllables: _Linear, rules) -> float:
    """The highest threshold (steps of 0.05) at which the syllable reading loses none of
    the emergencies the letters' classifier finds in the romanised single messages of the
    conversation tuning file (a file the classifier never trained on)."""
    from taigimed.safety.evaluation import EVAL_DIR, load_eval
    from taigimed.safety.hearing import hear
    from taigimed.text.romanize import standardize_input

    rows = load_eval(EVAL_DIR / AGREEMENT_FILE)
    found = []
    for r in rows:
        if r.get("format", "single") != "single" or not r["categories"]:
            continue
        s = hear(rules, standardize_input(r["text"])[0])
        if romanised(s) and letters.fires(letters.score(s, rules.variants)):
            found.append(syllables.score_grams(syllable_features(features_text(s, rules.variants))))
    best = 0.05
    for t in np.round(np.arange(0.05, 0.96, 0.05), 2):
        if all(x >= t for x in found):
            best = float(t)
    return best


def build(corpus: Path | None = None) -> dict:
    """Train on the tuning corpus and return the model as a JSON-ready dict."""
    from sklearn.model_selection import StratifiedKFold

    from taigimed.safety.evaluation import DEFAULT_EVAL, load_eval
    from taigimed.safety.hearing import hear
    from taigimed.safety.rules import load_rules
    from taigimed.safety.triage import triage
    from taigimed.text.romanize import standardize_input

    corpus = Path(corpus or DEFAULT_EVAL)
    rules = load_rules()
    rows = load_eval(corpus)
    std = [standardize_input(r["text"])[0] for r in rows]
    # Trained on the text as serving hears it (safety/hearing.py).
    texts = [features_text(hear(rules, s), rules.variants) for s in std]
    y = np.array([1 if r["categories"] else 0 for r in rows])
    by_rules = np.array([triage(rules, s).rules_fired for s in std])

    cv = np.zeros(len(rows))
    for tr, te in StratifiedKFold(5, shuffle=True, random_state=SEED).split(texts, y):
        vec, clf = _train([texts[i] for i in tr], y[tr])
        cv[te] = clf.predict_proba(vec.transform([texts[i] for i in te]))[:, 1]
    # Calibrated for recall: the highest threshold at which the classifier alone still
    # finds RECALL_TARGET of the emergencies in cross-validation.
    threshold, cv_recall, cv_precision = 0.5, 0.0, 0.0
    for t in np.round(np.arange(0.30, 0.99, 0.01), 2):
        pred = cv >= t
        rec = float((pred & (y == 1)).sum() / max(1, (y == 1).sum()))
        if rec >= RECALL_TARGET:
            threshold, cv_recall = float(t), rec
            cv_precision = float((pred & (y == 1)).sum() / max(1, pred.sum()))
    union = by_rules | (cv >= threshold)
    union_recall = float((union & (y == 1)).sum() / max(1, (y == 1).sum()))

    vec, clf = _train(texts, y)
    letters = _linear(vec, clf)
    # The syllable reading of romanised messages (classifier.SyllableCheck), fitted on the
    # same corpus; its threshold is calibrated against the letters' classifier.
    svec, sclf = _train(texts, y, analyzer=syllable_features)
    syllables = _linear(svec, sclf)
    as_served = TriageClassifier(
        vocabulary={g: i for i, g in enumerate(letters["ngrams"])},
        idf=np.asarray(letters["idf"]),
        coef=np.asarray(letters["coef"]),
        intercept=letters["intercept"],
        threshold=threshold,
    )
    syl = _Linear(
        {g: i for i, g in enumerate(syllables["ngrams"])},
        np.asarray(syllables["idf"]),
        np.asarray(syllables["coef"]),
        syllables["intercept"],
    )
    syllables["threshold"] = _agreement_threshold(as_served, syl, rules)
    agreement = DEFAULT_EVAL.parent / AGREEMENT_FILE
    syllables["calibrated_on"] = AGREEMENT_FILE
    syllables["calibration_sha256"] = file_sha256(agreement)
    syllables["kind"] = (
        "the same regression over Han char 1-3-grams and canonical syllable 1-2-grams; "
        "on a romanised message the letters' classifier alone fires only when this agrees"
    )
    return {
        "kind": "logistic regression over char 1-3-grams (sublinear tf-idf, l2)",
        "corpus": corpus.name,
        "corpus_sha256": file_sha256(corpus),
        "rules_version": rules.version,
        "threshold": threshold,
        "cv_recall": round(cv_recall, 4),
        "cv_precision": round(cv_precision, 4),
        "cv_recall_with_rules": round(union_recall, 4),
        **letters,
        "syllables": syllables,
    }


def main() -> None:
    model = build()
    write_text_atomic(MODEL_PATH, json.dumps(model, ensure_ascii=False, indent=0) + "\n")
    print(
        f"{len(model['ngrams'])} n-grams, threshold {model['threshold']} "
        f"(cross-validated recall {model['cv_recall']}, precision {model['cv_precision']}) "
        f"→ {MODEL_PATH}"
    )


if __name__ == "__main__":
    main()
