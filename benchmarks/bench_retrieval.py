"""Retrieval latency over 10,000 chunks: bm25s (what TaigiMed uses) against tantivy.

    .venv/bin/python benchmarks/bench_retrieval.py                  # 10,000 chunks, 3 rounds
    .venv/bin/python benchmarks/bench_retrieval.py --chunks 2000    # a quick look

The corpus is the shipped demo cards plus textbook chunks from
``$TAIGIMED_DATA_ROOT/medical_textbooks_zh`` (Simplified, converted like the pipeline does),
cut at ``data.textbook_chunk_chars``, until ``--chunks`` documents; without the real data
the cards are repeated with a counter so the index still has that many documents. The
queries are the development questions (all six scripts), run through the serving
standardiser first, as the server does. Both engines index the same terms
(``knowledge.terms``): the comparison is of the engines, not of tokenisers.

bm25s runs twice: full text only, and with the topic field the cards are served with
(``knowledge.topic_boost``); on the second index a third row times the served path, the
search as deep as the answer decision reads (``knowledge.decide.SEARCH_DEPTH``) plus the
decision itself. Per engine: build time, per-query p50/p95/max in ms (terms + search +
top-k, what a turn pays), with the machine's ``lscpu`` flags. tantivy is optional
(``pip install tantivy``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path


def _flags() -> str:
    from taigimed.train.precision import cpu_flags

    keep = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "avx512_vnni")
    return "flags: " + " ".join(f for f in keep if f in cpu_flags())


def _corpus(n: int) -> list[tuple[str, str]]:
    from taigimed.knowledge.base import card_document
    from taigimed.knowledge.cards import load_cards
    from taigimed.knowledge.config import DEMO_CARDS
    from taigimed.text import to_taiwan_traditional

    cards = load_cards([DEMO_CARDS]).cards
    docs = [(c.id, card_document(c)) for c in cards]
    root = os.environ.get("TAIGIMED_DATA_ROOT")
    books = Path(root) / "medical_textbooks_zh" if root else None
    if books and books.is_dir():
        for path in sorted(books.rglob("*.txt")):
            text = path.read_text(encoding="utf-8", errors="ignore")
            for i in range(0, len(text), 400):
                if len(docs) >= n:
                    return docs
                docs.append((f"{path.stem}-{i}", to_taiwan_traditional(text[i : i + 400])))
    i = 0
    while len(docs) < n:
        c = cards[i % len(cards)]
        docs.append((f"{c.id}-{i}", card_document(c) + f" {i}"))
        i += 1
    return docs


def _queries() -> list[str]:
    from taigimed.evaluate.knowledge import QUESTION_SETS
    from taigimed.text.romanize import standardize_input

    rows = [json.loads(x) for x in QUESTION_SETS["dev"].read_text("utf-8").splitlines() if x]
    return [standardize_input(r["question"])[0] for r in rows]


def _percentiles(ms: list[float]) -> dict[str, float]:
    ms = sorted(ms)
    return {
        "p50_ms": round(statistics.median(ms), 2),
        "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 2),
        "max_ms": round(ms[-1], 2),
    }


def _cold() -> None:
    """Forget every cached reading, so each query pays for its terms as a new question does."""
    from taigimed.knowledge.terms import _terms
    from taigimed.safety.canonical import _read_clause

    _terms.cache_clear()
    _read_clause.cache_clear()


def _timed(queries, rounds: int, ask) -> dict[str, float]:
    ms = []
    for _ in range(rounds):
        _cold()
        for q in queries:
            t = time.perf_counter()
            ask(q)
            ms.append((time.perf_counter() - t) * 1000)
    return _percentiles(ms)


def bench_bm25s(docs, queries, rounds: int, boost: float = 0.0) -> list[dict]:
    """``boost`` > 0: also a topic field, as cards have (a chunk's topic: its first line),
    and the served path with the answer decision on that index."""
    from taigimed.knowledge.decide import SEARCH_DEPTH, AnswerDecision
    from taigimed.knowledge.index import Index

    topics = [text.split("\n", 1)[0][:40] for _, text in docs] if boost else None
    t0 = time.perf_counter()
    index = Index.build(docs, topics=topics, boost=boost)
    build = round(time.perf_counter() - t0, 2)
    name = f"bm25s + topic field (boost {boost})" if boost else "bm25s"
    out = [
        {"engine": name, "build_s": build, **_timed(queries, rounds, lambda q: index.search(q, 3))}
    ]
    if boost:
        decision, topic_of = AnswerDecision.load(), dict(zip(index.doc_ids, topics, strict=True))

        def served(q: str) -> float:
            return decision.confidence(q, index.search(q, SEARCH_DEPTH), topic_of)

        out.append(
            {
                "engine": name + " + answer decision",
                "build_s": build,
                **_timed(queries, rounds, served),
            }
        )
    return out


def bench_tantivy(docs, queries, rounds: int) -> dict | None:
    try:
        import tantivy
    except ImportError:
        return None
    from taigimed.knowledge.terms import terms

    def norm(ts):
        return [t.replace(" ", "_") for t in ts]

    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True)
    sb.add_text_field("body", stored=False, tokenizer_name="whitespace")
    schema = sb.build()
    t0 = time.perf_counter()
    index = tantivy.Index(schema)
    writer = index.writer()
    for doc_id, text in docs:
        writer.add_document(tantivy.Document(id=doc_id, body=" ".join(norm(terms(text)))))
    writer.commit()
    index.reload()
    build = time.perf_counter() - t0
    searcher = index.searcher()
    ms = []
    for _ in range(rounds):
        _cold()
        for q in queries:
            t = time.perf_counter()
            clauses = [
                (tantivy.Occur.Should, tantivy.Query.term_query(schema, "body", term))
                for term in dict.fromkeys(norm(terms(q)))
            ]
            hits = searcher.search(tantivy.Query.boolean_query(clauses), 3).hits
            [searcher.doc(a)["id"] for _, a in hits]
            ms.append((time.perf_counter() - t) * 1000)
    return {"engine": "tantivy", "build_s": round(build, 2), **_percentiles(ms)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chunks", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    docs = _corpus(args.chunks)
    queries = _queries()
    print(f"machine: {_flags()}")
    print(f"corpus: {len(docs)} chunks; queries: {len(queries)} x {args.rounds} rounds")
    for result in (
        *bench_bm25s(docs, queries, args.rounds),
        *bench_bm25s(docs, queries, args.rounds, boost=2.0),
        bench_tantivy(docs, queries, args.rounds),
    ):
        if result is None:
            print("tantivy: not installed (pip install tantivy)")
        else:
            print(json.dumps(result))


if __name__ == "__main__":
    main()
