"""An event told and resolved in the same message: 阿嬤拄才血糖低，啉糖仔水了後已經好矣.

Past and resolved cues reach forward only (their clause and the ones after it), so a
resolution told *after* the event did not reach back, and a carer reporting that it is
over got the emergency notice. Here a message is **resolved within** when every rule hit
lies in a clause before a clause that says plainly the event is over
(``cues.resolved_after``: 已經好了, 沒事了, 醒過來了, 咳出來了, 已經好矣, 精神矣 …; not a
bare 好了, which also says "ready") with no doubt in it (``cues.resolution_doubt``: 他說,
好像, 應該 — the patient's own "I'm fine" is no resolution), and that clause and every
clause after it hold no hit (a negated or look-alike word aside), nor an onset word
(又, 突然). Anything after the resolution (又昏過去, 猶原講袂出話) fires as before, and so
does a message with no resolution clause: "when unsure, escalate".
"""

from __future__ import annotations

from taigimed.safety.hearing import heard_clauses
from taigimed.safety.rules import RuleSet
from taigimed.safety.triage import TriageResult, _has, _has_past

# Never "over" on the writer's word: harm shows late after a poisoning (paracetamol), a head
# knock on blood thinners, a drowning, a blow in pregnancy or anaphylaxis (a second phase),
# and suicide risk is not resolved by "I'm fine now" (1925 protocol).
NEVER_RESOLVED = frozenset(
    {"suicide", "poisoning", "head_injury", "drowning", "pregnancy_trauma", "anaphylaxis"}
)


def resolved_within(rules: RuleSet, text: str, result: TriageResult) -> bool:
    """Every hit of ``result`` (the rules' reading of ``text``, standardised) comes before
    a clause saying the event is over, with nothing after it."""
    if not result.hits or rules.resolved_after is None:
        return False
    if any(h.category in NEVER_RESOLVED for h in result.hits):
        return False
    clauses = heard_clauses(rules, text)
    texts = [c.text for c in clauses]
    hit_at = []
    for h in result.hits:
        if h.clause not in texts:
            return False  # a hit read across turns or clauses: not this message's alone
        hit_at.append(texts.index(h.clause))
    # A negated or look-alike word after the resolution (沒有再昏倒, 正常 holding 腫) is no
    # new event; any other suppressed hit there is.
    touched = set(hit_at) | {
        texts.index(h.clause)
        for h, why in result.suppressed
        if h.clause in texts and why not in ("negation", "idiom", "lookalike")
    }
    last_hit = max(hit_at)
    again = [x for x in (rules.again, rules.onset) if x is not None]
    for i in range(last_hit + 1, len(clauses)):
        c = clauses[i]
        if i in touched:
            return False
        if _has_past(rules, c, ("resolved_after",)):
            if rules.resolution_doubt is not None and _has(c, rules.resolution_doubt):
                return False
            # Nothing after it may say it is back or new (又, 閣, 突然).
            return not any(
                j in touched or any(_has(clauses[j], cues) for cues in again)
                for j in range(i + 1, len(clauses))
            )
    return False
