"""A BM25 index over documents (cards, textbook chunks), built with ``bm25s``.

``bm25s`` was chosen over ``tantivy`` by ``benchmarks/bench_retrieval.py``
(docs/benchmarks.md): both meet the latency budget; bm25s is pure Python over
numpy/scipy, saves to plain ``.npy``/JSON files, and lets us score with our own terms.

A document may come with a short **topic** text besides its full text (a card's topic,
titles and keywords: what people call the subject). Its own BM25 score, times ``boost``,
is added to the full text's, as search engines weight a title field: a question naming
the topic (*tiòng-hong*, 皮蛇) then outranks a card that merely shares its filler words
(*án-tsuánn tsia̍h*, 一擺).

Besides its score, a hit carries a **relevance** between 0 and 1: the idf-weighted
share of the question's bigrams (Han character pairs, syllable pairs: the terms that carry
meaning) that the card holds. Words of the question that no card uses (an off-topic
question's) have the largest idf, so they pull relevance down; words every card uses
(注意, 按怎) weigh almost nothing. It is the main evidence of the answer-or-refuse
decision (``knowledge.decide``), beside how many of those bigrams the card holds and the
share of the question's single characters and syllables it holds.

On disk (``save``/``load``): ``bm25/`` and ``bm25_topic/`` (bm25s's files), ``index.json``
(document ids, document frequencies, the settings).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from taigimed.artifacts import write_json_atomic
from taigimed.knowledge.terms import TERMS_VERSION, is_bigram, query_terms, terms

INDEX_JSON = "index.json"


class KnowledgeIndexError(RuntimeError):
    """An index folder that cannot be used; the message says how to rebuild it."""


@dataclass(frozen=True)
class Hit:
    doc_id: str
    score: float
    relevance: float  # idf-weighted share of the question's bigrams the document holds
    held: int = 0  # how many of those bigrams it holds
    unigram_share: float = 0.0  # idf-weighted share of the single characters/syllables


def _bm25(texts: Sequence[str], k1: float, b: float):
    import bm25s

    bm25 = bm25s.BM25(k1=k1, b=b, method="lucene")
    bm25.index([terms(t) for t in texts], show_progress=False)
    return bm25


class Index:
    def __init__(
        self,
        bm25,
        doc_ids: list[str],
        df: dict[str, int],
        k1: float,
        b: float,
        topic=None,
        boost: float = 0.0,
    ):
        self.bm25, self.doc_ids, self.df, self.k1, self.b = bm25, doc_ids, df, k1, b
        self.topic, self.boost = topic, boost

    @classmethod
    def build(
        cls,
        docs: Sequence[tuple[str, str]],
        k1: float = 1.2,
        b: float = 0.75,
        *,
        topics: Sequence[str] | None = None,
        boost: float = 0.0,
    ) -> Index:
        """Index ``(doc_id, text)`` pairs; ``topics``, one per document, get ``boost``."""
        if not docs:
            raise ValueError("cannot index no documents")
        if topics is not None and len(topics) != len(docs):
            raise ValueError(f"{len(topics)} topic texts for {len(docs)} documents")
        df = Counter(t for _, text in docs for t in set(terms(text)))
        topic = _bm25(topics, k1, b) if topics is not None and boost > 0 else None
        bm25 = _bm25([text for _, text in docs], k1, b)
        return cls(bm25, [d for d, _ in docs], dict(df), k1, b, topic, boost if topic else 0.0)

    def _idf(self, term: str) -> float:
        n = len(self.doc_ids)
        df = self.df.get(term, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def _held(self, terms: list[str], docs: np.ndarray) -> np.ndarray:
        """(terms × docs) booleans: which of ``docs`` contain each term (bm25s's sorted
        term → documents columns, one binary search per term for all ``docs`` at once)."""
        out = np.zeros((len(terms), len(docs)), dtype=bool)
        ptr, indices = self.bm25.scores["indptr"], self.bm25.scores["indices"]
        for j, term in enumerate(terms):
            v = self.bm25.vocab_dict.get(term)
            if v is None:
                continue
            column = indices[ptr[v] : ptr[v + 1]]
            if len(column):
                at = np.minimum(np.searchsorted(column, docs), len(column) - 1)
                out[j] = column[at] == docs
        return out

    def coverage(self, terms: list[str], docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per document of ``docs``: the idf-weighted share of ``terms`` it holds, and how many
        it holds."""
        if not terms:
            return np.zeros(len(docs)), np.zeros(len(docs), dtype=int)
        held = self._held(terms, docs)
        weights = np.array([self._idf(t) for t in terms])
        return weights @ held / weights.sum(), held.sum(axis=0)

    def search(self, text: str, k: int = 3) -> list[Hit]:
        """The ``k`` best documents for ``text``, best first (fewer when fewer match)."""
        query = query_terms(text)
        if not query:
            return []
        scores = self.bm25.get_scores(query)
        if self.topic is not None:
            scores = scores + self.boost * self.topic.get_scores(query)
        k = min(k, len(self.doc_ids))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        top = top[scores[top] > 0]
        relevance, held = self.coverage([t for t in query if is_bigram(t)], top)
        unigram_share, _ = self.coverage([t for t in query if not is_bigram(t)], top)
        return [
            Hit(self.doc_ids[d], float(scores[d]), float(r), int(h), float(u))
            for d, r, h, u in zip(top, relevance, held, unigram_share, strict=True)
        ]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.bm25.save(str(folder / "bm25"), show_progress=False)
        if self.topic is not None:
            self.topic.save(str(folder / "bm25_topic"), show_progress=False)
        write_json_atomic(
            folder / INDEX_JSON,
            {
                "terms_version": TERMS_VERSION,
                "k1": self.k1,
                "b": self.b,
                "boost": self.boost,
                "doc_ids": self.doc_ids,
                "df": self.df,
            },
        )

    @classmethod
    def load(cls, folder: Path) -> Index:
        import bm25s

        try:
            meta = json.loads((folder / INDEX_JSON).read_text(encoding="utf-8"))
            bm25 = bm25s.BM25.load(str(folder / "bm25"), show_progress=False)
            topic = (
                bm25s.BM25.load(str(folder / "bm25_topic"), show_progress=False)
                if meta.get("boost")
                else None
            )
        except (OSError, ValueError) as exc:
            raise KnowledgeIndexError(
                f"{folder}: cannot load the index ({exc}); rebuild it with 'taigimed data prepare'"
            ) from exc
        if meta.get("terms_version") != TERMS_VERSION:
            raise KnowledgeIndexError(
                f"{folder}: built with terms version {meta.get('terms_version')}, this "
                f"package reads version {TERMS_VERSION}; rebuild with 'taigimed data prepare' "
                "(a build registered with a model: run 'taigimed pipeline run', so that the "
                "new build is evaluated and registered before it is served)"
            )
        return cls(
            bm25, meta["doc_ids"], meta["df"], meta["k1"], meta["b"], topic, meta.get("boost", 0.0)
        )
