"""The triage classifier: the shipped JSON matches its corpus, loads fast, rebuilds exactly."""

from __future__ import annotations

import hashlib
import json
import time

import pytest

from taigimed.serve.safety import corpus
from taigimed.serve.safety.classifier import MODEL_PATH, build, load_classifier
from taigimed.serve.safety.evaluation import DEFAULT_EVAL, HELDOUT


def test_shipped_model_was_trained_on_the_current_tuning_corpus():
    model = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    assert model["corpus"] == DEFAULT_EVAL.name != HELDOUT.name
    assert model["corpus_sha256"] == hashlib.sha256(DEFAULT_EVAL.read_bytes()).hexdigest()
    assert 0.3 <= model["threshold"] < 1 and model["cv_recall"] >= 0.95


def test_tuning_corpus_rebuilds_exactly():
    rows = corpus.build()
    shipped = [json.loads(x) for x in DEFAULT_EVAL.read_text(encoding="utf-8").splitlines()]
    assert rows == shipped


def test_scores_and_a_broken_model_file_names_the_fix(tmp_path):
    t = time.perf_counter()
    clf = load_classifier()
    assert time.perf_counter() - t < 5  # generous: the benchmark records the real figure
    assert clf.score("阮阿公胸坎足疼，喘袂過來") > clf.score("今仔日天氣真好")
    bad = tmp_path / "m.json"
    bad.write_text('{"ngrams": []}', encoding="utf-8")
    with pytest.raises(ValueError, match=r"python -m taigimed\.serve\.safety\.classifier"):
        load_classifier(bad)


@pytest.mark.slow
def test_rebuild_reproduces_the_shipped_model():
    shipped = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    rebuilt = json.loads(json.dumps(build(), ensure_ascii=False))
    assert rebuilt["ngrams"] == shipped["ngrams"]
    assert rebuilt["threshold"] == shipped["threshold"]
    assert rebuilt["coef"] == pytest.approx(shipped["coef"], abs=1e-8)
    assert rebuilt["intercept"] == pytest.approx(shipped["intercept"], abs=1e-8)
