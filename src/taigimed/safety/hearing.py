"""The text the safety layer reads: one owner for every check before the model.

The triage, the everyday-question scope, the resolution check, the conversation reading,
the dosing check, the review gate and the classifier all read a message **as heard**
(:func:`hear`), then in canonical form (:func:`heard_clauses`). Before this module the
dosing check read the standardised text as typed while the triage read it heard, so a
word-by-word Mandarin dosing question (可 以 吃 兩 顆 嗎, as foreign care workers write)
was a dosing question to nobody and reached the model.

Hearing is what the typist meant rather than what the keyboard produced:

- spaces between Han characters are closed up (阿嬤 叫 不 醒 → 阿嬤叫不醒): a Han phrase
  does not match across them;
- the rule file's speech-to-text homophones are replaced (終風 → 中風);
- the English words of a code-mixed message are heard in Han (我爸chest pain 冒cold sweat
  → 我爸胸口痛 冒冷汗): carers mix them in, and every check reads Han and Taigi.

Spelling variants (buē/bē, huih/hueh) and POJ → Tâi-lô are folded one step later, in the
canonical form (:mod:`taigimed.safety.canonical`), with the rule file's ``variants``:
:func:`heard_clauses` is the only way a check gets clauses, so every check folds alike.
"""

from __future__ import annotations

import re

from taigimed.safety.canonical import Clause, canonical_clauses
from taigimed.safety.rules import RuleSet

# A space between two Han characters (ASCII or ideographic), with the Han runs on each side.
_HAN = r"[\u3400-\u9fff\uf900-\ufaff]"
_HAN_SPACE = re.compile(rf"({_HAN}+)[ \u3000]+(?={_HAN})")
_HAN_RUN = re.compile(rf"{_HAN}+")
# Word by word (阿嬤 叫 不 醒, 降血壓 藥 可 以 吃) one side of the space is a word of one or
# two characters; between two longer runs (膝盖退化 上下楼梯就痛) the space separates
# phrases, and closing it would glue them into words the writer never wrote.
WORD_CHARS = 2


def _close(m: re.Match[str]) -> str:
    before = m.group(1)
    after = _HAN_RUN.match(m.string, m.end())
    short = len(before) <= WORD_CHARS or (after is not None and len(after.group(0)) <= WORD_CHARS)
    return before if short else m.group(0)


def hear(rules: RuleSet, text: str) -> str:
    """``text`` (standardised) with spaces between Han characters closed up
    (阿嬤 叫 不 醒 → 阿嬤叫不醒) and the rule file's homophones replaced (終風 → 中風).

    >>> from taigimed.safety.rules import load_rules
    >>> hear(load_rules(), "可 以 吃 兩 顆 嗎")
    '可以吃兩顆嗎'
    """
    if rules.english_re is not None:
        text = rules.english_re.sub(lambda m: rules.english[m.group(0).lower()], text)
    text = _HAN_SPACE.sub(_close, text)
    for wrong, right in rules.homophones.items():
        if wrong in text:
            text = text.replace(wrong, right)
    return text


def heard_clauses(rules: RuleSet, text: str) -> list[Clause]:
    """The heard ``text`` as canonical clauses, folded with the rule file's variants."""
    return canonical_clauses(hear(rules, text), rules.variants)
