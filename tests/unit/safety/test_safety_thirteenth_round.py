"""Issue 21, thirteenth round (rules 2026.12.19): what held-out v13 (judged blind at
2026.12.18, a tuning set since) showed, as scope rather than words. A worry about some day
and a prevention govern the rest of their clause (triage._ahead_from); a turn that says the
person is well now settles the event before it (conversation._resolved); a stutter is no
slurred speech; a generic subject makes a general question; the writer as a learner names
nobody in a story; the pinyin view's token indices. Our own sentences; each check comes with
a broken input that makes it fail."""

from __future__ import annotations

import pytest
from rounds import RULES, TEXT
from rounds import fires as _fires
from rounds import hits as _rule_hits

from support import rules_from, without_cues
from taigimed.safety.conversation import standardized
from taigimed.safety.triage import triage


def _rules_without(tmp_path, *blocks: str):
    return rules_from(tmp_path, without_cues(TEXT, *blocks))


WORRIES = (
    "我媽有高血壓 我一直擔心她有一天會中風 現在她很好 平常要注意什麼",
    "Guá kiann ka-kī ū tsi̍t-kang tiòng-hong, tsit-má sin-khu lóng hó-hó, ài tsù-ì siánn?",
    "我爸說他很怕以後心肌梗塞 現在都沒有不舒服 要做什麼檢查",
)


@pytest.mark.parametrize("text", WORRIES)
def test_a_worry_about_some_day_is_no_event_even_after_now(text):
    assert _rule_hits(text) == []


def test_what_stands_before_the_worry_or_is_new_after_it_still_fires():
    assert "chest_pain" in _rule_hits("阿公現在胸口很痛 我擔心他哪天會中風")
    assert "stroke" in _rule_hits("我擔心他有一天會中風 他現在講話不清楚")
    assert "stroke" in _rule_hits("我怕他以後會中風 結果剛剛突然嘴歪一邊")


def test_without_the_worry_words_the_some_day_worries_fire(tmp_path):
    # Without the eighteenth round's 驚家己 too, which reads the Taigi worry the same way.
    text = without_cues(TEXT.replace(", 驚家己, kiann ka-kī", ""), "worry")
    assert all(_rule_hits(t, rules_from(tmp_path, text)) for t in WORRIES)


def test_a_prevention_after_now_is_no_event():
    text = "現在他在看電視 講話都正常 想問晚餐怎麼吃比較不會又低血糖"
    assert _rule_hits(text) == []
    # Broken input: the same words asked as "is it low again?" are an event.
    assert "hypoglycaemia" in _rule_hits("現在他在看電視 講話怪怪的 是不是又低血糖")


def test_without_prevent_the_again_word_is_an_onset(tmp_path):
    text = "現在他在看電視 講話都正常 想問晚餐怎麼吃比較不會又低血糖"
    assert _rule_hits(text, _rules_without(tmp_path, "prevent")) == ["hypoglycaemia"]


TREATED = (
    "我媽一個鐘頭前血糖掉到50，手抖冒冷汗",
    "我給她喝一杯果汁，又吃了兩片餅乾，十五分鐘後量到110",
    "現在她在客廳看電視，講話都正常，想問晚餐怎麼吃比較不會又低血糖",
)


def test_a_treated_low_sugar_fine_now_settles_the_conversation():
    assert _fires(*TREATED) == []
    # Broken input: the last turn says she is not well now.
    assert "hypoglycaemia" in _fires(*TREATED[:2], "現在她又開始冒冷汗，叫她都不太回應")


def test_without_well_the_treated_low_sugar_is_still_the_story(tmp_path):
    # Since the twenty-seventh round 講話都正常 is a resolution too: the broken file has neither.
    text = without_cues(TEXT, "well").replace(", 講話都正常, 說話都正常", "")
    assert "hypoglycaemia" in _fires(*TREATED, rules=rules_from(tmp_path, text))


def test_dazed_is_not_fine():
    # hôo-hôo (dazed) reads like hó-hó (fine) without tones: it settles nothing.
    assert "meningitis_signs" in _fires(
        "阮阿母對昨昏頭殼疼", "今仔日發燒，頷頸硬硬", "這馬叫伊攏 hôo-hôo，應答亂亂"
    )


STUTTERS = (
    "我孫子從小講話就大舌 一句話第一個字一直重複 現在讀國小 語言治療要去哪裡",
    "Guán hāu-senn tuā-tsi̍h, kóng-uē ē kat-kat, i tsit-má sann-tsa̍p huè, ū siánn-mih khò?",
)


@pytest.mark.parametrize("text", STUTTERS)
def test_a_stutter_is_no_slurred_speech(text):
    assert _rule_hits(text) == []


def test_a_stutter_with_a_stroke_sign_or_sudden_still_fires():
    assert "stroke" in _rule_hits("阿公講話結結巴巴 嘴歪一邊")
    assert "stroke" in _rule_hits("阿公突然講話大舌 結結巴巴的")


def test_without_speech_trait_a_stutter_fires(tmp_path):
    broken = _rules_without(tmp_path, "speech_trait")
    assert all("stroke" in _rule_hits(t, broken) for t in STUTTERS)


def test_a_generic_subject_is_a_general_question_with_a_person_named():
    text = "阮阿公有高血壓。中風的人愛偌久內送病院?"
    assert _rule_hits(text) == []
    assert "stroke" in _rule_hits("阮阿公這馬中風矣，愛偌久內送病院?")


def test_without_generic_the_named_grandfather_makes_it_fire(tmp_path):
    broken = _rules_without(tmp_path, "generic")
    assert "stroke" in _rule_hits("阮阿公有高血壓。中風的人愛偌久內送病院?", broken)


def test_the_writer_as_a_learner_names_nobody_in_the_news():
    text = (
        "kin-á-ji̍t sin-bûn kóng ū tsi̍t ê a-peh tī kong-hn̂g tó--lo̍h-khì, "
        "lōo-lâng kā i tsò CPR, CPR guá mā siūnn beh o̍h"
    )
    assert triage(RULES, standardized(text)).hits == []
    # Broken input: the writer's own father in the same story fires.
    assert triage(RULES, standardized("sin-bûn kóng … guán a-pa tsit-má tó--lo̍h-khì, bô ìn")).hits


def test_a_pinyin_match_is_dropped_inside_a_lookalike_at_its_own_characters():
    # The pinyin view's token i is character i: the stutter's 大舌頭 is dropped in the pinyin
    # view as in the Han one (an off-by-one kept the pinyin 大舌頭 firing).
    hits = triage(RULES, standardized("我兒子從小就大舌頭 講話會結巴 想問語言治療"))
    assert [h for h in hits.hits if h.script == "pinyin"] == []
