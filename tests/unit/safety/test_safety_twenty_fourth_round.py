"""Issue 21, twenty-fourth round (rules 2026.12.30): what held-out v28 (judged blind at
2026.12.29, a tuning set since) showed, as classes. A learner's phrase names nobody, while
the phrase beside it still does; a toneless syllable inside a general question's words names
nobody; a fear of what a meal will do is a worry; an English "one day" is some day; and the
words it showed. Our own sentences; each check comes with a broken input that makes it
fail."""

from __future__ import annotations

import re

from rounds import RULES, TEXT
from rounds import fires as _fires

from support import rules_from
from support import rules_replaced as replaced
from taigimed.safety import triage
from taigimed.safety.conversation import standardized
from taigimed.safety.hearing import heard_clauses


def _clause(text: str):
    return heard_clauses(RULES, standardized(text))[0]


def test_a_learners_phrase_names_nobody_the_phrase_beside_it_does(monkeypatch):
    learner = _clause("胸痛要等多久才叫救護車 我想先了解一下")
    father = _clause("阮阿爸有高血壓 我想先了解一下")
    assert not triage._names_beside_learning(RULES, learner)
    assert triage._names_beside_learning(RULES, father)
    # Broken input: the clause read whole, as before this round.
    monkeypatch.setattr(triage, "HAN_SPACE", re.compile(r"(?!)"))
    assert not triage._names_beside_learning(RULES, father)


def test_a_toneless_syllable_in_a_general_question_names_nobody(tmp_path):
    asks = "sim kuann thau thiann ai tan gua ku tsiah kio kiu hoo tshia?"
    assert _fires(asks) == []
    assert not triage.names_person(RULES, _clause(asks))
    broken = replaced(tmp_path, ", guā-kú tsiah kiò, 偌久才叫, ài tán guā-kú, 愛等偌久")
    assert _fires(asks, rules=broken)


def test_a_fear_of_what_a_meal_will_do_is_a_worry(tmp_path):
    asks = (
        "Kin-àm beh tsia̍h-toh, hueh-thn̂g io̍h-á ē-sái thiàu tsi̍t pái bô? "
        "Kiann tsia̍h liáu hueh-thn̂g kàng siunn kē."
    )
    assert _fires(asks) == []
    broken = replaced(tmp_path, ", kiann tsia̍h liáu, 驚食了, kiann tsia̍h--liáu")
    assert _fires(asks, rules=broken, sure=False)


def test_one_day_in_english_is_some_day(tmp_path):
    worry = "我 always 驚阿爸 one day 會心臟病發作 伊膽固醇偏高 平常愛注意啥"
    assert _fires(worry) == []
    assert _fires(worry, rules=replaced(tmp_path, ", one day, some day, someday"), sure=False)


def test_words_of_this_round(tmp_path):
    spat_out = (
        "Tú-chiah a-má chia̍h bí-kóe kéⁿ--tio̍h.",
        "Goá kā i phah kha-chiah, bí-kóe thò͘--chhut-lâi, chit-má kóng-ōe lóng chiàⁿ-siông.",
        "Lāu-lâng chia̍h bí-kóe ài án-choáⁿ chiah bē kéⁿ--tio̍h?",
    )
    price = "Tsit-má ê hî-á tsiah kuì, guá khuànn kah beh sim-tsōng-pēnn huat-tsok!"
    assert _fires(*spat_out) == []
    assert _fires(price) == []
    unspat = TEXT.replace(
        ", lóng tsiànn-siông, kóng-uē tsiànn-siông, tō thòo--tshut-lâi, thòo--tshut-lâi--ah", ""
    ).replace(", lóng tsiànn-siông, kóng-uē tsiànn-siông", "")
    assert _fires(*spat_out, rules=rules_from(tmp_path, unspat))
    degree = ", '(?:kah|kau) (?:beh|khuai|kiong beh) sim tsong penn huat tsok(?: \\S+)?'"
    assert _fires(price, rules=replaced(tmp_path, degree))
