"""The knowledge base as a versioned data product: build it, load it, ask it.

    taigimed data prepare          # builds WORKDIR/knowledge/<version>/ beside the datasets

``build_knowledge`` validates the cards (``knowledge.cards``), indexes them
(``knowledge.index``) and publishes one folder, named by a content hash of the card
files, the retrieval settings, the term version and the answer decision, so the same cards
always give the same version and an interrupted build never leaves a half-written one:

    cards.jsonl   the validated cards, one JSON object per line
    index/        the BM25 index (``Index.save``)
    decision.json the answer-or-refuse decision (``knowledge.decide``) it is served with
    manifest.json version, card count, unreviewed ids, sources, each file's sha256
    DATA_CARD.md  what the set is, where it came from, and that demo cards are unreviewed

``WORKDIR/knowledge/current.json`` names the newest build. ``KnowledgeBase.load`` reads a
folder back, checks each file's sha256 and, with ``require_reviewed``, fails closed on an
unreviewed card.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from taigimed import __version__
from taigimed.artifacts import (
    file_sha256,
    fingerprint,
    publish_dir,
    write_json_atomic,
    write_text_atomic,
)
from taigimed.knowledge.cards import Card, CardError, CardSet, load_cards
from taigimed.knowledge.config import KnowledgeConfig
from taigimed.knowledge.decide import DECISION_FILE, SEARCH_DEPTH, AnswerDecision, DecisionError
from taigimed.knowledge.index import Hit, Index
from taigimed.knowledge.terms import TERMS_VERSION
from taigimed.workdir import Workdir

log = logging.getLogger("taigimed.knowledge")
CURRENT = "current.json"
MANIFEST = "manifest.json"
CARDS = "cards.jsonl"


def knowledge_dir(workdir: Workdir) -> Path:
    return workdir.root / "knowledge"


def card_document(card: Card) -> str:
    """What the index matches a card on: titles twice (they name the topic), texts, facts,
    and the keywords (one per line, so each is its own clause for syllable bigrams)."""
    parts = [card.topic]
    for texts in (card.title, card.title, card.text, *card.key_facts):
        parts += [texts.mandarin, texts.taigi_han, texts.tailo]
    k = card.keywords
    parts += [*k.mandarin, *k.taigi_han, *k.tailo]
    return "\n".join(parts)


def card_topic(card: Card) -> str:
    """What people call a card's subject: its topic, titles and keywords (the boosted field)."""
    k = card.keywords
    t = card.title
    return "\n".join(
        [card.topic, t.mandarin, t.taigi_han, t.tailo, *k.mandarin, *k.taigi_han, *k.tailo]
    )


def knowledge_version(cfg: KnowledgeConfig, cards: CardSet) -> str:
    payload = {
        "cards": [[p.name, file_sha256(p)] for p in cards.files],
        "k1": cfg.bm25_k1,
        "b": cfg.bm25_b,
        "topic_boost": cfg.topic_boost,
        "terms": TERMS_VERSION,
        "decision": file_sha256(cfg.decision_path),
    }
    return fingerprint(payload)[:12]


def build_index(cfg: KnowledgeConfig, cards: list[Card]) -> Index:
    """The BM25 index over ``cards`` with the configured settings."""
    return Index.build(
        [(c.id, card_document(c)) for c in cards],
        cfg.bm25_k1,
        cfg.bm25_b,
        topics=[card_topic(c) for c in cards],
        boost=cfg.topic_boost,
    )


def _data_card(manifest: dict) -> str:
    unreviewed = manifest["unreviewed"]
    review = (
        f"**{len(unreviewed)} of {manifest['cards']} cards are UNREVIEWED**: no clinician has "
        "signed them. The page shows this under every answer from them, and a deployment "
        "with `knowledge.require_reviewed: true` refuses them."
        if unreviewed
        else "Every card was reviewed by a clinician (see each card's `review`)."
    )
    publishers = "\n".join(f"- {p}: {n} card(s)" for p, n in manifest["publishers"].items())
    return f"""# Knowledge base {manifest["version"]}

Health-education cards for TaigiMed's `cards` and `rag` answer modes (docs/knowledge.md).
Each card answers one everyday question in Taiwan Mandarin, Taigi Han and Tâi-lô, names
the public source it follows, and never gives a medicine dose.

- Cards: {manifest["cards"]}, topics: {len(manifest["topics"])}
- Built: {manifest["built"]} by taigimed {manifest["package"]}; terms version {TERMS_VERSION}
- Review: {review}

## Sources followed

{publishers}

Links point to the publisher's site; the card's `source.title` names the material.

## Limits

Cards are general health information, not diagnosis. Retrieval is lexical (BM25 on Han
bigrams and toneless Tâi-lô syllables); a learned decision over the retrieval's evidence
(`decision.json`, docs/knowledge.md) gives a question worded far from every card the honest
"no vetted information" reply instead of a guess.
"""


def _decision(path: Path, context: str) -> AnswerDecision:
    """The answer decision at ``path``; a bad one is a ``CardError`` the commands report."""
    try:
        return AnswerDecision.load(path)
    except DecisionError as exc:
        raise CardError(f"{exc} ({context})") from exc


def _is_built(folder: Path, version: str) -> bool:
    try:
        return json.loads((folder / MANIFEST).read_text("utf-8")).get("version") == version
    except (OSError, ValueError):
        return False


def build_knowledge(cfg: KnowledgeConfig, workdir: Workdir, *, today: date | None = None) -> Path:
    """Validate, index and publish the cards; returns the version folder (cached by hash)."""
    cards = load_cards(cfg.cards_dirs, require_reviewed=cfg.require_reviewed, today=today)
    decision = _decision(cfg.decision_path, "knowledge.decision_path")  # stops the build
    version = knowledge_version(cfg, cards)
    target = knowledge_dir(workdir) / version
    if not _is_built(target, version):
        with publish_dir(target) as tmp:
            lines = [json.dumps(c.model_dump(mode="json"), ensure_ascii=False) for c in cards.cards]
            write_text_atomic(tmp / CARDS, "\n".join(lines) + "\n")
            build_index(cfg, cards.cards).save(tmp / "index")
            write_json_atomic(tmp / DECISION_FILE, decision.to_json())
            publishers: dict[str, int] = {}
            for c in cards.cards:
                publishers[c.source.publisher] = publishers.get(c.source.publisher, 0) + 1
            manifest = {
                "version": version,
                "cards": len(cards.cards),
                "topics": sorted({c.topic for c in cards.cards}),
                "unreviewed": cards.unreviewed,
                "earliest_expiry": str(min(c.expires for c in cards.cards)),
                "publishers": dict(sorted(publishers.items())),
                "source_files": {p.name: file_sha256(p) for p in cards.files},
                "settings": {
                    "k1": cfg.bm25_k1,
                    "b": cfg.bm25_b,
                    "topic_boost": cfg.topic_boost,
                    "terms": TERMS_VERSION,
                    "decision_threshold": decision.threshold,
                    "decision_trained_on": [t["file"] for t in decision.meta.get("trained_on", [])],
                },
                "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "package": __version__,
            }
            write_text_atomic(tmp / "DATA_CARD.md", _data_card(manifest))
            manifest["files"] = {
                str(p.relative_to(tmp)): file_sha256(p)
                for p in sorted(tmp.rglob("*"))
                if p.is_file()
            }
            write_json_atomic(tmp / MANIFEST, manifest)
    write_json_atomic(
        knowledge_dir(workdir) / CURRENT,
        {"version": version, "path": str(target), "updated": time.time()},
    )
    return target


@dataclass(frozen=True)
class Retrieved:
    card: Card
    hit: Hit


@dataclass(frozen=True)
class Retrieval:
    """The cards found for one question; ``answered`` when the decision (``confidence``,
    ``knowledge.decide``) says the best one answers it."""

    hits: tuple[Retrieved, ...]
    answered: bool
    confidence: float = 0.0

    @property
    def best(self) -> Card | None:
        return self.hits[0].card if self.answered else None


class KnowledgeBase:
    def __init__(
        self,
        folder: Path,
        manifest: dict,
        cards: dict[str, Card],
        index: Index,
        decision: AnswerDecision,
    ):
        self.folder, self.manifest, self.cards, self.index = folder, manifest, cards, index
        self.decision = decision
        self.topics = {c.id: c.topic for c in cards.values()}

    @property
    def version(self) -> str:
        return self.manifest["version"]

    @classmethod
    def load(
        cls, folder: Path, *, require_reviewed: bool = False, today: date | None = None
    ) -> KnowledgeBase:
        """Read a built folder; files must match their recorded sha256. Expired cards are
        left out (and logged); with ``require_reviewed`` an unreviewed card is an error."""
        folder = Path(folder)
        try:
            manifest = json.loads((folder / MANIFEST).read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise CardError(
                f"{folder}: not a knowledge build ({exc}); run 'taigimed data prepare'"
            ) from exc
        for name, digest in manifest.get("files", {}).items():
            if not (folder / name).is_file() or file_sha256(folder / name) != digest:
                raise CardError(f"{folder / name}: missing or changed since the build")
        if require_reviewed and manifest.get("unreviewed"):
            raise CardError(
                f"{folder}: knowledge.require_reviewed is on and {len(manifest['unreviewed'])} "
                f"card(s) are unreviewed ({', '.join(manifest['unreviewed'][:5])} …); "
                "have a clinician review them or serve another knowledge version"
            )
        today = today or date.today()
        cards = {}
        for line in (folder / CARDS).read_text("utf-8").splitlines():
            card = Card.model_validate_json(line)
            if card.expires < today:
                log.warning("card %s expired on %s: not served", card.id, card.expires)
                continue
            cards[card.id] = card
        decision = _decision(
            folder / DECISION_FILE,
            "a build from before the answer decision: run 'taigimed pipeline run' so that a "
            "new build is evaluated and registered",
        )
        return cls(folder, manifest, cards, Index.load(folder / "index"), decision)

    def retrieve(self, question: str, k: int, min_confidence: float | None = None) -> Retrieval:
        """The ``k`` best cards for a standardised question, and whether the best answers it:
        the decision's confidence at least ``min_confidence`` (default: its own threshold)."""
        depth = max(k, SEARCH_DEPTH)
        found = [h for h in self.index.search(question, depth) if h.doc_id in self.cards]
        confidence = self.decision.confidence(question, found, self.topics)
        floor = self.decision.threshold if min_confidence is None else min_confidence
        hits = tuple(Retrieved(self.cards[h.doc_id], h) for h in found[:k])
        return Retrieval(hits, bool(hits) and confidence >= floor, confidence)


def standardised(question: str) -> tuple[str, str]:
    """(text, reply script) of a raw question, as the server sees it: standardised first,
    and answered in the script the triage replies in."""
    from taigimed.safety.triage import reply_script
    from taigimed.text.romanize import standardize_input

    text, meta = standardize_input(question)
    return text, reply_script(meta.get("script"))


def answer_question(
    kb: KnowledgeBase, question: str, top_k: int, min_confidence: float | None = None
):
    """(retrieval, reply script) for a raw question (``standardised``)."""
    text, script = standardised(question)
    return kb.retrieve(text, top_k, min_confidence), script


def current_knowledge(workdir: Workdir) -> Path | None:
    """The newest build's folder, if any."""
    try:
        return Path(json.loads((knowledge_dir(workdir) / CURRENT).read_text("utf-8"))["path"])
    except (OSError, ValueError, KeyError):
        return None


def open_knowledge(
    cfg: KnowledgeConfig, workdir: Workdir, folder: Path | None = None
) -> KnowledgeBase:
    """``folder`` (e.g. the one registered with the served model), else build the configured
    cards (a cache hit when unchanged) and load that."""
    folder = folder or build_knowledge(cfg, workdir)
    return KnowledgeBase.load(folder, require_reviewed=cfg.require_reviewed)
