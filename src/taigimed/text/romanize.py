"""Romanised Taigi to diacritic Tâi-lô, Han to Tâi-lô, and the serving input standardiser.

- POJ (church romanisation, diacritic or numeric) → diacritic Tâi-lô with ``thokit``.
- Numeric-tone Tâi-lô → diacritic Tâi-lô with the data pipeline's
  :func:`taigimed.text.tailo.numeric_to_diacritic`.
- Han → Tâi-lô with ``taibun`` (for the optional Tâi-lô view of an answer).

Only Latin words whose every hyphen-joined piece is a Taigi syllable are touched,
and medical tokens (``SpO2``, ``HbA1c``, ``mg/m2``, ``H1N1``, ``CO2``, ``B12``,
``COVID-19``) are never converted: a unit or a lab name that changed spelling
could change a clinical meaning.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

from taigimed.text.normalize import normalize_text, to_taiwan_traditional
from taigimed.text.script import MEDICAL_TOKEN, detect_script, is_taigi_syllable
from taigimed.text.tailo import numeric_to_diacritic

# Latin words as POJ writes them: letters, combining marks, ⁿ, tone digits, hyphens.
_WORD = re.compile(
    r"(?<![\w/.^])[A-Za-z\u00c0-\u024f\u1e00-\u1eff\u207f0-9][\w\u0300-\u036f\u207f]*"
    r"(?:-+[\w\u0300-\u036f\u207f]+)*(?![\w/^])"
)


def is_medical_token(word: str) -> bool:
    """True for tokens such as SpO2, HbA1c, mg/m2, H1N1 that must keep their spelling."""
    return bool(MEDICAL_TOKEN.fullmatch(word))


@lru_cache(maxsize=1)
def _thokit():
    from thokit import ThoKit

    return ThoKit()


# Tone marks (grave to vertical line; not POJ's o͘ dot, U+0358): a syllable carries one.
_TONE_MARK = re.compile(r"[\u0300-\u030d]")


def _one_tone(piece: str) -> bool:
    """At most one tone mark: ÙÒA is no syllable, and thokit moves its two marks again on
    each pass, so the standardiser would never reach a fixed point on it."""
    return len(_TONE_MARK.findall(unicodedata.normalize("NFD", piece))) <= 1


def _taigi_word(word: str) -> bool:
    pieces = [p for p in re.split(r"-+", word) if p]
    return (
        bool(pieces)
        and not is_medical_token(word)
        and all(is_taigi_syllable(p) and _one_tone(p) for p in pieces)
    )


def _poj_word(word: str) -> str:
    if re.search(r"[a-zA-Z]\d", word):  # numeric-tone POJ: spell as Tâi-lô, then tone marks
        return numeric_to_diacritic(_thokit().pojAscii2TailoAscii(word))
    return _thokit().pojUnicode2TailoUnicode(word)


def poj_to_tailo(text: str) -> str:
    """POJ (diacritic or numeric tones) → diacritic Tâi-lô; other words stay as written.

    >>> poj_to_tailo("góa ê heng-khám chin thiàⁿ, SpO2 92%")
    'guá ê hing-khám tsin thiànn, SpO2 92%'
    """
    return _WORD.sub(
        lambda m: _poj_word(m.group(0)) if _taigi_word(m.group(0)) else m.group(0), text
    )


def tailo_to_poj(text: str) -> str:
    """Diacritic Tâi-lô → diacritic POJ with ``thokit``, for answering a POJ reader."""
    return _thokit().tailoUnicode2PojUnicode(text)


def tailo_to_diacritic(text: str) -> str:
    """Numeric-tone Tâi-lô → diacritic; medical tokens and other words untouched."""
    return _WORD.sub(
        lambda m: numeric_to_diacritic(m.group(0)) if _taigi_word(m.group(0)) else m.group(0), text
    )


@lru_cache(maxsize=1)
def _taibun():
    from taibun import Converter

    return Converter(system="Tailo", format="mark", punctuation="none")


def han_to_tailo(text: str) -> str:
    """Han characters → diacritic Tâi-lô with ``taibun``; Latin text passes through.

    >>> han_to_tailo("我胸坎真疼")
    'guá hing-khám tsin thiànn'
    """
    return _taibun().get(text)


def standardize_input(text: str) -> tuple[str, dict[str, Any]]:
    """The serving input standardiser: the data pipeline's normalisers plus romanisation.

    Detects the script on the raw message, then: Unicode/width/whitespace
    (``normalize_text``), Simplified → Taiwan Traditional (``s2twp``) for Han, and
    POJ or numeric Tâi-lô → diacritic Tâi-lô for romanised and mixed text. Returns the
    new text and meta: ``script``, ``tone_style``, ``script_confidence``,
    ``standardized`` (whether the text changed).
    """
    if not isinstance(text, str):
        raise TypeError(f"standardize_input needs a str, got {type(text).__name__}")
    guess = detect_script(text)
    out = normalize_text(text, keep_newlines=True)
    if guess.script in ("mandarin_simplified", "mixed"):
        out = to_taiwan_traditional(out)
    if guess.script == "poj":
        out = poj_to_tailo(out)
    elif guess.script in ("tailo", "mixed") and guess.tone_style == "numeric":
        out = tailo_to_diacritic(out)
    meta = {
        "script": guess.script,
        "tone_style": guess.tone_style,
        "script_confidence": guess.confidence,
        "standardized": out != text,
    }
    return out, meta
