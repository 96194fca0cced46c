"""Everyday health questions: the scope in which the classifier alone does not say "119".

The knowledge-question sets showed the most common false alarm a patient would meet: an
everyday question (how to eat with high blood pressure, how to prevent a stroke, what the
signs of a heart attack are) answered with the emergency notice, mostly by the classifier
alone — its tuning corpus is mostly emergencies, so health words in any script push its
score up. A message is an **inquiry** when it asks for general information (a
``cues.inquiry`` word: diet, prevention, care, screening, vaccines, "is it normal", "which
department") and nothing in it says something is happening now or asks for help now
(``cues.onset``, ``cues.now``, ``cues.urgent``: 突然, 剛剛, 現在, 一直, 怎麼辦, tsit-má,
拄才 …).

Only the classifier's path is scoped: a rule that finds an emergency phrase still fires in
an inquiry (阿公胸口痛冒冷汗，要看哪一科? is an emergency by the rules), so "when unsure,
escalate" holds for every symptom the rules know.
"""

from __future__ import annotations

from taigimed.serve.safety.canonical import canonical_clauses
from taigimed.serve.safety.rules import RuleSet
from taigimed.serve.safety.triage import _has, hear


def is_inquiry(rules: RuleSet, text: str) -> bool:
    """``text`` (standardised) asks for general health information and says nothing of
    an event happening now. False when the rule file has no ``cues.inquiry``."""
    if rules.inquiry is None:
        return False
    clauses = canonical_clauses(hear(rules, text), rules.variants)
    if not any(_has(c, rules.inquiry) for c in clauses):
        return False
    present = [x for x in (rules.onset, rules.now, rules.urgent) if x is not None]
    return not any(_has(c, cues) for c in clauses for cues in present)
