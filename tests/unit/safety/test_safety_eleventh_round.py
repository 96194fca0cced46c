"""Issue 21, eleventh round (rules 2026.12.17): what held-out v11 (judged blind at
2026.12.16, a tuning set since) showed, as classes. Our own sentences; each check comes with
a broken input that makes it fail."""

from __future__ import annotations

import pytest

from support import fired
from taigimed.safety import conversation
from taigimed.safety.classifier import load_classifier
from taigimed.safety.conversation import standardized
from taigimed.safety.dose import is_dose_conversation
from taigimed.safety.rules import load_rules
from taigimed.safety.triage import triage

RULES = load_rules()
CLF = load_classifier()

WORSE = (
    "阿公昨暗跋倒，頭殼挵著桌角",
    "伊講無代誌，我就無𤆬伊去看",
    "今仔早起伊一直吐，足愛睏，講話霧霧",
)


def _fires(*turns: str) -> list[str]:
    return fired(RULES, CLF, *turns)


def test_worse_after_it_was_nothing_fires():
    assert "head_injury" in _fires(*WORSE)


def test_without_the_worse_reading_it_stays_settled(monkeypatch):
    # Broken input: the last turn read as if it did not tell of now.
    monkeypatch.setattr(conversation, "_worse_now", lambda rules, text: False)
    assert "head_injury" not in _fires(*WORSE)


@pytest.mark.parametrize(
    "turns",
    [
        (WORSE[0], WORSE[1], "今仔早起伊閣去公園行路矣，愛注意啥？"),
        ("我阿公剛剛吃東西噎到", "拍背之後吐出來了，現在呼吸正常也會講話了，以後要注意什麼"),
    ],
)
def test_a_question_or_a_recovery_after_it_stays_settled(turns):
    assert _fires(*turns) == []


def test_a_bottle_saved_with_tonight_is_a_plan():
    text = "醫生開的安眠藥我攏無食，儉一罐矣，今暗就欲去揣伊"
    assert "suicide" in triage(RULES, standardized(text)).categories
    # Broken input: the bottle without a time is no plan by the rules.
    assert "suicide" not in triage(RULES, standardized("安眠藥儉一罐矣")).categories


def test_pills_taken_all_at_once_and_a_chest_pain_that_spreads():
    assert "poisoning" in _fires("阮阿媽頭殼較袂記，伊共一禮拜的血壓藥仔一擺攏食了，這馬頭殼眩")
    assert "chest_pain" in _fires("我爸胸口好悶 痛到手跟脖子 一直冒冷汗")
    # The chest alone does not. (好悶 did until the sixteenth round only because 不是 read
    # toneless as the past cue 不時 put-sî; 胸口悶 is a chest pain of its own.)
    assert _fires("我爸想把胸口的肌肉練大一點 是不是要多運動") == []


def test_an_aed_asked_about_is_no_alarm_but_cpr_being_done_is():
    assert _fires("公園有一台AED 要怎麼用？") == []
    assert "cardiac_arrest" in _fires("阿公倒下去沒有呼吸，我正在做CPR")


@pytest.mark.parametrize(
    "text",
    [
        "我爸昨天忘記吃拜瑞妥，今天可以吃兩顆補回來嗎",
        "阿嬤吃 Eliquis，昨天沒吃，today 可以 double 嗎",
    ],
)
def test_blood_thinners_by_name_are_medicines(text):
    assert is_dose_conversation(RULES, [standardized(text)])
