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

The classifier's path is scoped, and of the rules' hits only the **name of a condition**
asked about as a topic (``cues.topic``: 中風要做什麼檢查?, 阮阿母 ū tiòng-hong，平常愛注意
啥?) when its clause does not say it has just happened or is suspected (``cues.suspected``:
了, 矣, 好像, 是不是) and, if the message names someone, says they *have* it
(``cues.having``: 有, ū, 的人 — 我媽低血糖，可以吃什麼? may be happening now and fires).
A symptom the rules find still fires in an inquiry (阿公胸口痛冒冷汗，要看哪一科? is an
emergency), so "when unsure, escalate" holds for every symptom they know.
"""

from __future__ import annotations

from taigimed.safety.hearing import heard_clauses
from taigimed.safety.rules import RuleSet
from taigimed.safety.triage import TriageResult, _canon_spans, _has, names_person, well_now


def is_inquiry(rules: RuleSet, text: str) -> bool:
    """``text`` (standardised) asks for general health information and says nothing of
    an event happening now. False when the rule file has no ``cues.inquiry``."""
    if rules.inquiry is None:
        return False
    clauses = heard_clauses(rules, text)
    if not any(_has(c, rules.inquiry) for c in clauses):
        return False
    present = [x for x in (rules.onset, rules.urgent) if x is not None]
    if any(_has(c, cues) for c in clauses for cues in present):
        return False
    # 吃藥到現在都很好 (now and well, triage.well_now) says nothing is happening now.
    return not (
        rules.now is not None
        and any(_has(c, rules.now) for c in clauses)
        and not well_now(rules, text)
    )


def topic_only(rules: RuleSet, text: str, result: TriageResult) -> bool:
    """Every rule hit of ``result`` is a condition's name (``cues.topic``) in a clause that
    does not say it has just happened or is suspected, and ``text`` is an inquiry."""
    if not result.hits or not rules.topic or not all(h.pattern in rules.topic for h in result.hits):
        return False
    if not is_inquiry(rules, text):
        return False
    listed = heard_clauses(rules, text)
    clauses = {c.text: c for c in listed}
    if any(h.clause not in clauses for h in result.hits):
        return False  # read across turns: not this message's alone
    named = any(names_person(rules, c) for c in listed)
    for h in result.hits:
        c = clauses[h.clause]
        if rules.suspected is not None and _has(c, rules.suspected):
            return False
        if named and (rules.having is None or not _has(c, rules.having)):
            return False  # 我媽低血糖，可以吃什麼? may be now
    return True


def _present(rules: RuleSet, clauses) -> bool:
    """Something in the message says now, onset, or asks for help now."""
    cues = [x for x in (rules.onset, rules.now, rules.urgent) if x is not None]
    return any(_has(c, x) for c in clauses for x in cues)


# "Not long / not much" (無外久就足疼, 沒多久就, bô guā-tsē): a measure in a report, not a
# question.
_NOT_ASKING = ("bo gua", "沒多", "沒有多", "不多", "無偌", "無外")
# "I don't know what / how much" (吃了多少我不知道, 毋知食著啥): a carer's report holds the
# question word; the message does not ask.
_REPORTED = ("不知道", "不曉得", "不清楚", "毋知", "m tsai", "bo tsai")


def asks_by_word(rules: RuleSet, text: str) -> bool:
    """A message that asks with a question word instead of a mark (*tshài-thâu-kué beh
    án-tsuánn tshuē*, 假喙齒暗時愛按怎洗, LINE的字怎麼調大: ``cues.asking``) and says nothing
    of now. Not a clause that ends on *án-tsuánn* ("… what now?"): a carer's report ends so;
    怎麼辦 / 按怎辦 are ``cues.urgent``. False without ``cues.asking``."""
    if rules.asking is None:
        return False
    clauses = heard_clauses(rules, text)
    asked = any(
        _has(c, rules.asking)
        and not c.joined.endswith("an tsuann")
        and not any(w in c.joined or w in c.text for w in _NOT_ASKING)
        for c in clauses
    )
    reported = any(w in c.joined or w in c.text for c in clauses for w in _REPORTED)
    return asked and not reported and not _present(rules, clauses)


def tells_habit(rules: RuleSet, text: str) -> bool:
    """The message tells a habit or a long-standing complaint (*guá tiānn-tiānn thâu-khak
    hîn*, 我常常晚上起來尿尿: ``cues.habitual``) and nothing in it says now, onset or asks
    for help now. The classifier alone does not send "119" on one; the rules still fire
    (a symptom they know is escalated whatever the habit). False without ``cues.habitual``."""
    if rules.habitual is None:
        return False
    clauses = heard_clauses(rules, text)
    return any(_has(c, rules.habitual) for c in clauses) and not _present(rules, clauses)


def tells_no_alarm(rules: RuleSet, text: str) -> bool:
    """No word of harm (``cues.alarm``: blood, pain, breath, a fall, not answering, medicine,
    "leaving" …) anywhere in the message. Read on romanised statements only, where the
    letters' classifier leans "emergency" on syllable fragments (*Guá kin-á-ji̍t khì
    tshī-tiûnn bé tshài.* scored 0.70). False without ``cues.alarm``."""
    if rules.alarm is None:
        return False
    # With tones where the writer gave them: lāu (old, lāu-lâng) is not lâu (to flow).
    return not any(
        _canon_spans(c, rules.alarm, check_tone=True) or any(w in c.text for w in rules.alarm.han)
        for c in heard_clauses(rules, text)
    )
