"""Which script a message is written in, with a confidence.

Scripts: Taigi Han (``taigi_han``), Tâi-lô (``tailo``), church romanisation
(``poj``), Simplified and Traditional Mandarin (``mandarin_simplified``,
``mandarin_traditional``), Han mixed with romanisation (``mixed``) and
``other`` (English, numbers only, empty). Romanised text also gets a tone
style: ``diacritic``, ``numeric`` or ``none``.

Method (transparent counting, no model, so a clinician can see why):

1. Units: every Han character is one unit; every romanised syllable (a Latin
   word split at hyphens) is one unit. A Latin word counts as a Taigi syllable
   only if, with tone marks and digits removed, it fits the Taigi syllable
   shape (initial + vowels + coda); English words mostly do not.
2. If both Han and Taigi syllables each hold at least 20 % of the units, the
   message is ``mixed``; otherwise the larger side decides.
3. Romanised: spellings only one system uses vote (POJ ``ch/chh``, ``oa/oe``,
   ``eng/ek``, ``ⁿ``, ``o͘``; Tâi-lô ``ts/tsh``, ``ua/ue``, ``ing/ik``, ``nn``,
   ``oo``). Ties go to Tâi-lô, the Ministry of Education standard.
4. Han: characters that only Simplified uses (OpenCC ``s2t`` changes them) vs
   only Traditional; then Taigi marker words (佇, 毋, 袂, 欲, 佮, 阮, 啥物 …)
   against Mandarin ones (的, 了, 們, 什麼, 沒有, 很 …). Han text with no
   marker at all goes to Taigi (this service's default language) with
   confidence 0.5.

Confidence is the winning side's share of the votes that decided it, floored
at 0.5; it is a margin, not a calibrated probability.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from taigimed.text.normalize import simplified_chars, to_taiwan_traditional

SCRIPTS = (
    "taigi_han",
    "tailo",
    "poj",
    "mandarin_traditional",
    "mandarin_simplified",
    "mixed",
    "other",
)
ROMANISED = ("tailo", "poj")

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
# A Latin word: letters with combining marks, nasal ⁿ, POJ's o͘ dot, tone digits.
_WORD = re.compile(r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff\u0300-\u036f\u207f0-9]+")
_SYLLABLE = re.compile(
    r"^(?:tsh|chh|ts|ch|ph|th|kh|ng|[pbmtnlkghsj])?"
    r"(?:[aeiou]{1,3}|ir|er|ee|m|ng)"
    r"(?:nn|ng|[mnptkh]|nnh)?h?$"
)
# Medical tokens: a capital after a lower-case letter (SpO2, HbA1c), a digit inside the
# word (H1N1, HbA1c), two capitals (CO2, COVID-19), more than one digit (B12), or a
# unit written with a slash (mg/m2, kg/m2). Tâi-lô never looks like this; they are
# not counted as syllables here and never converted by ``romanize``.
MEDICAL_TOKEN = re.compile(
    r"[A-Za-z]+/[A-Za-z]+\d*"
    r"|[\w-]*(?:[a-z][A-Z]|[A-Za-z]\d+[A-Za-z]|[A-Z][\w-]*[A-Z]|\d{2,})[\w-]*"
)
_DIACRITICS = set("\u0300\u0301\u0302\u0304\u0306\u030b\u030c\u030d")

_POJ_CUES = (
    re.compile(r"^chh?"),
    re.compile(r"o[ae]"),
    re.compile(r"e(?:ng|k)$"),
)
_TAILO_CUES = (
    re.compile(r"^tsh?"),
    re.compile(r"u[ae]"),
    re.compile(r"i(?:ng|k)$"),
    re.compile(r"nn"),
    re.compile(r"oo"),
)

# Words typical of written Taigi and rare in Mandarin, and the reverse. Longer
# words are counted first so 啥物 is not also counted as 物.
TAIGI_MARKERS = (  # noqa: SIM905 (a word list reads better as text)
    "啥物 按怎 毋知 毋是 毋過 無法度 胸坎 頭殼 腹肚 囡仔 查某 查埔 今仔日 昨昏 "
    "干焦 顛倒 一擺 佇 毋 袂 欲 佮 咧 阮 恁 𪜶 遮 遐 "
    "攏 閣 予 矣 个 喙 跤 揣 厝 啉 佗 嘛 敢 食 "
    "仝 甲 彼 曷 逐 伊 怹 咱 講 㧣 較 誠 足 一寡 "
    "有影 抑是 會當 袂當 無 仔 啦 著"
).split()
# Characters Taigi writing shares with Mandarin (的, 是, 這, 就, 會) are not markers.
MANDARIN_MARKERS = (  # noqa: SIM905
    "什麼 怎麼 為什麼 沒有 我們 你們 他們 她們 孩子 肚子 現在 昨天 今天 覺得 "
    "應該 可以 一點 這個 那個 這樣 怎樣 哪裡 東西 了 們 很 沒 嗎 "
    "吧 她 他 說 給 跟 還 都 喝 吃 腳 嘴 在 不 "
    "也 要 那 呢 和"
).split()


@dataclass(frozen=True)
class ScriptGuess:
    """The detected script of one message."""

    script: str
    tone_style: str | None
    confidence: float
    evidence: dict[str, float] = field(default_factory=dict)

    @property
    def romanised(self) -> bool:
        return self.script in ROMANISED


def fold_roman(word: str) -> str:
    """Lower case, tone marks and digits removed, POJ's ⁿ and o͘ spelt in ASCII."""
    nfd = unicodedata.normalize("NFD", word.lower()).replace("\u207f", "nn").replace("\u0358", "o")
    return "".join(ch for ch in nfd if ch.isascii() and ch.isalpha())


def _syllables(text: str) -> list[str]:
    out: list[str] = []
    for word in _WORD.findall(MEDICAL_TOKEN.sub(" ", text)):
        if word.isdigit():
            continue
        out.extend(part for part in re.split(r"[-]+", word) if part)
    return out


def is_taigi_syllable(raw: str) -> bool:
    # Sinica's neutral tone is written as a leading 0 (0ah4); a trailing digit is the tone.
    core = re.sub(r"^0", "", raw.lower())
    if not re.fullmatch(r"[^\d]+[1-9]?", core):
        return False
    return bool(_SYLLABLE.match(fold_roman(core)))


def traditional_chars(text: str) -> int:
    """Han characters that Simplified writes differently (OpenCC ``t2s`` changes them)."""
    return sum(1 for a, b in zip(text, _t2s(text), strict=False) if a != b)


@lru_cache(maxsize=1)
def _t2s_converter():
    import opencc

    return opencc.OpenCC("t2s")


def _t2s(text: str) -> str:
    return _t2s_converter().convert(text)


def _count_markers(text: str, markers: tuple[str, ...] | list[str]) -> int:
    rest, n = text, 0
    for m in sorted(markers, key=len, reverse=True):
        hits = rest.count(m)
        if hits:
            n += hits * len(m)
            rest = rest.replace(m, " ")
    return n


def _share(win: float, lose: float) -> float:
    total = win + lose
    return 0.5 if total == 0 else max(0.5, win / total)


def _romanised(sylls: list[str], text: str) -> tuple[str, str, float, dict[str, float]]:
    poj = tailo = 0
    for s in sylls:
        f = fold_roman(s)
        poj += sum(bool(c.search(f)) for c in _POJ_CUES)
        tailo += sum(bool(c.search(f)) for c in _TAILO_CUES)
    poj += 2 * (text.count("\u207f") + unicodedata.normalize("NFD", text).count("\u0358"))
    script = "poj" if poj > tailo else "tailo"
    conf = _share(max(poj, tailo), min(poj, tailo))
    nfd = unicodedata.normalize("NFD", text)
    marks = sum(ch in _DIACRITICS for ch in nfd)
    digits = sum(bool(re.search(r"[a-z]\d$", s.lower())) for s in sylls)
    tone = "numeric" if digits > marks else "diacritic" if marks else "none"
    return (
        script,
        tone,
        conf,
        {"poj_cues": poj, "tailo_cues": tailo, "tone_marks": marks, "tone_digits": digits},
    )


def _han(text: str) -> tuple[str, float, dict[str, float]]:
    simp = simplified_chars(text)
    trad = traditional_chars(text)
    as_trad = to_taiwan_traditional(text) if simp else text
    taigi = _count_markers(as_trad, TAIGI_MARKERS)
    mandarin = _count_markers(as_trad, MANDARIN_MARKERS)
    ev = {
        "simplified_chars": simp,
        "traditional_chars": trad,
        "taigi_markers": taigi,
        "mandarin_markers": mandarin,
    }
    if simp > trad:
        return "mandarin_simplified", _share(simp, trad), ev
    if taigi >= mandarin:
        return "taigi_han", _share(taigi, mandarin), ev
    return "mandarin_traditional", _share(mandarin, taigi), ev


def detect_script(text: str) -> ScriptGuess:
    """Guess the script of ``text``; see the module docstring for the method."""
    han = len(_HAN.findall(text))
    sylls = _syllables(text)
    taigi_sylls = [s for s in sylls if is_taigi_syllable(s)]
    units = han + len(sylls)
    if units == 0:
        return ScriptGuess("other", None, 1.0, {"units": 0})
    han_share, rom_share = han / units, len(taigi_sylls) / units
    ev: dict[str, float] = {"han_share": round(han_share, 3), "roman_share": round(rom_share, 3)}
    if han_share >= 0.2 and rom_share >= 0.2:
        _, tone, _, rev = _romanised(taigi_sylls, text)
        return ScriptGuess("mixed", tone, round(1 - abs(han_share - rom_share) / 2, 3), ev | rev)
    if han_share >= rom_share and han:
        script, conf, hev = _han(text)
        return ScriptGuess(script, None, round(conf, 3), ev | hev)
    if len(taigi_sylls) < 0.7 * len(sylls):
        return ScriptGuess("other", None, round(1 - len(taigi_sylls) / len(sylls), 3), ev)
    script, tone, conf, rev = _romanised(taigi_sylls, text)
    return ScriptGuess(script, tone, round(conf, 3), ev | rev)
