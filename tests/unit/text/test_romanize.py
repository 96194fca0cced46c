"""POJ and numeric Tâi-lô → diacritic Tâi-lô, Han → Tâi-lô, and the serving standardiser."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from taigimed.text.romanize import (
    han_to_tailo,
    is_medical_token,
    poj_to_tailo,
    standardize_input,
    tailo_to_diacritic,
)

MEDICAL = ["SpO2", "HbA1c", "mg/m2", "H1N1", "CO2", "B12", "COVID-19", "kg/m2"]


def test_poj_diacritic_to_tailo():
    assert poj_to_tailo("góa ê heng-khám chin thiàⁿ") == "guá ê hing-khám tsin thiànn"
    assert poj_to_tailo("chhiú-tō͘") == "tshiú-tōo"


def test_poj_numeric_to_tailo():
    assert poj_to_tailo("goa2 e5 heng1-kham2 chin1 thiann3") == "guá ê hing-khám tsin thiànn"


def test_numeric_tailo_to_diacritic():
    assert tailo_to_diacritic("Gua2 ai3 khi3 tshue7 i1-sing1") == "Guá ài khì tshuē i-sing"


@pytest.mark.parametrize("token", MEDICAL)
def test_medical_tokens_survive(token):
    for fn in (poj_to_tailo, tailo_to_diacritic):
        assert token in fn(f"gua2 e5 {token} ke1 ko1, chin1 kuan5"), fn
    text, _ = standardize_input(f"goa2 e5 {token} chin1 koan5")
    assert token in text
    assert is_medical_token(token)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(MEDICAL), st.sampled_from(["gua2 ", "góa ", "我 ", "tsin1 kuan5 ", ""]))
def test_medical_tokens_never_change(token, prefix):
    text, _ = standardize_input(prefix + token)
    assert token in text


def test_han_to_tailo():
    assert han_to_tailo("我胸坎真疼") == "guá hing-khám tsin thiànn"


def test_standardize_input_meta_and_normalisers():
    text, meta = standardize_input("我胸口很痛，喘不过气")
    assert text == "我胸口很痛，喘不過氣"  # OpenCC s2twp, Chinese comma kept
    assert meta["script"] == "mandarin_simplified" and meta["standardized"]
    text, meta = standardize_input(
        "ＨｂＡ１ｃ　７％，正常"
    )  # full-width folded, Chinese comma kept
    assert text.startswith("HbA1c 7%，")
    text, meta = standardize_input("goa2 e5 heng1-kham2 chin1 thiann3")
    assert (text, meta["script"], meta["tone_style"]) == (
        "guá ê hing-khám tsin thiànn",
        "poj",
        "numeric",
    )
    text, meta = standardize_input("阮阿母")
    assert text == "阮阿母" and not meta["standardized"]


def test_standardize_input_rejects_non_text():
    with pytest.raises(TypeError, match="needs a str"):
        standardize_input(None)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
@example("cafe\u0301  ＨｂＡ１ｃ\u3000goa2 e5")  # decomposed accent, full width, numeric tones
@example("ÙÒA")  # two tone marks in one "syllable": thokit moved them on each pass
def test_any_text_standardises_to_a_fixed_point(text):
    out, meta = standardize_input(text)
    assert unicodedata.is_normalized("NFC", out)
    assert meta["script"] and meta["standardized"] == (out != text)
    again, meta2 = standardize_input(out)
    # Standardising twice changes nothing, as long as the script is read the same: the
    # script is detected on the raw message, so normalising can move an edge case (a
    # compatibility ideograph folding into a Simplified one) into another script.
    if meta2["script"] == meta["script"]:
        assert again == out
    han_to_tailo(out)  # the Tâi-lô view of an answer must not fail either


# Characters that exist only in Simplified script (their Traditional forms differ), and
# characters written the same in both.
SIMPLIFIED_ONLY = "头压药医气发烧还们这说检疗肿脑觉红热"
SHARED = "我很口不天三日痛，。 "


@settings(max_examples=100, deadline=None)
@given(
    st.text(st.sampled_from(SIMPLIFIED_ONLY), min_size=1, max_size=8),
    st.text(st.sampled_from(SHARED), max_size=8),
    st.randoms(use_true_random=False),
)
def test_simplified_han_leaves_no_simplified_character(simplified, shared, rnd):
    chars = list(simplified + shared)
    rnd.shuffle(chars)
    text = "".join(chars)
    out, meta = standardize_input(text)
    assert not set(out) & set(SIMPLIFIED_ONLY), (text, out)
    assert meta["standardized"]
