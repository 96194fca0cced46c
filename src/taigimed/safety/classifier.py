"""The learned second opinion beside the red-flag rules, as serving reads it.

A logistic regression over character 1–3-grams of the standardised text and its canonical
form (:mod:`taigimed.safety.canonical`), shipped as JSON (``model/triage_classifier.json``:
n-grams, idf, weights, threshold, the SHA-256 of its corpus and the rules version it was
built beside) and scored here with numpy: no fit, no pickle, no scikit-learn. It runs beside
the rules: a message is an emergency when either fires. ``safety.in_effect`` loads it only
together with the rules it was built for.

How it is trained and its threshold calibrated: :mod:`taigimed.generate.classifier`,
rebuilt with ``python -m taigimed.generate.classifier``.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from taigimed.safety.canonical import canonical

MODEL_PATH = Path(__file__).parent / "model" / "triage_classifier.json"
REBUILD_COMMAND = "python -m taigimed.generate.classifier"
NGRAMS = (1, 3)
SYLLABLE_NGRAMS = (1, 2)  # of the canonical form, for the syllable check

# A Latin word (Tâi-lô, POJ, English): the syllable check reads it as syllables of the
# canonical form, not as letters.
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff][\w\u0300-\u036f\u207f\u0358'-]*")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD_CHAR = re.compile(r"\w")
# A message is romanised when fewer than this share of its letters are Han characters.
HAN_SHARE = 0.3


# A self-introduction opening the message (我叫陳大明，…, 我號做…): 叫 "to be called" is the
# 叫 of 叫不醒 / 叫袂應 in carers' reports, and the classifier trained on real writing took
# 我叫陳大明，頭殼痛欲按怎？ for an emergency (0.67; 0.23 without the name). A name says
# nothing about an emergency, so the classifier does not read it.
_SELF_INTRO = re.compile(
    r"^\s*(?:你好|您好)?[，,\s]*我(?:叫做|號做|叫)\s*[\u4e00-\u9fff]{2,3}\s*[，,。]\s*"
)


def features_text(standardised: str, variants: dict[str, str] | None = None) -> str:
    """What the classifier reads: the standardised text and its canonical form, without a
    self-introduction opening it."""
    standardised = _SELF_INTRO.sub("", standardised, count=1) or standardised
    return f"{standardised.lower()} ‖ {canonical(standardised, variants)}"


def romanised(standardised: str) -> bool:
    """Is the message written mostly in Latin letters (Tâi-lô, POJ, tone numbers)?"""
    letters = len(_WORD_CHAR.findall(standardised))
    return letters > 0 and len(_HAN.findall(standardised)) < HAN_SHARE * letters


def asks(standardised: str) -> bool:
    """Is the message a question (a question mark)? An everyday question asks; a carer
    reporting an emergency mostly tells, and when she asks (阿公叫袂醒，欲按怎?) the rules
    have a word for what she saw."""
    return "?" in standardised or "？" in standardised


# How a Mandarin yes/no question ends when it has no question mark (typed or dictated). Not
# 怎麼辦 / 按怎 ("what do I do"): a carer reporting an emergency ends with it too (阿公…叫他
# 沒有回答…我要怎麼辦, held-out v3), and that reading lost it.
_ASKING_END = re.compile(r"(?:嗎|吗|呢)[\s。.!！…~]*$")


def inquires(standardised: str) -> bool:
    """Is the message a question: a question mark, or a final question particle (嗎, 呢)
    that dictation and quick typing leave without one?"""
    return asks(standardised) or bool(_ASKING_END.search(standardised))


def syllable_features(text: str) -> list[str]:
    """The n-grams of one :func:`features_text` for the syllable check: character 1–3-grams
    of the text with its Latin words taken out (Han characters, digits, punctuation), and
    syllable 1–2-grams of the canonical form (``⟨tsit ma⟩``)."""
    raw, _, canon = text.partition(" ‖ ")
    han = _LATIN_WORD.sub(" ", raw)
    lo, hi = NGRAMS
    out = [han[i : i + n] for n in range(lo, hi + 1) for i in range(len(han) - n + 1)]
    lo, hi = SYLLABLE_NGRAMS
    for clause in canon.split(" | "):
        syls = clause.split()
        out += [
            "⟨" + " ".join(syls[i : i + n]) + "⟩"
            for n in range(lo, hi + 1)
            for i in range(len(syls) - n + 1)
        ]
    return out


def _letter_features(text: str) -> list[str]:
    lo, hi = NGRAMS
    return [text[i : i + n] for n in range(lo, hi + 1) for i in range(len(text) - n + 1)]


@dataclass(frozen=True)
class _Linear:
    """Sublinear tf-idf (l2) and a logistic regression, as scikit-learn fitted them."""

    vocabulary: dict[str, int]
    idf: np.ndarray
    coef: np.ndarray
    intercept: float

    def score_grams(self, grams: list[str]) -> float:
        counts: dict[int, int] = {}
        for g in grams:
            j = self.vocabulary.get(g)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        if not counts:
            z = self.intercept
        else:
            idx = np.fromiter(counts.keys(), dtype=np.int64)
            tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64))
            w = tf * self.idf[idx]
            w /= np.linalg.norm(w)
            z = float(w @ self.coef[idx]) + self.intercept
        return 1.0 / (1.0 + math.exp(-z))


# When unsure, escalate (issue 21): at or above this score the reading is sure enough that
# the rules' scope (an event told as past, a story, a question, "he said it was nothing")
# does not overrule it; only an idiom the rules recognised does (safety/conversation.py,
# ``_escalate_when_sure``). Chosen on blind back-tests (each commit scoring the files written
# after it, docs/safety.md "When the reading is sure"): 0.90 at first (17 of 32 missed
# emergencies, none of 3,456 other messages); 0.85 since rules 2027.01.05, when five commits
# and twenty files showed 2 more of 41 caught there and still no other message alarmed. At
# 0.82 and below, three Sinica sentences the builder reads as everyday (each in three
# spellings) became alarms.
CONFIDENT = 0.85
# The score under which the reading is sure a message is NOT an emergency: a dosing question
# whose words the rules took for one (血糖偏低 七十出頭 睡前那顆降血糖藥還要照吃嗎, a pill that
# sticks in the throat asked to be crushed) goes to the pharmacist (safety/conversation.py,
# step 6). On the blind files no rule read kept these apart: their scores ran 0.0001–0.09,
# while every emergency asked as a dosing question scored 0.13 or more (0.83 or more on the
# files the reading never read).
CLEAR = 0.05

# Since the seventh round the syllable reading judges romanised statements too, not only
# questions (docs/safety.md); benchmarks turn it off to measure what it adds.
STATEMENTS_TOO = True


@dataclass(frozen=True)
class SyllableCheck:
    """The second reading of a romanised message: the same regression over syllables.

    Character n-grams of romanised text are fragments of syllables (``ti``, ``gu``, ``e t``)
    shared by unrelated words; the weights they learnt from a corpus of mostly emergencies
    push every romanised message up (*Guá kin-á-ji̍t khì tshī-tiûnn bé tshài.*, "I went to the
    market today", scored 0.70 against a threshold of 0.59). A syllable is the unit of
    meaning there, as a character is in Han. On a romanised message the letters' classifier
    alone answers with 119 only when this reading agrees (score ≥ ``threshold``); the
    threshold is the highest that loses none of the emergencies the letters' classifier
    finds in the romanised rows of the conversation tuning file (generate/classifier.py).
    """

    model: _Linear
    threshold: float

    def score(self, standardised: str, variants: dict[str, str] | None = None) -> float:
        return self.model.score_grams(syllable_features(features_text(standardised, variants)))

    def agrees(self, standardised: str, variants: dict[str, str] | None = None) -> bool:
        if not romanised(standardised) or not (STATEMENTS_TOO or asks(standardised)):
            return True
        return self.score(standardised, variants) >= self.threshold


@dataclass(frozen=True)
class EverydayCheck:
    """The everyday reading of a question: the letters' regression refitted with thousands
    of everyday negatives in every script (Sinica Han-Lo sentences, the cards' clauses,
    everyday questions; generate/everyday.py).

    Trained on emergencies and hard negatives built from emergency phrases, the letters'
    classifier finds everyday language in any script unfamiliar and leans "emergency"
    (*我今仔日去市場買菜。* scored 0.87 against 0.59); it answered about one everyday health
    question in six with 119. This reading knows everyday text, but it also learned that
    the common words some emergencies are told with are everyday (*the towel is pressed and
    it is still bleeding* fell from 0.68 to 0.30), so it does not replace the letters: on a
    message that **asks** (a question mark), the letters' classifier alone answers with 119
    only when this reading agrees (score ≥ ``threshold``, calibrated for recall by the
    builder as the letters' one is). Since the sixth round a Han statement too; a romanised
    carer telling what she sees is decided by the letters (and cues.alarm) as before.
    """

    model: _Linear
    threshold: float

    def score(self, standardised: str, variants: dict[str, str] | None = None) -> float:
        return self.model.score_grams(_letter_features(features_text(standardised, variants)))

    def agrees(self, standardised: str, variants: dict[str, str] | None = None) -> bool:
        # Since the sixth round (both readings trained on real writing too) it judges Han
        # statements as well: left out of training, no emergency of any triage file was
        # lost and fewer everyday statements got 119 (docs/safety.md, sixth round). Not a
        # romanised statement: there it lost two (a wound still bleeding through a towel).
        if not inquires(standardised) and romanised(standardised):
            return True
        return self.score(standardised, variants) >= self.threshold


@dataclass(frozen=True)
class TriageClassifier:
    vocabulary: dict[str, int]
    idf: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float
    # The rules version it was built beside; ``safety.in_effect`` refuses any other.
    rules_version: str = ""
    # The second reading of romanised messages; None in a JSON built without one.
    syllables: SyllableCheck | None = None
    # The everyday reading of questions; None in a JSON built without one.
    everyday: EverydayCheck | None = None
    # The score at which the reading overrules the rules' scope (see CONFIDENT).
    confident: float = CONFIDENT
    # The score under which it is sure the message is no emergency (see CLEAR).
    clear_below: float = CLEAR

    def score(self, standardised: str, variants: dict[str, str] | None = None) -> float:
        """P(emergency) for one standardised message."""
        grams = _letter_features(features_text(standardised, variants))
        return _Linear(self.vocabulary, self.idf, self.coef, self.intercept).score_grams(grams)

    def fires(self, score: float) -> bool:
        return score >= self.threshold

    def sure(self, score: float) -> bool:
        """Is the reading sure enough to overrule the rules' scope (:data:`CONFIDENT`)?"""
        return score >= max(self.confident, self.threshold)

    def clear(self, score: float) -> bool:
        """Is the reading sure the message is no emergency (:data:`CLEAR`)?"""
        return score < self.clear_below

    def agrees(self, standardised: str, variants: dict[str, str] | None = None) -> bool:
        """Do the second readings agree that the message is an emergency: the syllable one on
        a romanised question, the everyday one on any question (True where a reading does
        not apply or the JSON has none)?"""
        return all(
            check is None or check.agrees(standardised, variants)
            for check in (self.syllables, self.everyday)
        )


def load_classifier(path: Path | str = MODEL_PATH) -> TriageClassifier:
    """The shipped model (cached)."""
    return _load(str(Path(path).resolve()))


@lru_cache(maxsize=4)
def _load(path: str) -> TriageClassifier:
    try:
        tree = json.loads(Path(path).read_text(encoding="utf-8"))
        return TriageClassifier(
            vocabulary={g: i for i, g in enumerate(tree["ngrams"])},
            idf=np.asarray(tree["idf"], dtype=np.float64),
            coef=np.asarray(tree["coef"], dtype=np.float64),
            intercept=float(tree["intercept"]),
            threshold=float(tree["threshold"]),
            rules_version=str(tree["rules_version"]),
            syllables=_syllables(tree.get("syllables")),
            everyday=_everyday(tree.get("everyday")),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(
            f"{path}: cannot load the triage classifier ({exc}); rebuild it with "
            f"`{REBUILD_COMMAND}`"
        ) from exc


def _linear(tree: dict) -> _Linear:
    return _Linear(
        vocabulary={g: i for i, g in enumerate(tree["ngrams"])},
        idf=np.asarray(tree["idf"], dtype=np.float64),
        coef=np.asarray(tree["coef"], dtype=np.float64),
        intercept=float(tree["intercept"]),
    )


def _syllables(tree: dict | None) -> SyllableCheck | None:
    return None if tree is None else SyllableCheck(_linear(tree), float(tree["threshold"]))


def _everyday(tree: dict | None) -> EverydayCheck | None:
    return None if tree is None else EverydayCheck(_linear(tree), float(tree["threshold"]))
