"""Issue 21, nineteenth round (rules 2026.12.25): what held-out v21 and v22 (judged blind at
2026.12.24, tuning sets since) showed, as classes. A medicine named by its INN stem; a
stutter shown by a word said three times; what a settled event left, told again before a
question about care; the question after a supposition; an exasperated cry as a joke; and
the words it showed. Our own sentences; each check comes with a broken input that makes it
fail."""

from __future__ import annotations

import re

import pytest
from rounds import RULES
from rounds import fires as _fires
from rounds import hits as _rule_hits
from rounds import redirected as _redirected

from support import rules_from
from support import rules_replaced as replaced
from taigimed.safety import conversation, triage
from taigimed.safety.dose import names_medicine
from taigimed.safety.rules import DEFAULT_RULES, RuleError

STEMS = "  medicine_stems: [olol, pril, sartan, statin, dipine, formin,"


def test_a_medicine_named_by_its_inn_stem(tmp_path):
    asks = "我 tsia̍h amlodipine 一工一粒，因為上大夜班，可以改暗時食無？"
    assert names_medicine(RULES, "阿公食 Metformin 佮 atorvastatin")
    assert not names_medicine(RULES, "膽固醇 cholesterol 偏懸")
    assert _redirected(asks)
    broken = replaced(tmp_path, STEMS, "  medicine_stems: [olol, pril, sartan, statin, formin,")
    assert not names_medicine(broken, "amlodipine")


def test_a_stem_must_be_lower_case_letters(tmp_path):
    text = DEFAULT_RULES.read_text(encoding="utf-8").replace(STEMS, "  medicine_stems: [OL,")
    with pytest.raises(RuleError, match="medicine_stems"):
        rules_from(tmp_path, text)


def test_a_stutter_shown_by_a_word_said_three_times(monkeypatch):
    turns = ("guan sun 5 hue, i kong ue tua tsih", "kong gua gua gua an ne, ai khi to ui khuann?")
    assert _fires(*turns) == []
    assert _fires("a kong hiong hiong kong ue tua tsih, kong gua gua gua") != []  # sudden
    monkeypatch.setattr(triage, "_REPEATED", re.compile(r"(?!)"))
    assert "stroke" in _fires(*turns)


STROKE_CARE = (
    "阮阿母三個月前中風。",
    "伊這馬會家己行，干焦倒手較無力。",
    "厝內會當做啥物復健？",
)


def test_what_a_settled_event_left_before_a_care_question(monkeypatch):
    assert _fires(*STROKE_CARE) == []
    # Something new in the middle turn still fires.
    assert "stroke" in _fires(STROKE_CARE[0], "伊拄仔雄雄倒手閣無力，喙歪一爿。", STROKE_CARE[2])
    monkeypatch.setattr(conversation, "_new_in", lambda rules, text: True)
    assert "stroke" in _fires(*STROKE_CARE)


def test_the_question_after_a_supposition(monkeypatch):
    text = "若有人昏去無喘氣，CPR 愛按怎做？"
    assert _rule_hits(text) == []
    assert "cardiac_arrest" in _rule_hits("阿公昏去無喘氣，CPR 愛按怎做？")
    monkeypatch.setattr(triage, "_supposes", lambda rules, c: False)
    assert _rule_hits(text)


def test_an_exasperated_cry_makes_about_to_a_joke(tmp_path):
    text = "Khì sí--lâng! Tshài-kè koh khí, guá kah-ná beh hūn--khì."
    assert _rule_hits(text) == []
    assert _rule_hits(text, replaced(tmp_path, ", tshiò sí, khì sí--lâng"))


def test_sent_home_with_everything_normal_settles(tmp_path):
    turns = (
        "昨暗阿爸胸口痛，阮去ER",
        "抽血心電圖都normal，doctor說是肌肉拉傷",
        "今天他好多了，可以照常去打太極拳嗎？",
    )
    assert _fires(*turns) == []
    broken = replaced(tmp_path, ", 都normal, 都 normal, 好多了, 好很多")
    assert "chest_pain" in _fires(*turns, rules=broken)


def test_words_of_this_round(tmp_path):
    torsion = "阮後生十五歲，半暝卵脬痛kah吐"
    when = "什麼情況一定要叫119？像是胸口痛要痛多久才算嚴重 還是說先去診所就好"
    assert "testicular_torsion" in _rule_hits(torsion)
    assert _fires(when) == []
    assert "testicular_torsion" not in _rule_hits(torsion, replaced(tmp_path, ", 卵脬…痛"))
    assert _fires(when, rules=replaced(tmp_path, ", 還是說, 還是帶, 還是去"))


LOOKALIKES = ", kiat-hun, 結婚, ka hun tò, 共粉倒"


def test_a_wedding_and_powder_poured_are_look_alikes(tmp_path):
    wedding = (
        "Āu lé-pài guán kiánn kiat-hun, guá ū tsia̍h khùn-io̍h kah hueh-thn̂g io̍h,"
        " hit àm lim tsi̍t pue âng-tsiú kám ē-sái?"
    )
    powder = "kau long tsiok tua liap, e sai phah khui ka hun to ti tau hue lai te bo?"
    assert "hypoglycaemia" not in _fires(wedding)
    assert "unconscious" not in _fires(powder)
    no_wedding = replaced(tmp_path, LOOKALIKES, ", ka hun tò, 共粉倒")
    assert "hypoglycaemia" in _fires(wedding, rules=no_wedding, sure=False)
    no_powder = replaced(tmp_path, LOOKALIKES, ", kiat-hun, 結婚")
    assert "unconscious" in _fires(powder, rules=no_powder, sure=False)


def test_dosing_words_of_this_round(tmp_path):
    asks = [
        "食Tramadol可以lim一杯beer嗎？",
        "醫生開給阿爸的舌下含片 nitroglycerin 一次幾粒？隔幾分鐘可以再含？",
        "gua e Ventolin tsit jit siong tse e sai suh kui pai?",
    ]
    assert all(_redirected(t) for t in asks)
    broken = replaced(tmp_path, ", 含片, 舌下含, nitroglycerin, 醫生開, Ventolin, ventolin")
    assert not _redirected(asks[2], rules=broken)
