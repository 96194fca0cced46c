"""Unicode, width, whitespace and script standardisation for Chinese and Taigi text.

Each function is pure and cheap enough to run on every user message. The order
used by :func:`normalize_text` matters: Unicode first (so width folding sees
canonical characters), then width, then whitespace.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Kangxi radicals (U+2F00–U+2FD5) look like ordinary ideographs (⾎ vs 血) but
# only NFKC folds them. NFKC over the whole text is unsafe (it rewrites ①, ㎎,
# superscripts and full-width punctuation), so we apply it to these blocks only.
# The CJK Radicals Supplement (U+2E80–U+2EFF) has a single NFKC mapping (⻟ → 龟).
_RADICAL_RE = re.compile("[\u2e80-\u2eff\u2f00-\u2fdf]")

# Private-use code points: OCR or legacy-font leftovers that nothing can recover.
_PUA_RE = re.compile("[\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd]")

# Full-width ASCII letters, digits and a few unambiguous technical symbols fold to
# half-width ("ＡＢＣ１２３％" → "ABC123%"). Chinese punctuation (，。：；！？（）「」／
# ～ and the like) is deliberately left alone: it is correct in Chinese text.
_WIDTH_TABLE = {
    cp: cp - 0xFEE0
    for cp in range(0xFF01, 0xFF5F)
    if chr(cp - 0xFEE0).isalnum() or chr(cp - 0xFEE0) in "%+=<>@#&*^_$"
}
_WIDTH_TABLE[0x3000] = 0x20  # ideographic space → space

# Zero-width characters and the BOM carry no text; soft hyphens break matching.
_INVISIBLE_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACES_RE = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f]+")
_NEWLINES_RE = re.compile(r"[ \t]*\n\s*")


def normalize_unicode(text: str) -> str:
    """NFC (folds CJK compatibility ideographs such as 列 U+F99C → 列) plus NFKC on
    Kangxi radicals only (⾎ → 血).

    >>> normalize_unicode("\\uf99c\\u2f8e")
    '列血'
    """
    text = unicodedata.normalize("NFC", text)
    if _RADICAL_RE.search(text):
        text = _RADICAL_RE.sub(lambda m: unicodedata.normalize("NFKC", m.group(0)), text)
    return text


def count_private_use(text: str) -> int:
    """How many private-use characters ``text`` holds (flagged, never guessed at)."""
    return len(_PUA_RE.findall(text))


def fold_width(text: str) -> str:
    """Full-width letters, digits and technical symbols → half-width; Chinese
    punctuation stays full-width.

    >>> fold_width("ＨｂＡ１ｃ　７％，正常")
    'HbA1c 7%，正常'
    """
    return text.translate(_WIDTH_TABLE)


def normalize_whitespace(text: str, keep_newlines: bool = False) -> str:
    """Drop control and zero-width characters, collapse runs of spaces/tabs, strip.

    Newlines become spaces unless ``keep_newlines`` (then runs collapse to one).
    """
    # Whole-text regex passes (no per-line loop), so a corpus can be normalised in one call.
    text = _INVISIBLE_RE.sub("", text)
    if keep_newlines:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    else:
        text = text.replace("\r", " ").replace("\n", " ")
    text = _SPACES_RE.sub(" ", _CONTROL_RE.sub(" ", text))
    if keep_newlines:
        text = _NEWLINES_RE.sub("\n", text)
    return text.strip()


def normalize_text(text: str, keep_newlines: bool = False) -> str:
    """The standard form of any input text: Unicode, then width, then whitespace."""
    return normalize_whitespace(fold_width(normalize_unicode(text)), keep_newlines)


@lru_cache(maxsize=4)
def _converter(config: str):
    # The official OpenCC wheel (C++). The pure-Python ``opencc-python-reimplemented``
    # installs into the same import name, is far slower and uses Mainland terms.
    import opencc

    return opencc.OpenCC(config)


def to_simplified(text: str) -> str:
    """Traditional → Simplified characters (OpenCC ``t2s``), for answering a Simplified reader."""
    return _converter("t2s").convert(text)


def to_taiwan_traditional(text: str) -> str:
    """Simplified Chinese → Taiwan Traditional with Taiwan phrasing (OpenCC ``s2twp``).

    >>> to_taiwan_traditional("心肌梗死 软件")
    '心肌梗塞 軟體'
    """
    return _converter("s2twp").convert(text)


# Characters that s2tw rewrites but that are also correct Taiwan Traditional in some
# words (干細胞, 皇后, 胜肽, 台灣, 疱疹, 上腭…): OpenCC's one-to-many character table
# is not exposed by the wheel, so the ones seen in real Traditional medical text are
# listed here to keep them from counting as leftovers.
_DUAL_USE = set("干后准游台占采斗里于余胜杰岩泄迹踪霉痹葱夸污疱腭虱面松咸谷只借范")


@lru_cache(maxsize=1)
def _simplified_re() -> re.Pattern[str]:
    # "Simplified-only": s2tw changes the character and t2s leaves it alone.
    chars = [chr(cp) for cp in range(0x4E00, 0xA000)]
    s2t = _converter("s2tw").convert("\n".join(chars)).split("\n")
    t2s = _converter("t2s").convert("\n".join(chars)).split("\n")
    simplified = [
        c
        for c, t, s in zip(chars, s2t, t2s, strict=True)
        if t != c and s == c and c not in _DUAL_USE
    ]
    return re.compile("[" + "".join(simplified) + "]")


def simplified_chars(text: str) -> int:
    """How many Simplified-only characters remain in ``text`` (0 for clean Traditional)."""
    return len(_simplified_re().findall(text))
