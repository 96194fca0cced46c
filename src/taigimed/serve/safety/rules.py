"""The red-flag rule set: loading the versioned YAML and compiling it into matchers.

The rules are data (``rules/red_flags.yaml``): clinicians edit the YAML, bump its
``version``, and the version is stored with every trigger. Patterns are written in
four scripts (Mandarin, Taigi Han, Tâi-lô, POJ). Romanised patterns are folded like
the input (no tone marks or digits, no hyphens, lower case), so ``hing1-kham2``,
``hing-khám`` and ``hing kham`` all match; ``…`` allows a short gap in one clause.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

DEFAULT_RULES = Path(__file__).parent / "rules" / "red_flags.yaml"
GAP = "…"
ROMAN_SCRIPTS = ("tailo", "poj")
HAN_SCRIPTS = ("taigi_han", "mandarin")
REPLY_SCRIPTS = ("taigi_han", "tailo", "poj", "mandarin_traditional", "mandarin_simplified")
# Clause boundaries: a negation or hearsay cue only reaches within its clause.
CLAUSE_SPLIT = re.compile(r"[，。！？、；：,.!?;:\n]+")
HAN_GAP_CHARS = 6
ROMAN_GAP_WORDS = 3


class RuleError(ValueError):
    """A rule file that cannot be used; the message names the file and the entry."""


# Tone marks → Tâi-lô/POJ tone numbers, so folded text keeps tones as a trailing digit.
_MARK_TONE = {
    "\u0301": "2",
    "\u0300": "3",
    "\u0302": "5",
    "\u030c": "6",
    "\u0304": "7",
    "\u030d": "8",
    "\u030b": "9",
    "\u0306": "9",
}


def _fold_word(m: re.Match[str]) -> str:
    word = m.group(0)
    tone = next((_MARK_TONE[ch] for ch in word if ch in _MARK_TONE), "")
    letters = "".join(ch for ch in word if not unicodedata.combining(ch))
    # POJ o͘ typed with numbers is often plain o: fold Tâi-lô oo and POJ o͘ to o.
    return letters.replace("oo", "o") + tone


def fold_roman(text: str) -> str:
    """Fold romanised text for matching: lower case, hyphens as spaces, and the tone
    as a trailing digit (from a mark or a number; none when the writer gave none).

    Patterns ignore the digit (tone-insensitive matching); negation cues use it when
    present, so bó (mother) is not read as bô (not).

    >>> fold_roman("Hing1-kham2 tsin thiànn, góa ê heng-khám")
    'hing1 kham2 tsin thiann3, goa2 e5 heng kham2'
    """
    text = unicodedata.normalize("NFD", text.lower()).replace("\u207f", "nn").replace("\u0358", "o")
    text = re.sub(r"(?<![a-z0-9])0(?=[a-z])", "", text)  # Sinica neutral tone 0ah4
    text = re.sub(r"[a-z][a-z\u0300-\u036f]*", _fold_word, text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"-+", " ", text)
    return re.sub(r"[ \t]+", " ", text)


def strip_tones(folded: str) -> str:
    return re.sub(r"(?<=[a-z])\d", "", folded)


@dataclass(frozen=True)
class Pattern:
    """One compiled pattern; ``gaps`` says which regex groups are gaps (checked for negation)."""

    source: str
    script: str
    regex: re.Pattern[str]

    @property
    def roman(self) -> bool:
        return self.script in ROMAN_SCRIPTS


def compile_pattern(source: str, script: str) -> Pattern:
    if script in ROMAN_SCRIPTS:
        parts = [
            r"\d?\s+".join(re.escape(w) for w in strip_tones(fold_roman(p)).split())
            for p in source.split(GAP)
        ]
        gap = rf"(\d?\s+(?:\S+\s+){{0,{ROMAN_GAP_WORDS}}}?)"
        body = gap.join(parts)
        regex = re.compile(rf"(?<![a-z]){body}\d?(?![a-z0-9])")
    elif script in HAN_SCRIPTS:
        parts = [re.escape(p.strip()) for p in source.split(GAP)]
        regex = re.compile(f"(.{{0,{HAN_GAP_CHARS}}}?)".join(parts))
    else:
        raise RuleError(
            f"unknown pattern script {script!r} (use one of {HAN_SCRIPTS + ROMAN_SCRIPTS})"
        )
    if not source.strip() or not regex.pattern:
        raise RuleError(f"empty pattern in script {script!r}")
    return Pattern(source, script, regex)


@dataclass(frozen=True)
class Category:
    """One red-flag category: its patterns, and optional all-of groups (every group must hit)."""

    id: str
    label: dict[str, str]
    patterns: tuple[Pattern, ...]
    all_of: tuple[tuple[Pattern, ...], ...] = ()


@dataclass(frozen=True)
class RuleSet:
    version: str
    categories: tuple[Category, ...]
    negation_han: tuple[str, ...]
    negation_roman: tuple[str, ...]
    hearsay_han: tuple[str, ...]
    hearsay_roman: tuple[str, ...]
    negation_window_han: int
    negation_window_words: int
    replies: dict[str, dict[str, str]] = field(default_factory=dict)
    review_keywords: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def category(self, cid: str) -> Category:
        for c in self.categories:
            if c.id == cid:
                return c
        raise KeyError(cid)

    def reply(self, key: str, script: str) -> str:
        return self.replies[key][script]


def _need(tree: dict, key: str, where: str):
    if key not in tree:
        raise RuleError(f"{where}: missing {key!r}")
    return tree[key]


def _compile_all(tree: dict, where: str) -> tuple[Pattern, ...]:
    out = []
    for script, items in tree.items():
        for s in items or []:
            if not isinstance(s, str):
                raise RuleError(f"{where}.{script}: pattern must be a string, got {s!r}")
            out.append(compile_pattern(s, script))
    return tuple(out)


def load_rules(path: Path | str = DEFAULT_RULES) -> RuleSet:
    """Load and compile a rule file (cached until the file changes); every problem names
    the file and the entry to fix."""
    path = Path(path)
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as exc:
        raise RuleError(f"{path}: cannot read rules: {exc}") from exc
    return _load_rules(path.resolve(), mtime)


@lru_cache(maxsize=8)
def _load_rules(path: Path, mtime_ns: int) -> RuleSet:
    try:
        tree = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RuleError(f"{path}: cannot read rules: {exc}") from exc
    if not isinstance(tree, dict):
        raise RuleError(f"{path}: the top level must be a mapping")
    cats = []
    seen: set[str] = set()
    for i, c in enumerate(_need(tree, "categories", str(path))):
        where = f"{path}: categories[{i}]"
        cid = _need(c, "id", where)
        if cid in seen:
            raise RuleError(f"{where}: duplicate category id {cid!r}")
        seen.add(cid)
        groups: dict[int, list[Pattern]] = {}
        for script, gl in (c.get("all_of") or {}).items():
            for g, alts in enumerate(gl):
                groups.setdefault(g, []).extend(compile_pattern(a, script) for a in alts)
        pats = _compile_all(c.get("patterns") or {}, f"{where}.patterns")
        if not pats and not groups:
            raise RuleError(f"{where} ({cid}): needs patterns or all_of")
        cats.append(
            Category(
                cid, dict(_need(c, "label", where)), pats, tuple(tuple(v) for v in groups.values())
            )
        )
    neg, hs = _need(tree, "negation", str(path)), _need(tree, "hearsay", str(path))
    replies = _need(tree, "replies", str(path))
    for key, by_script in replies.items():
        missing = [s for s in REPLY_SCRIPTS if s not in by_script]
        if missing:
            raise RuleError(f"{path}: replies.{key} lacks {missing}")
    return RuleSet(
        version=str(_need(tree, "version", str(path))),
        categories=tuple(cats),
        negation_han=tuple(neg.get("han", ())),
        negation_roman=tuple(fold_roman(x).strip() for x in neg.get("roman", ())),
        hearsay_han=tuple(hs.get("han", ())),
        hearsay_roman=tuple(strip_tones(fold_roman(x)).strip() for x in hs.get("roman", ())),
        negation_window_han=int(neg.get("window_han", 3)),
        negation_window_words=int(neg.get("window_words", 2)),
        replies=replies,
        review_keywords={
            "han": tuple(tree.get("review_keywords", {}).get("han", ())),
            "roman": tuple(
                strip_tones(fold_roman(x)).strip()
                for x in tree.get("review_keywords", {}).get("roman", ())
            ),
        },
    )
