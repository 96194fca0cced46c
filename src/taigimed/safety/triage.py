"""Red-flag triage: match the rule set against one message, with scope-aware cues.

The message is read clause by clause in two views: the standardised Han text (Mandarin
phrases, and all-Han Taigi phrases) and the canonical Tâi-lô syllables (every Taigi
phrase). A hit is dropped when

- **negation** scopes over it: a cue (無, 沒有, 毋, bô, m̄, bē …) stands within
  ``negation_window`` tokens before it in the same clause, or inside its gap
  (胸坎無疼). A token is a syllable; a Han character is one syllable. Cues that are
  part of a word that does not negate (無細膩, 不小心, 袂行 itself, bô-huat-tōo) are
  skipped, and a single-syllable cue must carry its own tone when the writer gave one
  (*a-bó* "mother" is not *bô* "not");
- its clause is about **the past or hearsay** (舊年, 以前, 聽講, 新聞, kū-nî …) or is a
  **general question** (徵兆, 預防, 是啥物 …) while the message names nobody
  (我, 阮, 阿公 …), and the same clause holds no **now** cue (這馬, 猶咧, 煞, 突然,
  tsit-má, iáu-teh …), which cancels them;
- it stands after **a worry about some day or a prevention** in its clause (擔心她有一天會
  中風, 比較不會又低血糖: :func:`_ahead_from`), which a "now" before it does not cancel.

Anything else escalates: a missed emergency costs far more than a false alarm. What this
cannot tell is listed in docs/safety.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

from taigimed.safety.canonical import Clause, _read_clause
from taigimed.safety.hearing import hear, heard_clauses
from taigimed.safety.pinyin import pinyin_tokens
from taigimed.safety.rules import GAP, CueSet, Pattern, RuleSet, _canon_tokens

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
    # (hit, "negation" | "past" | "hearsay" | "general" | "worry" | "lifelong" | "idiom" |
    # "lookalike" | "resolved" | "aftercare" | "story" | "dosing": a dosing question the
    # classifier cleared, safety/conversation.py step 6 | "clear": a scope word told and the
    # classifier sure there is no emergency, step 7)
    suppressed: list[tuple[Hit, str]] = field(default_factory=list)
    # The learned second opinion, when one ran: P(emergency) and whether it fired.
    classifier_score: float | None = None
    classifier_fired: bool = False
    # An idiom (笑死, 氣到吐血) stood in the message: without a rule hit beside it, the
    # classifier's n-grams of the idiom are not evidence either.
    idiom_seen: bool = False
    # The classifier fired because it was sure (classifier.CONFIDENT) where the rules had set
    # words aside. Those words name no category reliably (a misread or a look-alike is set
    # aside too), except that suicide words set aside bring the 1925 line into the notice.
    sure: bool = False

    @property
    def rules_fired(self) -> bool:
        return bool(self.hits)

    @property
    def categories(self) -> list[str]:
        cats = {h.category for h in self.hits}
        if self.classifier_fired and not cats and self.sure:
            cats = {h.category for h, _ in self.suppressed} & {"suicide"}
        if self.classifier_fired and not cats:
            cats.add("unspecified")
        return sorted(cats)

    @property
    def triggered(self) -> bool:
        return self.rules_fired or self.classifier_fired

    @property
    def path(self) -> str:
        """Which path fired: ``rules``, ``classifier``, ``both`` or ``none``."""
        if self.rules_fired and self.classifier_fired:
            return "both"
        return "rules" if self.rules_fired else "classifier" if self.classifier_fired else "none"


def _seq_spans(clause: Clause, cue: tuple, check_tone: bool) -> list[tuple[int, int]]:
    """Token spans where the cue's syllables stand in the clause (a C-speed find on the
    padded string; the tone check only on what was found)."""
    syls, ctones = cue
    needle = f" {' '.join(syls)} "
    padded, held = clause.padded, clause.held
    out = []
    pos = padded.find(needle)
    while pos >= 0:
        i = padded.count(" ", 0, pos)
        if all(
            ct is None
            or clause.tones[i + k] in (None, ct)
            or not (check_tone or (held and held[i + k]))
            for k, ct in enumerate(ctones)
        ):
            out.append((i, i + len(syls)))
        pos = padded.find(needle, pos + 1)
    return out  # a-bó (mother) is not bô (not); kui (規) is not kuí (幾)


def _canon_spans(clause: Clause, cues: CueSet, check_tone: bool = False) -> list[tuple[int, int]]:
    present = clause.present
    return [
        s
        for cue in cues.canon
        if cue[0] and cue[0][0] in present
        for s in _seq_spans(clause, cue, check_tone)
    ]


def _han_spans(text: str, words: tuple[str, ...]) -> list[tuple[int, int]]:
    out = []
    for w in words:
        start = text.find(w)
        while start >= 0:
            out.append((start, start + len(w)))
            start = text.find(w, start + 1)
    return out


def _has(clause: Clause, cues: CueSet) -> bool:
    return bool(_canon_spans(clause, cues)) or any(w in clause.text for w in cues.han)


def _heard_of(clause: Clause, cues: CueSet) -> bool:
    """A hearsay cue, read with tones where both sides have them: 疼講 (thiànn kóng, "it
    hurts, he says") is not 聽講 (thiann-kóng, "I heard")."""
    return bool(_canon_spans(clause, cues, check_tone=True)) or any(
        w in clause.text for w in cues.han
    )


def _within(inner: list[tuple[int, int]], outer: list[tuple[int, int]]) -> bool:
    """Every inner span lies inside an outer one."""
    return all(any(os <= s and e <= oe for os, oe in outer) for s, e in inner)


def _has_past(
    rules: RuleSet, clause: Clause, kinds: tuple[str, ...] = ("past", "resolved")
) -> bool:
    """A past or resolved cue that is not a completed preparation (存好了, khiām hó--ah:
    好了 there says "ready", not "recovered")."""
    for cues in (getattr(rules, k) for k in kinds):
        if cues is None:
            continue
        canon = _canon_spans(clause, cues)
        han = _han_spans(clause.text, cues.han)
        if not canon and not han:
            continue
        if rules.not_past is None:
            return True
        if not _within(canon, _canon_spans(clause, rules.not_past)) or not _within(
            han, _han_spans(clause.text, rules.not_past.han)
        ):
            return True
    return False


def _negated(
    neg: list[tuple[int, int]],
    keep: list[tuple[int, int]],
    start: int,
    gaps: list[tuple[int, int]],
    window: int,
) -> bool:
    for s, e in neg:
        if any(ks <= s and e <= ke for ks, ke in keep):
            continue  # 無細膩, 不小心: the cue is part of a word that does not negate
        if start - window <= s < start or any(gs <= s and e <= ge for gs, ge in gaps):
            return True
    return False


@dataclass
class _ClauseView:
    clause: Clause
    context: str | None  # None, or why the clause cannot raise an alarm
    neg_canon: list[tuple[int, int]]
    keep_canon: list[tuple[int, int]]
    neg_han: list[tuple[int, int]]
    keep_han: list[tuple[int, int]]
    syllables: frozenset[str] = frozenset()
    chars: frozenset[str] = frozenset()
    idiom_canon: list[tuple[int, int]] = field(default_factory=list)
    idiom_han: list[tuple[int, int]] = field(default_factory=list)
    idiom_seen: bool = False
    # The toneless pinyin view: one token per character (homophones of dictation).
    pinyin: str = ""
    pinyin_set: frozenset[str] = frozenset()
    # The token from which a worry about some day or a prevention governs the rest of the
    # clause (:func:`_ahead_from`), or None.
    ahead: int | None = None
    # In a run-on clause (:func:`_run_on`), the token its own past cue stands at: the past
    # governs from there on; what was told before it has the ``early`` context (None, a
    # general question or a worry: :func:`_context_at`).
    since: int | None = None
    early: str | None = None
    # Look-alike words (正常 tsìng-siông holds 腫 tsìng): a misreading, not a scope.
    alike_canon: list[tuple[int, int]] = field(default_factory=list)
    alike_han: list[tuple[int, int]] = field(default_factory=list)


# How many clauses a past or hearsay cue reaches after its own: in a long, rambling message
# the clauses further on are about something else (When unsure, escalate).
CARRY_CLAUSES = 2


def _han_to_tokens(rules: RuleSet, text: str, m: re.Match[str]) -> tuple[int, int]:
    """A Han expression's match as canonical token indices: a Taigi phrase read in the
    canonical view of the same words (sim-tsōng … thîng in 看到心臟快停了, hūn-tó in 粉倒)
    lies inside it too."""
    key = tuple(sorted(rules.variants.items()))
    first = len(_read_clause(text[: m.start()], key).syllables) if m.start() else 0
    return first, first + len(_read_clause(m.group(0), key).syllables)


def _token_spans(
    rules: RuleSet, c: Clause, cues: CueSet | None, check_tone: bool = False
) -> list[tuple[int, int]]:
    """Where ``cues`` stand in the clause, in canonical token indices: syllable cues as
    found, Han-only cues (the ``mandarin`` lists) by reading the text before them."""
    if cues is None:
        return []
    key = tuple(sorted(rules.variants.items()))
    out = _canon_spans(c, cues, check_tone)
    for s, e in _han_spans(c.text, cues.han):
        first = len(_read_clause(c.text[:s], key).syllables) if s else 0
        out.append((first, first + len(_read_clause(c.text[s:e], key).syllables)))
    return out


def _not_now(rules: RuleSet, c: Clause) -> list[tuple[int, int]]:
    """Spans whose again- or sudden-word tells of no event now: a prevention (比較不會又低血糖,
    較袂閣低: ``cues.prevent``), an imagined one (會不會再發作: ``cues.imagined``), or a choice
    (還是可以: ``cues.choice``)."""
    return [
        s
        for cues in (rules.prevent, rules.imagined, rules.choice)
        for s in _token_spans(rules, c, cues)
    ]


def _told(
    rules: RuleSet, c: Clause, cues: CueSet | None, masked: list[tuple[int, int]] | None = None
) -> list[tuple[int, int]]:
    """Where ``cues`` (onset, again or now words) stand in the clause as told, outside the
    ``masked`` spans (by default :func:`_not_now`'s)."""
    if cues is None:
        return []
    if masked is None:
        masked = _not_now(rules, c)  # 會不會再 overlaps 再發作: the again-word is imagined
    return [
        (s, e)
        for s, e in _token_spans(rules, c, cues)
        if not any(ms < e and s < me for ms, me in masked)
    ]


def new_onset(rules: RuleSet, c: Clause) -> bool:
    """Something in the clause is sudden or again (``cues.onset``: 突然, 剛剛, 又, 閣), as
    told rather than prevented or imagined (:func:`_not_now`)."""
    return bool(_told(rules, c, rules.onset))


def told_again(rules: RuleSet, c: Clause) -> bool:
    """The clause says it is back (``cues.again``: 又發作, koh huat-tsok), not asks whether it
    will be (耳石症會不會再發作?)."""
    return bool(_told(rules, c, rules.again))


def well_now(rules: RuleSet, text: str) -> bool:
    """``text`` (standardised) says the person is well now: a now cue with a ``cues.well``
    word after it, in its clause or a later one (現在她在看電視，講話都正常; tsit-má i lóng
    hó-hó), in a clause that neither asks nor doubts (:func:`_doubted`)."""
    heard = hear(rules, text)
    # (clause, token) positions; with tones where the writer gave them: hôo-hôo (dazed) is
    # not hó-hó (fine).
    now, well, at = [], [], 0
    for i, c in enumerate(heard_clauses(rules, text)):
        # The clause's own text lost its mark: look at what follows it in the heard text.
        pos = heard.find(c.text, at)
        asked = pos >= 0 and heard[pos + len(c.text) : pos + len(c.text) + 1] in ("?", "？")
        at = pos + len(c.text) if pos >= 0 else at
        now += [(i, s) for s, _ in _token_spans(rules, c, rules.now)]
        if not _doubted(rules, c, asked):
            well += [(i, s) for s, _ in _token_spans(rules, c, rules.well, check_tone=True)]
    return any(w > n for n in now for w in well)


# A clause that ends on one of these asks (講話正常無? 現在沒事嗎; kám … bô).
_ASKED_END = ("嗎", "無", "否", "呢", "沒", " bô", "--bô", " bo", "--bo")


def _doubted(rules: RuleSet, c: Clause, asked: bool = False) -> bool:
    """A clause that asks (伊這馬講話正常無? 現在這樣沒事嗎: ``asked`` when a question mark
    follows it) or doubts (他說沒事, 好像很好: the patient's own word or a guess,
    ``cues.resolution_doubt``) says nobody is well."""
    if asked or c.text.rstrip().endswith(_ASKED_END):
        return True
    return rules.resolution_doubt is not None and _has(c, rules.resolution_doubt)


def _ahead_from(rules: RuleSet, c: Clause) -> int | None:
    """The token from which the rest of the clause is a worry or a prevention, not an event.

    A worry about some day (擔心她有一天會中風, kiann ka-kī ū tsi̍t-kang tiòng-hong:
    ``cues.worry`` before ``cues.someday``), a prevention (比較不會又低血糖, 較袂閣低:
    ``cues.prevent``) or a supposition (若是中風，面會變按怎?: ``cues.suppose``) governs what
    comes after it in its clause, even where the clause has
    said "now" before it (現在他在看電視 … 想問怎麼吃比較不會又低血糖). What stands before it
    is read as usual (阿公現在胸口痛，我擔心他哪天會中風 fires). It does not hold when
    something after it is new as told (突然, 剛剛: ``cues.onset``; not 哪天會突然, which is the
    worry's), or is now (現在, tsit-má) without being well (現在她很好: ``cues.well``):
    擔心他有一天會中風，他現在講話不清楚 fires."""
    starts = [s for s, _ in _token_spans(rules, c, rules.prevent)]
    starts += [s for s, _ in _token_spans(rules, c, rules.suppose)]
    someday = [s for s, _ in _token_spans(rules, c, rules.someday)]
    if someday:
        starts += [w for w, _ in _token_spans(rules, c, rules.worry) if any(d > w for d in someday)]
    if not starts:
        return None
    ahead = min(starts)
    if any(s >= ahead for s, _ in _told(rules, c, rules.onset)):
        return None
    well = [s for s, _ in _token_spans(rules, c, rules.well, check_tone=True)]
    masked = _not_now(rules, c)
    for s, e in _token_spans(rules, c, rules.now):
        if s >= ahead and not _within([(s, e)], masked) and not any(w > s for w in well):
            return None
    return ahead


def _idiom_spans(rules: RuleSet, c: Clause) -> tuple[list, list, bool]:
    """Spans that no hit inside may raise an alarm from, idioms (笑死, 氣甲欲中風), and
    whether one stood there."""
    canon, han = [], []
    if rules.idiom is not None:
        canon, han = _canon_spans(c, rules.idiom), _han_spans(c.text, rules.idiom.han)
    _regex_spans(rules, c, rules.idiom_re, canon, han)
    return canon, han, bool(canon or han)


def _alike_spans(rules: RuleSet, c: Clause) -> tuple[list, list]:
    """Look-alike words (正常 tsìng-siông holds 腫 tsìng, tsi̍t tiám-tsing holds tsìng): no hit
    inside counts, and unlike an idiom they say nothing of the message's scope."""
    canon, han = [], []
    if rules.lookalike is not None:
        canon, han = _canon_spans(c, rules.lookalike), _han_spans(c.text, rules.lookalike.han)
    _regex_spans(rules, c, rules.lookalike_re, canon, han)
    return canon, han


def _regex_spans(rules: RuleSet, c: Clause, regexes: tuple, canon: list, han: list) -> None:
    """Add the spans of an expression pair (Han regexes over the text, canonical ones over
    the joined syllables) to ``canon`` and ``han``; a Han match covers its syllables too."""
    han_res, canon_res = regexes
    for r in han_res:
        for m in r.finditer(c.text):
            han.append(m.span())
            canon.append(_han_to_tokens(rules, c.text, m))
    for r in canon_res:
        for m in r.finditer(c.joined):
            start = c.joined.count(" ", 0, m.start())
            canon.append((start, start + m.group(0).count(" ") + 1))


# "After" a condition (中風後, 中風了以後, 心肌梗塞過, tiòng-hong liáu-āu) or "when" it
# comes (中風的時候, tiòng-hong ê sî: when it happens, what to do): the condition is the
# background of what is told, not an event now, like a past cue.
_AFTER_HAN = r"(?:了以後|了之後|了後|以後|之後|過後|後|過|的時候|的時陣|的時)(?![來去])"
_AFTER_CANON = r"(?: liau)? (?:au|i au|tsi au|kue au|kue|e si)\b"


@lru_cache(maxsize=8)
def _after_res(topic: frozenset[str], variants: tuple) -> tuple[re.Pattern[str], ...]:
    han = sorted((t for t in topic if all(_HAN_CHAR.match(ch) for ch in t)), key=len)[::-1]
    roman = {" ".join(_canon_tokens(t, dict(variants))[0]) for t in topic if t not in han} - {""}
    out = []
    if han:
        out.append(re.compile("(?:" + "|".join(map(re.escape, han)) + ")" + _AFTER_HAN))
    if roman:
        alts = "|".join(map(re.escape, sorted(roman, key=len, reverse=True)))
        out.append(re.compile(rf"(?:^| )(?:{alts}){_AFTER_CANON}"))
    return tuple(out)


_HAN_CHAR = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _after_condition(rules: RuleSet, c: Clause) -> bool:
    """Does the clause name a condition (``cues.topic``) followed by "after" or "when"
    (中風後的復健, 阿公中風了後, tiòng-hong liáu-āu, 中風的時候)? The condition is then
    background, not an event now."""
    if not rules.topic:
        return False
    han, *canon = _after_res(rules.topic, tuple(sorted(rules.variants.items())))
    return bool(han.search(c.text)) or any(r.search(c.joined) for r in canon)


def _pinyin_view(text: str) -> tuple[str, frozenset[str]]:
    toks = pinyin_tokens(text)
    return f" {' '.join(toks)} ", frozenset(toks)


def names_person(rules: RuleSet, clause: Clause, stranger: bool = False) -> bool:
    """Does ``clause`` name somebody concrete (``cues.person``)? Read with tones where they
    are known: 女 lú (女性會不一樣嗎?) is not lí "you". With ``stranger`` (a message that
    tells of one: 有個阿公), not by a third-person pronoun (``cues.third_person``) nor by the
    word right after the stranger cue (有個阿公 … 路人幫他: the 阿公 and 他 are the stranger)."""
    if not stranger:
        if any(w in clause.text for w in rules.person.han):
            return True
        if _HAN_CHAR.search(clause.text):
            # Han text by its words, romanised words beside it by their syllables: 家裡有老人
            # (ka-lí) names no lí "you".
            key = tuple(sorted(rules.variants.items()))
            clause = _read_clause(_HAN_CHAR.sub(" ", clause.text), key)
        found = _canon_spans(clause, rules.person, check_tone=True)
        # Not a syllable inside a general question's words: toneless "ai tan gua ku" is ài
        # tán guā-kú, "how long to wait", not guá "I".
        return bool(found) and not _within(found, _canon_spans(clause, rules.general))
    pronouns = rules.third_person.han if rules.third_person is not None else ()
    strangers = rules.stranger.han if rules.stranger is not None else ()
    if _HAN_CHAR.search(clause.text):
        # Han text by its words: a Han character's reading is no person (哪裡 ná-lí is no lí).
        text = clause.text
        for cue in strangers:
            for w in rules.person.han:
                text = text.replace(cue + w, cue)
        return any(w in text for w in rules.person.han if w not in pronouns)
    theirs = {e for _, e in _token_spans(rules, clause, rules.stranger)}
    return any(s not in theirs for s, _ in _canon_spans(clause, rules.person, check_tone=True))


def _names_beside_learning(rules: RuleSet, c: Clause) -> bool:
    """Does the clause name somebody outside its phrases about learning? The writer as a
    learner names nobody (胸痛到什麼程度要叫救護車 我想先了解一下); 阮阿爸有高血壓 我想先知道
    names the father."""
    if rules.learning is None or not _has(c, rules.learning):
        return names_person(rules, c)
    phrases = heard_clauses(rules, HAN_SPACE.sub("，", c.text))
    return any(names_person(rules, p) and not _has(p, rules.learning) for p in phrases)


def _supposes(rules: RuleSet, c: Clause) -> bool:
    """The clause opens with a supposition (若有人, nā ū lâng, 如果) and tells nothing new."""
    return (
        rules.suppose is not None
        and any(s <= 1 for s, _ in _token_spans(rules, c, rules.suppose))
        and not new_onset(rules, c)
    )


def _asks(rules: RuleSet, c: Clause) -> bool:
    """The clause asks: a question word (``cues.asking``) or a question mark."""
    return c.text.rstrip().endswith(("?", "？")) or (
        rules.asking is not None and _has(c, rules.asking)
    )


def _tells_apart(rules: RuleSet, then: Clause) -> bool:
    """The next clause asks how to tell two things apart (``cues.distinguish``: 心臟病佮胃酸
    逆流的胸坎疼，愛按怎分?): in a message that names nobody, the clause before names what
    is compared, not an event."""
    return rules.distinguish is not None and _has(then, rules.distinguish) and _asks(rules, then)


def _whole_subject(c: Clause) -> bool:
    """A clause that is a generic subject whole, its question in the next clause
    (心臟停去的人，愛按怎做 CPR?, sim-tsōng thîng--khì ê lâng, ai án-tsuánn …)."""
    return c.text.rstrip().endswith("的人") or c.joined.endswith(" e lang")


_WHEN = ("的時候", "的時陣", "的時")
# How far after ê sî (的時) its question may start: past 候 / 陣 and a word (tsūn siánn-mih).
_WHEN_ASK_REACH = 3


def _whole_when(rules: RuleSet, c: Clause, then: Clause | None) -> bool:
    """A clause that is a "when" whole and the next clause asks what to do (老人喘袂過來的
    時，愛按怎處理?, lāu-lâng tshuán bē kuè--lâi ê sî, ài án-tsuánn …), or a "when" with the
    question after it in its clause: whenever it happens, not now. Not an onset
    (阿公突然昏倒的時候撞到頭), nor a plan's time with no question after it
    (等週末家裡沒人的時候)."""
    if rules.asking is None or new_onset(rules, c):
        return False
    ends = c.text.rstrip().endswith(_WHEN) or c.joined.endswith((" e si", " e si tsun"))
    if ends:
        return then is not None and _has(then, rules.asking)
    # The question after the "when" in the same clause (胸痛的時候什麼情況要叫救護車?),
    # unless it asks what to do now (cues.urgent: 怎麼辦).
    # Not ê sî-kan ("this time" is now: tsit ê sî-kan i tshuán bē kuè--lâi).
    syls = c.syllables
    when = [
        i
        for i in range(len(syls) - 1)
        if syls[i : i + 2] == ("e", "si") and syls[i + 2 : i + 3] != ("kan",)
    ]
    # Right after it (胸痛的時候什麼情況…): 燒紙錢的時候袖子著火了 … 不怎麼痛了 asks nothing.
    return (
        bool(when)
        and any(
            0 <= s - (when[0] + 2) <= _WHEN_ASK_REACH
            for s, _ in _token_spans(rules, c, rules.asking)
        )
        and (rules.urgent is None or not _has(c, rules.urgent))
    )


# What may follow a fear told at the end of a clause (我很怕啦, guá tsiok kiann--ah).
_PARTICLES = frozenset({"a", "ah", "la", "liau", "neh", "leh", "ooh", "oo", "e"})


def _worried(rules: RuleSet, c: Clause) -> bool:
    """A worry or hypothetical cue (``cues.hypothetical``), but not a fear (``cues.worry``)
    that ends the clause: 我很怕會中風 is a worry, 中風有什麼徵兆 a question, 阿嬤嘴唇紫紫的
    一直喘 我很怕 the writer's fear of what is happening."""
    if not _has(c, rules.hypothetical):
        return False
    n = len(c.syllables)
    fears = _token_spans(rules, c, rules.worry)

    def ends(s: int, e: int) -> bool:
        return e == n or (e == n - 1 and c.syllables[-1] in _PARTICLES)

    # One that stands before something (what is feared or asked), or ends on no fear.
    return any(
        not ends(s, e) or not any(fs < e and s < fe for fs, fe in fears)
        for s, e in _token_spans(rules, c, rules.hypothetical)
    )


def _earliest(*tokens: int | None) -> int | None:
    return min((t for t in tokens if t is not None), default=None)


def _worry_phrase(rules: RuleSet, c: Clause) -> int:
    """In a run-on clause whose every worry or hypothetical cue is a fear or a wish to learn
    (``cues.worry``, ``cues.learning``), the token where the phrase holding the first one
    begins (a space between Han words ends a phrase); else 0, the whole clause. What the
    phrases before told is read as usual: 我爸倒下了沒有呼吸 我想學CPR fires, 請問中風一開始
    會有什麼症狀 我想先學起來 asks, and 阮孫講話大舌 … 這愛看啥物科 asks of what it told."""
    if not _run_on(c):
        return 0
    spans = _token_spans(rules, c, rules.hypothetical)
    forward = _token_spans(rules, c, rules.worry) + _token_spans(rules, c, rules.learning)
    if not spans or not all(any(fs < e and s < fe for fs, fe in forward) for s, e in spans):
        return 0
    first = min(s for s, _ in spans)
    key = tuple(sorted(rules.variants.items()))
    begins = [
        len(_read_clause(c.text[: m.end()], key).syllables) for m in HAN_SPACE.finditer(c.text)
    ]
    return max((b for b in begins if b <= first), default=0)


# A clause this long, or Han text with spaces between its words (阿公 發燒 很高 脖子 硬硬 …),
# is several sentences typed without marks: a past cue in it tells of what follows it.
RUN_ON_SYLLABLES = 16
# A space between Han words ends a phrase in a LINE message (CPR 要壓多深 我想去上課).
HAN_SPACE = re.compile(r"(?<=[\u3400-\u9fff]) +(?=[\u3400-\u9fff])")


# Cues that reach back over what was told before them, in any clause.
_BACKWARD = ("resolved", "past_after")


def _run_on(c: Clause) -> bool:
    return len(c.syllables) >= RUN_ON_SYLLABLES or bool(HAN_SPACE.search(c.text))


def _past_at(rules: RuleSet, c: Clause, resolved: bool = False) -> int | None:
    """The first token of a past cue (with ``resolved``, or a resolved one) in the clause
    that is not a finished preparation (cues.not_past), or None."""
    spans = _token_spans(rules, c, rules.past)
    if resolved:
        spans += _token_spans(rules, c, rules.resolved)
    keep = _token_spans(rules, c, rules.not_past)
    starts = [s for s, e in spans if not any(ks <= s and e <= ke for ks, ke in keep)]
    return min(starts) if starts else None


# A romanised word said three times running (kóng guá guá guá): a stutter shown, not told.
# Not laughter (ha ha ha, he he he).
_REPEATED = re.compile(r"(?<![^\W\d_])(?!h[aeio]\b)([^\W\d_]{2,})(?:[\s-]+\1){2}(?![^\W\d_])", re.I)


def _stutter(rules: RuleSet, clauses: list[Clause]) -> bool:
    """A stutter told (``cues.speech_trait``: 口吃, kat-kat, 矯正) or shown (:data:`_REPEATED`)
    and nothing sudden: 大舌 / tuā-tsi̍h (``cues.slurred``) is then the trait, not slurred
    speech."""
    return (
        rules.speech_trait is not None
        and rules.slurred is not None
        and any(_has(c, rules.speech_trait) or _REPEATED.search(c.text) for c in clauses)
        and not any(new_onset(rules, c) for c in clauses)
    )


def _views(
    rules: RuleSet, text: str, stutter: bool | None = None, heard: bool = False
) -> list[_ClauseView]:
    """The clauses of ``text`` with their scope. ``stutter``: read over the whole
    conversation by :func:`triage_turns` (阮孫仔講話大舌 … 大舌敢會當矯正?). ``heard``: the
    turn before ended on a story (剛看新聞 … 說有個孕婦在捷運站昏倒), which reaches this
    turn's first clauses as it would in one message when this turn tells of a stranger and
    names none of the writer's own people (not 醫生講控制了袂穤 … 這馬閣咧發作)."""
    clauses = heard_clauses(rules, text)
    if stutter is None:
        stutter = _stutter(rules, clauses)
    named = any(_names_beside_learning(rules, c) for c in clauses)
    joking = (
        rules.joking is not None
        and rules.jest is not None
        and any(_has(c, rules.joking) for c in clauses)
    )
    # 有個阿伯 … 路人幫他做 CPR: with a stranger in the message, 他 and 她 may be the stranger's.
    stranger = rules.stranger is not None and any(_has(c, rules.stranger) for c in clauses)
    # For a story's scope, a moved viewer names nobody here either (新聞講有阿伯倒落去，路人
    # 共伊做 CPR，CPR guá mā siūnn beh o̍h; 韓劇主角突然倒落去 哭 kah 我規盒衛生紙用了了).
    own = any(
        names_person(rules, c, stranger)
        and not any(cues is not None and _has(c, cues) for cues in (rules.learning, rules.moved))
        for c in clauses
    )
    # "After a stroke" is background unless the message says something is starting or
    # going on (突然, 又, 一直, 救命): 中風後一直吐 is no aftercare question.
    after = not any(
        _has(c, cues) for c in clauses for cues in (rules.onset, rules.urgent) if cues is not None
    )
    out = []
    # Past and hearsay reach the clauses after theirs until a "now" cue (這馬, tsit-má).
    carried, left = ("hearsay", CARRY_CLAUSES) if heard and stranger and not own else (None, 0)
    subject = False  # the clause before was a generic subject whole (_whole_subject)
    supposed = False  # the clause before opened with a supposition (_supposes)
    for i, c in enumerate(clauses):
        context, since, early, worry_from = None, None, None, None
        # 還是可以 is "or", not "still" (cues.choice): no now there. Nor in a habit
        # (這陣定定驚會中風, tsit-tsūn tiānn-tiānn: "these days", cues.habitual).
        if (
            _has(c, rules.now)
            and (
                rules.choice is None
                or not _has(c, rules.choice)
                or _told(rules, c, rules.now, _token_spans(rules, c, rules.choice))
            )
            and not (rules.habitual is not None and _has(c, rules.habitual))
        ):
            story = stranger and carried == "hearsay" and left > 0
            carried = None
            if not own and (story or _heard_of(c, rules.hearsay)):
                # 新聞說有人打籃球突然心臟停止: the "now" is the story's, about nobody here,
                # and so are the clauses it carries to (路人共伊做 CPR), and, in a story of a
                # stranger, one it carried to already (新聞說有個阿伯在公園，突然倒下; not
                # 醫生說沒事，突然又胸口痛).
                context = "story"
                carried, left = "hearsay", CARRY_CLAUSES
        else:
            if _heard_of(c, rules.hearsay):
                carried, left = "hearsay", CARRY_CLAUSES + 1
            elif (
                carried == "hearsay"
                and rules.first_person is not None
                and _has(c, rules.first_person)
            ):
                # 我看完連續劇，我也想自殺: the writer turns from the story to himself.
                carried = None
            elif (
                carried is None
                and i > 0
                and _heard_of(clauses[i - 1], rules.hearsay)
                and _has(c, rules.stranger)
                and not names_person(rules, c, True)
            ):
                # 剛剛看新聞，有個阿伯在溪邊溺水: the news watched "just now" is no event of
                # the writer's, and the clause after it that brings in a stranger is the story.
                carried, left = "hearsay", CARRY_CLAUSES + 1
            elif _has_past(rules, c) or (after and _after_condition(rules, c)):
                # A resolution in doubt (應該沒事吧, 好像好了, 他說沒事) does not reach back
                # over what was told before it: 我爸說胸口很痛 應該沒事吧. "It was nothing",
                # said at the time (cues.said_then: 那時候說沒事), is told as over.
                doubted = (
                    rules.resolution_doubt is not None
                    and _has(c, rules.resolution_doubt)
                    and not (rules.said_then is not None and _has(c, rules.said_then))
                )
                if (
                    carried is None
                    and (_run_on(c) or (doubted and not _has_past(rules, c, ("past",))))
                    and (doubted or not _has_past(rules, c, _BACKWARD))
                ):
                    since = _past_at(rules, c, resolved=doubted)
                carried, left = carried or "past", CARRY_CLAUSES + 1
            context = carried if left > 0 else None
            left -= 1
            if context is not None and since is None:
                pass  # past or hearsay over the whole clause: nothing else to read
            elif (
                (not named and _has(c, rules.general))
                or (rules.generic is not None and _has(c, rules.generic))
                or subject
                or (supposed and _asks(rules, c))
                or _whole_subject(c)
                or _whole_when(rules, c, clauses[i + 1] if i + 1 < len(clauses) else None)
                or (not named and i + 1 < len(clauses) and _tells_apart(rules, clauses[i + 1]))
            ):
                early = "general"  # 中風的人愛偌久內送病院?: whoever has it, not someone here
            elif rules.hypothetical and _worried(rules, c):
                phrase = _worry_phrase(rules, c) if context is None else 0
                if phrase:
                    # 我爸倒下了沒有呼吸 我想學CPR: sentences typed without marks; the worry
                    # governs its phrase and what follows it.
                    worry_from = phrase
                else:
                    early = "worry"  # 我很怕會中風: a worry, even with a person named
            context = context or early
        subject = _whole_subject(c)
        # 若有人昏去無喘氣，CPR 愛按怎做?: the question after a supposition is about it.
        supposed = _supposes(rules, c)
        idioms = _idiom_spans(rules, c)
        if stutter:
            idioms[0].extend(_canon_spans(c, rules.slurred))
            idioms[1].extend(_han_spans(c.text, rules.slurred.han))
        if joking:
            # 看著電費單，我的心臟強欲停去矣，哈哈: laughed off, no event.
            idioms[0].extend(_canon_spans(c, rules.jest))
            idioms[1].extend(_han_spans(c.text, rules.jest.han))
        out.append(
            _ClauseView(
                c,
                context,
                _canon_spans(c, rules.negation, check_tone=True),
                _canon_spans(c, rules.not_negation),
                _han_spans(c.text, rules.negation.han),
                _han_spans(c.text, rules.not_negation.han),
                c.present,
                frozenset(c.lower),
                *idioms,
                *_pinyin_view(c.text),
                _earliest(_ahead_from(rules, c), worry_from),
                *((since, early) if context == "past" and since is not None else (None, None)),
                *_alike_spans(rules, c),
            )
        )
    new = rules.new_event
    if (
        rules.aftercare is not None
        and any(_has(v.clause, rules.aftercare) for v in out)
        and (new is None or not any(_has(v.clause, new) for v in out))
    ):
        # 阮阿爸頂個月中風，這馬咧復健，手猶是無力，欲按怎復健? — an aftercare question, unless
        # something in it is new (突然, 又, 剛剛).
        for v in out:
            if v.context is None:
                v.context = "aftercare"
            elif v.since is not None and v.early is None:
                v.early = "aftercare"  # what a run-on clause told before its past cue
    if rules.lifelong is not None:
        # 伊講話大舌，細漢就按呢: a trait since childhood, in its clause or the one before.
        for i, v in enumerate(out):
            if _has(v.clause, rules.lifelong):
                for w in out[max(0, i - 1) : i + 1]:
                    if (w.context is None or w.since is not None) and not _has(w.clause, rules.now):
                        w.context, w.since = "lifelong", None
    return out


def _in_canon(rules: RuleSet, v: _ClauseView, spans: list, start: int, end: int) -> bool:
    """Does the Han match text[start:end] lie inside one of the canonical view's ``spans``
    (an idiom: 我 khì kah beh 中風 — the idiom is romanised, the hit is Han)? Tokens are
    counted by reading the text before and inside the match."""
    key = tuple(sorted(rules.variants.items()))
    text = v.clause.text
    first = len(_read_clause(text[:start], key).syllables) if start else 0
    last = first + len(_read_clause(text[start:end], key).syllables)
    return any(s <= first and last <= e for s, e in spans)


def _token_span(joined: str, m: re.Match[str]) -> tuple[int, int, list[tuple[int, int]]]:
    """A match in space-joined tokens as token indices: (start, end, its groups' spans)."""

    def index(pos: int) -> int:
        return joined.count(" ", 0, pos)

    gaps = [
        (index(m.start(g)), index(m.end(g)) + 1)
        for g in range(1, (m.lastindex or 0) + 1)
        if m.group(g)
    ]
    return index(m.start()), index(m.end()) + 1, gaps


def _context_at(v: _ClauseView, token: int, end: int | None = None) -> str | None:
    """The context of a match from ``token`` to ``end`` (exclusive; one token when None):
    the clause's, or "worry" from the token a worry or prevention governs on; in a run-on
    clause, a match wholly before its past cue has the clause's ``early`` context."""
    context = v.context
    if v.since is not None and (token + 1 if end is None else end) <= v.since:
        context = v.early
    if context is None and v.ahead is not None and token >= v.ahead:
        return "worry"
    return context


def _context_char(rules: RuleSet, v: _ClauseView, start: int, end: int) -> str | None:
    """:func:`_context_at` for a match of characters ``start:end`` of the clause's text (Han
    and pinyin matches: one pinyin token per character)."""
    if (v.context is not None and v.since is None) or (v.context is None and v.ahead is None):
        return v.context
    key = tuple(sorted(rules.variants.items()))

    def tokens(n: int) -> int:
        return len(_read_clause(v.clause.text[:n], key).syllables) if n else 0

    return _context_at(v, tokens(start), max(tokens(end), tokens(start) + 1))


def _inside(rules: RuleSet, v: _ClauseView, han: list, canon: list, m: re.Match[str]) -> bool:
    """Does the Han match ``m`` lie inside one of the Han ``han`` or canonical ``canon`` spans?"""
    return any(s <= m.start() and m.end() <= e for s, e in han) or bool(
        canon and _in_canon(rules, v, canon, m.start(), m.end())
    )


def _misread(spans: list, start: int, end: int) -> bool:
    """Does a look-alike word hold the match (正常 tsìng-siông holds 腫 tsìng), or does the
    match begin or end inside one? Its syllable belongs to the other word then: io̍h-hún tò
    (pour the powder) holds no hūn-tó, ke kuí tan-uī (add how many units) no kē (low)."""
    return any((s <= start and end <= e) or s < start < e or s < end < e for s, e in spans)


def _verdict(in_idiom: bool, alike: bool, negated: bool, context: str | None) -> str:
    """``"hit"``, or why a match does not count (an idiom, a look-alike word, a negation,
    the clause's context)."""
    if in_idiom or alike:
        return "idiom" if in_idiom else "lookalike"
    return "negation" if negated else context or "hit"


def _fits(clause: Clause, start: int, end: int, want: tuple) -> bool:
    """A gap pattern's first and last syllables carry its tones where they were read from
    Han text: 油…燙 iû … thǹg is not 有糖 iú thn̂g. Han text is read by the reader that read
    the rule file; writers' own tones vary too much to hold romanised text to them."""
    held = clause.held
    ends = ((start, want[0]), (end - 1, want[-1]))
    return all(
        not (held and held[i]) or clause.tones[i] is None or w is None or clause.tones[i] == w
        for i, w in ends
    )


def _match(rules: RuleSet, p: Pattern, v: _ClauseView) -> str | None:
    """``"hit"``, a suppression reason (the last match's), or None when the pattern is absent.

    Syllable and pinyin patterns match space-joined tokens (idioms and negations in token
    indices; pinyin's tokens are the Han view's characters); Han patterns match characters."""
    window, reason = rules.negation_window, None
    if p.script in ("taigi", "pinyin"):
        taigi = p.script == "taigi"
        if p.needle not in (v.clause.padded if taigi else v.pinyin):
            return None
        # The pinyin view is padded with a space: without it, token i is character i.
        joined = v.clause.joined if taigi else v.pinyin[1:]
        idioms, alike, neg, keep = (
            (v.idiom_canon, v.alike_canon, v.neg_canon, v.keep_canon)
            if taigi
            else (v.idiom_han, v.alike_han, v.neg_han, v.keep_han)
        )
        for m in p.regex.finditer(joined):
            start, end, gaps = _token_span(joined, m)
            if taigi and len(p.tones) == 1 and v.clause.tones[start] not in (None, p.tones[0]):
                continue  # one syllable alone: 疹 tsín is not 真 tsin when tones are known
            if taigi and GAP in p.source and not _fits(v.clause, start, end, p.tones):
                continue
            if p.exact and not all(ch in v.clause.text[start:end] for ch in p.exact):
                continue  # pinyin tokens are the clause's characters, one each
            reason = _verdict(
                any(s <= start and end <= e for s, e in idioms),
                _misread(alike, start, end),
                _negated(neg, keep, start, gaps, window),
                _context_at(v, start, end) if taigi else _context_char(rules, v, start, end),
            )
            if reason == "hit":
                return reason
        return reason
    if p.needle not in v.clause.lower:
        return None
    for m in p.regex.finditer(v.clause.text):
        gaps = [m.span(g) for g in range(1, (m.lastindex or 0) + 1) if m.group(g)]
        reason = _verdict(
            _inside(rules, v, v.idiom_han, v.idiom_canon, m),
            _inside(rules, v, v.alike_han, v.alike_canon, m)
            or _misread(v.alike_han, m.start(), m.end()),
            _negated(v.neg_han, v.keep_han, m.start(), gaps, window),
            _context_char(rules, v, m.start(), m.end()),
        )
        if reason == "hit":
            return reason
    return reason


def _find(rules, cid, pats, views, result: TriageResult, first_only: bool) -> bool:
    found = False
    for v in views:
        syls, chars = v.syllables, v.chars
        for p in pats:
            have = syls if p.script == "taigi" else v.pinyin_set if p.script == "pinyin" else chars
            # Cheap: most patterns cannot match this clause. An expression that opens with a
            # group ('re:(?:才|出生)…') has no first character to look up and is always tried.
            if p.first and p.first not in have:
                continue
            got = _match(rules, p, v)
            if got is None:
                continue
            hit = Hit(cid, p.source, p.script, v.clause.text)
            if got == "hit":
                if hit not in result.hits:
                    result.hits.append(hit)
                found = True
                if first_only:
                    return True
            else:
                result.suppressed.append((hit, got))
    return found


def triage(rules: RuleSet, text: str, raw: str | None = None) -> TriageResult:
    """All red-flag categories that ``text`` (standardised) triggers by the rules.

    ``raw`` (the message as typed) is accepted for callers that have it; the canonical
    form makes a second reading unnecessary.
    """
    del raw
    return triage_views(rules, _views(rules, text))


def triage_turns(
    rules: RuleSet, turns: list[str], lift: frozenset[str] = frozenset()
) -> TriageResult:
    """The rules over several user turns read together: each turn keeps its own time and
    person cues (a past cue in one turn says nothing of the next; a story told up to the
    end of one reaches the next: :func:`_views`), while a combo may take
    its groups from different turns (寶寶兩個月大 … 這馬發燒). ``lift``: categories read
    with no past scope (safety/conversation.py: a knock on the head this morning with the
    signs it brings now)."""
    stutter = _stutter(rules, [c for t in turns for c in heard_clauses(rules, t)])
    views: list[_ClauseView] = []
    for t in turns:
        heard = bool(views) and views[-1].context in ("hearsay", "story")
        views.extend(_views(rules, t, stutter, heard))
    return triage_views(rules, views, lift)


def triage_views(
    rules: RuleSet, views: list[_ClauseView], lift: frozenset[str] = frozenset()
) -> TriageResult:
    result = TriageResult()
    result.idiom_seen = any(v.idiom_seen for v in views)
    # A plan's preparation is told as done (藥都攢好了, 明天…我就走): past is no scope there.
    planned = [replace(v, context=None) if v.context == "past" else v for v in views]
    for cat in rules.categories:
        own = planned if cat.id in lift else views
        if _find(rules, cat.id, cat.patterns, own, result, first_only=True):
            continue
        for combo in cat.combos:
            scratch = TriageResult()
            if all(
                _find(rules, cat.id, g, planned if cat.plan else own, scratch, first_only=True)
                for g in combo
            ):
                src = " + ".join(h.pattern for h in scratch.hits)
                result.hits.append(Hit(cat.id, src, "combo", scratch.hits[0].clause))
                break
            result.suppressed.extend(scratch.suppressed)
    return result


# Reasons the rules give for words that are not a present emergency. When every emergency
# word of a message was set aside for one of these and nothing fired, the classifier (which
# reads the same words) is not asked to overrule: 跑步完喘氣很正常嗎? 中風有哪些前兆?
SCOPE_REASONS = frozenset(
    {"idiom", "lifelong", "worry", "general", "hearsay", "past", "resolved", "aftercare", "story"}
)


def _cue_in(rules: RuleSet, text: str, cues: CueSet) -> bool:
    return any(_has(c, cues) for c in heard_clauses(rules, text))


def _now_in(rules: RuleSet, text: str) -> bool:
    return _cue_in(rules, text, rules.now)


def assess(rules: RuleSet, text: str, classifier=None) -> TriageResult:
    """The emergency decision: the rules, and beside them the learned second opinion
    (:class:`taigimed.safety.classifier.TriageClassifier`) when one is given."""
    result = triage(rules, text)
    if classifier is not None:
        # It reads the message as heard, like the rules (safety/hearing.py).
        heard = hear(rules, text)
        result.classifier_score = round(classifier.score(heard, rules.variants), 4)
        # Scope the rules found (an idiom, a lifelong trait, a worry) holds for the classifier
        # too when no rule fired: its n-grams are the same words.
        why = {w for _, w in result.suppressed}
        scoped = (
            result.idiom_seen
            or (
                why
                and why <= SCOPE_REASONS
                and (why <= {"aftercare", "story"} or not _now_in(rules, text))
            )
            or (rules.logistics is not None and _cue_in(rules, text, rules.logistics))
        )
        result.classifier_fired = (
            classifier.fires(result.classifier_score)
            and not (scoped and not result.rules_fired)
            # On a romanised message the letters' n-grams are fragments of syllables: the
            # syllable reading must agree (classifier.SyllableCheck).
            and (result.rules_fired or classifier.agrees(heard, rules.variants))
        )
    return result


def emergency_reply(rules: RuleSet, result: TriageResult, script: str) -> str:
    """The emergency notice for ``result`` in the reply script (119; 1925 for suicide risk)."""
    cats = result.categories
    parts = []
    if "suicide" in cats:
        parts.append(rules.reply("suicide", script))
    if any(c != "suicide" for c in cats):
        parts.append(rules.reply("emergency", script))
    known = [c for c in cats if c != "unspecified"]
    if known:
        parts.append(
            rules.reply("detected", script)
            + "、".join(rules.category(c).label[script] for c in known)
        )
    parts.append(rules.reply("disclaimer", script))
    return "\n".join(parts)
