"""The terms a question and a card are matched on, whatever script each is written in.

Two kinds of term, so that a question in any script finds a card in any script:

- **Han terms** (``h:``): characters and character bigrams of the text in Taiwan
  Traditional (Simplified is converted with OpenCC first), so 血壓 in a Mandarin
  question meets 血壓 in a Taigi Han card;
- **syllable terms** (``s:``): the project's canonical toneless Tâi-lô form
  (``safety.canonical``: Han read by ``taibun``, POJ and tone numbers folded) as
  syllables and syllable bigrams inside a clause, so *hueh-ap kuân*, *hoeh-ap koân*,
  *hueh4-ap4 kuan5* and 血壓懸 all share ``s:hueh ap`` and ``s:ap kuan``. Syllables
  are also folded across **accents** (``fold_accent``): a writer spells what she says, and
  病 is *pēnn* in the MOE spelling the cards use but *pīnn* in much of northern Taiwan.

Bigrams carry most of the meaning in Chinese and Taigi (single characters and syllables
are highly ambiguous); unigrams are kept so a one-syllable word still matches.

A question's framing (啥物, 按怎, 要注意什麼, *án-tsuánn*) and the family member it is about
(阮阿母, 我爸爸) say nothing about the topic, yet are rare in cards, so BM25 would weigh them
heavily: ``query_terms`` leaves them out (``QUERY_STOP_*``, general Mandarin and Taigi
question words, not drawn from any evaluation set). Cards keep every term.
"""

from __future__ import annotations

import re
from functools import lru_cache

from taigimed.text import normalize_text, to_taiwan_traditional

TERMS_VERSION = 3  # bump when the terms change: it is part of the knowledge version

_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")

# Question words, pronouns and kin terms (Taiwan Traditional characters; toneless syllables).
QUERY_STOP_HAN = frozenset(
    [
        *"啥什麼怎樣按嗎呢吧阮我你伊他她的了是有要愛會嘛咧佇在請問敢欲佮和跟就",
        "注意", "啥物", "按怎", "什麼", "怎麼", "怎樣", "如何", "請問", "要注", "愛注", "意啥",
        "意什", "需要", "應該", "可以", "會使", "有啥", "有什", "要怎", "愛按", "欲按", "是按",
        "怎辦", "麼辦", "一下", "比較", "平常", "最近", "定定", "常常", "阿母", "阿爸", "阿公",
        "阿嬤", "阿媽", "阿伯", "爸爸", "媽媽", "爺爺", "奶奶", "外婆", "阿姨", "我爸", "我媽",
        "阮阿", "家裡", "厝裡",
    ]
)  # fmt: skip
QUERY_STOP_SYLLABLES = frozenset(
    [
        "siann", "mih", "an", "tsuann", "guan", "gua", "li", "i", "e", "si", "u", "ai", "beh",
        "kam", "ma", "leh", "ti", "a", "kah",
        "siann mih", "an tsuann", "ai tsu", "tsu i", "i siann", "ai an", "beh an", "si an",
        "e sai", "kam e", "ping siong", "tsue kin", "tiann tiann", "guan a", "a bo", "a bu",
        "a pah", "a pa", "a kong", "a ma", "u siann", "e tang", "su iau", "ing kai",
    ]
)  # fmt: skip


# Regular sound correspondences between Taigi accents (the MOE dictionary lists them as 又音
# of one word), folded to one spelling on both sides (question and card).
# 病 pēnn/pīnn, 想 siūnn/siōnn, 魚 hî/hîr, 尿 jiō/liō: the same word, not near-homophones.
_ACCENT_FOLDS = (
    (re.compile(r"^([^aeiou]*)inn$"), r"\1enn"),  # 病 pīnn → pēnn (not 歹 pháinn)
    (re.compile(r"^([^aeiou]*)ir(n?)$"), r"\1i\2"),  # 魚 hîr → hî
    (re.compile(r"ionn$"), "iunn"),  # 想 siōnn → siūnn
    (re.compile(r"^j"), "l"),  # 尿 jiō / liō: folded to l, which both accents have
)


@lru_cache(maxsize=4096)
def fold_accent(syllable: str) -> str:
    """One toneless canonical syllable in its accent-neutral spelling.

    >>> [fold_accent(s) for s in ("pinn", "phainn", "hir", "sionn", "jio")]
    ['penn', 'phainn', 'hi', 'siunn', 'lio']
    """
    for pattern, repl in _ACCENT_FOLDS:
        syllable = pattern.sub(repl, syllable)
    return syllable


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
    from taigimed.safety.canonical import canonical_clauses

    out: list[str] = []
    for clause in canonical_clauses(text):
        syls = [fold_accent(s) for s in clause.syllables if s.isascii() and s.isalpha()]
        out += _grams(syls, "s:", " ")
    return out


def is_bigram(term: str) -> bool:
    """A Han character pair or a syllable pair: the terms that carry meaning."""
    return (term.startswith("h:") and len(term) == 4) or " " in term


def query_terms(text: str) -> list[str]:
    """The terms a question is searched with: ``terms`` less its framing (module docstring)."""
    out = []
    for t in dict.fromkeys(terms(text)):
        kind, body = t[:2], t[2:]
        if body in (QUERY_STOP_HAN if kind == "h:" else QUERY_STOP_SYLLABLES):
            continue
        out.append(t)
    return out


@lru_cache(maxsize=8192)
def _terms(text: str) -> tuple[str, ...]:
    text = normalize_text(text)
    return (*han_terms(text), *syllable_terms(text))


def terms(text: str) -> list[str]:
    """All matching terms of ``text`` (with repeats: they count in a document)."""
    return list(_terms(text))
