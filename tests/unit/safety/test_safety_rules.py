"""Red-flag triage: canonical form, scope-aware cues, replies, rule-file errors, and the
held-out guard (the figures the project promises on messages the rules were never tuned on)."""

from __future__ import annotations

import json
import shutil

import pytest

from taigimed.safety.canonical import canonical
from taigimed.safety.classifier import load_classifier
from taigimed.safety.conversation import assess_conversation
from taigimed.safety.evaluation import (
    DEFAULT_EVAL,
    HELDOUT,
    below_floors,
    evaluate_triage,
    load_eval,
    wilson,
)
from taigimed.safety.rules import DEFAULT_RULES, RuleError, load_rules
from taigimed.safety.triage import TriageResult, assess, emergency_reply, reply_script
from taigimed.text.romanize import standardize_input

RULES = load_rules()
CLF = load_classifier()
RECORDED = json.loads((DEFAULT_EVAL.parent / "recorded.json").read_text(encoding="utf-8"))
SCRIPTS = {"mandarin", "taigi_han", "tailo", "tailo_num", "poj", "mixed"}


def run(text: str, classifier=CLF) -> tuple[TriageResult, dict]:
    std, meta = standardize_input(text)
    return assess(RULES, std, classifier), meta


def test_one_canonical_form_for_every_script():
    forms = {
        canonical(standardize_input(t)[0], RULES.variants)
        for t in (
            "阮阿母心肝頭足艱苦",
            "guán a-bó sim-kuann-thâu tsiok kan-khóo",
            "guan2 a1-bo2 sim1-kuann1-thau5 tsiok4 kan1-khoo2",
            "goán a-bó sim-koaⁿ-thâu chiok kan-khó͘",
            "阮阿母 sim-kuann-thâu 足艱苦",
            "guan a bo sim kuann thau tsiok kan khoo",
        )
    }
    assert forms == {"guan a bo sim kuann thau tsiok kan kho"}


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("阮阿母 sim-kuann-thâu 足艱苦", "chest_pain"),  # Han and romanisation in one symptom
        ("我阿公突然倒下去，叫不醒，沒有呼吸", "cardiac_arrest"),
        ("阮阿爸發燒閣頷頸硬硬，講話黑白講", "fever_danger"),
        ("A-má tsia̍h khòng-gîng-hueh io̍h, pua̍h-tó thâu khok--tio̍h", "head_injury"),
        ("阮阿公有糖尿病，這馬流凊汗，頭殼戇戇", "hypoglycaemia"),
        ("Guá bô-sè-jī lim tio̍h lông-io̍h", "poisoning"),  # 無細膩 is not negation
        ("我不小心喝了漂白水", "poisoning"),  # 不小心 is not negation
        ("阮阿嬤跋倒了後袂行", "fall"),  # 袂行 is the emergency itself
        ("血用毛巾壓著，猶閣一直流袂停", "bleeding"),
        ("阮翁咧儉安眠藥仔，講欲一擺食落去", "suicide"),
        ("阮阿公舊年中風，tsit-má 煞閣喙歪", "stroke"),  # past, cancelled by now
        ("guá a-bó kiò bē tshénn", "unconscious"),  # a-bó (mother) is not bô (not)
    ],
)
def test_red_flags_fire(text, category):
    result, _ = run(text, classifier=None)
    assert category in result.categories, (result.hits, result.suppressed)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("我胸坎無疼，是腹肚疼", "negation"),
        ("guá bô siūnn beh sí", "negation"),
        ("阮厝邊舊年中風", "past"),
        ("我爸三年前中風過，現在復健得很好", "past"),
        ("聽講隔壁阿伯心臟病發作", "hearsay"),
        ("中風有啥物徵兆？", "general"),
    ],
)
def test_negation_past_hearsay_and_general_questions_do_not_trigger(text, why):
    result, _ = run(text, classifier=None)
    assert not result.rules_fired, result.hits
    assert why in {w for _, w in result.suppressed}


def test_negation_reaches_only_its_window_and_clause():
    # A negation cue far before the symptom, or in another clause, does not cancel it.
    result, _ = run("阮阿公昨昏無食飯，這馬胸坎足疼", classifier=None)
    assert "chest_pain" in result.categories


def test_the_classifier_path_is_reported():
    result, _ = run("阮阿公胸坎足疼")
    assert result.classifier_score is not None and result.path in ("rules", "both")
    only = TriageResult(classifier_score=0.99, classifier_fired=True)
    assert only.path == "classifier" and only.categories == ["unspecified"]
    reply = emergency_reply(RULES, only, "taigi_han")
    assert "119" in reply


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
    text = DEFAULT_RULES.read_text(encoding="utf-8")
    cases = {
        "needs taigi/mandarin phrases or combos": text.replace(
            "  taigi: [bô teh tshuán-khuì", "  tagi: [bô teh tshuán-khuì", 1
        ).replace("  mandarin: ['re:沒", "  mandrin: ['re:沒", 1),
        "bad expression": text.replace("'re:沒(?:有|在)?", "'re:沒(?:有|在", 1),
        "lacks": text.replace("    mandarin_simplified: 药要吃多少", "    zz: 药要吃多少", 1),
        "dose_intent": text.replace("dose_intent:", "dose_intentx:", 1),
        "dose_intent: missing 'ask_alone'": text.replace("  ask_alone:", "  ask_alon:", 1),
    }
    for why, body in cases.items():
        bad = tmp_path / "r.yaml"
        bad.write_text(body, encoding="utf-8")
        with pytest.raises(RuleError, match=why):
            load_rules(bad)
    with pytest.raises(RuleError, match="cannot read"):
        load_rules(tmp_path / "missing.yaml")


def test_wilson_interval():
    assert wilson(0, 0) is None
    lo, hi = wilson(95, 100)
    assert 0.88 < lo < 0.95 < hi < 0.98


def _decide(rules, classifier):
    # The server's decision (safety/conversation.py), as benchmarks/eval_triage.py
    # records it: a single message is a conversation of one turn.
    return lambda text, raw: assess_conversation(rules, [text], classifier)


def test_tuning_figures_do_not_drop_below_the_recorded_ones():
    rows = load_eval(DEFAULT_EVAL)
    assert len(rows) >= 600 and {r["script"] for r in rows} == SCRIPTS
    r = evaluate_triage(RULES, rows, _decide(RULES, CLF))
    assert r["rules_version"] == RECORDED["rules_version"]
    assert r["overall"]["recall"] >= RECORDED["tuning"]["recall"], r["missed"]
    assert r["overall"]["precision"] >= RECORDED["tuning"]["precision"], r["false_alarms"]


def test_heldout_figures_hold_and_do_not_drop():
    rows = load_eval(HELDOUT)
    assert len(rows) >= 200 and {r["script"] for r in rows} == SCRIPTS
    r = evaluate_triage(RULES, rows, _decide(RULES, CLF))
    # Every floor (recall 0.95 overall and 0.90 in each script, precision 0.90) holds on
    # the shipped decision.
    assert below_floors(r) == [], (r["missed"], r["false_alarms"])
    rec = RECORDED["heldout"]
    assert r["overall"]["recall"] >= rec["recall"], r["missed"]
    assert r["overall"]["precision"] >= rec["precision"], r["false_alarms"]
    for script, recall in rec["per_script_recall"].items():
        assert r["per_script"][script]["recall"] >= recall, script
    # The rules alone meet every floor, precision included.
    assert below_floors(evaluate_triage(RULES, rows, _decide(RULES, None))) == []


def test_the_guard_fails_when_a_category_is_lost(tmp_path):
    # Broken input: the stroke and suicide lexicons gone, no classifier.
    text = DEFAULT_RULES.read_text(encoding="utf-8")
    tree_text = text
    for cid in ("stroke", "suicide"):
        start = tree_text.index(f"- id: {cid}\n")
        end = tree_text.index("\n- id: ", start + 1)
        tree_text = tree_text[:start] + tree_text[end + 1 :]
    crippled = tmp_path / "rules.yaml"
    crippled.write_text(tree_text, encoding="utf-8")
    rules = load_rules(crippled)
    r = evaluate_triage(rules, load_eval(HELDOUT), _decide(rules, None))
    assert any("recall" in b for b in below_floors(r))


def test_heldout_file_is_not_in_the_tuning_corpus(tmp_path):
    tuning = {r["text"] for r in load_eval(DEFAULT_EVAL)}
    held = {r["text"] for r in load_eval(HELDOUT)}
    assert not tuning & held, sorted(tuning & held)[:5]
    shutil.copy(HELDOUT, tmp_path / "h.jsonl")  # the loader names a bad line
    (tmp_path / "h.jsonl").write_text("{not json}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"h\.jsonl:1: not valid JSON"):
        load_eval(tmp_path / "h.jsonl")
