"""What the round tests (thirteenth round on) share: the shipped rules, classifier and rule
text, and the readings they check — the server's conversation triage, the rules alone on
one message, and the dosing redirect."""

from __future__ import annotations

from support import fired, rule_hits
from taigimed.safety.classifier import load_classifier
from taigimed.safety.conversation import standardized
from taigimed.safety.dose import is_dose_conversation
from taigimed.safety.rules import DEFAULT_RULES, load_rules

RULES = load_rules()
CLF = load_classifier()
TEXT = DEFAULT_RULES.read_text(encoding="utf-8")


def fires(*turns: str, rules=RULES) -> list[str]:
    """The categories the server's conversation triage fires on these user turns."""
    return fired(rules, CLF, *turns)


def hits(text: str, rules=RULES) -> list[str]:
    """The categories the rules alone fire on one message."""
    return rule_hits(rules, text)


def redirected(*turns: str, rules=RULES) -> bool:
    """Do the rules send these user turns, typed as a user would, to the pharmacist?"""
    return is_dose_conversation(rules, [standardized(t) for t in turns])
