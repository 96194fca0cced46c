"""Post-model dose filter: specific doses in an answer are replaced, and the user told why.

TaigiMed gives general health information; how much of a medicine to take is for a
doctor or pharmacist who knows the patient. A "dose" here is a number (Arabic, a
decimal or a range, or a Han numeral) followed by a dosing unit (mg, mL, IU, 毫克,
粒, 錠 …). Lab values (mg/dL, mmol/L), percentages and plain counts are left alone.
"""

from __future__ import annotations

import re

_ARABIC = r"\d+(?:[.,]\d+)?(?:\s*(?:-|~|～|–|至|到)\s*\d+(?:[.,]\d+)?)?"
_HAN_NUMBER = r"[一二兩三四五六七八九十半百千]+"
_UNITS = (
    r"mg|mcg|µg|μg|g|kg|ml|mL|cc|IU|iu|units?|tablets?|pills?|capsules?|drops?|puffs?"
    r"|毫克|公克|克|微克|毫升|西西|國際單位|單位|粒|顆|錠|片|包|滴|噴|茶匙|湯匙"
)
# After a Han numeral only units that cannot mean anything else (一片 is also "a slice").
_HAN_UNITS = r"毫克|公克|微克|毫升|西西|國際單位|粒|顆|錠|茶匙|湯匙"
# Not a dose: laboratory concentrations (mg/dL, mmol/L, g/L) follow the unit with a slash
# and a volume; doses per body size (mg/kg, mg/m2) are still doses.
DOSE_RE = re.compile(
    rf"(?:(?<![A-Za-z0-9.]){_ARABIC}\s*(?:{_UNITS})|{_HAN_NUMBER}(?:{_HAN_UNITS}))"
    rf"(?![A-Za-z])(?!\s*/\s*(?:dL|dl|L|l)\b)(?:\s*/\s*(?:kg|m2|day|日|天))*"
)


def find_doses(text: str) -> list[str]:
    """The dose expressions in ``text``.

    >>> find_doses("一擺食 500 mg，一日兩粒；血糖 126 mg/dL 較懸")
    ['500 mg', '兩粒']
    """
    return [m.group(0) for m in DOSE_RE.finditer(text)]


def redact_doses(text: str, placeholder: str) -> tuple[str, int]:
    """Replace every dose with ``placeholder``; returns the new text and how many."""
    return DOSE_RE.subn(placeholder, text)
