"""The MedRAG-style cross-check: MedQA-TW closed book against open book on the textbooks.

    taigimed knowledge medrag --model staging --n 100     # a seeded sample of medqa_test

MedRAG / MIRAGE (Xiong et al. 2024) found that retrieval over medical corpora, BM25
included, raises LLMs on medical QA. This harness asks the same of our model: each MedQA-TW
test question is scored twice with the same scorer (``suites.evaluate_mcq``), once as
always and once with the ``k`` textbook chunks BM25 ranks highest for the question and its
options placed before it (``chat.mcq_user_prompt``'s ``context``). The report gives both
accuracies and the paired difference (exact McNemar, and the share of items each way).

The textbook corpus is the clinician-level one the data pipeline already prepared: the
``textbooks`` text chunks of ``stage1_train`` (cleaned, Taiwan Traditional). It is indexed
once per prepared version under ``WORKDIR/knowledge/textbooks-<data version>/``. On the CPU
recipe, whose model is at chance, no lift is expected; it is the harness for gpu-7b.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from taigimed.artifacts import publish_dir, write_text_atomic
from taigimed.config import Config
from taigimed.evaluate.eval_sets import open_prepared, prepared_rows, stratified_sample
from taigimed.evaluate.stats import mcnemar
from taigimed.knowledge.base import knowledge_dir
from taigimed.knowledge.index import Index
from taigimed.workdir import Workdir

CHUNK_CHARS = 400  # per retrieved chunk in the prompt: k chunks must fit the context


def textbook_chunks(prepared) -> dict[str, str]:
    rows = prepared_rows(prepared, "stage1_train")
    return {r["id"]: r["text"] for r in rows if r["kind"] == "text" and r["source"] == "textbooks"}


def textbook_index(workdir: Workdir, prepared) -> tuple[Index, dict[str, str]]:
    """The BM25 index of the prepared version's textbook chunks (built once, then loaded)."""
    folder = knowledge_dir(workdir) / f"textbooks-{prepared.manifest['version']}"
    if (folder / "chunks.jsonl").is_file():
        chunks = dict(
            json.loads(x) for x in (folder / "chunks.jsonl").read_text("utf-8").split("\n") if x
        )
        return Index.load(folder / "index"), chunks
    chunks = textbook_chunks(prepared)
    if not chunks:
        raise ValueError(
            f"prepared data {prepared.path} has no textbook chunks: set data.textbooks_dir or "
            "TAIGIMED_DATA_ROOT and run 'taigimed data prepare'"
        )
    index = Index.build(list(chunks.items()))
    with publish_dir(folder) as tmp:
        index.save(tmp / "index")
        lines = [json.dumps([k, v], ensure_ascii=False) for k, v in chunks.items()]
        write_text_atomic(tmp / "chunks.jsonl", "\n".join(lines) + "\n")
    return index, chunks


def medrag_crosscheck(
    cfg: Config,
    workdir: Workdir,
    model_dir: Path,
    n: int | None,
    k: int = 3,
    data_dir: Path | None = None,
) -> dict[str, Any]:
    from taigimed.evaluate.scoring import load_model
    from taigimed.evaluate.suites import evaluate_mcq

    prepared = open_prepared(data_dir or workdir)
    seed = cfg.eval.seed if cfg.eval.seed is not None else cfg.seed
    items = stratified_sample(
        prepared_rows(prepared, "medqa_test"), n, seed, lambda r: r["category"]
    )
    index, chunks = textbook_index(workdir, prepared)
    references = []
    for it in items:
        query = it["question"] + "\n" + "\n".join(it["options"].values())
        hits = index.search(query, k)
        references.append("\n".join(chunks[h.doc_id][:CHUNK_CHARS] for h in hits) or None)
    dtype = cfg.eval.dtype or cfg.model.dtype
    lm = load_model(model_dir, dtype, cfg.model.max_context, cfg.model.trust_remote_code)
    common = {
        "n_resamples": cfg.eval.bootstrap_samples,
        "seed": seed,
        "batch_questions": cfg.eval.batch_questions,
        "gen_tokens": 0,
    }
    closed = evaluate_mcq(lm, items, **common)
    opened = evaluate_mcq(lm, items, references=references, **common)
    closed_ok = {r["id"]: r["correct"] for r in closed["items"]}
    open_ok = {r["id"]: r["correct"] for r in opened["items"]}
    return {
        "n": len(items),
        "k": k,
        "textbook_chunks": len(chunks),
        "closed_book": closed["metrics"],
        "open_book": opened["metrics"],
        "paired": mcnemar(closed_ok, open_ok),  # b = open book: diff > 0 is a lift
        "items": [
            {"id": it["id"], "closed": closed_ok[it["id"]], "open": open_ok[it["id"]]}
            for it in items
        ],
    }
