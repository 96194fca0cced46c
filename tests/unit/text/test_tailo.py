"""Numeric-tone Tâi-lô → diacritics: tones, Sinica markers, and tokens that must not change."""

import pytest

from taigimed.text import numeric_to_diacritic
from taigimed.text.tailo import is_numeric_tailo


@pytest.mark.parametrize(
    ("numeric", "diacritic"),
    [
        ("lau7-bu2", "lāu-bú"),
        ("tsit8-e7-a2-ku2", "tsi̍t-ē-á-kú"),
        ("sin1-bun5", "sin-bûn"),
        ("it4", "it"),
        ("tshiunn7", "tshiūnn"),
        ("ng5 mh4", "n̂g mh"),
        ("m2", "ḿ"),
        ("kue3", "kuè"),
        ("Tsit8-e5 lang5", "Tsi̍t-ê lâng"),  # a capitalised sentence start
    ],
)
def test_tones(numeric, diacritic):
    assert numeric_to_diacritic(numeric) == diacritic


def test_neutral_tone_zero_becomes_double_hyphen():
    assert numeric_to_diacritic("ho2-0ah4") == "hó--ah"
    assert numeric_to_diacritic("hng7-0leh4") == "hn̄g--leh"
    assert numeric_to_diacritic("phua3-0khi3") == "phuà--khì"  # keeps its tone mark


def test_loanword_marker_one_is_dropped():
    assert numeric_to_diacritic("1thai2-1ia3") == "thái-ià"
    assert numeric_to_diacritic("F-ji7-ji7-1e1") == "F-jī-jī-e"


@pytest.mark.parametrize(
    "token",
    ["SpO2", "H1N1", "HbA1c", "mg/m2", "B12", "O2", "CO2", "v1.2", "3m2", "COVID-19", "Renho7"],
)
def test_non_tailo_tokens_untouched(token):
    assert numeric_to_diacritic(token) == token
    assert numeric_to_diacritic(f"伊 講 {token} 傷 懸") == f"伊 講 {token} 傷 懸"


def test_mixed_sentence_and_idempotence():
    out = numeric_to_diacritic("a1-kong1 e5 SpO2 95% tsiann5 ke7")
    assert out == "a-kong ê SpO2 95% tsiânn kē"
    assert numeric_to_diacritic(out) == out  # already diacritic text passes through


def test_is_numeric_tailo():
    assert is_numeric_tailo("lau7-bu2")
    assert not is_numeric_tailo("SpO2")
    assert not is_numeric_tailo("lāu-bú")
