"""Issue 21, twenty-fifth round (rules 2026.12.31): what held-out v29 and v30 (judged blind
at 2026.12.30, tuning sets since) showed, as classes. "No longer a burden" is the plan, not
a negation; a consequence told of a plan ("jump and it is over") is not over; pills hard to
swallow read with the medicine named in an earlier turn; a reading told with the writer's
tone; and the words it showed. Our own sentences; each check comes with a broken input that
makes it fail."""

from __future__ import annotations

from rounds import TEXT
from rounds import fires as _fires
from rounds import hits as _rule_hits

from support import rules_from
from support import rules_replaced as replaced
from taigimed.safety import conversation


def test_no_longer_a_burden_is_the_plan(tmp_path):
    plan = "Kin-á-àm liáu-āu, guá tō bē koh thua-luī lín ah."
    bought = "gua be ho hue thuann ah, kin a am to beh tsau"  # bé hó: bought, toneless
    assert "suicide" in _fires(plan)
    assert "suicide" in _fires(bought)
    added = ", bē koh thua-luī, 袂閣拖累, m̄ koh thua-luī, bô beh koh thua-luī"
    # The sure reading catches it still, with the 1925 line; the rule does so by itself.
    assert _fires(plan, rules=replaced(tmp_path, added), sure=False) == []
    assert _fires(bought, rules=replaced(tmp_path, ", bé hó, 毋知", ", 毋知")) == []


def test_a_consequence_of_a_plan_is_not_over(tmp_path):
    plan = "guá tsit-má tī kiô-tíng, thiàu lo̍h-khì tō bô tāi-tsì ah"
    assert "suicide" in _fires(plan)
    added = ", lo̍h-khì tō bô tāi-tsì, lo̍h-khì tsiū bô tāi-tsì, 落去就無代誌"
    assert _fires(plan, rules=replaced(tmp_path, added)) == []


def test_pills_hard_to_swallow_with_the_medicine_named_before(monkeypatch):
    turns = (
        "I-sing khui sim-tsōng io̍h hōo a-kong, tsi̍t lia̍p tsin tuā.",
        "I thun bē lo̍h-khì, ta̍k pái lóng kénn tio̍h. Ē-sái kā i tshiat tsi̍t puànn bô?",
    )
    assert _fires(*turns) == []
    pill_trouble = conversation._pill_trouble
    monkeypatch.setattr(
        conversation, "_pill_trouble", lambda rules, hit, turns=(): pill_trouble(rules, hit)
    )
    # Without the sure readings: the habit (ta̍k pái) and a clear last turn would send the
    # question to the pharmacist too (conversation.py step 6).
    assert "choking" in _fires(*turns, sure=False)


def test_signs_told_as_a_carer_sees_them(tmp_path):
    belly = "a ma pak too tiunn kah tiunn, nng kang bo pang sai, tu tsiah au tshut tsit kua tsui"
    dry = ("A-pa làu-sái nn̄g kang ah", "Kin-á-ji̍t tsi̍t tih jiō to bô")
    reading = "A-bú tú-á niû tio̍h 215, thâu-khak thiànn kah beh pōng"
    assert "acute_abdomen" in _rule_hits(belly)
    assert "dehydration" in _fires(*dry)
    assert "hypertensive_crisis" in _rule_hits(reading)
    no_retch = replaced(tmp_path, ", áu tshut, 嘔出, áu--tshut-lâi")
    assert "acute_abdomen" not in _rule_hits(belly, no_retch)
    no_drop = replaced(tmp_path, " jiō to bô, jiō lóng bô, 尿都無, 尿攏無,", "")
    assert _fires(*dry, rules=no_drop) == []
    one_tone = replaced(tmp_path, "ni[uūû] tio̍?h", "niū tio̍h")
    assert "hypertensive_crisis" not in _rule_hits(reading, one_tone)


def test_a_neighbours_report_is_no_hearsay(tmp_path):
    # Who tells a carer what they saw (厝邊講, 看護說) tells of the writer's own people: the
    # twenty-fourth round's 厝邊講 as hearsay lost v31's fall, found by comparing the blind
    # file under the session's first rules. Broken input: the word back among hearsay.
    turns = (
        "阮阿爸一个人蹛庄跤",
        "我敲電話攏無人接 叫厝邊去看",
        "厝邊講伊倒佇灶跤塗跤 起袂來 尻川邊足疼",
    )
    assert "fall" in _fires(*turns)
    heard = TEXT.replace(
        "    mandarin: [醫師說, 醫生說,", "    mandarin: [厝邊講, 醫師說, 醫生說,", 1
    )
    assert heard != TEXT
    assert "fall" not in _fires(*turns, rules=rules_from(tmp_path, heard))


def test_words_of_this_round(tmp_path):
    price = "哭枵 阮孫欲娶某 聘金愛六十萬 我聽著心臟強欲停去"
    smoke = "a kong koh tsiah hun, tsiah kah thoo"
    uphill = "gua tak kang peh suann, tshuan kah tsiok thiam, hioh tsit e tsiu ho, an ne e sai bo"
    dentist = "Tshuì-khí tsng tsi̍t tshuì ài tsa̍p bān, guá thiann tio̍h suah beh hūn--khì."
    for text in (price, smoke, uphill, dentist):
        assert _fires(text) == []
    unjoking = TEXT.replace(", khàu-iau, 哭枵", "").replace(", 哭夭]", "]")
    assert _fires(price, rules=rules_from(tmp_path, unjoking))
    assert _fires(smoke, rules=replaced(tmp_path, ", tsia̍h-hun, 食薰, kài-hun, 戒薰"))
    assert _fires(uphill, rules=replaced(tmp_path, ", hioh tsi̍t-ē tsiū hó"))
    assert _fires(dentist, rules=replaced(tmp_path, "(?:khuann|thiann) tioh", "khuann tioh"))
