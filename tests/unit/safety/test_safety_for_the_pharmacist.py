"""Issue 21, rules 2027.01.07 code (docs/safety.md "Dosing questions the rules took for an
emergency"): step 6 of ``safety/conversation.py``, a dosing question whose words the rules
took for an emergency goes to the pharmacist when the classifier is sure it is none; and
step 7's exceptions, judged on the clauses they were seen in. Our own sentences; each check
comes with a broken input (a bar out of reach, or the exception's clause moved) that makes
it fail."""

from __future__ import annotations

from dataclasses import replace

import pytest
from rounds import CLF, RULES

from taigimed.safety import conversation
from taigimed.safety.conversation import _rest, assess_conversation, standardized
from taigimed.safety.dose import is_dose_conversation
from taigimed.safety.hearing import heard_clauses
from taigimed.safety.triage import HAN_SPACE

NEVER_CLEAR = replace(CLF, clear_below=0.0)

# Sugar "on the low side" beside the diabetes pill: the rules read a low; it is a question
# about the evening dose.
LOW_SUGAR = "阿母的血糖最近攏偏低，暗頓彼粒降血糖藥仔敢愛減半粒?"
# The same in Mandarin, the pill for the morning.
LOW_SUGAR_ZH = "這兩天阿公血糖都偏低，早上那顆降血糖藥還要吃嗎?"
# An emergency asked as a question about the pills: it reads high.
SWALLOWED = "阿公剛剛把一整排安眠藥吞下去，現在叫不太醒，要不要讓他吐出來?"
# A quarrel ("angry to death") told first, then a father on the floor beside spilt
# insecticide, vomiting, who will not say how much he drank of "that liquid" (藥水).
INSECTICIDE = (
    "下午跟我姐為了房子的事又吵架，吵到我氣得要死，算了不說了。剛剛進門看到我爸躺在客廳"
    "地上，旁邊那罐殺蟲劑打翻了，嘴巴都是那個藥水的味道，一直吐，問他喝了多少都不回答"
)
# Queueing "tired to death" at the office, then a grandfather short of breath at home.
QUEUE = (
    "今天去健保局排隊排到快累死，櫃台的人又叫我補資料，跑了兩趟，回來以後看到阿公坐在沙發"
    "上一直喘不過來，講一句話就要停三次，肩膀一直聳起來"
)
# Spicy "till I nearly died", the mouth swollen and tears with it.
SPICY_ZH = "我孫子吃麻辣鍋辣到快死掉 嘴巴腫起來 一直流眼淚咳嗽"


def _assess(*turns: str, clf=CLF):
    return assess_conversation(RULES, [standardized(t) for t in turns], clf)


@pytest.mark.parametrize("text", [LOW_SUGAR, LOW_SUGAR_ZH])
def test_a_dosing_question_the_classifier_clears_goes_to_the_pharmacist(text):
    result = _assess(text)
    assert not result.triggered
    assert {why for _, why in result.suppressed} == {"dosing"}
    assert is_dose_conversation(RULES, [standardized(text)], ways=True)
    # Broken: the classifier never clear, the rules' low fires as before.
    assert _assess(text, clf=NEVER_CLEAR).categories == ["hypoglycaemia"]


def test_the_joined_turns_must_be_clear_too():
    """A conversation whose earlier turn tells the danger: the last turn alone reads clear,
    the turns joined do not."""
    before = "阿嬤打完胰島素以後一直冒冷汗，手一直抖，叫她都不太應"
    alone = _assess(LOW_SUGAR_ZH)
    assert not alone.triggered
    assert _assess(before, LOW_SUGAR_ZH).triggered


def test_an_emergency_asked_about_pills_still_fires():
    assert set(_assess(SWALLOWED).categories) >= {"poisoning"}


def test_suicide_words_never_go_to_the_pharmacist(monkeypatch):
    result = _assess(LOW_SUGAR)
    assert not result.triggered
    # Broken: the low read as suicide words, which the step never takes.
    monkeypatch.setattr(conversation, "NEVER_SET_ASIDE", frozenset({"hypoglycaemia"}))
    assert _assess(LOW_SUGAR).triggered


def test_an_idiom_far_from_the_emergency_does_not_hold_it_back(monkeypatch):
    result = _assess(QUEUE)
    assert result.triggered and result.sure and result.idiom_seen
    rest = _rest(RULES, standardized(QUEUE), True)
    assert "累死" not in rest and "喘" in rest
    # Broken: the exceptions judged on the whole turn again.
    monkeypatch.setattr(conversation, "_rest", lambda rules, text, seen: None)
    assert not _assess(QUEUE).triggered


@pytest.mark.parametrize("text", [SPICY_ZH])
def test_an_idiom_keeps_its_scene(text, monkeypatch):
    """The scene told up to the idiom and the clause after it go with it: the spice's
    swollen mouth is no emergency left over. (The Taigi ones first here, 薟甲講欲死矣 and
    *tshiò kah tshuán bē kuè-lâi*, are no longer read as sure since it read v45-v59.)"""
    result = _assess(text)
    assert result.idiom_seen and CLF.sure(result.classifier_score)
    assert not result.triggered
    rest = _rest(RULES, standardized(text), True)
    assert "麻辣鍋" not in rest and "腫" not in rest  # the scene and the clause after it
    # Broken: only the idiom's own clause set aside.
    monkeypatch.setattr(
        conversation,
        "_rest",
        lambda rules, t, seen: "，".join(
            c.text
            for c in heard_clauses(rules, HAN_SPACE.sub("，", t))
            if not conversation.triage(rules, c.text).idiom_seen
        ),
    )
    assert _assess(text).triggered


def test_a_medicine_named_beside_a_poisoning_does_not_hold_it_back(monkeypatch):
    result = _assess(INSECTICIDE)
    assert result.triggered and result.sure
    rest = _rest(RULES, standardized(INSECTICIDE), False)
    assert "藥水" not in rest and "殺蟲劑" in rest
    # Broken: the exceptions judged on the whole turn again (nothing left over).
    monkeypatch.setattr(conversation, "_rest", lambda rules, text, seen: None)
    assert not _assess(INSECTICIDE).triggered


def test_without_the_dosing_redirect_the_rules_keep_their_words():
    """A deployment with dose_questions off has no pharmacist reply: step 6 is left out."""
    from taigimed.safety.config import SafetyConfig
    from taigimed.serve.hooks import TurnContext
    from taigimed.serve.safety_layer import safety_hooks

    def reply_kind(**cfg) -> str | None:
        hooks = safety_hooks(SafetyConfig(**cfg))
        text = standardized(LOW_SUGAR)
        ctx = TurnContext("r", "s", [{"role": "user", "content": text}], LOW_SUGAR)
        ctx.meta["script"] = "taigi_han"
        for hook in hooks.pre_model:
            reply = hook(ctx)
            if reply is not None:
                return reply.kind
        return None

    assert reply_kind() == "dose_question"
    assert reply_kind(dose_questions=False) == "red_flag"
