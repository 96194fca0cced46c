"""Issue 21, twenty-first round (rules 2026.12.27): what held-out v25 (judged blind at
2026.12.26, a tuning set since) showed, as classes. An amount in a unit only medicines come
in names the medicine; the writer's own heart
"about to stop" is hyperbole; and the words it showed. Our own sentences; each check comes
with a broken input that makes it fail."""

from __future__ import annotations

import re

from rounds import RULES, TEXT
from rounds import fires as _fires
from rounds import hits as _rule_hits
from rounds import redirected as _redirected

from support import rules_from
from support import rules_replaced as replaced
from taigimed.safety import dose


def test_an_amount_in_a_medicines_unit_names_it(monkeypatch):
    asks = "阮翁血糖320，伊平常注12單位，我敢會使家己共伊加到16？"
    assert _redirected(asks)
    assert not dose.names_medicine(RULES, "血糖 126 mg/dL 算高嗎")  # a lab value
    monkeypatch.setattr(dose, "_MEDICINE_UNIT", re.compile(r"(?!)"))
    assert not _redirected(asks)


def test_the_writers_own_heart_about_to_stop(tmp_path):
    text = "Khuànn hit tiunn tiān-huì-tuann, guá sim-tsōng kiōng-beh thîng--khì!"
    assert _rule_hits(text) == []
    assert "cardiac_arrest" in _rule_hits("A-kong ê sim-tsōng kiōng-beh thîng--khì, bô teh tshuán")
    degree = r"'gua(?: e)? sim tsong(?: \S+){0,2}? (?:beh|khuai|kiong beh|tsha tsit tiam) thing"
    assert _rule_hits(text, replaced(tmp_path, ", " + degree + r"(?: \S+)?'"))


def test_words_of_this_round(tmp_path):
    row = "阮阿爸拄仔共阿母的安眠藥仔當作伊的藥仔，規排十粒攏食去，這馬愈來愈愛睏"
    belly = "a kong tsit nng kang bo pang sai, tsit ma pak too phong kah ting khok khok"
    inhaler = ("I-sing khui tsi̍t ki khip-ji̍p-tsè.", "Tsi̍t pái ē-sái phùn kuí-nā ē?")
    assert "poisoning" in _rule_hits(row)
    assert "acute_abdomen" in _rule_hits(belly)
    assert _redirected(*inhaler)
    no_row = replaced(tmp_path, ", 規排…食去, 規排…攏食")
    assert "poisoning" not in _rule_hits(row, no_row)
    assert "acute_abdomen" not in _rule_hits(
        belly, replaced(tmp_path, ", pak-tóo … tīng-khok-khok, pak-tóo phòng kah")
    )
    # Heard by ear (dose.by_ear, the twenty-sixth round), khip-ji̍p-tse is the same name:
    # the broken file has neither spelling.
    text = TEXT.replace(", khip-ji̍p-tsè", "").replace(", khip-ji̍p-tse,", ",")
    assert not _redirected(*inhaler, rules=rules_from(tmp_path, text))


def test_sent_back_with_everything_normal_poj(tmp_path):
    turns = (
        "Cha-àm goán a-pah heng-khám bē sóng-khoài, goán chhōa i khì kip-chín.",
        "Sim-tiān-tô͘ kap thiu-hoeh lóng chèng-siông, i-seng hō͘ i tò-tńg--lâi.",
        "Chit-má i ē-sái koh khì chhân--nih chò khang-khòe bô?",
    )
    assert _fires(*turns) == []
    broken = replaced(tmp_path, ", hōo i tò-tńg--lâi, 予伊倒轉來, lóng tsìng-siông")
    assert _fires(*turns, rules=broken)
