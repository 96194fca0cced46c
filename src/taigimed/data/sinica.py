"""Academia Sinica Han-Lo sentence corpus: each token ``漢字｜tâi-lô`` (``老-母｜lau7-bu2``).

Every sentence is rebuilt twice: as Han text (hyphens dropped) and as diacritic
Tâi-lô (numeric tones converted, hyphens kept). Punctuation tokens carry ASCII on the
Tâi-lô side in some sentences and full-width in others (``。｜.`` vs ``。｜。``); both
texts take the Han side's full-width mark, glued to the word before it as in the
Ministry of Education's Tâi-lô.
"""

from __future__ import annotations

import gzip
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

from taigimed.data.config import DataConfig
from taigimed.data.report import SourceReport
from taigimed.text import fold_width, normalize_unicode
from taigimed.text.tailo import numeric_to_diacritic

_WORDISH_RE = re.compile(r"[\w\u4e00-\u9fff\U00020000-\U0003ffff]")
_OPENING = set("「『《（(\"'")
# Hyphens link the syllables of a Han word (老-母); Latin words (Dalai-Lama) keep theirs.
_HAN_HYPHEN_RE = re.compile(r"-(?=[^\x00-\x7f])|(?<=[^\x00-\x7f])-")


@lru_cache(maxsize=500_000)
def _token(token: str) -> tuple[str, str, bool, bool] | None:
    """``(han, tailo, is_punctuation, punctuation_differed)`` of one ``漢字｜tâi-lô`` token.

    Cached: ~900k tokens in the corpus but only tens of thousands distinct, so each is
    standardised and romanised once.
    """
    han, sep, tl = token.partition("｜")
    if not sep or not han or not tl or "｜" in tl:
        return None
    han = fold_width(normalize_unicode(han))
    if not _WORDISH_RE.search(han):  # a punctuation token: the Han side's mark wins
        return han, han, True, tl != han
    return _HAN_HYPHEN_RE.sub("", han), numeric_to_diacritic(normalize_unicode(tl)), False, False


def _latin_edge(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _join(words: list[tuple[str, bool]], spaced: bool) -> str:
    """Join (text, is_punctuation) words: punctuation glues to its neighbour; words are
    separated by a space in Tâi-lô, and in Han only between two Latin/digit words."""
    parts: list[str] = []
    glue_next = True
    for text, is_punct in words:
        if is_punct:
            opening = text in _OPENING
            if opening and parts and spaced:
                parts.append(" ")
            parts.append(text)
            # Full-width marks carry their own spacing; ASCII ones take a space after.
            glue_next = opening or not text.isascii()
            continue
        if (
            parts
            and not glue_next
            and (spaced or (_latin_edge(parts[-1][-1]) and _latin_edge(text[0])))
        ):
            parts.append(" ")
        parts.append(text)
        glue_next = False
    return "".join(parts)


def parse_sentence(line: str) -> tuple[str, str, bool] | None:
    """``(han, tailo, punctuation_unified)`` of one corpus line, or None if a token
    lacks its Tâi-lô half."""
    han_words: list[tuple[str, bool]] = []
    tl_words: list[tuple[str, bool]] = []
    unified = False
    for raw in line.split():
        token = _token(raw)
        if token is None:
            return None
        han, tl, is_punct, differed = token
        unified |= differed
        han_words.append((han, is_punct))
        tl_words.append((tl, is_punct))
    if not han_words:
        return None
    return _join(han_words, spaced=False), _join(tl_words, spaced=True), unified


def _han_words(line: str) -> list[str]:
    """The sentence's Han words (punctuation left out), as the corpus segments them: the
    cloze set blanks one of them."""
    words = []
    for raw in line.split():
        token = _token(raw)
        if token is not None and not token[2]:
            words.append(token[0])
    return words


def _lines(path: Path, report: SourceReport):
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as f:
            yield from enumerate(f, 1)
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        report.bad_row(str(path), f"cannot read the Sinica file ({exc})")


def load_sinica(
    path: Path, cfg: DataConfig, report: SourceReport, source: str = "sinica"
) -> list[dict]:
    """Sentences ``{id, source, han, tailo}`` after cleaning and filters."""
    raw: list[tuple[int, str]] = []
    for lineno, line in _lines(path, report):
        line = line.strip()
        if not line:
            continue
        if cfg.max_rows_per_source is not None and report.read >= cfg.max_rows_per_source:
            break
        report.read += 1
        raw.append((lineno, line))

    # News bylines ("民視新聞報導") repeat thousands of times; exact repeats beyond a few
    # are boilerplate, not language, so every copy goes.
    counts = Counter(line for _, line in raw)
    kept = [(n, line) for n, line in raw if counts[line] <= cfg.byline_max_repeats]
    report.drop("repeated_byline", len(raw) - len(kept))
    # Serial on purpose: the per-token cache makes this cheap, and worker processes
    # would each rebuild it (measured: 2 workers cost 5 s more CPU than they saved).
    parsed_all = [parse_sentence(line) for _, line in kept]
    rows: list[dict] = []
    for (lineno, raw_line), parsed in zip(kept, parsed_all, strict=True):
        if parsed is None:
            report.drop("token_without_tailo")
            continue
        han, tailo, unified = parsed
        if unified:
            report.cleaned["mixed_punctuation_unified"] += 1
        n_han = len(_WORDISH_RE.findall(han))
        if n_han < cfg.min_sentence_chars:
            report.drop("too_short")
            continue
        if len(han) > cfg.max_sentence_chars:
            report.drop("too_long")
            continue
        if re.search(r"[0-9]", tailo) and re.search(r"[a-z][1-9](?:[-\s]|$)", tailo):
            report.flagged["numeric_tone_left"] += 1
        rows.append(
            {
                "id": f"{source}-{lineno:06d}",
                "source": source,
                "han": han,
                "tailo": tailo,
                "words": _han_words(raw_line),
            }
        )
    return rows
