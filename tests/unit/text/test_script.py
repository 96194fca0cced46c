"""Script detection on hand-made examples in every script, and on the shared corpora."""

from __future__ import annotations

import pytest

from taigimed.text.script import MEDICAL_TOKEN, SCRIPTS, detect_script


@pytest.mark.parametrize(
    ("text", "script", "tone"),
    [
        ("我胸坎真疼，喘袂過來", "taigi_han", None),
        ("阮阿母毋知欲按怎食藥仔", "taigi_han", None),
        ("我胸口很痛，喘不過氣", "mandarin_traditional", None),
        ("我胸口很痛，喘不过气", "mandarin_simplified", None),
        ("guá ê hing-khám tsin thiànn", "tailo", "diacritic"),
        ("gua2 e5 hing1-kham2 tsin1 thiann3", "tailo", "numeric"),
        ("góa ê heng-khám chin thiàⁿ", "poj", "diacritic"),
        ("goa2 e5 heng1-kham2 chin1 thiann3", "poj", "numeric"),
        ("chhiú-tō͘ chin kôan", "poj", "diacritic"),
        ("我 ê 胸坎 tsin thiànn", "mixed", "diacritic"),
        ("I have chest pain since this morning", "other", None),
        ("", "other", None),
    ],
)
def test_examples(text, script, tone):
    g = detect_script(text)
    assert g.script == script, g
    assert g.tone_style == tone
    assert 0.5 <= g.confidence <= 1.0
    assert g.script in SCRIPTS


def test_medical_tokens_are_not_syllables():
    # Romanised text full of lab names stays romanised; the tokens are not counted at all.
    g = detect_script("gua2 e5 HbA1c 7.5, SpO2 92, mg/m2, H1N1")
    assert g.script == "tailo" and g.tone_style == "numeric"
    for tok in ("SpO2", "HbA1c", "mg/m2", "H1N1", "CO2", "B12", "COVID-19"):
        assert MEDICAL_TOKEN.fullmatch(tok), tok
    for word in ("gua2", "Gua2", "hing1-kham2", "m2"):
        assert not MEDICAL_TOKEN.fullmatch(word), word


def test_evidence_explains_the_decision():
    g = detect_script("góa ê heng-khám chin thiàⁿ")
    assert g.evidence["poj_cues"] > g.evidence["tailo_cues"]
    assert g.romanised


@pytest.mark.shared_data
def test_accuracy_on_shared_corpora(data_root):
    from taigimed.text.script_eval import accuracy_table, labelled_sample

    table = accuracy_table(labelled_sample(data_root, n_sinica=100, n_parallel=100))
    # Recorded in docs/safety.md: 0.979 on the full sample (n=900); allow sampling slack.
    assert table["overall"]["accuracy"] >= 0.95, table
    assert table["tone_style"]["accuracy"] >= 0.99
    for key in ("parallel:poj", "parallel:tailo", "sinica:tailo", "parallel:mandarin_simplified"):
        assert table["per_label"][key]["accuracy"] >= 0.97, (key, table)
