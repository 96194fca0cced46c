"""The data build, step by step: read → clean/filter → dedup → split → format → mix.

Every row that enters is accounted for in a ``SourceReport`` (kept, removed by reason,
skipped as unreadable), and every output dataset is listed in ``BuildResult``.
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


def _dedup(rows: list[dict], texts: list[str], cfg, report: SourceReport, labels=None):
    """Drop duplicates (counted in ``report``); return kept rows and near-duplicate pairs
    left among them (for the leakage check).

    With ``labels``, a removed row whose label differs from its original's is counted as
    leakage (a held-out item that duplicates a training item).
    """
    reasons, _sigs, dup_of, kept_pairs = deduplicate(
        texts, cfg.minhash_threshold, cfg.minhash_num_perm, cfg.shingle_size, cfg.workers
    )
    kept = []
    for i, (row, reason) in enumerate(zip(rows, reasons, strict=True)):
        if reason is None:
            kept.append(row)
        elif labels is not None and labels[i] != labels[dup_of[i]]:
            report.drop(f"{reason}_of_{labels[dup_of[i]]}_item_leakage")
        else:
            report.drop(reason)
    return kept, kept_pairs


def _leakage(kept_pairs: list[tuple[int, int]], splits: list[str], held_out: str) -> int:
    """Held-out items that are near-duplicates of a training item.

    The dedup pass already compared every pair of this source (LSH over all of them), so
    the pairs that survived it are the only candidates; no second pass is needed.
    """
    leaked = set()
    for a, b in kept_pairs:
        if {splits[a], splits[b]} == {"train", held_out}:
            leaked.add(a if splits[a] == held_out else b)
    return len(leaked)


def build(cfg: Config, sources: Sources, on_error: str, timer) -> BuildResult:
    d = cfg.data
    seed = d.split_seed if d.split_seed is not None else cfg.seed
    medqa_name = "medqa_demo" if sources.medqa_is_demo else "medqa_tw"
    reports = {
        name: SourceReport(name, on_error)
        for name in (medqa_name, "textbooks", "sinica", "parallel")
    }
    kept: dict[str, int] = {}
    held = {"validation": d.validation_fraction, "test": d.test_fraction}

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

    with timer.step("dedup"):
        pool = by_file.get("train", []) + by_file.get("dev", [])
        given_test = by_file.get("test", [])
        mcq_rows = pool + given_test
        labels = ["train"] * len(pool) + ["test"] * len(given_test)
        mcq_texts = [r["question"] + "\n" + "\n".join(r["options"].values()) for r in mcq_rows]
        mcq_rows, mcq_pairs = _dedup(mcq_rows, mcq_texts, d, reports[medqa_name], labels)
        books, _ = _dedup(books, [b["text"] for b in books], d, reports["textbooks"])
        kept_paragraphs = len(books)
        books = chunk_books(books, d.textbook_chunk_chars)
        reports["textbooks"].notes["chunks_for_training"] = len(books)
        sinica, sinica_pairs = _dedup(sinica, [s["han"] for s in sinica], d, reports["sinica"])
        parallel, par_pairs = _dedup(
            parallel, [p["zh"] + "\n" + p["han"] for p in parallel], d, reports["parallel"]
        )

    with timer.step("splits"):
        given = {id(r) for r in given_test}
        mcq_splits = []
        for r in mcq_rows:
            if id(r) in given:
                mcq_splits.append("test")
            elif given_test:
                mcq_splits.append(
                    split_of(r["question"], seed, {"validation": d.validation_fraction})
                )
            else:
                mcq_held = {"validation": d.validation_fraction, "test": d.medqa_test_fraction}
                mcq_splits.append(split_of(r["question"], seed, mcq_held))
        sin_splits = [split_of(s["han"], seed, held) for s in sinica]
        # The parallel file is small: an exact, topic-stratified hold-out for translation_test,
        # then the usual hash split of the rest into train / validation.
        par_test = stratified_holdout(parallel, d.parallel_test_rows, seed, lambda p: p["topic"])
        par_splits = [
            "test"
            if p["id"] in par_test
            else split_of(p["zh"] + p["han"], seed, {"validation": d.validation_fraction})
            for p in parallel
        ]
        leakage = {}
        for name, pairs, splits in (
            ("medqa", mcq_pairs, mcq_splits),
            ("sinica", sinica_pairs, sin_splits),
            ("parallel", par_pairs, par_splits),
        ):
            for part in ("validation", "test"):
                leakage[f"{name}_{part}_vs_train"] = _leakage(pairs, splits, part)
        kept = {
            medqa_name: len(mcq_rows),
            "textbooks": kept_paragraphs,
            "sinica": len(sinica),
            "parallel": len(parallel),
        }
        mcq = {
            s: [r for r, t in zip(mcq_rows, mcq_splits, strict=True) if t == s]
            for s in held | {"train": 0}
        }
        sin = {
            s: [r for r, t in zip(sinica, sin_splits, strict=True) if t == s]
            for s in ("train", "validation", "test")
        }
        par = {
            s: [r for r, t in zip(parallel, par_splits, strict=True) if t == s]
            for s in ("train", "validation", "test")
        }

        stage1_train = [mcq_record(r) for r in mcq["train"]]
        stage1_train += [record(b["id"], b["source"], "text", text=b["text"]) for b in books]
        stage1_validation = [mcq_record(r) for r in mcq["validation"]]
        mix.score_difficulty(stage1_train)
        mix.score_difficulty(stage1_validation)

    with timer.step("stage2 mix"):
        taigi_train = _taigi_records(sin["train"], par["train"], d, seed)
        taigi_validation = _taigi_records(sin["validation"], par["validation"], d, seed)
        if (cap := d.dataset_caps.get("stage2_train")) is not None:
            # Cap the Taigi share first, so the replay share survives the dataset cap.
            taigi_train = capped(taigi_train, max(1, round(cap * (1 - d.replay_fraction))), seed)
        n_replay = mix.replay_count(len(taigi_train), d.replay_fraction, len(stage1_train))
        replay = [
            dict(r, id=f"replay-{r['id']}", messages=list(r["messages"]))
            for r in capped(stage1_train, n_replay, seed)
        ]
        stage2_train = mix.curriculum(taigi_train, replay, d.curriculum_phases, seed)
        # Answers users liked or clinicians corrected come last: the export puts them in the
        # hardest phase, and they are the closest thing to the traffic the model will see.
        stage2_train = capped(stage2_train, d.dataset_caps.get("stage2_train"), seed)
        feedback = _feedback_records(sources)
        stage2_train += feedback  # never sampled away by the cap
        mix.score_difficulty(taigi_validation)
        phases = {}
        for r in stage2_train:
            origin = (
                r["id"].split("-", 1)[0]
                if r["id"].startswith(("replay-", "feedback-"))
                else "taigi"
            )
            key = f"phase{r['phase']}_{origin}"
            phases[key] = phases.get(key, 0) + 1
        mix_stats = {
            "taigi_records": len(taigi_train),
            "replay_records": len(replay),
            "replay_share": round(len(replay) / max(1, len(stage2_train)), 4),
            "feedback_records": len(feedback),
            "phases": dict(sorted(phases.items())),
        }

        datasets = {
            "medqa_train": [mcq_output(r) for r in mcq["train"]],
            "medqa_validation": [mcq_output(r) for r in mcq["validation"]],
            "medqa_test": [mcq_output(r) for r in mcq["test"]],
            "stage1_train": stage1_train,
            "stage1_validation": stage1_validation,
            "stage2_train": stage2_train,
            "stage2_validation": taigi_validation,
            "taigi_test": [
                {"id": s["id"], "han": s["han"], "tailo": s["tailo"], "source": s["source"]}
                for s in sin["test"]
            ],
            "translation_test": _translation_pairs(sin["test"], par["test"], d, seed),
            "taigi_cloze_test": build_cloze(sin["test"], sin["train"], d.cloze_test_items, seed),
        }
        datasets = {
            k: v
            if k in ("stage2_train", "translation_test")
            else capped(v, d.dataset_caps.get(k), seed)
            for k, v in datasets.items()
        }
        # The held-out parallel pairs survive the cap; Sinica's Han→Tâi-lô pairs fill the rest.
        pairs = datasets["translation_test"]
        from_par = [p for p in pairs if p["id"].startswith("parallel-")]
        from_sin = [p for p in pairs if not p["id"].startswith("parallel-")]
        cap = d.dataset_caps.get("translation_test")
        room = None if cap is None else max(0, cap - len(from_par))
        datasets["translation_test"] = from_par + capped(from_sin, room, seed)
        held_out = {
            "parallel_test_ids": sorted(par_test),
            "parallel_test_by_topic": dict(
                sorted(Counter(p["topic"] for p in par["test"]).items())
            ),
            "cloze_sentence_ids": [
                r["id"].removeprefix("cloze-") for r in datasets["taigi_cloze_test"]
            ],
            "note": "test-split rows: read by evaluation only, never by training",
        }
    return BuildResult(datasets, reports, kept, leakage, mix_stats, held_out)


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
