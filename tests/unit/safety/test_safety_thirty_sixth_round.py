"""Issue 21, thirty-sixth round (rules 2027.01.13): dosing questions read from our own
probes before v70-v72 were judged, and the misses of v70-v72 once they were judged blind:
a swallowed magnet, an infant told eight months old, and a mixed-script clause whose Han
syllables keep their tones. Our own sentences; each check comes with a broken input that
makes it fail."""

from __future__ import annotations

import dataclasses

import pytest
from rounds import fires, redirected

from support import rules_removed as _without
from support import rules_replaced
from taigimed.safety import triage

ONE_PILL_AT_A_TIME = r"'.?一次\s*(?:吃|食|服)\s*[一兩二半]\s*[顆粒片錠包]', "


def test_one_or_two_pills_at_a_time_is_a_dose_asked_not_an_overdose(tmp_path):
    text = "我是看护 阿公的退烧药 一次 吃 一颗 还是 两颗 药袋 中文 我看不懂"
    assert fires(text) == []
    assert "poisoning" in fires(text, rules=_without(tmp_path, ONE_PILL_AT_A_TIME), sure=False)


def test_a_handful_at_once_is_still_an_overdose():
    assert "poisoning" in fires("阿嬤一次吃了整排的藥，現在叫不醒")


DOSING = [
    # A time zone: when to take it abroad.
    (
        "Lí-hêng beh khì Bí-kok, io̍h-á ê sî-kan beh án-tsuánn tiâu?",
        ("sî-kan beh án-tsuánn tiâu, ",),
    ),
    # A dose spat out: give it again?
    ("孩子把藥吐出來了，要再餵一次嗎", ("再餵一次, 要再餵, 再餵一, ", "灌, 餵, ")),
]


@pytest.mark.parametrize(("text", "words"), DOSING)
def test_this_rounds_dosing_questions(tmp_path, text, words):
    assert redirected(text)
    assert not redirected(text, rules=_without(tmp_path, *words))


def test_a_meal_given_again_is_no_dose():
    assert not redirected("孩子不吃飯，要再餵一次嗎")


# What v70-v72 missed once they were judged blind.

# The rule file's combo of a magnet swallowed, taken out whole.
MAGNETS = """  - - taigi: [thun, 吞, 食落去, tsia̍h--lo̍h-khì]
      mandarin: [吞, 吃下去, 吃進去, 誤食]
    - taigi: [磁鐵, khip-tsio̍h, 吸石, tsû-thih, 磁珠]
      mandarin: [磁鐵, 磁珠, 強力磁]
"""


@pytest.mark.parametrize(
    "text",
    [
        "阮後生三歲 thun 落去兩粒 from 玩具 ê 磁鐵 magnet, tsit-má 講腹肚疼 kah 吐",
        "Guán sun-á thun lo̍h-khì tsi̍t lia̍p khip-tsio̍h",
        "孫子把玩具裡的小磁珠吃下去了",
    ],
)
def test_a_swallowed_magnet_is_an_emergency(tmp_path, text):
    assert "poisoning" in fires(text, sure=False)
    assert "poisoning" not in fires(text, rules=_without(tmp_path, MAGNETS), sure=False)


def test_putting_magnets_away_from_a_child_is_prevention(tmp_path):
    text = "磁鐵要怎麼收才不會被小孩吞下去？"
    assert fires(text) == []
    assert fires(text, rules=_without(tmp_path, "才不會被, "), sure=False)


INFANT_AGE = (
    r", '(?:嬰仔|嬰兒|紅嬰仔)[^，。！？,!?]{0,4}?(?:[四五六七八九]|十[一二]?|1[0-2]|[4-9])"
    r"\s*(?:個|个)?\s*月'",
    r"'enn a(?: \S+){0,2}? (?:si|goo|go|lak|tshit|peh|kau|tsap(?: (?:it|tsit|ji|nng))?)"
    r" (?:ko |e )?gueh'",
)


@pytest.mark.parametrize(
    "text",
    [
        "Eⁿ-á peh kò goe̍h, sio 38.3, i-seng khui ê thè-sio io̍h-chúi, chi̍t pái ài lim kúi cc?",
        "嬰仔八個月，燒38.3，醫生開的退燒藥水，一擺愛啉幾cc？",
    ],
)
def test_an_infant_told_eight_months_old_is_past_the_first_three(tmp_path, text):
    assert fires(text) == []
    assert "child_danger" in fires(text, rules=_without(tmp_path, *INFANT_AGE), sure=False)


@pytest.mark.parametrize("text", ["嬰仔三個月，燒38.2", "Enn-á nn̄g kò gue̍h, sio 38.3"])
def test_an_infant_of_three_months_or_less_with_a_fever_still_fires(text):
    assert "child_danger" in fires(text, sure=False)


def test_a_mixed_clause_holds_its_han_syllables_tones(monkeypatch):
    # 炸物件的時陣: 件的 kiānn ê read from Han is not the worry 驚會 kiann ē, though the
    # clause has Latin words too.
    text = "炸物件的時陣油起火 我的面 kah 雙手 hông 燒著 皮 lut 去 足疼 頭毛嘛燒去一寡"
    assert "burns" in fires(text, sure=False)
    seq = triage._seq_spans

    def toneless(c, cue, tone):
        return seq(dataclasses.replace(c, held=()), cue, tone)

    monkeypatch.setattr(triage, "_seq_spans", toneless)
    assert "burns" not in fires(text, sure=False)


def test_an_adults_cough_syrup_for_a_grandchild_is_the_pharmacists(tmp_path):
    text = "Goán sun-á nn̄g hòe, tōa-lâng ê ka-sàu-chúi ē-sái hō͘ i lim kúi cc?"
    assert redirected(text)
    assert not redirected(text, rules=_without(tmp_path, "ka-sàu-tsuí, 咳嗽水, kâ-sàu-tsuí, "))


def test_lime_blown_into_the_eye_is_a_chemical_in_the_eye(tmp_path):
    text = (
        "Guá tī kang-tē tsò-kang, tsio̍h-hue-hún hōo hong tshue ji̍p-khì guá ê tsiànn-pîng "
        "ba̍k-tsiu, tsit-má peh bē khui, sng-thiànn kah. Kám ē-sái iōng tsuí tshiâng?"
    )
    assert "eye_chemical" in fires(text, sure=False)
    broken = _without(tmp_path, "ji̍p-khì … ê … ba̍k-tsiu, 入去…的…目睭")
    assert "eye_chemical" not in fires(text, rules=broken, sure=False)
    assert fires("Tsit kuàn tsio̍h-hue peh bē khui, beh án-tsuánn?", sure=False) == []


def test_once_home_the_writer_is_told_of_an_emergency_now(tmp_path):
    # 轉來厝 is the patient home from hospital (resolved) only with 矣, 已經 or 這馬 beside it;
    # at a clause's head it is when the writer got home, and what follows is now.
    text = "今仔日去市場買菜，人足濟。轉來厝阿母講伊頭殼疼甲強欲破，量血壓兩百二，講目睭霧霧看無"
    assert "hypertensive_crisis" in fires(text, sure=False)
    broken = rules_replaced(tmp_path, "tńg-lâi tshù--ah, 轉來厝矣,", "tńg-lâi tshù, 轉來厝,")
    assert "hypertensive_crisis" not in fires(text, rules=broken, sure=False)


def test_the_patient_home_from_hospital_is_still_resolved():
    assert fires("阿嬤頂個月中風住院，這馬轉來厝矣，正手較無力，有推薦的復健中心無？") == []


# What v73-v78 missed once they were judged blind.


def test_a_temple_is_no_death(tmp_path):
    text = "Guá beh khì sī-biō tsò ka-tsai, àm-sî ê hueh-thn̂g io̍h ài tsia̍h bô?"
    assert fires(text) == []
    assert "suicide" in fires(text, rules=_without(tmp_path, "sī-biō, 寺廟, "), sure=False)


@pytest.mark.parametrize(
    ("category", "turns", "words"),
    [
        ("bleeding", ("阿公吃保栓通，流鼻血流到現在，衛生紙用了一大包",), ("流到現在, ",)),
        (
            "suicide",
            (
                "I-sing kóng guá ê gâm í-king khuànn bē hó ah.",
                "Guá bô beh hōo kiánn-jî koh khai tsînn. Kin-á-àm guá beh kiânn khì hái-pinn, "
                "tō bô beh koh tńg--lâi ah.",
            ),
            ("看袂好, khuànn bē hó, khai tsînn, 開錢, ",),
        ),
    ],
)
def test_this_rounds_late_emergencies(tmp_path, category, turns, words):
    assert category in fires(*turns, sure=False)
    assert category not in fires(*turns, rules=_without(tmp_path, *words), sure=False)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            "阮後生做夜班，醫生講三頓飯後食，伊日時咧睏，按呢欲按怎食？",
            "sann tǹg pn̄g-āu, 三頓飯後, ",
        ),
        ("阿公用鼻胃管，長效的降血壓藥不能磨，是要怎樣給？", "不能磨, 不可以磨, 不能壓碎, "),
    ],
)
def test_a_schedule_and_a_tube_are_the_pharmacists(tmp_path, text, words):
    assert redirected(text)
    assert not redirected(text, rules=_without(tmp_path, words))


def test_handing_the_medicines_over_is_no_dose():
    assert not redirected("阿嬤的藥我要怎麼交代給新來的看護？")
