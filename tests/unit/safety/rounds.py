"""What the round tests (thirteenth round on) share: the shipped rules, classifier and rule
text, and the readings they check — the server's conversation triage, the rules alone on
one message, and the dosing redirect."""

from __future__ import annotations

import math
from dataclasses import replace

from support import fired, rule_hits
from taigimed.safety.classifier import load_classifier
from taigimed.safety.conversation import standardized
from taigimed.safety.dose import is_dose_conversation
from taigimed.safety.rules import DEFAULT_RULES, load_rules

RULES = load_rules()
CLF = load_classifier()
# The classifier never sure either way (classifier.CONFIDENT, classifier.CLEAR): a broken rule
# file is then judged by the rules and the classifier at its plain threshold, as before the
# sure reading (2026-12-07), which catches some emergencies whatever a rule word says, and
# before a dosing question the classifier clears went to the pharmacist (conversation.py
# step 6), which sets aside some rule words whatever the scope words say.
UNSURE = replace(CLF, confident=math.inf, clear_below=0.0)
TEXT = DEFAULT_RULES.read_text(encoding="utf-8")


def fires(*turns: str, rules=RULES, sure: bool = True) -> list[str]:
    """The categories the server's conversation triage fires on these user turns (with
    ``sure`` False, without the sure reading)."""
    return fired(rules, CLF if sure else UNSURE, *turns)


def hits(text: str, rules=RULES) -> list[str]:
    """The categories the rules alone fire on one message."""
    return rule_hits(rules, text)


def redirected(*turns: str, rules=RULES) -> bool:
    """Do the rules send these user turns, typed as a user would, to the pharmacist?"""
    return is_dose_conversation(rules, [standardized(t) for t in turns])
