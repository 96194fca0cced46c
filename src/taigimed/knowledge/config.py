"""Knowledge-base settings; values live in ``configs/*.yaml`` under ``knowledge:``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from taigimed.configbase import StrictModel
from taigimed.knowledge.decide import DECISION_PATH

DEMO_CARDS = Path(__file__).parent / "demo_cards"


class KnowledgeConfig(StrictModel):
    cards_dirs: list[Path] = Field(
        default_factory=lambda: [DEMO_CARDS],
        description="Folders of health-education cards (one YAML file per card, "
        "docs/knowledge.md); the shipped demo set by default. Relative paths are read from "
        "the current directory.",
    )
    require_reviewed: bool = Field(
        False,
        description="Refuse any card a clinician has not signed (review.status 'reviewed'): "
        "building, the gate and serving then fail closed on an unreviewed card.",
    )
    top_k: int = Field(3, ge=1, le=20, description="Cards retrieved per question.")
    decision_path: Path = Field(
        DECISION_PATH,
        description="The fitted answer-or-refuse decision (knowledge/decide.py) a build is "
        "served with; the shipped one was fitted on the read question sets for the demo cards "
        "(docs/knowledge.md). Its SHA-256 is part of the knowledge version.",
    )
    min_confidence: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Below this probability that the best card answers the question no card "
        "answers: the reply says there is no vetted information. None: the decision's own "
        "threshold (0.5). Higher refuses more.",
    )
    bm25_k1: float = Field(
        1.5, gt=0, description="BM25 term-frequency saturation (flat from 1.2 to 2.2 on dev)."
    )
    topic_boost: float = Field(
        2.0,
        ge=0,
        description="Weight of a second BM25 over each card's topic, titles and keywords, "
        "added to the full-text score (0: full text only). 2.0 lifted romanised recall@1 "
        "on the development questions (docs/evaluation.md).",
    )
    bm25_b: float = Field(0.75, ge=0, le=1, description="BM25 length normalisation.")
