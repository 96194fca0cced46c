"""Red-flag triage: match the rule set against one message, with negation and hearsay.

A message is searched clause by clause (split at punctuation). A hit is dropped when

- a negation cue stands just before it, or inside its gap (我無胸坎疼, 胸坎無疼,
  bô hing-khám thiànn), or
- its clause holds a hearsay, past or information-seeking cue (聽講, 舊年, 預防, 徵兆).

What this cannot tell (documented in docs/safety.md): double negation, negation far
from the symptom, sarcasm, hearsay in another clause, a past event that is still
going on, and symptoms described without any listed word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from taigimed.serve.safety.rules import CLAUSE_SPLIT, Pattern, RuleSet, fold_roman, strip_tones

# Which reply script answers which detected input script.
REPLY_SCRIPT = {
    "taigi_han": "taigi_han",
    "tailo": "tailo",
    "poj": "poj",
    "mandarin_traditional": "mandarin_traditional",
    "mandarin_simplified": "mandarin_simplified",
    "mixed": "taigi_han",
    "other": "taigi_han",
}


def reply_script(script: str | None) -> str:
    """The script to answer in for a detected input script (Taigi Han when unsure)."""
    return REPLY_SCRIPT.get(script or "", "taigi_han")


@dataclass(frozen=True)
class Hit:
    category: str
    pattern: str
    script: str
    clause: str


@dataclass
class TriageResult:
    hits: list[Hit] = field(default_factory=list)
    suppressed: list[tuple[Hit, str]] = field(default_factory=list)  # (hit, "negation"|"hearsay")

    @property
    def categories(self) -> list[str]:
        return sorted({h.category for h in self.hits})

    @property
    def triggered(self) -> bool:
        return bool(self.hits)


def _clauses(text: str) -> list[str]:
    return [c for c in CLAUSE_SPLIT.split(text) if c.strip()]


def _has_roman_cue(words: str, cues: tuple[str, ...]) -> bool:
    """Phrase cues, tone-insensitive (hearsay)."""
    padded = f" {strip_tones(words).strip()} "
    return any(f" {c} " in padded for c in cues)


def _negation_word(words: str, cues: tuple[str, ...]) -> bool:
    """A negation word: same tone as the cue, or written without a tone."""
    for w in re.findall(r"[a-z]+\d?", words):
        for cue in cues:
            if w == cue or (not w[-1].isdigit() and w == strip_tones(cue)):
                return True
    return False


def _negated(rules: RuleSet, p: Pattern, clause: str, m: re.Match[str]) -> bool:
    gaps = [g for g in m.groups() if g]
    if p.roman:
        before = " ".join(clause[: m.start()].split()[-rules.negation_window_words :])
        return any(_negation_word(s, rules.negation_roman) for s in [before, *gaps])
    before = clause[max(0, m.start() - rules.negation_window_han) : m.start()]
    return any(cue in s for s in [before, *gaps] for cue in rules.negation_han)


def _hearsay(rules: RuleSet, clause: str, roman: bool) -> bool:
    if roman:
        return _has_roman_cue(clause, rules.hearsay_roman) or any(
            c in clause for c in rules.hearsay_han
        )
    return any(c in clause for c in rules.hearsay_han)


def _views(text: str, raw: str | None) -> list[tuple[str, bool]]:
    """Texts to search: Han patterns see the standardised text; romanised ones its
    folded form and the folded raw text (so POJ patterns see POJ as typed)."""
    views = [(text, False), (fold_roman(text), True)]
    if raw and raw != text:
        views.append((fold_roman(raw), True))
    return views


def _find(rules: RuleSet, pats: tuple[Pattern, ...], views, cid: str, result: TriageResult) -> bool:
    found = False
    for view, roman in views:
        for clause in _clauses(view):
            for p in pats:
                if p.roman != roman:
                    continue
                for m in p.regex.finditer(clause):
                    hit = Hit(cid, p.source, p.script, clause.strip())
                    if _negated(rules, p, clause, m):
                        result.suppressed.append((hit, "negation"))
                    elif _hearsay(rules, clause, roman):
                        result.suppressed.append((hit, "hearsay"))
                    else:
                        if hit not in result.hits:
                            result.hits.append(hit)
                        found = True
                        break
    return found


def triage(rules: RuleSet, text: str, raw: str | None = None) -> TriageResult:
    """All red-flag categories that ``text`` (standardised; ``raw`` as typed) triggers."""
    result = TriageResult()
    views = _views(text, raw)
    for cat in rules.categories:
        _find(rules, cat.patterns, views, cat.id, result)
        if cat.all_of:
            scratch = TriageResult()
            if all(_find(rules, group, views, cat.id, scratch) for group in cat.all_of):
                # One hit per category is enough; keep the groups' sources for the record.
                src = " + ".join(h.pattern for h in scratch.hits)
                result.hits.append(Hit(cat.id, src, scratch.hits[0].script, scratch.hits[0].clause))
            result.suppressed.extend(scratch.suppressed)
    return result


def emergency_reply(rules: RuleSet, result: TriageResult, script: str) -> str:
    """The emergency notice for ``result`` in the reply script (119; 1925 for suicide risk)."""
    cats = result.categories
    parts = []
    if "suicide" in cats:
        parts.append(rules.reply("suicide", script))
    if any(c != "suicide" for c in cats):
        parts.append(rules.reply("emergency", script))
    labels = "、".join(rules.category(c).label[script] for c in cats)
    parts.append(rules.reply("detected", script) + labels)
    parts.append(rules.reply("disclaimer", script))
    return "\n".join(parts)
