"""The learned second opinion beside the red-flag rules.

A scikit-learn logistic regression over character 1–3-grams of the standardised text and
its canonical form (:mod:`taigimed.serve.safety.canonical`), trained on the tuning corpus
(``eval/triage_tuning.jsonl``; never on the held-out file). Two fits: the first picks the
``MAX_FEATURES`` n-grams with the largest weights, the second is fitted on those only, so
the shipped model is small and exactly reproducible.

The threshold is calibrated for recall: on 5-fold cross-validated scores of the tuning
corpus, the highest threshold at which the classifier alone still finds 95 % of the
emergencies. It runs beside the rules: a message is an emergency when either fires.

Rebuild with one command (deterministic: liblinear, fixed folds)::

    python -m taigimed.serve.safety.classifier

It writes ``model/triage_classifier.json`` (n-grams, idf, weights, threshold, and the
SHA-256 of the corpus it was trained on); a test rebuilds it and compares. Serving only
reads the JSON and scores with numpy: no fit, no pickle.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from taigimed.artifacts import write_text_atomic
from taigimed.serve.safety.canonical import canonical

MODEL_PATH = Path(__file__).parent / "model" / "triage_classifier.json"
REBUILD_COMMAND = "python -m taigimed.serve.safety.classifier"
NGRAMS = (1, 3)
MAX_FEATURES = 4000
C = 4.0
SEED = 20261201
RECALL_TARGET = 0.95


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


# ---- building (scikit-learn is needed only here) -------------------------------------


def _fit(texts: list[str], y: np.ndarray, vocabulary=None):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = TfidfVectorizer(
        analyzer="char",
        ngram_range=NGRAMS,
        sublinear_tf=True,
        lowercase=False,
        vocabulary=vocabulary,
    )
    x = vec.fit_transform(texts)
    clf = LogisticRegression(C=C, solver="liblinear", class_weight="balanced", random_state=SEED)
    clf.fit(x, y)
    return vec, clf


def _train(texts: list[str], y: np.ndarray):
    vec, clf = _fit(texts, y)
    names = vec.get_feature_names_out()
    keep = np.argsort(-np.abs(clf.coef_[0]), kind="stable")[:MAX_FEATURES]
    vocab = sorted(names[k] for k in keep)
    return _fit(texts, y, vocabulary=vocab)


def build(corpus: Path | None = None) -> dict:
    """Train on the tuning corpus and return the model as a JSON-ready dict."""
    from sklearn.model_selection import StratifiedKFold

    from taigimed.serve.safety.evaluation import DEFAULT_EVAL, load_eval
    from taigimed.serve.safety.rules import load_rules
    from taigimed.serve.safety.triage import triage
    from taigimed.text.romanize import standardize_input

    corpus = Path(corpus or DEFAULT_EVAL)
    rules = load_rules()
    rows = load_eval(corpus)
    std = [standardize_input(r["text"])[0] for r in rows]
    texts = [features_text(s, rules.variants) for s in std]
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
    return {
        "kind": "logistic regression over char 1-3-grams (sublinear tf-idf, l2)",
        "corpus": corpus.name,
        "corpus_sha256": hashlib.sha256(corpus.read_bytes()).hexdigest(),
        "rules_version": rules.version,
        "threshold": threshold,
        "cv_recall": round(cv_recall, 4),
        "cv_precision": round(cv_precision, 4),
        "cv_recall_with_rules": round(union_recall, 4),
        "ngrams": list(vec.get_feature_names_out()),
        "idf": [round(float(v), 10) for v in vec.idf_],
        "coef": [round(float(v), 10) for v in clf.coef_[0]],
        "intercept": round(float(clf.intercept_[0]), 10),
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
