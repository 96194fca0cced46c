"""Speech-to-text homophones of Mandarin: a toneless pinyin view of the Han text.

Dictation writes a Mandarin word with other characters of the same sound (婚倒 for 昏倒,
兇口 for 胸口, 串不過氣 for 喘不過氣). The Taigi canonical form already meets Taigi Han
homophones (賣/袂 are both *bē*); for Mandarin the message is also read as toneless pinyin
(``pypinyin``), one token per character so a token index is a character index and the Han
view's negation and scope spans apply unchanged. The retroflex and nasal pairs that
Taiwanese Mandarin and its dictation confuse fold together (zh/z, ch/c, sh/s, ing/in,
eng/en, and f with hu: fen/hun, fu/hu).

Only Mandarin phrases of at least :data:`MIN_SYLLABLES` characters are matched this way:
one or two syllables have too many homophones (血 *xue* is also 學, 雪).
"""

from __future__ import annotations

import re
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

MIN_SYLLABLES = 3
PLACEHOLDER = "·"  # a character with no Mandarin reading (Latin, digits, punctuation)
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_FOLD = (("zh", "z"), ("ch", "c"), ("sh", "s"))
# Taiwanese-accented Mandarin, and its dictation, merges f with hu (分過去 fen for 昏過去 hun,
# 夫吸 fu for 呼吸 hu): an f-syllable reads as its hu- twin.
_F_TO_HU = {
    "fa": "hua",
    "fan": "huan",
    "fang": "huang",
    "fei": "hui",
    "fen": "hun",
    "fo": "huo",
    "fou": "hou",
    "fu": "hu",
}


def fold(syllable: str) -> str:
    for a, b in _FOLD:
        if syllable.startswith(a):
            syllable = b + syllable[2:]
            break
    if syllable.endswith("ng") and syllable[-3:-2] in ("i", "e"):
        syllable = syllable[:-1]
    # After the nasal fold, so 風 feng and 分 fen still meet (both hun).
    return _F_TO_HU.get(syllable, syllable)


@lru_cache(maxsize=4096)
def pinyin_tokens(text: str) -> tuple[str, ...]:
    """One folded toneless syllable per character of ``text`` (a placeholder where a
    character is not Han)."""
    out: list[str] = []
    for run in re.split(r"([\u3400-\u9fff\uf900-\ufaff]+)", text):
        if not run:
            continue
        if _HAN.match(run):
            syls = lazy_pinyin(run, style=Style.NORMAL, errors="default")
            if len(syls) == len(run):
                out.extend(fold(s) for s in syls)
                continue
            out.extend(fold(lazy_pinyin(ch, style=Style.NORMAL)[0]) for ch in run)
        else:
            out.extend(PLACEHOLDER for _ in run)
    return tuple(out)
