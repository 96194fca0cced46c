"""Health-education cards: the format, and the checks every card passes before it is used.

A card is one YAML file (``<id>.yaml``) with a title, a text and key facts in Taiwan
Mandarin, Taigi Han and Tâi-lô, the public source it follows, its clinical review and an
expiry date (docs/knowledge.md). ``load_cards`` reads folders of them and refuses, with
every problem named by file and field:

- a schema error (missing field, empty text, bad id, a link that is not http(s));
- a medicine dose or amount anywhere (the service never doses; ``safety.dose``);
- a phone-like number that is not a known public line (119, 1925, 0800-63-63-63, 1966):
  cards never invent hotlines;
- an expired card, and with ``require_reviewed`` an unreviewed one (fail closed).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from taigimed.configbase import StrictModel

CARD_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Public lines a card may name (docs/knowledge.md says where each comes from).
KNOWN_LINES = frozenset({"119", "1925", "0800-63-63-63", "1966"})
# A phone-like number: four or more digits, or digit groups joined by hyphens.
_PHONE_LIKE = re.compile(r"(?<![\d.])\d{2,}(?:-\d{2,})+(?![\d.])|(?<![\d.])\d{4,}(?![\d.])")


class CardError(ValueError):
    """Cards that cannot be used; the message lists every problem by file and field."""


class Texts(StrictModel):
    """One text in the three scripts a card is written in."""

    mandarin: str = Field(description="Taiwan Mandarin, Traditional characters.")
    taigi_han: str = Field(description="Taigi in Han characters (MOE recommended characters).")
    tailo: str = Field(description="The same Taigi in Tâi-lô with tone diacritics.")

    @field_validator("mandarin", "taigi_han", "tailo")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be empty")
        return v.strip()


class Source(StrictModel):
    publisher: str = Field(min_length=2, description="The public body that published it.")
    title: str = Field(min_length=2, description="The page, leaflet or guideline followed.")
    year: int = Field(ge=1990, le=2100, description="Year of that publication.")
    url: str = Field(pattern=r"^https?://\S+$", description="Where to find it.")


class Review(StrictModel):
    status: Literal["unreviewed", "reviewed"]
    reviewer: str | None = None
    reviewed_on: date | None = None

    @model_validator(mode="after")
    def _signed(self) -> Review:
        if self.status == "reviewed" and not (self.reviewer and self.reviewed_on):
            raise ValueError("a reviewed card names its reviewer and reviewed_on date")
        return self


class Keywords(StrictModel):
    """Words people use for the card's topic that its text may not: folk names (皮蛇 for
    shingles), body parts, what carers see. Matched by retrieval, never shown."""

    mandarin: list[str] = Field(default_factory=list)
    taigi_han: list[str] = Field(default_factory=list)
    tailo: list[str] = Field(default_factory=list)


class Card(StrictModel):
    id: str = Field(pattern=CARD_ID.pattern, max_length=64)
    topic: str = Field(min_length=2)
    title: Texts
    text: Texts
    key_facts: list[Texts] = Field(min_length=1, max_length=8)
    keywords: Keywords = Field(default_factory=Keywords)
    source: Source
    review: Review
    expires: date

    @property
    def reviewed(self) -> bool:
        return self.review.status == "reviewed"

    def strings(self) -> Iterable[tuple[str, str]]:
        """(field path, text) for every text the card holds."""
        for name in ("title", "text"):
            for script, value in getattr(self, name).model_dump().items():
                yield f"{name}.{script}", value
        for i, fact in enumerate(self.key_facts):
            for script, value in fact.model_dump().items():
                yield f"key_facts[{i}].{script}", value
        for script, words in self.keywords.model_dump().items():
            for i, word in enumerate(words):
                yield f"keywords.{script}[{i}]", word


@dataclass(frozen=True)
class CardSet:
    """Cards that passed every check, in id order, with the files they came from."""

    cards: tuple[Card, ...]
    files: tuple[Path, ...]

    def by_id(self) -> dict[str, Card]:
        return {c.id: c for c in self.cards}

    @property
    def unreviewed(self) -> list[str]:
        return [c.id for c in self.cards if not c.reviewed]


def content_problems(card: Card) -> list[str]:
    """What a schema cannot see: doses and unknown phone numbers."""
    from taigimed.safety.dose import DOSE_RE

    problems = []
    for where, text in card.strings():
        if m := DOSE_RE.search(text):
            problems.append(f"{where}: a medicine amount ({m.group(0)!r}); cards never dose")
        for m in _PHONE_LIKE.finditer(text):
            if m.group(0) not in KNOWN_LINES:
                problems.append(
                    f"{where}: {m.group(0)!r} looks like a phone number that is not a known "
                    f"public line ({', '.join(sorted(KNOWN_LINES))})"
                )
    return problems


def _read(path: Path) -> tuple[Card | None, list[str]]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return None, [f"cannot read: {exc}"]
    if not isinstance(raw, dict):
        return None, ["not a mapping of card fields"]
    try:
        card = Card.model_validate(raw)
    except ValidationError as exc:
        return None, [
            f"{'.'.join(str(p) for p in e['loc']) or '(card)'}: {e['msg']}" for e in exc.errors()
        ]
    problems = content_problems(card)
    if card.id != path.stem:
        problems.append(f"id {card.id!r} must equal the file name {path.stem!r}")
    return card, problems


def load_cards(
    folders: Sequence[Path], *, require_reviewed: bool = False, today: date | None = None
) -> CardSet:
    """Every ``*.yaml`` card in ``folders``; raises ``CardError`` listing every problem."""
    today = today or date.today()
    cards: dict[str, Card] = {}
    files: list[Path] = []
    errors: list[str] = []
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            errors.append(f"{folder}: no such folder of cards (knowledge.cards_dirs)")
            continue
        for path in sorted(folder.glob("*.yaml")):
            card, problems = _read(path)
            if card is not None:
                if card.expires < today:
                    problems.append(f"expired on {card.expires}; renew or remove the card")
                if require_reviewed and not card.reviewed:
                    problems.append(
                        "not reviewed by a clinician (knowledge.require_reviewed is on)"
                    )
                if card.id in cards:
                    problems.append(f"id {card.id!r} is used by another card too")
            errors.extend(f"{path}: {p}" for p in problems)
            if card is not None and not problems:
                cards[card.id] = card
                files.append(path)
    if errors:
        raise CardError(f"{len(errors)} problem(s) in the cards:\n  " + "\n  ".join(errors))
    if not cards:
        raise CardError(f"no cards found in {', '.join(map(str, folders))}")
    ordered = sorted(cards.values(), key=lambda c: c.id)
    return CardSet(tuple(ordered), tuple(sorted(files)))
