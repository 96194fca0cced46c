"""The data build, step by step: read → clean/filter → dedup → split → format → mix.

Every row that enters is accounted for in a ``SourceReport`` (kept, removed by reason,
skipped as unreadable), and every output dataset is listed in ``BuildResult``. ``build``
reads top to bottom, one timed step per block; the stage-2 mix itself (replay, curriculum,
feedback) is ``taigimed.data.mix``'s.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from taigimed.config import Config
from taigimed.data import mix
from taigimed.data.cloze import build_cloze
from taigimed.data.dedup import deduplicate
from taigimed.data.holdout import stratified_holdout
from taigimed.data.medqa import load_medqa
from taigimed.data.parallel_corpus import load_parallel
from taigimed.data.records import (
    HAN_TO_TAILO,
    ZH_TO_HAN,
    capped,
    mcq_output,
    mcq_record,
    record,
    split_of,
    translation_record,
    uniforms,
)
from taigimed.data.report import SourceReport
from taigimed.data.sinica import load_sinica
from taigimed.data.sources import Sources
from taigimed.data.textbooks import chunk_books, load_textbooks

STEPS = ["medqa", "sinica", "parallel", "textbooks", "dedup", "splits", "stage2 mix"]


@dataclass
class BuildResult:
    datasets: dict[str, list[dict]]
    reports: dict[str, SourceReport]
    kept: dict[str, int]
    leakage: dict[str, int] = field(default_factory=dict)
    mix: dict = field(default_factory=dict)
    held_out: dict = field(default_factory=dict)


@dataclass
class _Read:
    """What the sources gave, before dedup."""

    medqa: dict[str, list[dict]]  # by file: train, dev, test
    books: list[dict]
    sinica: list[dict]
    parallel: list[dict]


@dataclass
class _Deduped:
    """A source's rows kept by dedup, the near-duplicate pairs left among them (the
    leakage check's candidates) and, once split, each row's split."""

    rows: list[dict]
    pairs: list[tuple[int, int]]
    splits: list[str] = field(default_factory=list)

    def part(self, split: str) -> list[dict]:
        return [r for r, s in zip(self.rows, self.splits, strict=True) if s == split]

    def leaked(self, held_out: str) -> int:
        """Held-out items that are near-duplicates of a training item.

        The dedup pass already compared every pair of this source (LSH over all of
        them), so the pairs that survived it are the only candidates; no second pass.
        """
        leaked = set()
        for a, b in self.pairs:
            if {self.splits[a], self.splits[b]} == {"train", held_out}:
                leaked.add(a if self.splits[a] == held_out else b)
        return len(leaked)


def build(cfg: Config, sources: Sources, on_error: str, timer) -> BuildResult:
    d = cfg.data
    seed = d.split_seed if d.split_seed is not None else cfg.seed
    medqa_name = "medqa_demo" if sources.medqa_is_demo else "medqa_tw"
    reports = {
        name: SourceReport(name, on_error)
        for name in (medqa_name, "textbooks", "sinica", "parallel")
    }
    read = _read_sources(sources, d, reports, medqa_name, timer)

    with timer.step("dedup"):
        given_test = read.medqa.get("test", [])
        mcq = _dedup_mcq(read.medqa, d, reports[medqa_name])
        paragraphs = _dedup(read.books, [b["text"] for b in read.books], d, reports["textbooks"])
        books = chunk_books(paragraphs.rows, d.textbook_chunk_chars)
        reports["textbooks"].notes["chunks_for_training"] = len(books)
        sinica = _dedup(read.sinica, [s["han"] for s in read.sinica], d, reports["sinica"])
        par_texts = [p["zh"] + "\n" + p["han"] for p in read.parallel]
        parallel = _dedup(read.parallel, par_texts, d, reports["parallel"])

    with timer.step("splits"):
        mcq.splits = _mcq_splits(mcq.rows, given_test, d, seed)
        held = {"validation": d.validation_fraction, "test": d.test_fraction}
        sinica.splits = [split_of(s["han"], seed, held) for s in sinica.rows]
        par_test = _split_parallel(parallel, d, seed)
        leakage = {
            f"{name}_{part}_vs_train": source.leaked(part)
            for name, source in (("medqa", mcq), ("sinica", sinica), ("parallel", parallel))
            for part in ("validation", "test")
        }
        kept = {
            medqa_name: len(mcq.rows),
            "textbooks": len(paragraphs.rows),
            "sinica": len(sinica.rows),
            "parallel": len(parallel.rows),
        }
        stage1_train, stage1_validation = _stage1_records(mcq, books)

    with timer.step("stage2 mix"):
        taigi_train = _taigi_records(sinica.part("train"), parallel.part("train"), d, seed)
        stage2 = mix.stage2_mix(taigi_train, stage1_train, _feedback_records(sources), d, seed)
        taigi_validation = _taigi_records(
            sinica.part("validation"), parallel.part("validation"), d, seed
        )
        mix.score_difficulty(taigi_validation)
        sin_test = sinica.part("test")
        datasets = {
            "medqa_train": [mcq_output(r) for r in mcq.part("train")],
            "medqa_validation": [mcq_output(r) for r in mcq.part("validation")],
            "medqa_test": [mcq_output(r) for r in mcq.part("test")],
            "stage1_train": stage1_train,
            "stage1_validation": stage1_validation,
            "stage2_train": stage2.records,
            "stage2_validation": taigi_validation,
            "taigi_test": [
                {"id": s["id"], "han": s["han"], "tailo": s["tailo"], "source": s["source"]}
                for s in sin_test
            ],
            "translation_test": _translation_pairs(sin_test, parallel.part("test"), d, seed),
            "taigi_cloze_test": build_cloze(
                sin_test, sinica.part("train"), d.cloze_test_items, seed
            ),
        }
        datasets = _apply_caps(datasets, d.dataset_caps, seed)
        held_out = _held_out(par_test, parallel.part("test"), datasets["taigi_cloze_test"])
    return BuildResult(datasets, reports, kept, leakage, stage2.stats, held_out)


def _read_sources(
    sources: Sources, d, reports: dict[str, SourceReport], medqa_name: str, timer
) -> _Read:
    """Read every source; ``reports['textbooks']`` is replaced by the one that did the work."""
    # Both cores: the textbooks (OCR rules + s2twp, the heaviest C++ step) run in one
    # worker process while this process reads MedQA and parses Sinica. One fork, no
    # duplicated caches; finer-grained pools cost more CPU than they saved here.
    workers = ProcessPoolExecutor(max_workers=1) if d.workers > 1 and sources.textbooks else None
    pending = (
        workers.submit(_textbooks_job, sources.textbooks, d, reports["textbooks"])
        if workers
        else None
    )
    with timer.step("medqa"):
        by_file = load_medqa(sources.medqa, d, reports[medqa_name], medqa_name)
    with timer.step("sinica"):
        sinica = load_sinica(sources.sinica, d, reports["sinica"]) if sources.sinica else []
    with timer.step("parallel"):
        parallel = (
            load_parallel(sources.parallel, d, reports["parallel"]) if sources.parallel else []
        )
    with timer.step("textbooks"):
        books: list[dict] = []
        if pending is not None:
            try:
                books, reports["textbooks"] = pending.result()
            finally:
                workers.shutdown()
        elif sources.textbooks:
            books, reports["textbooks"] = _textbooks_job(sources.textbooks, d, reports["textbooks"])
    return _Read(by_file, books, sinica, parallel)


def _dedup(rows: list[dict], texts: list[str], d, report: SourceReport, labels=None) -> _Deduped:
    """Drop duplicates (counted in ``report``); keep the near-duplicate pairs left among
    the kept rows (for the leakage check).

    With ``labels``, a removed row whose label differs from its original's is counted as
    leakage (a held-out item that duplicates a training item).
    """
    reasons, _sigs, dup_of, kept_pairs = deduplicate(
        texts, d.minhash_threshold, d.minhash_num_perm, d.shingle_size, d.workers
    )
    kept = []
    for i, (row, reason) in enumerate(zip(rows, reasons, strict=True)):
        if reason is None:
            kept.append(row)
        elif labels is not None and labels[i] != labels[dup_of[i]]:
            report.drop(f"{reason}_of_{labels[dup_of[i]]}_item_leakage")
        else:
            report.drop(reason)
    return _Deduped(kept, kept_pairs)


def _dedup_mcq(by_file: dict[str, list[dict]], d, report: SourceReport) -> _Deduped:
    """MedQA's train and dev files form the pool; a question of the given test file that
    duplicates a pool question counts as leakage."""
    pool = by_file.get("train", []) + by_file.get("dev", [])
    given_test = by_file.get("test", [])
    labels = ["train"] * len(pool) + ["test"] * len(given_test)
    rows = pool + given_test
    texts = [r["question"] + "\n" + "\n".join(r["options"].values()) for r in rows]
    return _dedup(rows, texts, d, report, labels)


def _mcq_splits(rows: list[dict], given_test: list[dict], d, seed: int) -> list[str]:
    """The given test file stays the test split; without one, a hash split makes one."""
    given = {id(r) for r in given_test}
    splits = []
    for r in rows:
        if id(r) in given:
            splits.append("test")
        elif given_test:
            splits.append(split_of(r["question"], seed, {"validation": d.validation_fraction}))
        else:
            held = {"validation": d.validation_fraction, "test": d.medqa_test_fraction}
            splits.append(split_of(r["question"], seed, held))
    return splits


def _split_parallel(parallel: _Deduped, d, seed: int) -> set[str]:
    """Split the parallel rows; return the ids held out for translation_test.

    The parallel file is small: an exact, topic-stratified hold-out for translation_test,
    then the usual hash split of the rest into train / validation.
    """
    par_test = stratified_holdout(parallel.rows, d.parallel_test_rows, seed, lambda p: p["topic"])
    parallel.splits = [
        "test"
        if p["id"] in par_test
        else split_of(p["zh"] + p["han"], seed, {"validation": d.validation_fraction})
        for p in parallel.rows
    ]
    return par_test


def _stage1_records(mcq: _Deduped, books: list[dict]) -> tuple[list[dict], list[dict]]:
    """stage1_train (MedQA-train chats, then textbook chunks) and stage1_validation."""
    train = [mcq_record(r) for r in mcq.part("train")]
    train += [record(b["id"], b["source"], "text", text=b["text"]) for b in books]
    validation = [mcq_record(r) for r in mcq.part("validation")]
    mix.score_difficulty(train)
    mix.score_difficulty(validation)
    return train, validation


def _held_out(par_test: set[str], parallel_test: list[dict], cloze: list[dict]) -> dict:
    """The manifest's record of what only evaluation may read."""
    return {
        "parallel_test_ids": sorted(par_test),
        "parallel_test_by_topic": dict(sorted(Counter(p["topic"] for p in parallel_test).items())),
        "cloze_sentence_ids": [r["id"].removeprefix("cloze-") for r in cloze],
        "note": "test-split rows: read by evaluation only, never by training",
    }


def _apply_caps(datasets: dict[str, list], caps: dict[str, int], seed: int) -> dict[str, list]:
    """Each dataset within its cap (``stage2_train`` was capped by its mix)."""
    out = {
        k: v if k in ("stage2_train", "translation_test") else capped(v, caps.get(k), seed)
        for k, v in datasets.items()
    }
    # The held-out parallel pairs survive the cap; Sinica's Han→Tâi-lô pairs fill the rest.
    pairs = out["translation_test"]
    from_par = [p for p in pairs if p["id"].startswith("parallel-")]
    from_sin = [p for p in pairs if not p["id"].startswith("parallel-")]
    cap = caps.get("translation_test")
    room = None if cap is None else max(0, cap - len(from_par))
    out["translation_test"] = from_par + capped(from_sin, room, seed)
    return out


def _textbooks_job(files, d, report: SourceReport) -> tuple[list[dict], SourceReport]:
    # May run in a worker process: the report travels back with the chunks.
    return load_textbooks(files, d.model_copy(update={"workers": 1}), report), report


def _taigi_records(sinica: list[dict], parallel: list[dict], d, seed: int) -> list[dict]:
    """Taigi text (Han, some Tâi-lô) and translation chats (ZH→HAN, HAN→Tâi-lô)."""
    out: list[dict] = []
    for s in sinica:
        out.append(record(f"{s['id']}-han", s["source"], "text", text=s["han"]))
        u_tailo, u_translate = uniforms(s["id"], seed, 2)
        if u_tailo < d.tailo_text_fraction:
            out.append(record(f"{s['id']}-tl", s["source"], "text", text=s["tailo"]))
        if u_translate < d.sinica_translation_fraction:
            out.append(
                translation_record(
                    f"{s['id']}-han-tl", s["source"], HAN_TO_TAILO, s["han"], s["tailo"]
                )
            )
    for p in parallel:
        out.append(
            translation_record(f"{p['id']}-zh-han", p["source"], ZH_TO_HAN, p["zh"], p["han"])
        )
        out.append(
            translation_record(f"{p['id']}-han-tl", p["source"], HAN_TO_TAILO, p["han"], p["tailo"])
        )
    return out


def _translation_pairs(sinica: list[dict], parallel: list[dict], d, seed: int) -> list[dict]:
    out = []
    for p in parallel:
        out.append(
            {
                "id": f"{p['id']}-zh-han",
                "direction": "zh-han",
                "source_text": p["zh"],
                "target_text": p["han"],
            }
        )
        out.append(
            {
                "id": f"{p['id']}-han-tl",
                "direction": "han-tl",
                "source_text": p["han"],
                "target_text": p["tailo"],
            }
        )
    for s in sinica:
        if uniforms(s["id"], seed, 2)[1] < d.sinica_translation_fraction:
            out.append(
                {
                    "id": f"{s['id']}-han-tl",
                    "direction": "han-tl",
                    "source_text": s["han"],
                    "target_text": s["tailo"],
                }
            )
    return out


def _feedback_records(sources: Sources) -> list[dict]:
    from datasets import load_from_disk

    records: list[dict] = []
    for folder in sources.feedback:
        records += load_from_disk(str(folder)).to_list()
    return records
