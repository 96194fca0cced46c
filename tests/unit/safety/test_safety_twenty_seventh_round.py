"""Issue 21, twenty-seventh round (rules 2027.01.02): what held-out v33 and v34 (judged
blind at 2027.01.01, tuning sets since) showed, as classes. A brand right after a Han
character is a proper name; a Latin medicine word counts only whole; a correction told in
the next turn settles the event; the patient's own "rest and it will pass" is no
resolution; a kettle spilt; seven or eight pills at once; a late husband's anniversary with
pills saved; a supposition, a doubt and a stranger told the way carers write them. Our own
sentences; each check comes with a broken input that makes it fail."""

from __future__ import annotations

import re

from rounds import RULES, TEXT, redirected
from rounds import fires as _fires

from support import rules_from
from support import rules_replaced as replaced
from taigimed.safety import dose


def test_a_brand_right_after_a_han_character_is_a_proper_name(monkeypatch):
    # Han characters are word characters to \b: 食Glucophage held no boundary.
    assert dose.names_proper("阿公食Glucophage，今暗會使配啤酒無?")
    assert not dose.names_proper("Glucophage 是啥物藥?")  # a clause's first word is no name
    monkeypatch.setattr(
        dose, "_PROPER_NAME", re.compile(r"(?<=[^\s.!?。！？,，;；:：])\s*\b([A-Z][a-z]{3,})\b")
    )
    assert not dose.names_proper("阿公食Glucophage，今暗會使配啤酒無?")


def test_a_latin_medicine_word_counts_only_whole(monkeypatch):
    assert not dose.names_medicine(RULES, "appointment 改時間要打電話 or 網路可以改?")
    assert dose.names_medicine(RULES, "這條 ointment 一天擦幾次?")
    monkeypatch.setattr(dose, "_holds", lambda lower, cues: any(w in lower for w in cues.han))
    assert dose.names_medicine(RULES, "appointment 改時間要打電話 or 網路可以改?")


def test_a_correction_told_in_the_next_turn_settles_the_event(tmp_path):
    turns = (
        "一個鐘頭前阿公血糖掉到50 手在抖 流冷汗",
        "我馬上餵他喝一杯糖水 又吃了兩塊餅乾 現在量120 講話都正常",
        "以後晚餐要怎麼安排 才不會再低血糖",
    )
    assert _fires(*turns) == []
    words = ", 喝一杯糖水, 喝了一杯糖水, 講話都正常, 說話都正常"
    assert "hypoglycaemia" in _fires(*turns, rules=replaced(tmp_path, words))


def test_the_patients_own_rest_and_it_will_pass_is_no_resolution(tmp_path):
    message = (
        "a pah tu tsiah hut jian hing kham thiann kah be kong ue, koh lau ling kuann, "
        "kong hioh tsit e to ho"
    )
    assert "chest_pain" in _fires(message)
    broken = replaced(tmp_path, ", kóng hioh, 講歇")
    assert _fires(message, rules=broken, sure=False) == []  # the sure reading catches it


def test_a_kettle_spilt(tmp_path):
    message = "阿嬤打翻熱水壺 熱水倒在大腿上 起了好幾個大水泡"
    assert "burns" in _fires(message)
    words = ", 開水…倒, 開水…潑, 開水…翻, 熱水…倒, 熱水…潑, 熱水…翻, 打翻…開水, 打翻…熱水"
    assert _fires(message, rules=replaced(tmp_path, words)) == []


def test_seven_or_eight_pills_at_once(tmp_path):
    message = "阿公共安眠藥當做血壓藥 一擺食七八粒 這馬足愛睏"
    assert "poisoning" in _fires(message)
    # An amount asked is no overdose told.
    assert "poisoning" not in _fires("一次吃五顆可以嗎")
    broken = re.sub(r", 're:一(?:擺|次)\(\?:食\|吃\|吞\)[^']*'", "", TEXT)
    assert broken != TEXT
    assert _fires(message, rules=rules_from(tmp_path, broken)) == []


def test_a_late_husbands_anniversary_with_pills_saved(tmp_path):
    turns = ("阿嬤最近攏睏袂去", "伊講後禮拜是阿公的忌日 伊欲去揣阿公 安眠藥儉真濟囥佇床跤")
    assert "suicide" in _fires(*turns)
    broken = TEXT.replace(", kī-ji̍t, 忌日", "").replace(", 忌日]", "]")
    assert _fires(*turns, rules=rules_from(tmp_path, broken)) == []


def test_out_of_breath_chasing_a_grandchild_with_a_laugh(tmp_path):
    message = "追孫子追到上氣不接下氣 哈哈"
    assert _fires(message) == []
    assert "breathing" in _fires(message, rules=replaced(tmp_path, ", 上氣不接下氣"), sure=False)


def test_if_it_really_happens_and_can_it_really(tmp_path):
    really = "Nā tsin-tsiànn kénn--tio̍h, guá ài án-tsuánn tsò?"
    doubt = "lau lang siunn kau khi kam tsin e tiong hong?"
    assert _fires(really) == [] and _fires(doubt) == []
    no_really = replaced(tmp_path, ", nā tsin-tsiànn, 若真正")
    assert "choking" in _fires(really, rules=no_really)
    assert "stroke" in _fires(doubt, rules=replaced(tmp_path, ", kám tsin ē, 敢真會"))


def test_an_old_man_in_the_news_is_a_stranger(tmp_path):
    turns = (
        "你有看新聞無",
        "一个阿伯佇公車頂心臟停止 倒落去",
        "司機用 AED 共救起來 社區嘛有 AED 一般人敢會曉用",
    )
    assert _fires(*turns) == []
    broken = replaced(tmp_path, ", 一个阿伯, tsi̍t ê a-peh")
    assert "cardiac_arrest" in _fires(*turns, rules=broken)


def test_a_blood_thinners_brand_and_a_capsule_spelt_as_said(tmp_path):
    brand = "昨暝袂記得食可化凝 今仔日會使食兩粒無"
    capsule = "a kong thun be loh kiau nng, kam e sai pak khui tsham tsui lim?"
    assert redirected(brand) and redirected(capsule)
    assert not redirected(brand, rules=replaced(tmp_path, ", 可化凝"))
    no_capsule = replaced(tmp_path, ", kiau-nn̂g, ka-nn̂g, kau-lông")
    assert not redirected(capsule, rules=no_capsule)
