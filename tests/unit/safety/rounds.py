"""What the round tests (thirteenth round on) share: the shipped rules, classifier and rule
text, and the two readings they check — the server's conversation triage and the rules
alone on one message."""

from __future__ import annotations

from support import fired, rule_hits
from taigimed.safety.classifier import load_classifier
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
