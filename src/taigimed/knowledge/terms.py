"""The terms a question and a card are matched on, whatever script each is written in.

Two kinds of term, so that a question in any script finds a card in any script:

- **Han terms** (``h:``): characters and character bigrams of the text in Taiwan
  Traditional (Simplified is converted with OpenCC first), so 血壓 in a Mandarin
  question meets 血壓 in a Taigi Han card;
- **syllable terms** (``s:``): the project's canonical toneless Tâi-lô form
  (``serve.safety.canonical``: Han read by ``taibun``, POJ and tone numbers folded) as
  syllables and syllable bigrams inside a clause, so *hueh-ap kuân*, *hoeh-ap koân*,
  *hueh4-ap4 kuan5* and 血壓懸 all share ``s:hueh ap`` and ``s:ap kuan``.

Bigrams carry most of the meaning in Chinese and Taigi (single characters and syllables
are highly ambiguous); unigrams are kept so a one-syllable word still matches.
"""

from __future__ import annotations

import re
from functools import lru_cache

from taigimed.text import normalize_text, to_taiwan_traditional

TERMS_VERSION = 1  # bump when the terms change: it is part of the knowledge version
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def _grams(units: list[str], prefix: str, joiner: str) -> list[str]:
    out = [prefix + u for u in units]
    out += [prefix + units[i] + joiner + units[i + 1] for i in range(len(units) - 1)]
    return out


def han_terms(text: str) -> list[str]:
    """Han characters and bigrams of each run of Han characters."""
    out: list[str] = []
    for run in _HAN_RUN.findall(to_taiwan_traditional(text)):
        out += _grams(list(run), "h:", "")
    return out


def syllable_terms(text: str) -> list[str]:
    """Canonical toneless Tâi-lô syllables and bigrams, clause by clause."""
    from taigimed.serve.safety.canonical import canonical_clauses

    out: list[str] = []
    for clause in canonical_clauses(text):
        syls = [s for s in clause.syllables if s.isascii() and s.isalpha()]
        out += _grams(syls, "s:", " ")
    return out


def is_bigram(term: str) -> bool:
    """A Han character pair or a syllable pair: the terms that carry meaning."""
    return (term.startswith("h:") and len(term) == 4) or " " in term


@lru_cache(maxsize=8192)
def _terms(text: str) -> tuple[str, ...]:
    text = normalize_text(text)
    return (*han_terms(text), *syllable_terms(text))


def terms(text: str) -> list[str]:
    """All matching terms of ``text`` (with repeats: they count in a document)."""
    return list(_terms(text))
