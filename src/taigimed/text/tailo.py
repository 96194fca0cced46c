"""Numeric-tone Tâi-lô (``lau7-bu2``) → diacritic Tâi-lô (``lāu-bú``) with ``thokit``.

Only words whose every hyphen-joined piece is a well-formed Tâi-lô syllable with a
tone digit are converted, so Latin tokens that merely end in a digit (``SpO2``,
``H1N1``, ``HbA1c``, ``mg/m2``, ``B12``) pass through untouched.

Two Academia Sinica conventions are handled before thokit sees a syllable:

- a leading ``0`` marks the neutral tone (``phua3-0khi3``): written ``--`` before the
  syllable, which keeps its tone mark (``phuà--khì``), as in the Ministry of
  Education's dictionary;
- a leading ``1`` marks a loanword syllable (``1thai2-1ia3``, from Japanese): the
  marker is dropped and the tone digit after it is used (``thái-ià``).
"""

from __future__ import annotations

import re
from functools import lru_cache

_INITIAL = r"(?:tsh|ts|ph|th|kh|ng|[pbmtnlkghsj])?"
_RIME = r"(?:[aeiou]+r?|ng|m)(?:nn)?(?:ng|m|n|p|t|k|h)?"
# An optional Sinica marker digit, the segmental syllable, then its tone digit.
SYLLABLE_RE = re.compile(rf"^(?P<marker>[01]?)(?P<body>{_INITIAL}{_RIME})(?P<tone>[1-9])$")
# Candidate words: letters, digits and hyphens, not glued to other Latin text, slashes,
# dots or digits (so "mg/m2", "v1.2" and "3m2" are never split into syllables).
_WORD_RE = re.compile(r"(?<![\w/.^])[A-Za-z0-9]+(?:-+[A-Za-z0-9]+)*(?![\w/^])")


@lru_cache(maxsize=1)
def _thokit():
    from thokit import ThoKit

    return ThoKit()


@lru_cache(maxsize=65536)  # a few thousand distinct syllables cover any corpus
def _syllable(piece: str) -> str | None:
    """One numeric-tone syllable → diacritic form, or None if it is not one."""
    capital = piece[:1].isupper() and piece[1:].islower() and len(piece) > 2
    m = SYLLABLE_RE.match(piece.lower() if capital else piece)
    if m is None:
        return None
    body, tone = m.group("body"), m.group("tone")
    out = _thokit().tailoAscii2Unicode(body + tone)
    if m.group("marker") == "0":
        out = "--" + out  # neutral tone: "--" before a syllable that keeps its tone mark
    return out[:1].upper() + out[1:] if capital else out


def _word(word: str) -> str:
    pieces = re.split(r"(-+)", word)
    out: list[str] = []
    for i, piece in enumerate(pieces):
        if i % 2:  # a separator
            out.append(piece)
            continue
        converted = _syllable(piece)
        if converted is None:
            if any(ch.isdigit() for ch in piece):
                return word  # a Latin token with digits (H1N1): leave the whole word
            converted = piece  # a plain Latin piece (F-ji7): keep it as written
        out.append(converted)
    text = "".join(out)
    # "hó---ah" would come from a hyphen followed by a neutral "--ah".
    return text.replace("---", "--")


def numeric_to_diacritic(text: str) -> str:
    """Convert every numeric-tone Tâi-lô word in ``text``; leave everything else.

    >>> numeric_to_diacritic("lau7-bu2 ho2-0ah4 SpO2 95%")
    'lāu-bú hó--ah SpO2 95%'
    """
    return _WORD_RE.sub(lambda m: _word(m.group(0)), text)


def is_numeric_tailo(word: str) -> bool:
    """True when ``word`` is a hyphen-joined run of numeric-tone Tâi-lô syllables."""
    return all(SYLLABLE_RE.match(p) for p in re.split(r"-+", word) if p)
