"""Issue 21, thirty-first round (rules 2027.01.07): what held-out v45-v47 (judged blind at
2027.01.06, regression sets since) showed of dosing questions. Before or after a meal asked
as a choice (the right time depends on the medicine: the pharmacist answers it); pills told
by colour and size; two taken together (做夥食); colchicine by its Han name. Our own
sentences; each check comes with a broken input that makes it fail."""

from __future__ import annotations

import pytest
from rounds import redirected

from support import rules_removed as _without

MEALS = [
    "阿嬤的胃藥是飯前還是飯後吃？",
    "阮阿爸的藥仔愛飯前抑是飯後食？",
    "Lí ê io̍h ài pn̄g-tsîng á-sī pn̄g-āu tsia̍h?",
    "li e ioh ai png-tsing a-si png-au tsiah?",
]


@pytest.mark.parametrize("text", MEALS)
def test_before_or_after_a_meal_is_asked(tmp_path, text):
    assert redirected(text)
    broken = _without(
        tmp_path,
        "pn̄g-tsîng á-sī pn̄g-āu, pn̄g-tsîng iah-sī pn̄g-āu, pn̄g-tsîng ia̍h-sī pn̄g-āu, ",
        "飯前抑是飯後, 飯前食抑是飯後, ",
        "飯前還是飯後, 飯前吃還是飯後, 飯前或飯後, 飯後還是飯前, ",
    )
    assert not redirected(text, rules=broken)


def test_walking_before_or_after_a_meal_is_no_dose():
    assert not redirected("飯前還是飯後散步比較好")


def test_a_pill_told_by_its_colour(tmp_path):
    text = "阮阿嬤的紅色細粒的 佮黃色圓圓的 會使做夥食無"
    assert redirected(text)
    broken = _without(tmp_path, "色細粒, 色彼粒, ", "色細粒, 色小顆, ")
    assert not redirected(text, rules=broken)
    # Grapes and tomatoes are big and round, and no pill.
    assert not redirected("紅色大粒的葡萄一天可以吃幾顆")


def test_colchicine_by_its_han_name(tmp_path):
    text = "痛風閣發作，秋水仙素會使一點鐘食一粒無？"
    assert redirected(text)
    assert not redirected(text, rules=_without(tmp_path, "秋水仙, ", "秋水仙, "))
