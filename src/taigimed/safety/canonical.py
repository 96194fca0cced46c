"""The canonical matching form: toneless, hyphen-free Tâi-lô syllables, clause by clause.

Every message (and every Taigi phrase of the lexicon) is read into the same form, so one
Taigi lexicon covers Han, Tâi-lô, POJ, tone numbers and any mix inside one phrase:

- Han → Tâi-lô with the project's reader (:func:`taigimed.text.romanize.han_to_tailo`,
  ``taibun``); characters it cannot read stay as one token each.
- POJ words (``ch``/``chh``, ``oa``/``oe``, ``eng``/``ek``, ``ⁿ``, ``o͘``) → Tâi-lô with
  ``thokit`` (:func:`taigimed.text.romanize.poj_to_tailo`); tone numbers are read as tones.
- Then tones and hyphens go, ``oo`` folds to ``o`` (POJ ``o͘`` is often typed ``o``) and a
  few dialect spellings fold together (``variants`` in the rule file: buē/bē, huih/hueh).

The tone is kept beside each syllable (``None`` when the writer gave none) because a few
negation cues need it: *a-bó* (mother) is not *bô* (not).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from taigimed.text.romanize import han_to_tailo, poj_to_tailo

# Clause boundaries: negation, past and hearsay cues reach only inside their clause.
CLAUSE_SPLIT = re.compile(
    r"(?:[，。！？、；：,!?;:\n]|(?<!\d)\.|\.(?!\d))+|(?<=\S)\s+(?:but|m̄-koh|m̄koh|毋過|但是|可是)\s+"
)
_TOKEN = re.compile(
    r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff][A-Za-z\u00c0-\u024f\u1e00-\u1eff\u0300-\u036f\u207f\u0358]*\d?"
    r"|\d+(?:\.\d+)?"
    r"|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
)
_POJ_CUE = re.compile(r"(?:^|[^t])ch|o[ae]|e(?:ng|k)$|\u207f|\u0358", re.IGNORECASE)
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_MARK_TONE = {
    "\u0301": 2,
    "\u0300": 3,
    "\u0302": 5,
    "\u030c": 6,
    "\u0304": 7,
    "\u030d": 8,
    "\u030b": 9,
    "\u0306": 9,
}


@dataclass(frozen=True)
class Clause:
    """One clause: its standardised text, canonical syllables and their tones."""

    text: str
    syllables: tuple[str, ...]
    tones: tuple[int | None, ...]
    joined: str = ""  # the syllables joined by single spaces
    padded: str = ""  # `` joined `` for whole-syllable containment tests
    lower: str = ""  # the text in lower case, for Han/Latin containment tests
    present: frozenset[str] = frozenset()  # the syllables, for cheap set lookups
    # Per syllable: read from Han text by the Han reader, which read the rule file's Han
    # words too: its tone is the reader's, not a writer's guess, and can be held to. In a
    # mixed clause (炸物件的時陣 … hông 燒著) only the Han syllables are: 件的 kiānn ê is
    # not 驚會 kiann ē.
    held: tuple[bool, ...] = ()


def split_clauses(text: str) -> list[str]:
    return [c.strip() for c in CLAUSE_SPLIT.split(text) if c and c.strip()]


def _syllable(word: str, variants: dict[str, str]) -> tuple[str, int | None]:
    """One Latin syllable → (toneless canonical spelling, tone or None)."""
    tone: int | None = None
    if word[-1].isdigit():
        tone = int(word[-1])
        word = word[:-1]
    nfd = unicodedata.normalize("NFD", word.lower())
    for ch in nfd:
        if ch in _MARK_TONE:
            tone = _MARK_TONE[ch]
    nfd = nfd.replace("\u207f", "nn").replace("o\u0358", "oo")
    letters = "".join(ch for ch in nfd if not unicodedata.combining(ch))
    letters = letters.replace("oo", "o")
    return variants.get(letters, letters), tone


def _default_tone(syllable: str) -> int:
    """An unmarked syllable in text that marks tones: tone 4 when checked, else tone 1."""
    return 4 if syllable[-1:] in "ptkh" else 1


_HAN_RUN = re.compile(r"([\u3400-\u9fff\uf900-\ufaff]+)")


@lru_cache(maxsize=4096)
def _read_clause(
    clause: str, variants_key: tuple[tuple[str, str], ...], marked: bool = False
) -> Clause:
    """Read one clause. Han runs are read by the Han reader, whose output always marks
    tones, so an unmarked syllable there is tone 1 or 4; so is one in ``marked`` text
    (the rule file's own phrases). In what a user typed, unmarked means unknown."""
    variants = dict(variants_key)
    syls: list[str] = []
    tones: list[int | None] = []
    held: list[bool] = []
    for n, run in enumerate(_HAN_RUN.split(clause)):
        from_han = n % 2 == 1
        read = han_to_tailo(run) if from_han else run
        for word in re.split(r"[\s\-‐]+", read):
            if not word:
                continue
            bare = "".join(c for c in unicodedata.normalize("NFD", word) if c not in _MARK_TONE)
            if _POJ_CUE.search(bare):
                word = poj_to_tailo(word)
            for tok in _TOKEN.findall(word):
                if (
                    tok[0].isdigit()
                    or (not tok.isascii() and not tok[0].isalpha())
                    or _HAN.match(tok)
                ):
                    syls.append(tok)
                    tones.append(None)
                    held.append(False)
                    continue
                syl, tone = _syllable(tok, variants)
                if tone is None and (from_han or marked):
                    tone = _default_tone(syl)
                syls.append(syl)
                tones.append(tone)
                held.append(from_han and not marked)
    joined = " ".join(syls)
    return Clause(
        clause,
        tuple(syls),
        tuple(tones),
        joined,
        f" {joined} ",
        clause.lower(),
        frozenset(syls),
        tuple(held),
    )


def canonical_clauses(
    text: str, variants: dict[str, str] | None = None, marked: bool = False
) -> list[Clause]:
    """The standardised ``text`` as clauses in canonical form (``marked``: the text
    writes every tone, so unmarked syllables are tone 1 or 4)."""
    key = tuple(sorted((variants or {}).items()))
    return [_read_clause(c, key, marked) for c in split_clauses(text)]


def canonical(text: str, variants: dict[str, str] | None = None) -> str:
    """The canonical form as one string (clauses joined by `` | ``).

    >>> canonical("阮阿母 sim-kuann-thâu 足艱苦")
    'guan a bo sim kuann thau tsiok kan kho'
    """
    return " | ".join(c.joined for c in canonical_clauses(text, variants))
