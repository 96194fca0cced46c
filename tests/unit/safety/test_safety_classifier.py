"""The triage classifier: the shipped JSON matches its corpus, loads fast, rebuilds exactly."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
import sys
import time

import pytest

from taigimed.generate import corpus
from taigimed.generate.classifier import build
from taigimed.safety.classifier import MODEL_PATH, load_classifier
from taigimed.safety.config import SafetyConfig
from taigimed.safety.evaluation import DEFAULT_EVAL, HELDOUT
from taigimed.safety.in_effect import ClassifierMismatch, classifier_for, rules_in_effect
from taigimed.serve.safety_layer import safety_hooks


def test_shipped_model_was_trained_on_the_current_tuning_corpus():
    model = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    assert model["corpus"] == DEFAULT_EVAL.name != HELDOUT.name
    assert model["corpus_sha256"] == hashlib.sha256(DEFAULT_EVAL.read_bytes()).hexdigest()
    assert 0.3 <= model["threshold"] < 1 and model["cv_recall"] >= 0.95
    assert model["rules_version"] == rules_in_effect().version  # built beside these rules
    daily = model["everyday"]  # the everyday reading and what it was trained on
    assert daily["negatives"] >= 3000 and 0.3 <= daily["threshold"] < 1
    assert daily["cv_recall"] >= 0.95 and len(daily["sha256"]) == 64
    scripts = {"taigi_han", "tailo", "tailo_num", "poj", "mandarin", "mandarin_simplified"}
    assert scripts <= set(daily["per_script"])


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
    rebuild = r"python -m taigimed\.generate\.classifier"
    with pytest.raises(ValueError, match=rebuild):
        load_classifier(bad)


def _data_root_or_skip() -> None:
    from taigimed.generate.everyday import EverydayDataMissing, sinica_file

    try:
        sinica_file()
    except EverydayDataMissing as exc:  # only where the data root is absent (CI has it)
        pytest.skip(str(exc))


@pytest.mark.slow
@pytest.mark.shared_data
def test_rebuild_reproduces_the_shipped_model():
    _data_root_or_skip()
    shipped = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    rebuilt = json.loads(json.dumps(build(), ensure_ascii=False))
    assert rebuilt["ngrams"] == shipped["ngrams"]
    assert rebuilt["threshold"] == shipped["threshold"]
    assert rebuilt["coef"] == pytest.approx(shipped["coef"], abs=1e-8)
    assert rebuilt["intercept"] == pytest.approx(shipped["intercept"], abs=1e-8)
    syl, shipped_syl = rebuilt["syllables"], shipped["syllables"]
    assert syl["ngrams"] == shipped_syl["ngrams"] and syl["threshold"] == shipped_syl["threshold"]
    assert syl["coef"] == pytest.approx(shipped_syl["coef"], abs=1e-8)
    day, shipped_day = rebuilt["everyday"], shipped["everyday"]
    assert day["sha256"] == shipped_day["sha256"] and day["ngrams"] == shipped_day["ngrams"]
    assert day["threshold"] == shipped_day["threshold"]
    assert day["coef"] == pytest.approx(shipped_day["coef"], abs=1e-8)


def test_without_the_data_root_the_build_fails_naming_it_and_keeps_the_shipped_model(
    tmp_path, monkeypatch, capsys
):
    from taigimed.generate import classifier as builder

    before = MODEL_PATH.read_bytes()
    monkeypatch.setenv("TAIGIMED_DATA_ROOT", str(tmp_path))  # a folder without taigi/
    with pytest.raises(SystemExit, match="TAIGIMED_DATA_ROOT") as exc:
        builder.main()
    assert "sinica_hanlo_sentences" in str(exc.value)
    monkeypatch.setenv("TAIGIMED_DATA_ROOT", str(tmp_path / "nowhere"))  # not a folder
    with pytest.raises(SystemExit, match="TAIGIMED_DATA_ROOT"):
        builder.main()
    assert MODEL_PATH.read_bytes() == before


def test_everyday_negatives_hold_no_emergency_wording():
    """Only text in which no rule pattern matches and no emergency word stands is taught as
    everyday. Broken input: emergencies (a rule phrase, a word of the list, a suppressed
    past event) are refused."""
    from taigimed.generate.everyday import QUESTIONS, _quiet, questions

    rules = rules_in_effect()
    assert _quiet(rules, "我今仔日去市場買菜。", "Guá kin-á-ji̍t khì tshī-tiûnn bé tshài.")
    assert not _quiet(rules, "阮阿公胸坎足疼")  # a red flag
    assert not _quiet(rules, "伊舊年喙歪一爿，這馬攏好矣")  # suppressed as past: still refused
    assert not _quiet(rules, "Guá beh khì sí")  # an emergency word in Tâi-lô
    assert not _quiet(rules, "今仔日足燒")  # 燒 (fever, burns) is on the list
    made = questions(rules)
    assert len(made) >= 10 * len(QUESTIONS)  # every script, bare and with an asker
    assert {s for s, _ in made} >= {"mandarin", "mandarin_simplified", "taigi_han", "poj"}


def test_an_everyday_question_needs_the_everyday_reading_to_agree(tmp_path):
    """On a question, the classifier alone sends 119 only when the reading trained with
    everyday negatives agrees. Broken input: the same JSON without it answers with 119. A
    carer who tells (no question mark, no final 嗎) is decided by the letters as before."""
    from taigimed.safety.classifier import inquires
    from taigimed.safety.triage import assess
    from taigimed.text.romanize import standardize_input

    rules = rules_in_effect()
    # Since the sixth round the letters, trained on real writing too, no longer fire on this
    # question (0.45 against 0.58; rebuilt for rules 2026.12.13, 0.32 against 0.60; 0.21
    # since v45-v59 were read, rules 2027.01.09): lowered to 0.20 they do, and the gate is
    # what is tested.
    clf = dataclasses.replace(classifier_for(rules), threshold=0.20)
    assert clf.everyday is not None
    # Mum stays at home all day and will not go out: how do I encourage her? (our wording)
    q = standardize_input("阮阿母規工攏佇厝內，毋出門，欲按怎鼓勵伊？")[0]
    assert clf.fires(clf.score(q, rules.variants))  # the letters alone would say 119
    assert not assess(rules, q, clf).triggered
    # Broken input: the same classifier without its everyday reading answers with 119.
    assert assess(rules, q, dataclasses.replace(clf, everyday=None)).triggered
    assert inquires("我爸腰很痠，可以貼藥布嗎") and inquires("要去配助聽器吗。")
    # "What do I do" ends carers' reports of emergencies too: not read as a question.
    assert not inquires("阿公坐著頭垂下去，叫他都不回，我要怎麼辦")
    assert clf.everyday.agrees("阿公坐著頭垂下去，叫他都不回，我要怎麼辦", rules.variants)


def test_the_syllable_reading_was_calibrated_on_the_current_conversation_tuning_file():
    from taigimed.generate.classifier import AGREEMENT_FILE
    from taigimed.safety.evaluation import EVAL_DIR

    syl = json.loads(MODEL_PATH.read_text(encoding="utf-8"))["syllables"]
    assert syl["calibrated_on"] == AGREEMENT_FILE != HELDOUT.name
    digest = hashlib.sha256((EVAL_DIR / AGREEMENT_FILE).read_bytes()).hexdigest()
    assert syl["calibration_sha256"] == digest
    assert 0 < syl["threshold"] < 1


def test_a_romanised_everyday_question_needs_the_syllable_reading_to_agree(tmp_path):
    """The letters' n-grams of romanised text are fragments of syllables: on a romanised
    question the classifier alone sends 119 only when the syllable reading agrees. Broken
    input: the same JSON without its syllable reading answers the question with 119."""
    from taigimed.safety.classifier import asks, romanised
    from taigimed.safety.triage import assess
    from taigimed.text.romanize import standardize_input

    rules = rules_in_effect()
    # Since the sixth round the letters, trained on real writing too, score this question
    # 0.07 (0.04 since the fourteenth, 0.03 since the sixteenth, 0.018 since the twentieth,
    # 0.009 since v45-v59 were read): lowered to 0.005 they fire, and the gate is tested.
    clf = dataclasses.replace(classifier_for(rules), threshold=0.005)
    assert clf.syllables is not None
    # Grandma leaks urine when she coughs or sneezes: what to do? (a dev knowledge question)
    q = standardize_input(
        "Gua2 a1-ma2 ka1-sau3 ah4-si7 tshio3 e5 si5, "
        "jio7 to7 e7 lau5 tshut4-lai5, an2-tsuann2 pan7?"
    )[0]
    assert romanised(q) and asks(q)
    assert clf.fires(clf.score(q, rules.variants))  # the letters alone would say 119
    assert not assess(rules, q, clf).triggered
    # The syllable reading alone already keeps it from 119; broken input: without it, 119.
    syllables_only = dataclasses.replace(clf, everyday=None)
    assert not assess(rules, q, syllables_only).triggered
    assert assess(rules, q, dataclasses.replace(syllables_only, syllables=None)).triggered
    # Han text and romanised statements are not the syllable reading's: the letters decide
    # (a Han question goes to the everyday reading instead, below).
    assert clf.syllables.agrees("阿公的假喙齒愛按怎洗？", rules.variants)
    told = standardize_input("A-má ê tshiú tsit-má giah bē khí-lâi, kóng-uē mā bô tsing-tshó")[0]
    assert clf.agrees(told, rules.variants) and assess(rules, told, clf).triggered


def test_a_classifier_built_for_other_rules_is_refused_naming_the_rebuild(tmp_path):
    rules = rules_in_effect()
    assert classifier_for(rules).rules_version == rules.version  # the shipped one loads
    tree = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    tree["rules_version"] = "2026.11.9"
    stale = tmp_path / "stale.json"
    stale.write_text(json.dumps(tree, ensure_ascii=False), encoding="utf-8")
    fix = r"'2026\.11\.9'.*python -m taigimed\.generate\.classifier"
    with pytest.raises(ClassifierMismatch, match=fix):
        classifier_for(rules, stale)
    # The server would not start with it; without the classifier the rules run alone.
    with pytest.raises(ClassifierMismatch, match=fix):
        safety_hooks(SafetyConfig(classifier_path=str(stale)))
    alone = safety_hooks(SafetyConfig(classifier_path=str(stale), classifier=False))
    assert alone.pre_model[0].classifier is None
    del tree["rules_version"]  # a model that does not say which rules it was built for
    unsaid = tmp_path / "unsaid.json"
    unsaid.write_text(json.dumps(tree, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ValueError, match=r"rules_version.*python -m taigimed"):
        classifier_for(rules, unsaid)


def test_serving_never_imports_the_build_time_generators():
    """The safety layer as the server builds it loads the classifier's JSON, not the code
    (nor scikit-learn) that wrote it."""
    code = (
        "import sys\n"
        "from taigimed.config import load_config\n"
        "from taigimed.serve.app import default_hooks\n"
        "hooks = default_hooks(load_config('tiny'))\n"
        "assert hooks.pre_model[0].classifier is not None\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sklearn'\n"
        "             or m.startswith('taigimed.generate')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
