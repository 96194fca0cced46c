"""The red-flag rule set: loading, folding, negation, hearsay, replies, and the recall guard."""

from __future__ import annotations

import json

import pytest

from taigimed.serve.safety.evaluation import DEFAULT_EVAL, evaluate_triage, load_eval
from taigimed.serve.safety.rules import (
    DEFAULT_RULES,
    RuleError,
    compile_pattern,
    fold_roman,
    load_rules,
)
from taigimed.serve.safety.triage import emergency_reply, reply_script, triage
from taigimed.text.romanize import standardize_input

RULES = load_rules()
RECORDED = json.loads((DEFAULT_EVAL.parent / "recorded.json").read_text(encoding="utf-8"))


def run(text: str):
    std, meta = standardize_input(text)
    return triage(RULES, std, text), meta


def test_rule_file_is_versioned_and_complete():
    assert RULES.version == RECORDED["rules_version"]
    ids = {c.id for c in RULES.categories}
    assert {
        "chest_pain",
        "stroke",
        "breathing",
        "bleeding",
        "unconscious",
        "seizure",
        "suicide",
        "poisoning",
        "anaphylaxis",
        "infant_fever",
        "burns",
    } <= ids
    for c in RULES.categories:
        scripts = {p.script for p in c.patterns} | {p.script for g in c.all_of for p in g}
        assert scripts == {"taigi_han", "mandarin", "tailo", "poj"}, c.id


def test_fold_roman_keeps_tones_as_digits_and_patterns_ignore_them():
    assert fold_roman("Hing1-kham2 thiàⁿ") == "hing1 kham2 thiann3"
    assert fold_roman("hing-khám") == "hing kham2"  # an unmarked syllable gets no digit
    pattern = compile_pattern("hing-khám…thiànn", "tailo").regex
    for typed in ("hing1-kham2 tsin1 thiann3", "hing-khám tsin thiànn", "hing kham thiann"):
        assert pattern.search(fold_roman(typed)), typed


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("我胸坎真疼", "chest_pain"),
        ("我胸口很痛", "chest_pain"),
        ("我胸口很痛，喘不过气", "breathing"),
        ("gua2 hing1-kham2 tsin1 thiann3", "chest_pain"),
        ("guá ê hing-khám tsin thiànn", "chest_pain"),
        ("góa ê heng-khám chin thiàⁿ", "chest_pain"),
        ("gua hing kham tsin thiann", "chest_pain"),  # no tones at all
        ("我想欲死", "suicide"),
        ("阮紅嬰仔發燒三十九度", "infant_fever"),
    ],
)
def test_red_flags_fire_in_every_script(text, category):
    result, _ = run(text)
    assert category in result.categories


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("我無胸坎疼", "negation"),
        ("我胸坎無疼，是腹肚疼", "negation"),
        ("我沒有胸口痛", "negation"),
        ("guá bô hing-khám thiànn", "negation"),
        ("阮厝邊舊年中風", "hearsay"),
        ("我鄰居去年中風", "hearsay"),
        ("中風有啥物徵兆？", "hearsay"),
    ],
)
def test_negation_and_hearsay_do_not_trigger(text, why):
    result, _ = run(text)
    assert not result.triggered
    assert why in {w for _, w in result.suppressed}


def test_mother_is_not_negation():
    # bó (mother) folds like bô (not); the tone keeps them apart when it is written.
    result, _ = run("guá a-bó kiò bē tshénn")
    assert "unconscious" in result.categories


def test_emergency_reply_in_the_users_script():
    for text, script, must in [
        ("我胸坎真疼", "taigi_han", "敲 119"),
        ("我胸口很痛", "mandarin_traditional", "撥打 119"),
        ("我胸口很痛，喘不过气", "mandarin_simplified", "拨打 119"),
        ("gua2 hing1-kham2 tsin1 thiann3", "tailo", "khà 119"),
        ("góa ê heng-khám chin thiàⁿ", "poj", "khà 119"),
    ]:
        result, meta = run(text)
        assert reply_script(meta["script"]) == script
        reply = emergency_reply(RULES, result, script)
        assert must in reply and "1925" not in reply
        assert RULES.reply("disclaimer", script) in reply
    result, meta = run("我想欲自殺")
    assert "1925" in emergency_reply(RULES, result, reply_script(meta["script"]))


def test_bad_rule_files_name_what_to_fix(tmp_path):
    bad = tmp_path / "r.yaml"
    bad.write_text("version: 1\ncategories:\n- id: x\n  label: {}\n", encoding="utf-8")
    with pytest.raises(RuleError, match=r"categories\[0\] \(x\): needs patterns"):
        load_rules(bad)
    head, _, tail = DEFAULT_RULES.read_text(encoding="utf-8").rpartition("    mandarin_simplified:")
    other = tmp_path / "r2.yaml"
    other.write_text(head + "    zz:" + tail, encoding="utf-8")
    with pytest.raises(RuleError, match="lacks"):
        load_rules(other)
    with pytest.raises(RuleError, match="cannot read"):
        load_rules(tmp_path / "missing.yaml")


def test_recall_does_not_drop_below_the_recorded_figure():
    rows = load_eval()
    assert len(rows) >= 150
    assert {r["script"] for r in rows} == {"taigi_han", "tailo", "poj", "mandarin"}
    r = evaluate_triage(RULES, rows)
    assert r["overall"]["recall"] >= RECORDED["overall_recall"], r["missed"]
    for cat, recall in RECORDED["per_category_recall"].items():
        assert r["per_category"][cat]["recall"] >= recall, cat
    for script, recall in RECORDED["per_script_recall"].items():
        assert r["per_script"][script]["recall"] >= recall, script
