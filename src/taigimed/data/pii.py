"""Personal-data scrubbing for text leaving the serving database (feedback export, reports).

Kinds: Taiwanese national ID numbers (a letter, 1/2 — or 8/9 for resident certificates —
and 8 digits, whose weighted checksum is 0 mod 10), phone numbers (mobile 09xx-xxx-xxx and
landlines such as 02-2345-6789, with or without +886), e-mail addresses, and names where a
cue makes them detectable (我叫…, 姓名：…, a common surname before 先生/小姐/醫師 …).
Each match becomes a placeholder naming its kind, and is counted by kind.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

PLACEHOLDERS = {
    "national_id": "<身分證號>",
    "phone": "<電話>",
    "email": "<email>",
    "name": "<姓名>",
}

# Letter values of the ROC national ID checksum (Ministry of the Interior table).
_ID_LETTER = dict(zip("ABCDEFGHJKLMNPQRSTUVXYWZIO", range(10, 36), strict=True))
_ID_WEIGHTS = (1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1)

# Full-width digits and letters are common in typed Chinese: match them as ASCII.
# CJK punctuation (，。：) is left alone.
_WIDTH = str.maketrans(
    {chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F) if chr(c - 0xFEE0).isalnum()}
    | {"＠": "@", "＋": "+", "－": "-", "．": ".", "（": "(", "）": ")", "\u3000": " "}
)

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_NATIONAL_ID = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][1289]\d{8}(?!\d)")
_SEP = r"[-\s.]?"
_PHONE = re.compile(
    r"(?<![\d+])(?:"
    # mobile: 09xx-xxx-xxx or +886 9xx xxx xxx
    rf"(?:\+886{_SEP}|0)9\d{{2}}{_SEP}\d{{3}}{_SEP}\d{{3}}"
    r"|"
    # landline: (0x) or 0x / +886 x, then 6-8 digits in one or two groups
    rf"(?:\(0\d{{1,2}}\)\s?|0\d{{1,2}}{_SEP}|\+886{_SEP}\d{{1,2}}{_SEP})\d{{3,4}}{_SEP}\d{{3,4}}"
    r")(?!\d)"
)
_SURNAMES = (
    "陳林黃張李王吳劉蔡楊許鄭謝郭洪曾邱廖賴周徐蘇葉莊呂江何蕭羅高"
    "潘簡朱鍾彭游詹胡施沈余趙盧梁顏柯翁魏孫戴"
)
_TITLES = "先生|小姐|太太|女士|醫師|醫生|護理師|阿伯|阿姨|阿公|阿嬤|老師"
_NAME_CUES = [
    # 我叫陳大明 / 阮號做… / 姓名：王小美 / 名字是… : the cue stays, the name goes.
    re.compile(
        r"(?P<cue>(?:我叫|阮叫|我號做|阮號做|我的名字是|我的名字叫|名字叫|名字是|姓名[:：]?\s*))"
        r"(?P<name>[\u4e00-\u9fff]{2,3})"
    ),
    re.compile(rf"(?P<name>[{_SURNAMES}][\u4e00-\u9fff]{{1,2}})(?P<cue>{_TITLES})"),
    re.compile(
        r"(?P<cue>(?i:my name is|i am called|name:)\s*)(?P<name>[A-Z][a-z]+(?:\s[A-Z][a-z]+)?)"
    ),
]


def valid_national_id(candidate: str) -> bool:
    """True for a checksum-valid ROC national ID / resident certificate number."""
    s = candidate.upper()
    if len(s) != 10 or s[0] not in _ID_LETTER or not s[1:].isdigit():
        return False
    digits = [int(c) for c in f"{_ID_LETTER[s[0]]}{s[1:]}"]
    return sum(d * w for d, w in zip(digits, _ID_WEIGHTS, strict=True)) % 10 == 0


@dataclass
class Scrubber:
    """Replaces personal data with placeholders and counts what it replaced, by kind."""

    counts: Counter = field(default_factory=Counter)

    def __call__(self, text: str | None) -> str | None:
        if not text:
            return text
        out = text.translate(_WIDTH)
        out = self._sub(_EMAIL, out, "email")
        out = _NATIONAL_ID.sub(self._national_id, out)
        out = self._sub(_PHONE, out, "phone")
        for pattern in _NAME_CUES:
            out = pattern.sub(self._name, out)
        return out

    def _sub(self, pattern: re.Pattern[str], text: str, kind: str) -> str:
        text, n = pattern.subn(PLACEHOLDERS[kind], text)
        self.counts[kind] += n
        return text

    def _national_id(self, m: re.Match[str]) -> str:
        # A checksum-invalid lookalike is still most likely a mistyped ID: scrub it too,
        # but count it apart so the manifest says how many were certain.
        self.counts[
            "national_id" if valid_national_id(m.group()) else "national_id_unverified"
        ] += 1
        return PLACEHOLDERS["national_id"]

    def _name(self, m: re.Match[str]) -> str:
        self.counts["name"] += 1
        groups = m.groupdict()
        if m.start("cue") < m.start("name"):
            return groups["cue"] + PLACEHOLDERS["name"]
        return PLACEHOLDERS["name"] + groups["cue"]
