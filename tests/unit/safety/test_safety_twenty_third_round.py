"""Issue 21, twenty-third round (rules 2026.12.29): what held-out v27 (judged blind at
2026.12.28, a tuning set since) showed, as classes. The writer as a learner names nobody
for a general question; a stranger's story keeps its scope through its own "suddenly"; a
show's character is the show's; a medicine's time asked across time zones is a dosing
question; and the words it showed. Our own sentences; each check comes with a broken input
that makes it fail."""

from __future__ import annotations

import re

from rounds import RULES, TEXT
from rounds import fires as _fires
from rounds import hits as _rule_hits
from rounds import redirected as _redirected

from support import rules_from
from support import rules_replaced as replaced
from taigimed.safety import triage
from taigimed.safety.conversation import standardized
from taigimed.safety.hearing import heard_clauses


def test_the_learner_names_nobody_for_a_general_question(tmp_path):
    asks = "胸痛到什麼程度應該叫救護車 我想先了解一下 家中長輩多"
    assert _fires(asks) == []
    assert "chest_pain" in _fires("我爸胸口很痛 我想先了解一下要怎麼辦")
    unlearnt = TEXT.replace(", 先了解, 了解一下", "").replace(
        ", sing tsai-iánn, 先知影, sing liáu-kái, 先了解", ""
    )
    assert _fires(asks, rules=rules_from(tmp_path, unlearnt))


def test_han_words_name_a_person_by_their_words(monkeypatch):
    asks = "胸痛到什麼程度要叫救護車？我想先了解一下，家裡有老人"
    assert _fires(asks) == []  # 家裡 is read ka-lí, and lí is "you" only when written so
    assert "chest_pain" in _fires("Lí ê hing-khám thiànn kàu kiò bē tshénn")
    monkeypatch.setattr(triage, "_HAN_CHAR", re.compile(r"(?!)"))
    assert _fires(asks)


def test_always_calling_is_a_general_question(tmp_path):
    asks = "hing kham thiann si bo si long ai kio kiu hoo tshia?"
    assert _fires(asks) == []
    assert _fires(asks, rules=replaced(tmp_path, ", lóng ài kiò, 攏愛叫"))


def test_a_strangers_story_keeps_its_scope_through_suddenly(tmp_path):
    story = "新聞講有一个阿伯佇公園，雄雄倒落去"
    assert _fires(story) == []
    # The doctor's word is no story of a stranger: what is sudden now fires.
    assert "chest_pain" in _fires("醫生說沒事，突然又胸口痛")
    # 一个阿伯 names a stranger too since the twenty-seventh round: gone from the broken file.
    nameless = (
        TEXT.replace(", 有一个,", ",")
        .replace("ū tsi̍t ê, ", "")
        .replace(", 一个阿伯, tsi̍t ê a-peh", "")
    )
    assert _fires(story, rules=rules_from(tmp_path, nameless))


def test_a_shows_character_is_the_shows(tmp_path):
    character = heard_clauses(RULES, standardized("Lāi-bīn ê lāu a-pah hiông-hiông hūn--khì"))[0]
    assert not triage.names_person(RULES, character, stranger=True)
    assert triage.names_person(RULES, character)  # a-pah, read without the story
    broken = replaced(tmp_path, ", lāi-bīn ê lāu, 內面的老")
    assert triage.names_person(broken, character, stranger=True)


def test_a_medicines_time_across_time_zones(tmp_path):
    turns = ("阿公每天早上吃血壓藥", "下禮拜去日本 時差一小時 藥的時間要怎麼調")
    assert _redirected(*turns)
    untimed = (
        TEXT.replace(", 時間愛按怎調, 時間按怎調", "")
        .replace(", 時間要怎麼調, 時間怎麼調", "")
        .replace(", 時差", "")
        .replace(", sî-tsha", "")
    )
    assert not _redirected(*turns, rules=rules_from(tmp_path, untimed))


def test_words_of_this_round(tmp_path):
    family = "gua lau pe kah a kong long si tiong hong tsau e, gua ma tsin kiann"
    dazed = "a ma e sun a thau tsiah hueh ap ioh, tsit ma gong gong"
    assert _fires(family) == []
    assert "poisoning" in _rule_hits(dazed)
    assert _fires(family, rules=rules_from(tmp_path, TEXT.replace(", tsáu--ê", "")))
    undazed = replaced(tmp_path, ", gōng-gōng, 戇戇, tsin gōng, 真戇, tsiok gōng, 足戇")
    assert "poisoning" not in _rule_hits(dazed, undazed)
