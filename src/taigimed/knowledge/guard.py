"""Checks on generated text before a patient reads it: loops, echoes, support, script.

Each check is a pure function on text, so serving (sentence by sentence, while the
answer streams) and evaluation (whole answers) apply the same rules.

- ``loop``: a short unit repeated back to back (感慨感慨感慨), or text whose character
  trigrams are mostly repeats (a sentence said again and again);
- ``echo``: the piece is mostly the question's own words;
- ``repeat``: the piece says again what an earlier piece said;
- ``support``: the share of the piece's content terms (Han and syllable bigrams) found in
  the retrieved cards (``rag`` mode shows only supported text);
- ``wrong_script``: Latin text for a Han reader, Han for a romanised one, English.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from itertools import pairwise

from taigimed.knowledge.terms import is_bigram, terms
from taigimed.text.script import detect_script

# Up to four units (each followed by \\x00) said four or more times in a row.
_BACK_TO_BACK = re.compile(r"(?:^|(?<=\x00))((?:[^\x00]+\x00){1,4}?)\1{3,}")
_SPACE_PUNCT = re.compile(r"[\s，。、！？；：,.!?;:「」『』（）()\"'…—-]+")
MIN_CHARS = 8  # shorter pieces carry too little to judge
LOOP_TRIGRAM_REPEAT = 0.4
LOOP_PAIR_COUNT = 4  # a pair of units this often …
LOOP_PAIR_SHARE = 0.12  # … making up this share of the units
ECHO_SHARE = 0.7
REPEAT_SHARE = 0.7


def _bare(text: str) -> str:
    return _SPACE_PUNCT.sub("", text.lower())


def _bigrams(text: str) -> set[str]:
    return {t for t in terms(text) if is_bigram(t)}


_UNIT = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[^\W\d_]+|\d+")


def _units(text: str) -> list[str]:
    """Han characters and Latin syllables (split at hyphens and spaces), lower-cased."""
    return _UNIT.findall(text.lower())


def loop(text: str) -> bool:
    """A unit said back to back again and again, one pair of units making up much of the
    text (感慨感慨的感慨感慨的感慨), or text whose trigrams are mostly repeats."""
    units = _units(text)
    if len(units) < MIN_CHARS:
        return False
    if _BACK_TO_BACK.search("\x00".join(units) + "\x00"):
        return True
    pairs = Counter(pairwise(units))
    top = max(pairs.values())
    if top >= LOOP_PAIR_COUNT and top / len(units) >= LOOP_PAIR_SHARE:
        return True
    grams = list(zip(units, units[1:], units[2:], strict=False))
    return len(grams) >= 12 and 1 - len(set(grams)) / len(grams) > LOOP_TRIGRAM_REPEAT


def _share(piece: set[str], other: set[str]) -> float:
    return len(piece & other) / len(piece) if piece else 0.0


def echo(piece: str, question: str) -> bool:
    if len(_bare(piece)) < MIN_CHARS:
        return False
    bare_q = _bare(question)
    if len(bare_q) >= MIN_CHARS and bare_q in _bare(piece):
        return True
    return _share(_bigrams(piece), _bigrams(question)) >= ECHO_SHARE


def repeat(piece: str, earlier: Iterable[str]) -> bool:
    grams = _bigrams(piece)
    if len(_bare(piece)) < MIN_CHARS or not grams:
        return False
    return any(_share(grams, _bigrams(e)) >= REPEAT_SHARE for e in earlier)


def support(piece: str, reference: set[str]) -> float:
    """The share of ``piece``'s content bigrams found in ``reference`` (``reference_terms``)."""
    grams = _bigrams(piece)
    return _share(grams, reference) if grams else 1.0


def reference_terms(texts: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for t in texts:
        out |= _bigrams(t)
    return out


_FAMILY = {
    "taigi_han": "han",
    "mandarin_traditional": "han",
    "mandarin_simplified": "han",
    "tailo": "roman",
    "poj": "roman",
    "mixed": "mixed",
    "other": "other",
}


def wrong_script(piece: str, reply_script: str) -> bool:
    """True when ``piece`` is written for another reader than ``reply_script``'s."""
    if len(_bare(piece)) < MIN_CHARS:
        return False
    got = _FAMILY[detect_script(piece).script]
    want = _FAMILY[reply_script]
    return got == "other" or (got != "mixed" and got != want)


def first_problem(
    piece: str,
    *,
    question: str,
    earlier: list[str],
    reply_script: str,
    reference: set[str] | None = None,
    min_support: float = 0.0,
) -> str | None:
    """Why ``piece`` must not be sent (loop, echo, repeat, wrong_script, unsupported), in that
    order, or None. ``earlier`` are the pieces already sent; ``reference`` the retrieved cards'
    terms (``rag``: text they do not support is cut)."""
    if loop(piece):
        return "loop"
    if echo(piece, question):
        return "echo"
    if repeat(piece, earlier):
        return "repeat"
    if wrong_script(piece, reply_script):
        return "wrong_script"
    if reference is not None and support(piece, reference) < min_support:
        return "unsupported"
    return None
