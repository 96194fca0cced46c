"""The red-flag rule set: loading the versioned YAML and compiling it into matchers.

The rules are data (``rules/red_flags.yaml``): clinicians edit the YAML, bump its
``version``, and the version is stored with every trigger. Each category has

- ``taigi``: phrases written in Han or Tâi-lô; both the phrase and every message are read
  into the canonical form (:mod:`taigimed.safety.canonical`), so one phrase covers
  every Taigi script and mixes. An all-Han phrase also matches the Han text directly, so
  a reading the Han → Tâi-lô reader gets wrong on both sides still meets.
- ``mandarin``: phrases matched on the standardised Han text.
- ``combos``: lists of groups; the category fires when every group of one combo hits
  somewhere in the message (an infant word and a fever word).
- ``plan: true``: the combos are a plan (a means prepared and a time), and a preparation is
  told as done (藥都攢好了, í-king siá hó phue--ah): a past cue does not set them aside.

``…`` allows a gap of up to 3 syllables (canonical form) or 6 characters (Han).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from taigimed.safety.canonical import CLAUSE_SPLIT, canonical_clauses

__all__ = [
    "CLAUSE_SPLIT",
    "DEFAULT_RULES",
    "REPLY_SCRIPTS",
    "Category",
    "CueSet",
    "Pattern",
    "RuleError",
    "RuleSet",
    "fold_roman",
    "load_rules",
    "strip_tones",
]

DEFAULT_RULES = Path(__file__).parent / "rules" / "red_flags.yaml"
GAP = "…"
REPLY_SCRIPTS = ("taigi_han", "tailo", "poj", "mandarin_traditional", "mandarin_simplified")
HAN_GAP_CHARS = 6
CANON_GAP_TOKENS = 3
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


class RuleError(ValueError):
    """A rule file that cannot be used; the message names the file and the entry."""


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
    return letters.replace("oo", "o") + tone


def fold_roman(text: str) -> str:
    """Fold romanised text for keyword lookups: lower case, hyphens as spaces, the tone
    as a trailing digit (the review gate's keywords).

    >>> fold_roman("Hing1-kham2 tsin thiànn, góa ê heng-khám")
    'hing1 kham2 tsin thiann3, goa2 e5 heng kham2'
    """
    text = unicodedata.normalize("NFD", text.lower()).replace("\u207f", "nn").replace("\u0358", "o")
    text = re.sub(r"(?<![a-z0-9])0(?=[a-z])", "", text)
    text = re.sub(r"[a-z][a-z\u0300-\u036f]*", _fold_word, text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"-+", " ", text)
    return re.sub(r"[ \t]+", " ", text)


def strip_tones(folded: str) -> str:
    return re.sub(r"(?<=[a-z])\d", "", folded)


@dataclass(frozen=True)
class Pattern:
    """One compiled phrase. ``script`` is ``taigi`` (canonical form) or ``han`` (Han text);
    ``tones`` are the canonical phrase's tones (for single-syllable negation cues)."""

    source: str
    script: str
    regex: re.Pattern[str]
    tones: tuple[int | None, ...] = ()
    # A literal the text must contain for the regex to match: a cheap test first.
    needle: str = ""
    # The needle's first syllable (canonical) or character (Han): a set lookup first.
    first: str = ""
    # Pinyin patterns: characters that must stand as written in the matched span.
    exact: tuple[str, ...] = ()

    @property
    def canonical(self) -> bool:
        return self.script == "taigi"


def _canon_tokens(text: str, variants: dict[str, str]) -> tuple[tuple[str, ...], tuple]:
    """A phrase or cue of the rule file, whose Tâi-lô always writes its tones."""
    clauses = canonical_clauses(text, variants, marked=True)
    syls = tuple(s for c in clauses for s in c.syllables)
    tones = tuple(t for c in clauses for t in c.tones)
    return syls, tones


def compile_canonical(source: str, variants: dict[str, str]) -> Pattern:
    parts, tones, literal = [], [], []
    for piece in source.split(GAP):
        syls, ts = _canon_tokens(piece, variants)
        if not syls:
            raise RuleError(f"phrase {source!r} has an empty part")
        parts.append(" ".join(re.escape(s) for s in syls))
        literal.append(f" {' '.join(syls)} ")
        tones.extend(ts)
    gap = rf"((?: \S+){{0,{CANON_GAP_TOKENS}}}) "
    body = parts[0] + "".join(gap + p for p in parts[1:]) if len(parts) > 1 else parts[0]
    regex = re.compile(rf"(?<!\S){body}(?!\S)")
    needle = max(literal, key=len)
    return Pattern(source, "taigi", regex, tuple(tones), needle, needle.split()[0])


def compile_han(source: str) -> Pattern:
    if source.startswith("re:"):
        # A raw expression for the few phrases a gap cannot say (沒有呼吸 but not 沒有呼吸困難).
        try:
            regex = re.compile(source[3:])
        except re.error as exc:
            raise RuleError(f"phrase {source!r}: bad expression: {exc}") from exc
        literal = re.sub(r"\(.*", "", source[3:]).lower()
        return Pattern(source, "han", regex, (), literal[:1], literal[:1])
    parts = [re.escape(p.strip()) for p in source.split(GAP)]
    if not all(parts):
        raise RuleError(f"phrase {source!r} has an empty part")
    gap = f"(.{{0,{HAN_GAP_CHARS}}}?)"
    # A Latin phrase written among the Mandarin ones (CPR, AED) matches as a word.
    regex = re.compile(gap.join(parts), re.IGNORECASE)
    literal = max((p.strip().lower() for p in source.split(GAP)), key=len)
    return Pattern(source, "han", regex, (), literal, literal[:1])


def compile_pinyin(source: str) -> Pattern | None:
    """A Mandarin phrase of Han characters read as toneless pinyin (homophones of
    dictation, :mod:`taigimed.safety.pinyin`); None for short or non-Han phrases."""
    from taigimed.safety.pinyin import MIN_SYLLABLES, pinyin_tokens

    parts = [p.strip() for p in source.split(GAP)]
    if (
        source.startswith("re:")
        or not all(parts)
        or not all(_HAN.match(c) for p in parts for c in p)
    ):
        return None
    if sum(len(p) for p in parts) < MIN_SYLLABLES:
        return None
    syls = [pinyin_tokens(p) for p in parts]
    gap = rf"((?: \S+){{0,{HAN_GAP_CHARS}}}) "
    body = gap.join(" ".join(re.escape(x) for x in part) for part in syls)
    regex = re.compile(rf"(?<!\S){body}(?!\S)")
    longest = max(syls, key=len)
    # One toneless syllable beside a gap stands for too many characters (血糖…低 would hear
    # 降血糖藥本底, dǐ, as "sugar low"): such a part must be written as it is.
    exact = tuple(p for p in parts if len(p) == 1) if len(parts) > 1 else ()
    return Pattern(source, "pinyin", regex, (), f" {' '.join(longest)} ", longest[0], exact)


def _compile_group(tree: dict, where: str, variants: dict[str, str]) -> tuple[Pattern, ...]:
    if not isinstance(tree, dict):
        raise RuleError(f"{where}: a group is a mapping of taigi/mandarin phrase lists")
    unknown = set(tree) - {"taigi", "mandarin"}
    if unknown:
        raise RuleError(f"{where}: unknown keys {sorted(unknown)} (use taigi, mandarin)")
    out: list[Pattern] = []
    for script in ("taigi", "mandarin"):
        for s in tree.get(script) or []:
            if not isinstance(s, str) or not s.strip():
                raise RuleError(f"{where}.{script}: phrase must be a non-empty string, got {s!r}")
            try:
                if script == "taigi" and s.startswith("re:"):
                    raise RuleError(f"phrase {s!r}: expressions are for Mandarin phrases only")
                if script == "taigi":
                    # One Han character read as one toneless syllable meets too many others
                    # (昏 hun is also 分 in 四分之一): it matches as written only.
                    if not (len(s) == 1 and _HAN.match(s)):
                        out.append(compile_canonical(s, variants))
                    if all(_HAN.match(ch) or ch == GAP for ch in s):
                        out.append(compile_han(s))
                else:
                    out.append(compile_han(s))
                    if (pin := compile_pinyin(s)) is not None:
                        out.append(pin)
            except RuleError as exc:
                raise RuleError(f"{where}.{script}: {exc}") from exc
    return tuple(out)


@dataclass(frozen=True)
class CueSet:
    """Cue words of one kind: canonical syllable sequences (with tones) and Han strings."""

    canon: tuple[tuple[tuple[str, ...], tuple[int | None, ...]], ...]
    han: tuple[str, ...]


@dataclass(frozen=True)
class Category:
    id: str
    label: dict[str, str]
    patterns: tuple[Pattern, ...]
    combos: tuple[tuple[tuple[Pattern, ...], ...], ...] = ()
    plan: bool = False


@dataclass(frozen=True)
class RuleSet:
    version: str
    categories: tuple[Category, ...]
    variants: dict[str, str]
    negation: CueSet
    not_negation: CueSet
    past: CueSet
    hearsay: CueSet
    general: CueSet
    now: CueSet
    person: CueSet
    negation_window: int = 4
    # Optional: an event dealt with (出院, 已經好, 喝了糖水), and "it is back" (又發作).
    resolved: CueSet | None = None
    again: CueSet | None = None
    lifelong: CueSet | None = None
    earlier_day: CueSet | None = None
    aftercare: CueSet | None = None
    new_event: CueSet | None = None
    ongoing: CueSet | None = None
    logistics: CueSet | None = None
    lookalike: CueSet | None = None
    not_past: CueSet | None = None
    onset: CueSet | None = None
    hypothetical: CueSet | None = None
    # A worry about some day, a prevention, and "now and well" (safety/triage._ahead_from).
    worry: CueSet | None = None
    someday: CueSet | None = None
    prevent: CueSet | None = None
    imagined: CueSet | None = None
    suppose: CueSet | None = None
    choice: CueSet | None = None
    # Past cues told after what they qualify (心肌梗塞走的, 好了): they reach back in a
    # run-on clause too (safety/triage._run_on).
    past_after: CueSet | None = None
    # What was said at the time (伊當時講無代誌): an earlier "it was nothing" does not settle.
    said_then: CueSet | None = None
    well: CueSet | None = None
    # Laughter or an exasperated cry (哈哈, ha-ha, 笑死, khì sí--lâng) in a message: an "about
    # to" of death, fainting or the heart stopping in it (cues.jest: 心臟快停了, kiōng-beh
    # hūn-tó) is a joke (safety/triage.py).
    joking: CueSet | None = None
    jest: CueSet | None = None
    # A speech trait (口吃, kat-kat): 大舌 beside it is no stroke sign.
    speech_trait: CueSet | None = None
    slurred: CueSet | None = None
    # Asking how to tell two things apart (按怎分, 怎麼分辨): the clause before is a comparison.
    distinguish: CueSet | None = None
    # A generic subject (中風的人愛, ê lâng ài): a general question even with a person named.
    generic: CueSet | None = None
    # A stranger told of (有個阿伯, ū tsi̍t ê): third-person pronouns (他, 她) may be theirs.
    stranger: CueSet | None = None
    third_person: CueSet | None = None
    # Learning first aid: a frame later turns keep (safety/conversation.py).
    learning: CueSet | None = None
    # The writer moved by a story (哭到衛生紙用了了, khuànn kah ba̍k-sái lâu): a viewer, like a
    # learner, is nobody the story happens to (safety/triage.py).
    moved: CueSet | None = None
    # A question put to the patient, told with the answer (問伊遮是佗位，伊講毋知): not the
    # writer asking (safety/conversation.py).
    reported_question: CueSet | None = None
    answered: CueSet | None = None
    # The writer turning to himself (我也, guá mā): a story's hearsay stops there.
    first_person: CueSet | None = None
    # An everyday health question, and words asking for help now (safety/inquiry.py).
    inquiry: CueSet | None = None
    urgent: CueSet | None = None
    # A question asked by its words, and a habit told (safety/inquiry.py).
    asking: CueSet | None = None
    habitual: CueSet | None = None
    alarm: CueSet | None = None
    # A resolution told after the event, and words that make it doubtful
    # (safety/resolution.py).
    resolved_after: CueSet | None = None
    resolution_doubt: CueSet | None = None
    # Condition names that an everyday question may have as its topic (phrases as written
    # in the categories), and words saying it has just happened or is suspected.
    topic: frozenset[str] = frozenset()
    having: CueSet | None = None
    suspected: CueSet | None = None
    idiom: CueSet | None = None
    # Degree idioms as expressions: (Han text, canonical joined syllables).
    idiom_re: tuple[tuple[re.Pattern[str], ...], tuple[re.Pattern[str], ...]] = ((), ())
    # Look-alikes as expressions (粉倒出來: 倒 "pour" before 出/進/掉), same shape.
    lookalike_re: tuple[tuple[re.Pattern[str], ...], tuple[re.Pattern[str], ...]] = ((), ())
    # Speech-to-text homophones replaced in the Han text before matching (終風 → 中風).
    homophones: dict[str, str] = field(default_factory=dict)
    # English words of code-mixed messages heard in Han (chest pain → 胸口痛): one expression
    # for them all, and the Han of each (its key in lower case).
    english_re: re.Pattern[str] | None = None
    english: dict[str, str] = field(default_factory=dict)
    dose_medicine: CueSet | None = None
    # A Latin word ending in a medicine's INN stem (amlodipine, metformin): a medicine named.
    dose_medicine_stems: re.Pattern[str] | None = None
    dose_ask: CueSet | None = None
    dose_ask_alone: CueSet | None = None
    # A missed dose, and words that make it a question about remembering (safety/dose.py).
    dose_forgot: CueSet | None = None
    dose_adherence: CueSet | None = None
    # May / must one take it (可以, kám ài) and a way of taking it (吃, 點, 磨, thîng):
    # together, a question about how to take a medicine (safety/dose.py).
    dose_modal: CueSet | None = None
    dose_take: CueSet | None = None
    dose_may_i: CueSet | None = None
    dose_not_amount: CueSet | None = None
    # Pills hard to swallow as a standing trouble (每次都卡在喉嚨): beside a question on how to
    # take them, a choking word is no emergency (safety/conversation.py).
    dose_swallowing: CueSet | None = None
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
    if not isinstance(tree, dict) or key not in tree:
        raise RuleError(f"{where}: missing {key!r}")
    return tree[key]


def _stems(stems, where: str) -> re.Pattern[str] | None:
    """``dose_intent.medicine_stems``: one expression for a Latin word ending in one of the
    stems, or the stem alone (a class named: statin, statins). A stem must be lower-case
    letters."""
    if not stems:
        return None
    if not isinstance(stems, list) or not all(
        isinstance(x, str) and re.fullmatch(r"[a-z]{3,}", x) for x in stems
    ):
        raise RuleError(f"{where}: a list of lower-case stems of three letters or more")
    alternatives = "|".join(sorted(stems, key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z])[A-Za-z]*(?:{alternatives})s?(?![A-Za-z])", re.I)


def _cues(tree: dict, where: str, variants: dict[str, str]) -> CueSet:
    canon, han = [], []
    for s in tree.get("taigi") or []:
        canon.append(_canon_tokens(s, variants))
        if all(_HAN.match(ch) for ch in s):
            han.append(s)
    han.extend(tree.get("mandarin") or [])
    if not canon and not han:
        raise RuleError(f"{where}: no cue words")
    return CueSet(tuple(canon), tuple(han))


def _labels(label: dict, where: str) -> dict[str, str]:
    """Labels are written in Taigi Han, Tâi-lô and Traditional Mandarin; POJ and
    Simplified are derived (thokit, OpenCC) so the five reply scripts always have one."""
    for key in ("taigi_han", "tailo", "mandarin_traditional"):
        if key not in label:
            raise RuleError(f"{where}: label lacks {key!r}")
    out = dict(label)
    if "poj" not in out:
        from taigimed.text.romanize import _thokit

        out["poj"] = _thokit().tailoUnicode2PojUnicode(label["tailo"])
    if "mandarin_simplified" not in out:
        import opencc

        out["mandarin_simplified"] = opencc.OpenCC("t2s").convert(label["mandarin_traditional"])
    return out


def _idiom_res(
    tree, path: Path, key_name: str = "idiom_expressions"
) -> tuple[tuple[re.Pattern[str], ...], ...]:
    """``cues.idiom_expressions`` (or ``cues.lookalike_expressions``): ``han`` expressions
    on the standardised text and ``canonical`` ones on the toneless syllables joined by
    spaces."""
    out = []
    for key in ("han", "canonical"):
        compiled = []
        for x in tree.get(key) or []:
            try:
                compiled.append(re.compile(x, re.IGNORECASE))
            except (re.error, TypeError) as exc:
                raise RuleError(f"{path}: cues.{key_name}.{key}: {x!r}: {exc}") from exc
        out.append(tuple(compiled))
    return tuple(out)


def _homophones(tree, path: Path) -> dict[str, str]:
    if not isinstance(tree, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and k and v for k, v in tree.items()
    ):
        raise RuleError(f"{path}: homophones must map non-empty strings to strings")
    return dict(tree)


def _english(tree, path: Path) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    """English words as whole words, any case (``now`` is not in ``know``), the longest first
    so ``sleeping pills`` is read before ``sleeping pill``: one expression, one pass."""
    if not isinstance(tree, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and k.strip() and v for k, v in tree.items()
    ):
        raise RuleError(f"{path}: english must map non-empty English words to Han")
    if not tree:
        return None, {}
    words = sorted(tree, key=len, reverse=True)
    alternatives = "|".join(re.escape(w) for w in words)
    pattern = re.compile(rf"(?<![A-Za-z])(?:{alternatives})(?![A-Za-z])", re.IGNORECASE)
    return pattern, {w.lower(): tree[w] for w in words}


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
    variants = {str(k): str(v) for k, v in (tree.get("variants") or {}).items()}
    cats = []
    seen: set[str] = set()
    for i, c in enumerate(_need(tree, "categories", str(path))):
        where = f"{path}: categories[{i}]"
        cid = _need(c, "id", where)
        if cid in seen:
            raise RuleError(f"{where}: duplicate category id {cid!r}")
        seen.add(cid)
        pats = _compile_group(
            {k: c[k] for k in ("taigi", "mandarin") if k in c}, f"{where} ({cid})", variants
        )
        combos = tuple(
            tuple(
                _compile_group(g, f"{where} ({cid}).combos[{j}][{k}]", variants)
                for k, g in enumerate(combo)
            )
            for j, combo in enumerate(c.get("combos") or [])
        )
        if not pats and not combos:
            raise RuleError(f"{where} ({cid}): needs taigi/mandarin phrases or combos")
        plan = c.get("plan", False)
        if not isinstance(plan, bool):
            raise RuleError(f"{where} ({cid}): plan must be true or false, not {plan!r}")
        cats.append(Category(cid, _labels(_need(c, "label", where), where), pats, combos, plan))
    cues = _need(tree, "cues", str(path))
    replies = _need(tree, "replies", str(path))
    for key, by_script in replies.items():
        missing = [s for s in REPLY_SCRIPTS if s not in by_script]
        if missing:
            raise RuleError(f"{path}: replies.{key} lacks {missing}")
    for key in ("emergency", "suicide", "detected", "disclaimer", "dose_question"):
        if key not in replies:
            raise RuleError(f"{path}: replies lacks {key!r}")
    rk = tree.get("review_keywords", {})
    english_re, english = _english(tree.get("english") or {}, path)
    return RuleSet(
        version=str(_need(tree, "version", str(path))),
        categories=tuple(cats),
        variants=variants,
        **{
            k: _cues(_need(cues, k, f"{path}: cues"), f"{path}: cues.{k}", variants)
            for k in ("negation", "not_negation", "past", "hearsay", "general", "now", "person")
        },
        negation_window=int(cues["negation"].get("window_tokens", 4)),
        **{
            k: _cues(cues[k], f"{path}: cues.{k}", variants) if k in cues else None
            for k in (
                "resolved",
                "again",
                "onset",
                "lifelong",
                "earlier_day",
                "aftercare",
                "new_event",
                "ongoing",
                "logistics",
                "lookalike",
                "not_past",
                "hypothetical",
                "worry",
                "someday",
                "prevent",
                "imagined",
                "suppose",
                "choice",
                "past_after",
                "said_then",
                "well",
                "joking",
                "jest",
                "speech_trait",
                "slurred",
                "generic",
                "distinguish",
                "stranger",
                "third_person",
                "learning",
                "moved",
                "reported_question",
                "answered",
                "first_person",
                "inquiry",
                "urgent",
                "asking",
                "habitual",
                "alarm",
                "resolved_after",
                "resolution_doubt",
                "having",
                "suspected",
            )
        },
        # An idiom written in Mandarin is also found in the canonical view (氣到吐血 read as
        # Taigi meets the Taigi phrase thòo-hueh).
        idiom=_cues(
            {
                "taigi": [
                    *(cues["idiom"].get("taigi") or []),
                    *(cues["idiom"].get("mandarin") or []),
                ],
                "mandarin": cues["idiom"].get("mandarin") or [],
            },
            f"{path}: cues.idiom",
            variants,
        )
        if "idiom" in cues
        else None,
        topic=frozenset(
            str(w) for k in ("taigi", "mandarin") for w in (cues.get("topic") or {}).get(k) or []
        ),
        idiom_re=_idiom_res(cues.get("idiom_expressions") or {}, path),
        lookalike_re=_idiom_res(
            cues.get("lookalike_expressions") or {}, path, "lookalike_expressions"
        ),
        homophones=_homophones(tree.get("homophones") or {}, path),
        english_re=english_re,
        english=english,
        dose_medicine=_cues(
            _need(_need(tree, "dose_intent", str(path)), "medicine", f"{path}: dose_intent"),
            f"{path}: dose_intent.medicine",
            variants,
        ),
        dose_medicine_stems=_stems(
            tree["dose_intent"].get("medicine_stems"), f"{path}: dose_intent.medicine_stems"
        ),
        dose_ask=_cues(
            _need(tree["dose_intent"], "ask", f"{path}: dose_intent"),
            f"{path}: dose_intent.ask",
            variants,
        ),
        dose_ask_alone=_cues(
            _need(tree["dose_intent"], "ask_alone", f"{path}: dose_intent"),
            f"{path}: dose_intent.ask_alone",
            variants,
        ),
        **{
            f"dose_{k}": _cues(tree["dose_intent"][k], f"{path}: dose_intent.{k}", variants)
            if k in tree["dose_intent"]
            else None
            for k in ("forgot", "adherence", "modal", "take", "may_i", "not_amount", "swallowing")
        },
        replies=replies,
        review_keywords={
            "han": tuple(rk.get("han", ())),
            "roman": tuple(strip_tones(fold_roman(x)).strip() for x in rk.get("roman", ())),
        },
    )
