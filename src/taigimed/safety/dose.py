"""Dosing: questions about amounts go to the pharmacist; doses in answers are removed.

TaigiMed gives general health information; how much of a medicine to take is for a
doctor or pharmacist who knows the patient.

- **Before the model** (:func:`is_dose_question`): a message that names a medicine and
  asks for an amount, a frequency, doubling, skipping or stopping (幾粒, 兩倍, 停藥,
  kuí lia̍p, siang-puē …; ``dose_intent`` in the rule file) gets a fixed reply in the
  user's script and never reaches the model.
- **After the model** (:func:`redact_doses`): a "dose" is a number — Arabic, decimal or a
  range, a Han numeral (二十, 兩, 一), or a romanised Taigi numeral (nn̄g, tsi̍t, sann …) —
  followed by a dosing unit (mg, mL, c.c., IU, 單位, 粒, 顆, 錠, 片, 包, lia̍p, pau …), and
  "double / two times the dose" (兩倍, 加倍, siang-puē, nn̄g puē). Lab values (mg/dL,
  mmol/L) and percentages are left alone.
- **Beside the rules** (:class:`DoseReading`, since 2026-12-06): a learned reading of the
  same question (``model/dose_classifier.json``, built by
  :mod:`taigimed.generate.dose_classifier`). :func:`is_dose_conversation` is the one
  redirect decision: the rules, or the reading's score at its threshold on a turn that names
  a medicine. Triage answers first: an emergency is never redirected (the serving order,
  and the evaluation counts a redirect only where no alarm fired).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from taigimed.safety.classifier import _Linear, features_text, syllable_features
from taigimed.safety.hearing import hear, heard_clauses
from taigimed.safety.rules import RuleSet
from taigimed.safety.triage import _canon_spans, _han_spans
from taigimed.text.script import is_taigi_syllable

DOSE_MODEL_PATH = Path(__file__).parent / "model" / "dose_classifier.json"
DOSE_REBUILD_COMMAND = "python -m taigimed.generate.dose_classifier"
FORMAT = "taigimed-dose-reading/1"

_ARABIC = r"\d+(?:[.,]\d+)?(?:\s*(?:-|~|～|–|至|到)\s*\d+(?:[.,]\d+)?)?"
_HAN_NUMBER = r"[一二兩三四五六七八九十半百千]+"
# Romanised Taigi numerals, with or without tone marks/numbers, hyphen-joined (tsa̍p-gōo).
_ROMAN_DIGIT = (
    r"(?:tsi̍t|tsit|chi̍t|chit|nn̄g|nng|sann|saⁿ|sa|sì|si|sù|su|gōo|goo|gō͘|go|la̍k|lak"
    r"|tshit|chhit|peh|pueh|poeh|káu|kau|tsa̍p|tsap|cha̍p|chap|pah|puànn|poàⁿ|puann|poaⁿ)\d?"
)
_ROMAN_NUMBER = rf"(?<![A-Za-z\u00c0-\u024f\u1e00-\u1eff]){_ROMAN_DIGIT}(?:-{_ROMAN_DIGIT})*"
_UNITS = (
    r"mg|mcg|µg|μg|g|kg|ml|mL|c\.c\.|cc|IU|iu|units?|tablets?|pills?|capsules?|drops?|puffs?"
    r"|毫克|公克|克|微克|毫升|西西|國際單位|單位|粒|顆|錠|片|包|滴|噴|茶匙|湯匙|匙"
)
# After a Han numeral: units that do not mean anything else (一片 alone may be "a slice",
# but 兩片 / 一包 in a medicine answer is a dose, and a slip costs more than a lost slice).
_HAN_UNITS = (
    r"毫克|公克|微克|毫升|西西|國際單位|單位|粒|顆|錠|片|包|茶匙|湯匙|c\.c\.|cc|CC|mg|ml|mL"
)
# 一片麵包, 一包餅: a slice or a packet of food is not a dose.
_NOT_MEDICINE = r"麵包|吐司|餅|肉|西瓜|水果|蛋糕|紙|口香糖|葉|菜|土司|麵|飯|糖果|零食"
# Romanised units: lia̍p (粒), pau (包), tè (塊), phìnn (片), tan-uī (單位), tiám (滴).
_ROMAN_UNITS = (
    r"(?:lia̍p|liap|lia̍p|pau|tè|te|phìnn|phiⁿ|phinn|tan-uī|tan-ui|kho"
    # tiám is a drop, not the hour of tiám-tsing (puànn tiám-tsing: half an hour).
    r"|(?:tiám|tiam)(?!\d?[- ]?(?:tsing|cheng)))\d?(?![A-Za-z])"
)
_DOUBLE = (
    r"兩倍|雙倍|加倍|二倍|(?:double|twice|two times)(?: the)?(?: dose)?"
    r"|siang-puē|siang-pue7?|siang-pōe|nn̄g-puē|nn̄g puē|nng7?-pue7?|nng7? pue7?|ka-puē|ke-puē"
)
DOSE_RE = re.compile(
    rf"(?:(?<![A-Za-z0-9.]){_ARABIC}\s*(?:{_UNITS}|{_ROMAN_UNITS})"
    rf"|{_HAN_NUMBER}\s*(?:{_HAN_UNITS})(?!{_NOT_MEDICINE})"
    rf"|{_ROMAN_NUMBER}\s+{_ROMAN_UNITS}"
    rf"|{_DOUBLE})"
    rf"(?![A-Za-z])(?!\s*/\s*(?:dL|dl|L|l)\b)(?:\s*/\s*(?:kg|m2|day|日|天))*",
    re.IGNORECASE,
)


# Tsit / chit with no tone mark in a message whose other syllables carry marks, or with
# tone number 4, is 這 "this" (tsit lia̍p io̍h-á: this pill), not 一 tsi̍t / tsit8 "one".
_THIS = re.compile(r"(?:tsit|chit)4?", re.IGNORECASE)
_MARKED = re.compile(r"[\u00c0-\u024f\u1e00-\u1eff\u0300-\u036f]")


def asked_doses(text: str) -> list[str]:
    """The dose expressions of a question: :data:`DOSE_RE`'s, less "this pill" read as "one
    pill" (*Tsit lia̍p âng-sik ê io̍h-á sī teh ī siánn?*: what is this red pill for?)."""
    marked = bool(_MARKED.search(text))
    out = []
    for m in DOSE_RE.finditer(text):
        first = m.group(0).split()[0] if " " in m.group(0) else ""
        if _THIS.fullmatch(first) and (marked or first.endswith("4")):
            continue
        out.append(m.group(0))
    return out


def find_doses(text: str) -> list[str]:
    """The dose expressions in ``text``.

    >>> find_doses("一擺食 500 mg，一日兩粒；血糖 126 mg/dL 較懸；tsi̍t-kang nn̄g lia̍p")
    ['500 mg', '兩粒', 'nn̄g lia̍p']
    """
    return [m.group(0) for m in DOSE_RE.finditer(text)]


def redact_doses(text: str, placeholder: str) -> tuple[str, int]:
    """Replace every dose with ``placeholder``; returns the new text and how many."""
    return DOSE_RE.subn(placeholder, text)


@lru_cache(maxsize=64)
def _written(cues) -> tuple[tuple[str, ...], tuple[re.Pattern[str], ...]]:
    """``cues``' Han-list words: those matched inside the text, and the Latin ones as whole
    words (appointment holds no ointment, pillow no pill)."""
    latin = [w for w in cues.han if w.isascii() and w[:1].isalpha()]
    inside = tuple(w for w in cues.han if w not in latin)
    whole = tuple(re.compile(rf"(?<![a-z]){re.escape(w.lower())}(?![a-z])") for w in latin)
    return inside, whole


def _holds(lower: str, cues) -> bool:
    inside, whole = _written(cues)
    return any(w in lower for w in inside) or any(r.search(lower) for r in whole)


def has_cue(clauses, cues) -> bool:
    """Does one of ``cues`` stand in one of the canonical ``clauses`` (either view)?"""
    return any(_canon_spans(c, cues, check_tone=True) or _holds(c.lower, cues) for c in clauses)


# An amount in a unit only medicines come in (10單位, 500 mg, 12 tan-uī), not a lab value
# (mg/dL): the medicine is named by it, as an asked amount in one needs no name.
_MEDICINE_UNIT = re.compile(
    r"\d+(?:\.\d+)?\s*(?:單位|毫克|微克|mg|mcg|IU|units?|tan-uī|tan-ui)(?![A-Za-z/])",
    re.IGNORECASE,
)


# A medicine's name taken into Taigi is spelt by ear: a-su-phí-lîng, a-sū-pih-lîng and
# a su pih ling are one name. Aspiration, a final -h and -ng / -n fold together, for names
# of three syllables or more (shorter ones would fold into everyday words).
_EAR_FOLDS = (
    (re.compile(r"^(p|t|k|ts)h(?=.)"), r"\1"),
    (re.compile(r"(?<=.)h$"), ""),
    (re.compile(r"ng$"), "n"),
)
_BY_EAR_SYLLABLES = 3


@lru_cache(maxsize=4096)
def by_ear(syllables: tuple[str, ...]) -> str:
    """Canonical syllables as a transliteration is heard: ``by_ear(("a", "su", "phi",
    "ling")) == by_ear(("a", "su", "pih", "lin")) == "a su pi lin"``."""
    out = []
    for s in syllables:
        for pattern, repl in _EAR_FOLDS:
            s = pattern.sub(repl, s)
        out.append(s)
    return " ".join(out)


@lru_cache(maxsize=8)
def _names_by_ear(cues) -> tuple[str, ...]:
    return tuple(f" {by_ear(s)} " for s, _ in cues.canon if len(s) >= _BY_EAR_SYLLABLES)


def names_medicine(rules: RuleSet, text: str) -> bool:
    """Does ``text`` name a medicine: a ``dose_intent.medicine`` word (a long one also as
    spelt by ear, :func:`by_ear`), or a Latin word with a medicine's INN stem
    (``dose_intent.medicine_stems``: 食 amlodipine 可以改暗時無?)?"""
    if rules.dose_medicine_stems is not None and rules.dose_medicine_stems.search(text):
        return True
    if _MEDICINE_UNIT.search(text):
        return True  # 平常打10單位: an amount in a unit only medicines come in
    if rules.dose_medicine is None:
        return False
    clauses = heard_clauses(rules, text)
    if has_cue(clauses, rules.dose_medicine):
        return True
    heard = [f" {by_ear(c.syllables)} " for c in clauses]
    return any(name in c for name in _names_by_ear(rules.dose_medicine) for c in heard)


# 十幾粒, tsa̍p-kuí lia̍p: "ten-odd pills" tells a count; 幾 / kuí asks only alone.
_APPROXIMATE = re.compile(
    r"([十百千廿])幾|((?:tsa̍p|tsap|cha̍p|chap|pah)[- ])ku[ií](?=[\s-]|$)", re.IGNORECASE
)


def _about(m: re.Match) -> str:
    return m.group(1) + "多" if m.group(1) else m.group(2) + "guā"


def asks_something(rules: RuleSet, text: str, mark: bool = False) -> bool:
    """Does the standardised ``text`` ask anything: a question particle, kám, a clause
    ending on bô, or a question word (``cues.asking``)? A carer telling what she sees
    (…kâm tsi̍t lia̍p sim-tsōng io̍h mā bô-hāu) names a pill and a number and asks nothing.
    With ``mark``, a question mark asks too (the clauses hold no punctuation): not for the
    learned dosing reading, where it sent 吃雞蛋一天可以吃幾顆？ to the pharmacist and no
    more dosing question in any file of eval/."""
    if mark and _MARK.search(text):
        return True
    clauses = heard_clauses(rules, hear(rules, text))
    return any(_QUESTION.search(c.text) for c in clauses) or (
        rules.asking is not None and has_cue(clauses, rules.asking)
    )


def asking_clauses(rules: RuleSet, text: str) -> tuple[list, bool]:
    """The heard clauses of ``text`` that may ask an amount — not one about storage, refills
    or cost (``cues.logistics``: 一個月愛偌濟錢? asks a price), nor one about a side effect,
    what a pill is for or which is which (``dose_intent.not_amount``) — and whether a dose
    written in them is asked: not when the message asks about something else (我每天吃兩顆
    降血壓藥，會是藥的副作用嗎? tells its amount)."""
    away = [x for x in (rules.logistics, rules.dose_not_amount) if x is not None]
    heard = heard_clauses(rules, _APPROXIMATE.sub(_about, text))
    asking = [c for c in heard if not any(has_cue([c], x) for x in away)]
    return asking, len(asking) == len(heard) and any(asked_doses(c.text) for c in asking)


def asks_amount(rules: RuleSet, text: str, ways: bool = True) -> bool:
    """Does ``text`` ask about an amount, a frequency, doubling, skipping … (an asking word
    or a dose expression, and with ``ways`` a way of taking asked), whether or not it names
    the medicine?"""
    if rules.dose_ask is None:
        return False
    heard = hear(rules, text)
    clauses, doses = asking_clauses(rules, heard)
    return (
        has_cue(clauses, rules.dose_ask)
        or doses
        or missed_dose(rules, clauses)
        or (ways and asks_how_to_take(rules, clauses))
    )


def missed_dose(rules: RuleSet, clauses) -> bool:
    """A missed dose told (袂記得食, 忘記吃, ``dose_intent.forgot``) and not a question about
    remembering: with a habit or a request for a way (``dose_intent.adherence``: 定定, 常常,
    辦法, 提醒) it is about adherence, not an amount (我定定袂記得食藥仔，有啥物好辦法？)."""
    if rules.dose_forgot is None or not has_cue(clauses, rules.dose_forgot):
        return False
    return rules.dose_adherence is None or not has_cue(clauses, rules.dose_adherence)


# How far a way of taking may stand after the modal: 可以|磨成粉, 要先|停, ē-sái ka-kī|kiám.
_TAKE_REACH_HAN = 3
_TAKE_REACH_SYLLABLES = 2
# How far the leave asked may stand after the way of taking: 吞藥這樣|OK嗎, tsia̍h|kám ē-sái.
_LEAVE_REACH_HAN = 6
_LEAVE_REACH_SYLLABLES = 4


# A "what" in the clause: which food or which medicine (可以吃什麼?, ài buah siánn-mih
# io̍h-á?), not how to take the one named; "when" (什麼時候, siánn-mih sî-tsūn) still asks.
_WHAT = re.compile(
    r"(?>什麼|甚麼|啥物|啥)(?!時候|時陣)"
    r"|\bsi[aá]n++(?>(?:[- ]?mi[h̍]+)?)(?![- ]?s[iî][- ]?ts)",
    re.IGNORECASE,
)
# A clause that asks: a question particle, an A-not-A or kám (a carer seldom types "?").
_ASKS = re.compile(
    r"[嗎吗呢否]|可不可|能不能|要不要|會不會|敢|\b(?:b[oô]|kám|kam|kiám|kiam)\b|[?？]$",
    re.IGNORECASE,
)
# A question by its form: a particle, kám, or bô / --bô closing the clause.
_QUESTION = re.compile(
    r"[嗎吗呢]|可不可|能不能|要不要|會不會|是不是|是否|有沒有|對不對|好不好|敢"
    r"|(?<![\w-])(?:kám|kam|kiám|kiam)(?![\w-])"  # not kám-kak (feeling)
    r"|(?:\s|--|^)b[oô]\s*[.。!！~]*$"
    # Taigi Han: may … or not (會使閣食一粒無), and a choice (飯前食抑是飯後食).
    r"|(?:會使|會當|可以)[^\s]*無(?:\s|$)|抑是",
    re.IGNORECASE,
)
_MARK = re.compile(r"[?？]")
_LATIN = re.compile(r"[A-Za-z]")


def _follows(first: list[tuple[int, int]], then: list[tuple[int, int]], reach: int) -> bool:
    return any(0 <= s - e <= reach for _, e in first for s, _ in then)


def _spans(clause, cues) -> tuple[list, list]:
    """``cues`` in the clause: in its Han characters, and in its syllables only where it is
    written in letters (the Taigi reading of Mandarin characters is no spelling: 檢 kiám
    read so is not 減 kiám)."""
    canon = _canon_spans(clause, cues, check_tone=True) if _LATIN.search(clause.text) else []
    return _han_spans(clause.text, cues.han), canon


def asks_how_to_take(rules: RuleSet, clauses) -> bool:
    """Does a clause ask whether or how one may take, use or change a medicine? A modal
    (可以, 要不要, ē-sái, kám ài, 按怎 …) with a way of taking right after it (吃, 點, 停, 磨,
    tsia̍h, thîng …) in a clause that asks, or a way of taking with leave asked after it
    (吃可以嗎?, tsia̍h ē-sái bô?), in its clause or the next (``dose_intent.modal`` /
    ``take`` / ``may_i``). Not a clause asking "what" (:data:`_WHAT`). The caller drops
    clauses about logistics and checks that a medicine is named."""
    modal, take, may_i = rules.dose_modal, rules.dose_take, rules.dose_may_i
    if modal is None or take is None:
        return False
    last = len(clauses) - 1
    for i, c in enumerate(clauses):
        if _WHAT.search(c.text):
            continue
        han_take, canon_take = _spans(c, take)
        han_modal, canon_modal = _spans(c, modal)
        asking = i == last or bool(_ASKS.search(c.text))
        if asking and (
            _follows(han_modal, han_take, _TAKE_REACH_HAN)
            or _follows(canon_modal, canon_take, _TAKE_REACH_SYLLABLES)
        ):
            return True
        if may_i is None:
            continue
        han_may, canon_may = _spans(c, may_i)
        if _follows(han_take, han_may, _LEAVE_REACH_HAN) or _follows(
            canon_take, canon_may, _LEAVE_REACH_SYLLABLES
        ):
            return True
        # 家己減半粒，按呢敢會使?: the leave asked in a clause of its own, of the one before.
        if (han_may or canon_may) and i > 0 and any(_spans(clauses[i - 1], take)):
            return True
    return False


def is_dose_question(rules: RuleSet, text: str, ways: bool = True) -> bool:
    """Does the standardised ``text`` ask how much / how often / whether to double, skip
    or stop a medicine? Either a medicine word with an asking word or a dose, or an amount
    asked in a unit used only for medicines (幾毫克, 幾單位, kuí tan-uī), which needs no
    medicine name: names are endless (阿莫西林, brand names), milligrams are not. With
    ``ways``, also a way of taking it asked (:func:`asks_how_to_take`): the redirect reads
    so; the triage, which lets a dosing question silence its classifier, does not (阿公打
    insulin 之後要不要吃飯，他流汗很多，叫他不回答 asks a way and is an emergency)."""
    if rules.dose_medicine is None or rules.dose_ask is None:
        return False
    # The text as the triage hears it (safety/hearing.py): 可 以 吃 兩 顆 嗎 too.
    text = hear(rules, text)
    clauses, doses = asking_clauses(rules, text)

    def has(cues) -> bool:
        return has_cue(clauses, cues)

    if rules.dose_ask_alone is not None and has(rules.dose_ask_alone):
        return True
    # Asking with the amount itself (會當食兩粒無？, chia̍h nn̄g lia̍p bô?) counts as asking.
    return names_medicine(rules, text) and (
        has(rules.dose_ask)
        or doses
        or missed_dose(rules, clauses)
        or (ways and asks_how_to_take(rules, clauses))
    )


class DoseReadingError(ValueError):
    """The dosing reading's JSON is broken, of another format, or built for other rules."""


@dataclass(frozen=True)
class DoseReading:
    """The learned dosing reading as serving scores it (numpy, no scikit-learn)."""

    model: _Linear
    threshold: float
    rules_version: str
    needs_medicine: bool = True

    def score(self, rules: RuleSet, standardised: str) -> float:
        """P(dosing question) for one standardised turn, read as the triage hears it."""
        heard = hear(rules, standardised)
        return self.model.score_grams(syllable_features(features_text(heard, rules.variants)))


def load_dose_reading(path: Path | str = DOSE_MODEL_PATH) -> DoseReading:
    """The reading at ``path`` (cached); a broken file or another format is refused, naming
    the rebuild command."""
    return _load(str(Path(path).resolve()))


@lru_cache(maxsize=4)
def _load(path: str) -> DoseReading:
    try:
        tree = json.loads(Path(path).read_text(encoding="utf-8"))
        if tree.get("format") != FORMAT:
            raise ValueError(f"format {tree.get('format')!r}, expected {FORMAT!r}")
        model = _Linear(
            vocabulary={g: i for i, g in enumerate(tree["ngrams"])},
            idf=np.asarray(tree["idf"], dtype=np.float64),
            coef=np.asarray(tree["coef"], dtype=np.float64),
            intercept=float(tree["intercept"]),
        )
        if not (len(model.vocabulary) == len(model.idf) == len(model.coef) > 0):
            raise ValueError("ngrams, idf and coef differ in length or are empty")
        return DoseReading(
            model,
            float(tree["threshold"]),
            str(tree["rules_version"]),
            bool(tree["needs_medicine"]),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DoseReadingError(
            f"{path}: cannot load the dosing reading ({exc}); rebuild it with "
            f"`{DOSE_REBUILD_COMMAND}`"
        ) from exc


def dose_reading_for(rules: RuleSet, path: Path | str = DOSE_MODEL_PATH) -> DoseReading:
    """The reading at ``path``, refused unless it was built beside ``rules``' version: it
    reads through the rule file's spelling variants and its threshold was calibrated beside
    those rules' redirects."""
    reading = load_dose_reading(path)
    if reading.rules_version != rules.version:
        raise DoseReadingError(
            f"{path}: the dosing reading was built for rules version "
            f"{reading.rules_version!r}, but the rules in effect are version "
            f"{rules.version!r}; rebuild it with `{DOSE_REBUILD_COMMAND}`, or set "
            "serve.safety.dose_reading: false to redirect by the rules alone"
        )
    return reading


# A capitalised Latin word inside a clause, not at its start and not Taigi (阿嬤的 Lipitor,
# a kong tsiah Coumadin): a proper name, most often a brand, and brands are endless. Only
# the learned reading takes one for the medicine: it has already heard a dosing question,
# where the rules' cues are looser (阮阿母去跳 Zumba … 這樣 OK 嗎 asks nothing of a pill).
# Bounded by letters, not \b: Han characters are word characters too (食Glucophage配酒).
_PROPER_NAME = re.compile(
    r"(?<=[^\s.!?。！？,，;；:：])\s*(?<![A-Za-z])([A-Z][a-z]{3,})(?![A-Za-z])"
)


def names_proper(text: str) -> bool:
    """Does ``text`` name something by a proper name that is not a Taigi syllable?"""
    return any(not is_taigi_syllable(w) for w in _PROPER_NAME.findall(text))


def names_for_reading(rules: RuleSet, text: str) -> bool:
    """A medicine named as the learned reading needs it: a medicine word or a proper name
    (its builder calibrates the threshold on the same)."""
    return names_medicine(rules, text) or names_proper(text)


# When unsure, escalate: at or above this score a turn that asks is a dosing question even
# with no medicine word in the conversation. The medicine gate keeps eggs and steps per day
# from the pharmacist, but most dosing questions the blind files slipped past it named the
# medicine by a brand or spelling no list had (可化凝, 優甲樂, toneless *kiau nng*) or not at
# all (醫生說早晚飯後吃，可以改成下班吃一次嗎?). Chosen on three blind back-tests (each
# commit scoring the files written after it, docs/safety.md "When the reading is sure"): at
# 0.90 it redirected 23 of the 34 dosing questions they missed and no other message. Not
# 0.85 (measured when v45-v59 were read): five more dosing questions of theirs, but a diet
# question (外食的湯是不是最好不要喝, 0.86) too.
SURE = 0.90


def learned_dose(rules: RuleSet, turns: Sequence[str], reading: DoseReading) -> bool:
    """Does the reading take the last of ``turns`` for a dosing question: at its threshold
    with a medicine named in one of the turns (when the reading needs one; by a proper name
    too), or sure of it (:data:`SURE`) on a turn that asks?"""
    named = not reading.needs_medicine or any(names_for_reading(rules, t) for t in turns)
    if not named and not asks_something(rules, turns[-1]):
        return False
    bar = reading.threshold if named else max(SURE, reading.threshold)
    return reading.score(rules, turns[-1]) >= bar


def dose_path(
    rules: RuleSet, turns: Sequence[str], reading: DoseReading | None = None, ways: bool = True
) -> str | None:
    """Which reading takes the last of ``turns`` for a dosing question: ``"rules"``,
    ``"learned"`` (only when ``reading`` is given) or None (``ways``: see
    :func:`is_dose_question`)."""
    turns = list(turns)
    if is_dose_question(rules, turns[-1], ways) or (
        len(turns) > 1
        and asks_amount(rules, turns[-1], ways)
        and any(names_medicine(rules, t) for t in turns[:-1])
    ):
        return "rules"
    if reading is not None and learned_dose(rules, turns, reading):
        return "learned"
    return None


def is_dose_conversation(
    rules: RuleSet, turns: Sequence[str], reading: DoseReading | None = None, ways: bool = True
) -> bool:
    """The redirect decision: a dosing question in the last of the standardised user
    ``turns``, the medicine perhaps named in an earlier one (我爸在吃華法林 … 他昨天忘記吃，
    今天可以吃兩倍嗎?) — by the rules, or by ``reading`` when one is given. Ask only where
    the triage found no emergency: an emergency is answered first."""
    return dose_path(rules, turns, reading, ways) is not None
