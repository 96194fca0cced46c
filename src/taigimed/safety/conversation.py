"""Triage over the conversation: the recent user turns with their time cues.

Carers tell an emergency across turns (阮阿嬤有糖尿病 … 這馬叫袂醒, 寶寶兩個月大 … 這馬發燒),
and they ask about an emergency that is over (昨天急診回來，醫生說沒事 … 以後要注意什麼?).
The decision reads the last :data:`CONTEXT_TURNS` **user** turns; the assistant's replies
are never evidence (they repeat the user's words, and an emergency notice would feed itself).

1. The last turn alone, as before (the rules and the classifier beside them).
2. A turn is **settled** when it says the event is over or dealt with (`cues.resolved`:
   出院, 已經好, 喝了糖水, tshut-īnn …) or every hit in it was placed in the past or heard
   about. Turns up to the last settled one are dropped; the rest are read together
   (:func:`triage.triage_turns`), so a combo may take its groups from different turns.
3. A hit of the last turn in a category that a settled earlier turn was about is a
   question about that event (他中風之後手無力要怎麼復健?) and does not fire — unless the
   last turn says it is happening now or again (`cues.now`, `cues.again`: 又, 閣, 再次);
   `cues.again` with no symptom word (又發作了, koh huat-tsok) brings the settled
   categories back.
4. **Worse after "it was nothing"**: a last turn that reports (asks nothing) and speaks of
   now (`cues.now`, `cues.onset`, `cues.ongoing`) and says nothing is over reads the turns
   set aside again with it (跋倒撞著頭，伊講無代誌 … 今仔早起一直吐，足愛睏): the delayed
   signs of a head injury are told exactly so. A harm that shows late (:data:`LATE_HARM`)
   told in the past (早上撞到頭，那時候說沒事) is read then with no past scope, when the
   last turn completes it.
5. A condition's name in an earlier turn is the background of a dosing question in the
   last (中風了後藥仔吞袂落 … 會使磨粉無?); a symptom told beside it still fires.
6. **A dosing question is the pharmacist's** when the rules took its words for an
   emergency and the classifier is sure it is none (:data:`classifier.CLEAR`, on the last
   turn and on the turns joined, or on the last turn where each hit's clause holds a scope
   word of step 7): the medicine's purpose (降血糖藥 with 血糖偏低) or a trouble asked
   about (a pill that sticks, to be crushed). Never for suicide words.
7. **A scope word and a sure "no"**: rule words do not fire when a scope word stands in
   their clause (a worry, a habit, news, an earlier day, learning first aid:
   :data:`CLEARING_SCOPE`) and the classifier is sure there is no emergency in the last
   turn (:data:`classifier.CLEAR`) and on the turns joined — or, where each hit is the last
   turn's own or the last turn tells nothing of now or again, would only not fire on them:
   the rules saw the scope but did not reach the hit with it (我足驚家己是毋是欲中風,
   阿伯上禮拜中風住院). Never for suicide words.
8. **When unsure, escalate**: a last turn the classifier is sure of
   (:data:`classifier.CONFIDENT`) fires whatever scope steps 1–7 gave its words, unless the
   rules recognised an idiom in it, the second readings disagree
   (:meth:`TriageClassifier.agrees`) or it is a dosing question — each exception judged
   on the clauses it was seen in: the rest of the turn is read without them.

Anything else escalates, as in the single-message rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from taigimed.safety.classifier import asks, romanised
from taigimed.safety.dose import (
    asks_something,
    has_cue,
    is_dose_conversation,
    is_dose_question,
    names_medicine,
)
from taigimed.safety.hearing import hear, heard_clauses
from taigimed.safety.inquiry import (
    asks_by_word,
    is_inquiry,
    tells_habit,
    tells_no_alarm,
    topic_only,
)
from taigimed.safety.resolution import NEVER_RESOLVED, resolved_within
from taigimed.safety.rules import CueSet, RuleSet
from taigimed.safety.triage import (
    HAN_SPACE,
    Hit,
    TriageResult,
    _has_past,
    assess,
    new_onset,
    told_again,
    triage,
    triage_turns,
    well_now,
)
from taigimed.text.romanize import standardize_input

# The user turns read together: enough for a carer's "she has diabetes … now she is
# sweating … and won't answer", short enough that last week's question is not evidence.
CONTEXT_TURNS = 4
# Harm that shows hours after the event (a knock on the head, pills, water in the lungs, a
# blow in pregnancy): an event told as over earlier counts again with its signs now.
LATE_HARM = NEVER_RESOLVED - {"suicide"}
# The classifier's reading of the unsettled user turns joined (seventh round); benchmarks
# turn it off to measure what it adds.
READ_JOINED = True


@lru_cache(maxsize=2048)
def standardized(text: str) -> str:
    """Earlier turns arrive as typed (HTTP clients resend them); the standardiser is
    deterministic, so each turn is read once per process."""
    return standardize_input(text)[0]


def user_turns(messages: Sequence[dict[str, str]], limit: int = CONTEXT_TURNS) -> list[str]:
    """The last ``limit`` user turns of ``messages`` (standardised), oldest first; the
    assistant's and the system's messages are left out."""
    users = [m.get("content") or "" for m in messages if m.get("role") == "user"]
    return [standardized(t) for t in users[-limit:]]


def _has(rules: RuleSet, text: str, cues: CueSet | None) -> bool:
    return cues is not None and has_cue(heard_clauses(rules, text), cues)


def _onset(rules: RuleSet, text: str) -> bool:
    """Something in the turn is sudden or again (triage.new_onset)."""
    return rules.onset is not None and any(new_onset(rules, c) for c in heard_clauses(rules, text))


def _again(rules: RuleSet, text: str) -> bool:
    """The turn says it is back (triage.told_again), not asks whether it will be."""
    return rules.again is not None and any(told_again(rules, c) for c in heard_clauses(rules, text))


def _resolved(rules: RuleSet, text: str) -> bool:
    """A resolved cue that is not a finished preparation (想好了, 存好了 are not "over"), or
    a turn that says the person is well now (現在她在看電視，講話都正常; tsit-má i lóng
    hó-hó: triage.well_now) with no emergency word of its own and nothing sudden in it."""
    clauses = heard_clauses(rules, text)
    # Not what was said at the time (伊當時講無代誌, 那時候說沒事: cues.said_then).
    if rules.resolved is not None and any(
        _has_past(rules, c, ("resolved",))
        and not (rules.said_then is not None and has_cue([c], rules.said_then))
        for c in clauses
    ):
        return True
    return (
        rules.well is not None
        and well_now(rules, text)
        and not _earlier(rules, text).hits
        and not _onset(rules, text)
    )


_EARLIER: dict[tuple[int, str], TriageResult] = {}


def _earlier(rules: RuleSet, text: str) -> TriageResult:
    """The rules' reading of an earlier turn, kept: every later turn reads it again. Read
    only (never changed), and bounded."""
    key = (id(rules), text)
    if (hit := _EARLIER.get(key)) is None:
        if len(_EARLIER) > 4096:
            _EARLIER.clear()
        hit = _EARLIER[key] = triage(rules, text)
    return hit


def _settled(rules: RuleSet, text: str, dated: bool = False) -> tuple[bool, set[str]]:
    """Is the turn about an event that is over, and which categories it was about.
    ``dated``: a turn that places its event on an earlier day (昨天, 上禮拜, tsa-hng) with
    nothing saying it goes on (還, 一直, 到現在) counts as over too."""
    r = _earlier(rules, text)
    # Not a word dropped as an idiom or look-alike (檢查攏正常: 正常 holds 腫 tsìng): the turn
    # was never about that category, and "again" must not bring it back.
    cats = {h.category for h in r.hits} | {
        h.category for h, w in r.suppressed if w not in ("idiom", "lookalike")
    }
    if _resolved(rules, text):
        return True, cats
    if (
        dated
        and cats
        and _has(rules, text, rules.earlier_day)
        and not _has(rules, text, rules.now)
        and not _onset(rules, text)
        and not _has(rules, text, rules.ongoing)
    ):
        return True, cats
    past = {h.category for h, why in r.suppressed if why in ("past", "hearsay", "story")}
    return bool(past) and not r.hits, cats


def _everyday_disagrees(rules: RuleSet, text: str, classifier) -> bool:
    """Is the classifier alone not to be trusted here? A romanised message with no word of
    harm at all (``cues.alarm``): the letters' n-grams of romanised text are syllable
    fragments (*Guá kin-á-ji̍t khì tshī-tiûnn bé tshài.* scored 0.70), and the everyday
    reading, trained on Han-Lo sentences, agrees with them too often to decide alone. Or a
    message that asks by its words without a mark (*tshài-thâu-kué beh án-tsuánn tshuē*,
    LINE的字怎麼調大) whose everyday reading (classifier.EverydayCheck) does not take it for
    an emergency. Questions with a mark are judged by the classifier's own second readings."""
    check = getattr(classifier, "everyday", None)
    if check is None:
        return False
    heard = hear(rules, text)
    if romanised(heard) and tells_no_alarm(rules, text):
        return True
    if not asks_by_word(rules, text):
        return False
    return check.score(heard, rules.variants) < check.threshold


def _worse_now(rules: RuleSet, text: str) -> bool:
    """A last turn that tells of now (now, onset or ongoing words), asks nothing and says
    nothing is over (吐出來了，現在可以正常講話，之後要注意什麼 is settled). A question put
    to the patient and answered (問伊遮是佗位，伊講毋知) is told, not asked."""
    own = _without_reported_questions(rules, text)
    if asks(text) or _has(rules, own, rules.asking) or is_inquiry(rules, own):
        return False
    if _resolved(rules, text):
        return False
    return any(_has(rules, text, c) for c in (rules.now, rules.onset, rules.ongoing))


def _without_reported_questions(rules: RuleSet, text: str) -> str:
    """``text`` less its clauses that tell a question put to the patient and the answer
    (``cues.reported_question`` with ``cues.answered``: *mn̄g i tsia sī tó-uī i kóng m̄
    tsai*, 問他這是哪裡他說不知道), the way carers tell confusion."""
    if rules.reported_question is None or rules.answered is None:
        return text
    clauses = heard_clauses(rules, text)
    told = [has_cue([c], rules.reported_question) and has_cue([c], rules.answered) for c in clauses]
    if not any(told):
        return text
    return "，".join(c.text for c, t in zip(clauses, told, strict=True) if not t)


def _lesson(rules: RuleSet, text: str) -> bool:
    """Asks where first aid is taught (CPR 佗位有咧教?, 哪裡可以學) and names nobody, no now
    and no call for help outside the clauses about learning that hold no emergency words
    (CPR 要壓多深 我想去上課: the writer is the learner; not 我爸倒下了我想學CPR): the
    emergency words are the lesson's topic."""
    if rules.learning is None:
        return False
    clauses = heard_clauses(rules, HAN_SPACE.sub("，", text))
    learning = [has_cue([c], rules.learning) for c in clauses]
    rest = [
        c
        for c, learns in zip(clauses, learning, strict=True)
        if not learns or triage(rules, c.text).hits
    ]
    return any(learning) and not any(
        cues is not None and has_cue(rest, cues) for cues in (rules.person, rules.now, rules.urgent)
    )


def _pill_trouble(rules: RuleSet, hit: Hit, turns: Sequence[str] = ()) -> bool:
    """A choking hit in a clause that says swallowing is a standing trouble
    (``dose_intent.swallowing``: 每次都卡在喉嚨, 吞藥很困難, lóng ē kénn--tio̍h), with a
    medicine named in it or in one of the ``turns`` (I-sing khui sim-tsōng io̍h … I thun bē
    lo̍h-khì, ta̍k pái lóng kénn tio̍h)."""
    return (
        hit.category == "choking"
        and rules.dose_swallowing is not None
        and _has(rules, hit.clause, rules.dose_swallowing)
        and any(names_medicine(rules, t) for t in (hit.clause, *turns))
    )


def _new_in(rules: RuleSet, text: str) -> bool:
    """Something in ``text`` is sudden, again or new (cues.onset, cues.again, cues.new_event)."""
    return _onset(rules, text) or _again(rules, text) or _has(rules, text, rules.new_event)


def _asks_aftercare(rules: RuleSet, text: str) -> bool:
    """An everyday or aftercare question (復健, 運動, 可以吃什麼) with nothing urgent in it."""
    return is_inquiry(rules, text) or (
        _has(rules, text, rules.aftercare) and not _has(rules, text, rules.urgent)
    )


def assess_conversation(
    rules: RuleSet,
    turns: Sequence[str],
    classifier=None,
    limit: int = CONTEXT_TURNS,
    pharmacist: bool = True,
) -> TriageResult:
    """The emergency decision for the last of ``turns`` (standardised user turns, oldest
    first), reading the ones before it as described in the module docstring. Without
    ``pharmacist`` (a deployment with no dosing redirect) step 6 is left out: the rule
    words it would set aside go to nobody else."""
    turns = list(turns)[-limit:]
    result = _read(rules, turns, classifier)
    if pharmacist:
        result = _for_the_pharmacist(rules, turns, result, classifier)
    result = _clear_of_emergency(rules, turns, result, classifier)
    return _escalate_when_sure(rules, turns, result, classifier)


# Categories steps 6 and 7 never set aside: the 1925 reply is never withheld, and pills
# counted for an overdose (安眠藥吃幾顆會死) are asked as an amount.
NEVER_SET_ASIDE = frozenset({"suicide"})


def _for_the_pharmacist(rules: RuleSet, turns: list[str], result: TriageResult, classifier):
    """Step 6 of the module docstring: a dosing question that asks (the rules' reading,
    the medicine perhaps named in an earlier turn) whose words the rules took for an
    emergency goes to the pharmacist when the classifier is sure it is none
    (:meth:`TriageClassifier.clear`), on the last turn and on the user turns joined — or
    on the last turn alone where each hit's clause holds a scope word (:data:`CLEARING_SCOPE`:
    伊藥丸仔攏吞袂落，逐擺攏哽著 told a turn before the question, whose words lift the joined
    reading). The rule words were the medicine's purpose or a trouble it is asked about (血糖藥 with
    偏低, a pill that sticks asked to be crushed, *bô teh tshuán* said beside an inhaler);
    an emergency asked as a question (阿公吃了整排安眠藥，要吐出來嗎?) reads high."""
    if (
        classifier is None
        or not result.hits
        or result.classifier_score is None
        or not classifier.clear(result.classifier_score)
        or any(h.category in NEVER_SET_ASIDE for h in result.hits)
        # 他又發作了，藥要加吃一顆嗎?: the condition back now is no question for the pharmacist.
        or _again(rules, turns[-1])
        or not asks_something(rules, turns[-1], mark=True)
        or not is_dose_conversation(rules, turns, ways=True)
        or not (
            _clears(rules, turns, result.classifier_score, classifier)
            or all(_scoped(rules, h.clause) for h in result.hits)
        )
    ):
        return result
    result.suppressed.extend((h, "dosing") for h in result.hits)
    result.hits = []
    result.classifier_fired = False
    return result


def _clears(
    rules: RuleSet, turns: list[str], score: float, classifier, joined_below_alarm: bool = False
) -> bool:
    """Is the classifier sure there is no emergency in the last turn (``score``) and, for a
    conversation, in the user turns joined? ``joined_below_alarm``: for the turns joined it
    is enough that the classifier would not fire (step 7, where each hit's own clause holds
    a scope word: 我最近常常心悸 … 上個月心電圖正常 … 我還是很怕睡著心臟就停了 reads 0.41
    joined, from the palpitations told before)."""
    if not classifier.clear(score):
        return False
    if len(turns) == 1:
        return True
    joined = classifier.score(hear(rules, "。".join(turns)), rules.variants)
    return classifier.clear(joined) or (joined_below_alarm and not classifier.fires(joined))


# The scope words that, told in a hit's clause, let a sure "no emergency" set rule hits
# aside (step 7): a worry, a habit, news or hearsay, an earlier day, learning
# first aid, a supposition, a joke … — the rules saw them but did not apply them to the
# hit. Not a general question word, a stranger or a suspicion (好像): 我爸中風了，要注意什麼,
# 看到有人倒在路邊不動，要先打119還是先CPR？ and 我爸好像中風，要看哪一科 score under
# classifier.CLEAR and are emergencies (the conversation tuning file).
CLEARING_SCOPE = (
    "worry",
    "habitual",
    "hearsay",
    "earlier_day",
    "lifelong",
    "someday",
    "suppose",
    "prevent",
    "imagined",
    "learning",
    "distinguish",
    "generic",
    "joking",
    "jest",
    "moved",
)


def _scoped(rules: RuleSet, clause: str) -> bool:
    """Does a hit's clause hold a scope word of :data:`CLEARING_SCOPE`?"""
    return any(_has(rules, clause, getattr(rules, name)) for name in CLEARING_SCOPE)


def _all_in_last_turn(rules: RuleSet, turns: list[str], hits: list[Hit]) -> bool:
    last = {c.text for c in heard_clauses(rules, turns[-1])}
    return all(h.clause in last for h in hits)


def _clear_of_emergency(rules: RuleSet, turns: list[str], result: TriageResult, classifier):
    """Step 7 of the module docstring: rule hits are set aside when each one's clause holds a
    scope word (:data:`CLEARING_SCOPE`) and the classifier is sure there is no emergency in
    the last turn (:meth:`TriageClassifier.clear`) and, on the turns joined, sure too — or,
    where every hit is the last turn's own or the last turn tells nothing of now or again,
    only not firing (since rules 2027.01.12: worries told after the palpitations that caused
    them read high joined) — the rules
    saw the worry or the news but did not reach the hit with it (我逐暗攏驚心臟會忽然停去,
    *kiann beh tiòng-hong*). Not a scope word in another turn (我爸胸痛 … 以後要怎麼預防心臟病?
    fires). Measured before it existed, on fifteen blind files the classifier had never
    read (v45-v59): no emergency the rules fired on scored under 0.52 on both readings; 14
    of the 134 false alarms had a scope word in the hit's clause and scored under CLEAR on
    both. Never for suicide words (the 1925 reply is never withheld)."""
    if (
        classifier is None
        or not result.hits
        or result.classifier_score is None
        or any(h.category in NEVER_SET_ASIDE for h in result.hits)
        # 我爸上個月中風 … 他又發作了: what an earlier turn placed with its scope word is back.
        or _again(rules, turns[-1])
        or not all(_scoped(rules, h.clause) for h in result.hits)
        # The turns joined need only not fire when every hit is the last turn's own, or the
        # last turn tells nothing of now: a hit an earlier turn gave, with 他現在講話怪怪的
        # after it, is what the joined reading is for.
        or not _clears(
            rules,
            turns,
            result.classifier_score,
            classifier,
            joined_below_alarm=_all_in_last_turn(rules, turns, result.hits)
            or not _worse_now(rules, turns[-1]),
        )
    ):
        return result
    result.suppressed.extend((h, "clear") for h in result.hits)
    result.hits = []
    result.classifier_fired = False
    return result


def _escalate_when_sure(rules: RuleSet, turns: list[str], result: TriageResult, classifier):
    """When unsure, escalate (step 7 of the module docstring): a last turn the classifier is
    sure of (classifier.CONFIDENT) is an emergency whatever scope the rules gave its words.
    The scope rules were each written for one look-alike; the blind files showed them also
    setting aside real emergencies told with a past word beside them (伊頂禮拜才出院 after
    叫袂醒 now, *kuè-nî tsîng* for "just before"), inside a story with a question after it (a
    nosebleed an hour long in a message about a check-up), or after "he said it was
    nothing". Not an idiom the rules recognised (*hiam kah beh sí*, spicy "to death", scored
    0.98), nor a recognised dosing question, which has its own reply, nor where the second
    readings disagree (romanised everyday sentences: *Pîn-hiat: … thâu-hîn*, 0.9+)."""
    if (
        classifier is None
        or result.triggered
        or result.classifier_score is None
        or not classifier.sure(result.classifier_score)
        # The second readings still agree (a romanised sentence's letters run high).
        or not classifier.agrees(hear(rules, turns[-1]), rules.variants)
    ):
        return result
    last = turns[-1]
    # The exceptions hold for the clauses they were seen in: the rest of the turn must still
    # be sure on its own (阿爸一直 tshuán，嘴唇 tsi-tsi after 排隊排到 beh 死).
    rest = _rest(rules, last, result.idiom_seen)
    if rest is None:
        return result
    if rest != last:
        heard = hear(rules, rest)
        if not (
            classifier.sure(classifier.score(heard, rules.variants))
            and classifier.agrees(heard, rules.variants)
            and not _dosing(rules, rest)
        ):
            return result
    result.classifier_fired = result.sure = True
    return result


def _dosing(rules: RuleSet, text: str) -> bool:
    """A recognised dosing question that asks (not a way of taking it: see is_dose_question)."""
    return is_dose_question(rules, text, ways=False) and asks_something(rules, text)


def _rest(rules: RuleSet, text: str, idiom_seen: bool) -> str | None:
    """The turn without the clauses the sure step's exceptions were seen in: ``text`` itself
    when there were none, None when nothing is left or no clause held the idiom (one across
    clauses). An idiom colours the scene told up to it and the clause after it (阮孫仔食麻辣鍋
    薟甲講欲死矣 喙親像火咧燒; gún sun-á o̍h kóng-uē … guá tshiò kah tshuán bē kuè-lâi): what is
    left is the news told after that (排隊排到 beh 死 … 轉來了後 阿爸一直 tshuán). Only an
    idiom that holds harm counts (:func:`_harm_in_idiom`): 一直哭到快沒聲音 after a scald is
    a degree told of the child, not the hyperbole that made the reading sure. A dosing
    question's clauses that name a medicine go (除草劑倒了一半，嘴巴都是那個藥水的味道: the
    poison is left)."""
    clauses = [c.text for c in heard_clauses(rules, HAN_SPACE.sub("，", text))]
    read = [triage(rules, c) if idiom_seen else None for c in clauses]
    seen = [i for i, r in enumerate(read) if r is not None and r.idiom_seen]
    if idiom_seen and not seen:
        return None
    idioms = [i for i in seen if _harm_in_idiom(rules, clauses[i], read[i])]
    dosing = _dosing(rules, text)
    if not idioms and not dosing:
        return text
    away: set[int] = set(range(idioms[-1] + 2)) if idioms else set()
    if dosing:
        away |= {i for i, c in enumerate(clauses) if names_medicine(rules, c)}
    rest = [c for i, c in enumerate(clauses) if i not in away]
    return "，".join(rest) if away and rest else None


def _harm_in_idiom(rules: RuleSet, clause: str, read: TriageResult) -> bool:
    """Does an idiom's clause hold harm: a rule hit the idiom set aside (笑甲欲死), or a word
    of harm (``cues.alarm``: *khì kah thâu-khak beh piak--khui*)? A degree told with none
    (一直哭到快沒聲音, a scalded child) is no hyperbole of an emergency."""
    return any(why == "idiom" for _, why in read.suppressed) or not tells_no_alarm(rules, clause)


def _read(rules: RuleSet, turns: list[str], classifier) -> TriageResult:
    result = assess(rules, turns[-1], classifier)
    if result.classifier_fired and not result.hits and _dosing(rules, turns[-1]):
        # A recognised dosing question (小孩可以喝大人的藥水嗎?) goes to the pharmacist
        # reply; the classifier alone does not turn it into an emergency. A turn that asks
        # nothing is no question (…kâm tsi̍t lia̍p sim-tsōng io̍h mā bô-hāu, í-king
        # nn̄g-tsa̍p hun: the pill under the tongue that did not help).
        result.classifier_fired = False
    if (
        result.hits
        and all(_pill_trouble(rules, h, turns) for h in result.hits)
        and is_dose_conversation(rules, turns, ways=True)
    ):
        # A. tsia̍h io̍h-á lóng ē kénn--tio̍h, kám ē-tàng kā io̍h-á buâ hōo hún?: pills hard
        # to swallow, told to ask how to take them, is no choking now.
        result.suppressed.extend((h, "general") for h in result.hits)
        result.hits = []
        result.classifier_fired = False
    if resolved_within(rules, turns[-1], result):
        # 阿嬤拄才血糖低，啉糖仔水了後已經好矣: told and over in one message.
        result.suppressed.extend((h, "resolved") for h in result.hits)
        result.hits = []
        result.classifier_fired = False
    if topic_only(rules, turns[-1], result):
        # 中風要做什麼檢查?: the condition is the question's topic, not an event.
        result.suppressed.extend((h, "general") for h in result.hits)
        result.hits = []
        result.classifier_fired = False
    if result.hits and _lesson(rules, turns[-1]):
        # 咱一般人敢會曉 CPR? 佗位有咧教?: where to learn it, nobody's event.
        result.suppressed.extend((h, "general") for h in result.hits)
        result.hits = []
        result.classifier_fired = False
    if result.classifier_fired and not result.hits and is_inquiry(rules, turns[-1]):
        # An everyday question (diet, prevention, signs, care) with nothing happening now:
        # the classifier alone does not send "call 119" (safety/inquiry.py).
        result.classifier_fired = False
    if result.classifier_fired and not result.hits and tells_habit(rules, turns[-1]):
        # A habit told (guá tiānn-tiānn thâu-khak hîn, 常常晚上起來尿尿) with nothing of now.
        result.classifier_fired = False
    if (
        result.classifier_fired
        and not result.hits
        and _everyday_disagrees(rules, turns[-1], classifier)
    ):
        # A question without "?" (tshài-thâu-kué beh án-tsuánn tshuē, LINE的字怎麼調大), or
        # a romanised statement with no word of harm: the everyday reading must agree.
        result.classifier_fired = False
    if len(turns) == 1:
        return result
    last = turns[-1]
    # A new onset (突然, 又, 閣, 拄才) or "again", not a plain 現在/tsit-má: 他現在手沒力，
    # 要怎麼復健 is about the stroke that is over.
    now = _onset(rules, last) or _again(rules, last)
    start, settled_cats, settled_any = 0, set(), False
    # An earlier day settles a turn only when the last turn says nothing of now: 我爸昨天
    # 跌倒 … 他現在還站不起來 is one event going on.
    dated = not now and not _has(rules, last, rules.ongoing) and not result.hits
    for i, t in enumerate(turns[:-1]):
        done, cats = _settled(rules, t, dated)
        if done:
            start, settled_cats, settled_any = i + 1, settled_cats | cats, True
    if not now and not result.hits and _asks_aftercare(rules, last):
        # 我先生上個月中風，現在右手還是比較沒力 … 復健要做多久?: a condition named on an
        # earlier day (or month) is the background of a question about care, even with
        # the deficit it left told as "still" (還是, iáu-koh); not when something in that
        # turn is new (cues.new_event: 突然, 又, 剛剛).
        for i, t in enumerate(turns[:-1]):
            r = _earlier(rules, t)
            named = {h.category for h in r.hits if h.pattern in rules.topic}
            if named and _has(rules, t, rules.earlier_day) and not _has(rules, t, rules.new_event):
                start, settled_cats, settled_any = max(start, i + 1), settled_cats | named, True
    if _resolved(rules, last) and not now:
        # The last turn says it is over (醫生說沒事，已經出院): the earlier turns are settled.
        for t in turns[:-1]:
            settled_cats |= _settled(rules, t)[1]
        start, settled_any = len(turns) - 1, True
    # The second opinion on the last turn alone, before an event over sets it aside.
    alone = result.classifier_fired
    if settled_any and not now:
        # A question about the event that is over: its own category does not fire.
        dropped = [h for h in result.hits if h.category in settled_cats]
        result.hits = [h for h in result.hits if h.category not in settled_cats]
        result.suppressed.extend((h, "resolved") for h in dropped)
        if not result.hits:
            result.classifier_fired = False  # nor does the second opinion on the same words
    if settled_cats and _again(rules, last):
        for c in sorted(settled_cats - {h.category for h in result.hits}):
            result.hits.append(Hit(c, "again", "conversation", last))
    if start > 0 and not result.hits and _worse_now(rules, last):
        # 跋倒撞著頭，伊講無代誌 … 今仔早起一直吐，足愛睏: what was "nothing" is back, worse.
        # The turns set aside are read again with the last one.
        for h in triage_turns(rules, turns).hits:
            if h.category not in result.categories:
                result.hits.append(Hit(h.category, "worse", "conversation", last))
        # 早上頭有撞到，那時候說沒事 … 現在一直想睡，吐了兩次: a harm that shows late (LATE_HARM)
        # placed earlier in the day, with its signs told now. Read with no past scope, it
        # fires when the last turn completes it (the earlier turns alone do not), or when
        # the last turn alone is an emergency to the classifier (頭撞到欄杆 當時說沒事 … 現在
        # 一直吐 說頭很痛 很想睡: the knock is a cue of its own, the signs now no combo).
        late = frozenset(settled_cats & LATE_HARM) - set(result.categories)
        if late:
            before = (
                set() if alone else {h.category for h in triage_turns(rules, turns[:-1], late).hits}
            )
            for h in triage_turns(rules, turns, late).hits:
                if h.category in late - before and h.category not in result.categories:
                    result.hits.append(Hit(h.category, "late", "conversation", last))
    prev = _earlier(rules, turns[-2])
    if (
        not now
        and result.hits
        and not prev.hits
        and prev.suppressed
        and all(why == "general" for _, why in prev.suppressed)
        and not _has(rules, last, rules.person)
    ):
        # 中風有什麼症狀? … 那心肌梗塞呢?: the follow-up keeps the general question's scope.
        result.suppressed.extend((h, "general") for h in result.hits)
        result.hits = []
        result.classifier_fired = False
        start = len(turns) - 1  # nor does reading the turns together undo it
    if (
        result.hits
        and not now
        and rules.learning is not None
        and any(_has(rules, t, rules.learning) and not _earlier(rules, t).hits for t in turns[:-1])
        and not _has(rules, last, rules.person)
        and not _has(rules, last, rules.now)
        and not _has(rules, last, rules.urgent)
    ):
        # 我想欲學救人 … 若有人哽著欲按怎共救?: the lesson's topic, not an event; a turn that
        # names somebody, now or a call for help (阮阿公這馬…, 怎麼辦) still fires.
        result.suppressed.extend((h, "general") for h in result.hits)
        result.hits = []
        result.classifier_fired = False
        start = len(turns) - 1
    framed = (
        not result.hits
        and result.suppressed
        and all(why in ("general", "hearsay", "worry", "story") for _, why in result.suppressed)
    )
    if framed and not any(_onset(rules, t) for t in turns[start:-1]):
        # 如果家裡老人家中風，要做什麼? after 我想問中風: the last turn frames the topic as a
        # question; an earlier mention of it is not a present event either.
        start = len(turns) - 1
    if start < len(turns) - 1:
        together = triage_turns(rules, turns[start:])
        have = {h.category for h in result.hits}
        # 阿嬤中風了後藥仔吞袂落 … 會使磨粉無?: a condition's name is the background of a
        # dosing question; a symptom told still fires, and so does the condition told back
        # (我爸上個月中風 … 他又發作了，藥要加吃一顆嗎?). (Asked only when a name was found.)
        named = [
            h
            for h in together.hits
            if h.category not in have and (h.pattern in rules.topic or _pill_trouble(rules, h))
        ]
        if (
            named
            and not result.hits
            and not _again(rules, last)
            and is_dose_conversation(rules, turns, ways=True)
        ):
            together.hits = [h for h in together.hits if h not in named]
        # 阮阿母三個月前中風 … 這馬會家己行，干焦倒手較無力 … 厝內會當做啥物復健?: what the
        # settled event left, told again before a question about care, is no new event.
        residue = settled_any and not now and _asks_aftercare(rules, last)
        for h in together.hits:
            if h.category in have:
                continue
            if residue and h.category in settled_cats and not _new_in(rules, h.clause):
                result.suppressed.append((h, "resolved"))
                continue
            result.hits.append(Hit(h.category, h.pattern, "conversation", h.clause))
            have.add(h.category)
        if (
            READ_JOINED
            and classifier is not None
            and not result.hits
            and not result.classifier_fired
            and not (settled_any and not now)
            # A question about prevention or care asks after an event, not about one now
            # (… tsit-má i tsin tshing-tshó … beh án-tsuánn ī-hông?, after a hypo treated).
            and (now or not _asks_aftercare(rules, last))
        ):
            # 阿嬤今仔日較無愛食 … 伊這馬規身軀冷吱吱，喝伊攏無啥反應 … 欲按怎？: the last turn
            # only asks what to do; the classifier reads the unsettled user turns joined (as
            # it learnt conversations, generate/read_files.py), with the same scope and second
            # readings as a single message. Scored first, read in full only when it fires.
            joined = "。".join(turns[start:])
            if classifier.fires(
                classifier.score(hear(rules, joined), rules.variants)
            ) and not is_dose_conversation(rules, turns, ways=False):
                result.classifier_fired = assess(rules, joined, classifier).classifier_fired
    return result
