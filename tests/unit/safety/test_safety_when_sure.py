"""Issue 21, "when unsure, escalate" (docs/safety.md "When the reading is sure"): a turn the
triage classifier is sure of fires whatever scope the rules gave its words, and a turn the
dosing reading is sure of goes to the pharmacist though no medicine word stands in it. Our
own sentences; each check comes with a broken input (the bar raised out of reach) that makes
it fail."""

from __future__ import annotations

from dataclasses import replace

import pytest
from rounds import CLF, RULES
from rounds import fires as _fires

from taigimed.safety import dose
from taigimed.safety.conversation import (
    _escalate_when_sure,
    _read,
    assess_conversation,
    standardized,
)
from taigimed.safety.dose import dose_path, dose_reading_for
from taigimed.safety.triage import Hit, TriageResult, emergency_reply, reply_script

READING = dose_reading_for(RULES)

# "Came home this afternoon" set the fever in the past; a stiff neck, a chin that will not
# go down and eyes hurting in the light are now.
# 轉來厝矣 ("came home") read as a resolution; since rules 2027.01.13 a bare 轉來厝 is not one.
STIFF_NECK = "阮查某囝讀高中 下晡轉來厝矣 就咧發燒 頷頸硬硬 頭犁袂落去 看著光就喝目睭疼"
# "Spicy to death": an idiom the rules recognise, scored high all the same.
# A night shift and "morning and evening after meals": no medicine word anywhere.
NIGHT_SHIFT = "我上夜班，醫生說早晚飯後吃，可以改成下班吃一次、睡醒吃一次嗎"


def _assess(*turns: str) -> TriageResult:
    return assess_conversation(RULES, [standardized(t) for t in turns], CLF)


def test_a_sure_reading_overrules_a_past_word():
    result = _assess(STIFF_NECK)
    assert result.triggered and result.sure and not result.hits
    assert {why for _, why in result.suppressed} == {"past"}
    assert _fires(STIFF_NECK, sure=False) == []  # broken: never sure


def test_the_bar_is_085():
    """0.85 since rules 2027.01.05 (chosen on blind back-tests, docs/safety.md): a reading of
    0.87 overrules the past word. Broken input: the first bar, 0.90, lets it through."""
    turns = [standardized(STIFF_NECK)]

    def escalated(clf) -> bool:
        result = _read(RULES, turns, clf)
        assert not result.triggered
        result.classifier_score = 0.87
        return _escalate_when_sure(RULES, turns, result, clf).triggered

    assert escalated(CLF)
    assert not escalated(replace(CLF, confident=0.90))


def test_an_idiom_the_rules_recognise_is_not_overruled():
    # 阮孫仔食麻辣鍋 薟甲講欲死矣, first here, is no longer read as sure since v45-v59 were read.
    turns = [standardized("我孫子吃麻辣鍋辣到快死掉 嘴巴腫起來 一直流眼淚咳嗽")]
    result = assess_conversation(RULES, turns, CLF)
    assert CLF.sure(result.classifier_score) and result.idiom_seen
    assert not result.triggered
    result.idiom_seen = False  # broken: the idiom not recognised
    assert _escalate_when_sure(RULES, turns, result, CLF).triggered


def test_suicide_words_set_aside_bring_the_1925_line():
    plan = Hit("suicide", "安眠藥", "zh", "伊共安眠藥儉起來")
    sure = TriageResult(suppressed=[(plan, "story")], classifier_fired=True, sure=True)
    assert sure.categories == ["suicide"]
    assert "1925" in emergency_reply(RULES, sure, reply_script("mandarin"))
    # Fired by the classifier at its plain threshold, the words set aside name nothing.
    plain = TriageResult(suppressed=[(plan, "story")], classifier_fired=True)
    assert plain.categories == ["unspecified"]
    assert "1925" not in emergency_reply(RULES, plain, reply_script("mandarin"))


def test_a_sure_dosing_reading_needs_no_medicine_word(monkeypatch):
    s = standardized(NIGHT_SHIFT)
    assert dose_path(RULES, [s]) is None  # the rules alone let it through
    assert dose_path(RULES, [s], READING) == "learned"
    monkeypatch.setattr(dose, "SURE", 1.0)  # never sure: the medicine gate holds
    assert dose_path(RULES, [s], READING) is None


@pytest.mark.parametrize(
    "text",
    [
        # The same shift told, not asked.
        "我上夜班，醫生說早晚飯後吃，我就改成下班吃一次、睡醒吃一次。",
        # Eggs a day: scored high, but no question word the dosing rules know.
        "吃雞蛋一天可以吃幾顆？",
    ],
)
def test_without_a_medicine_only_a_turn_that_asks_is_redirected(text):
    s = standardized(text)
    assert READING.score(RULES, s) >= dose.SURE
    assert dose_path(RULES, [s], READING) is None
