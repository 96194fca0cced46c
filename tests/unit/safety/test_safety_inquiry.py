"""Everyday questions, topics, a resolution in the same message, word-by-word Mandarin,
drowning and suicide told as "leaving first" (issue 21); each with an input that breaks it."""

from __future__ import annotations

import dataclasses
import re

from taigimed.safety.classifier import load_classifier
from taigimed.safety.conversation import assess_conversation, is_dose_conversation
from taigimed.safety.inquiry import is_inquiry, topic_only
from taigimed.safety.resolution import resolved_within
from taigimed.safety.rules import DEFAULT_RULES, load_rules
from taigimed.safety.triage import triage
from taigimed.text.romanize import standardize_input

RULES = load_rules()
CLF = load_classifier()


def _std(text: str) -> str:
    return standardize_input(text)[0]


def _decide(*turns: str, rules=RULES, clf=CLF):
    return assess_conversation(rules, [_std(t) for t in turns], clf)


def _without(tmp_path, *keys: str):
    """The shipped rule file with the named cue lists removed (a broken input)."""
    text = DEFAULT_RULES.read_text(encoding="utf-8")
    for key in keys:
        text, n = re.subn(rf"\n  {key}:\n(?:    .*\n)+", "\n", text)
        assert n == 1, key
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return load_rules(path)


# An everyday question the classifier alone scored over its threshold (dev knowledge set).
EVERYDAY = "小腿後面青筋浮起來一條一條的像蚯蚓，是靜脈曲張嗎 要怎麼處理"
# Since the sixth round the shipped letters, trained on real writing too, score it under
# their threshold; an eager copy (threshold 0.02) fires, and the scope must hold it back.
EAGER = dataclasses.replace(CLF, threshold=0.02)


def test_the_classifier_alone_does_not_answer_an_everyday_question_with_119(tmp_path):
    score = EAGER.score(_std(EVERYDAY), RULES.variants)
    assert EAGER.fires(score)  # the second opinion alone would say 119
    assert is_inquiry(RULES, _std(EVERYDAY))
    assert not _decide(EVERYDAY, clf=EAGER).triggered
    # Without the everyday reading (which since the sixth round judges Han statements too)
    # the inquiry scope alone holds it back; broken input: without cues.inquiry (and
    # cues.asking) the false alarm is back.
    letters = dataclasses.replace(EAGER, everyday=None)
    assert not _decide(EVERYDAY, clf=letters).triggered
    broken = _without(tmp_path, "inquiry", "asking")
    assert _decide(EVERYDAY, rules=broken, clf=letters).triggered


def test_something_happening_now_keeps_a_question_out_of_the_inquiry_scope():
    assert is_inquiry(RULES, _std("高血壓的人飲食要注意什麼？"))
    for text in (
        "我爸剛剛突然手沒力，可以吃什麼？",  # onset
        "阿公現在一直吐，可以喝什麼？",  # now, still going
        "阿嬤這樣要注意什麼，怎麼辦？",  # asking for help now
        "Guán a-kong tsit-má ē-sái tsia̍h siánn?",
    ):
        assert not is_inquiry(RULES, _std(text)), text
    # A rule's symptom still fires inside an everyday question.
    assert _decide("阿公胸口很痛一直冒冷汗，要看哪一科？").rules_fired


def test_a_condition_named_as_the_topic_of_a_question_does_not_fire(tmp_path):
    for text in (
        "中風要做什麼檢查？",
        "阮阿母 ū tiòng-hong，平常愛注意啥？",
        "我爸有中風過，平常要注意什麼？",
    ):
        r = _decide(text)
        assert not r.triggered, text
        # Either a topic, or (中風過, "has had a stroke": rules 2026.12.6) background.
        read = triage(RULES, _std(text))
        assert not read.hits or topic_only(RULES, _std(text), read)
    # Just happened, suspected, or a state that may be now: it fires.
    for text in ("我爸中風了，要注意什麼", "我爸好像中風，要看哪一科", "我媽低血糖，可以吃什麼"):
        assert _decide(text).rules_fired, text
    # Broken input: without cues.topic the question fires again.
    assert _decide("中風要做什麼檢查？", rules=_without(tmp_path, "topic")).rules_fired


def test_a_resolution_told_after_the_event_reaches_back(tmp_path):
    over = "我媽剛才噎到，已經咳出來了，現在沒事，以後吃飯要注意什麼"
    assert resolved_within(RULES, _std(over), triage(RULES, _std(over)))
    assert not _decide(over).triggered
    assert not _decide("阿嬤拄才血糖低，啉糖仔水了後已經好矣").triggered
    # Not over: something after it, the patient's own word, a guess, or a kind never over.
    for text in (
        "阿公剛剛昏倒，已經好了，可是又昏過去",
        "我爸胸口很痛冒冷汗，他說沒事了",
        "阿嬤噎到，好像咳出來了",
        "阿公叫不醒，已經好幾分鐘了",
        "我女兒說她想死，她說沒事了",
        "阿嬤噎到，咳出來了，可是現在還是喘不過氣",
    ):
        assert _decide(text).triggered, text
    # Broken input: without cues.resolved_after it fires as before.
    assert _decide(over, rules=_without(tmp_path, "resolved_after")).triggered


def test_word_by_word_mandarin_matches_the_han_phrases():
    assert _decide("阿嬤 叫 不 醒", clf=None).categories == ["unconscious"]
    assert _decide("阿公 喘 不 過 氣", clf=None).categories == ["breathing"]
    assert not _decide("阿嬤 今天 吃 飯 很 好 睡 覺 也 好").triggered
    assert is_dose_conversation(RULES, [_std("阿嬤 的 血壓 藥 忘記 吃 可以 吃 兩 顆 嗎")])


def test_drowning_fires_and_a_question_about_it_does_not(tmp_path):
    assert "drowning" in _decide("我兒子游泳溺水，救上來一直咳還很喘", clf=None).categories
    assert "drowning" in _decide("孫仔跋落水池，抱起來面青青", clf=None).categories
    assert not _decide("請問小朋友溺水的時候要怎麼急救？我想學").triggered
    assert not _decide("新聞說有人在海邊溺水，夏天要注意什麼").triggered
    # Broken input: a rule file without the category.
    text = DEFAULT_RULES.read_text(encoding="utf-8")
    start = text.index("- id: drowning\n")
    text = text[:start] + text[text.index("\n- id: ", start + 1) + 1 :]
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    assert (
        "drowning"
        not in _decide("我兒子游泳溺水，救上來一直咳還很喘", rules=load_rules(path)).categories
    )


def test_suicide_told_as_leaving_first_fires_and_a_plain_goodbye_does_not():
    for text in (
        "活咧足忝，我欲先走一步，索仔已經縛好矣",
        "gua beh sing tsau ah, soh-a pak ho ah",
        "我想先走一步了，藥都囤在抽屜",
    ):
        assert "suicide" in _decide(text, clf=None).categories, text
    assert not _decide("我先走了，明天再來問醫生的事", clf=None).triggered
    assert not _decide("阮阿母明仔載欲先走去病院", clf=None).triggered
    # A dosing question about a sleeping pill tonight is not a plan.
    q = "今晚安眠藥可以吃兩顆嗎？"
    assert not _decide(q).triggered and is_dose_conversation(RULES, [_std(q)])
