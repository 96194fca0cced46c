"""``evaluate_model``: score one model on every set and write the report JSON and Markdown.

Report JSON (``schema`` 1), stable for the gate and the registry::

    {"schema": 1, "model": {"path", "name"},
     "sample": {"full", "per_set_n": {set: n}, "seed", "sample_per_set"},
     "sets": {set: {"metrics": {metric: {"value", "n", "ci_low", "ci_high"}},
                    "categories": {cat: {metric: {...}}},
                    "letter_distribution": {"A": n, ...},        # MCQ sets
                    "baselines": {name: metric}, "balance": {...},   # MCQ sets
                    "power": {metric: {"n", "mde", "alpha", "power", "basis"}},
                    "items": [...]}},              # per item, see metrics.item_values
     "skipped_sets": {set: why},
     "seconds": float, "set_seconds": {set: float}}

Each set is one job: an ``McqJob`` (an MCQ set, with taigi_medical's open questions) or
the ``GeneralJob`` (taigi_general). A job loads on its full items, is sampled, and scores
itself; ``evaluate_model`` reads top to bottom: load, balance, sample, score, report.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from taigimed.artifacts import fingerprint as json_fingerprint
from taigimed.artifacts import write_json_atomic
from taigimed.config import Config
from taigimed.evaluate import eval_sets as evsets
from taigimed.evaluate.balance import check_balance
from taigimed.evaluate.config import EvalConfig
from taigimed.evaluate.report import write_report
from taigimed.evaluate.scoring import load_model
from taigimed.evaluate.suites import evaluate_general, evaluate_mcq, evaluate_open
from taigimed.workdir import Workdir

SCHEMA = 1


@dataclass
class McqJob:
    """One MCQ set, scored by option likelihood (and parsed letters when generative);
    ``open_items`` are the set's open questions (taigi_medical's), scored with it."""

    name: str
    items: list[dict]
    open_items: list[dict] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        return [r["id"] for r in self.items] + [r["id"] for r in self.open_items]

    @property
    def size(self) -> int:
        return len(self.items) + len(self.open_items)

    def sampled(self, n: int | None, seed: int, ec: EvalConfig) -> McqJob:
        """The seeded sample of ``n`` items per part, stratified by category."""
        items = evsets.stratified_sample(self.items, n, seed, lambda r: r["category"])
        open_items = self.open_items
        if open_items:
            open_items = evsets.stratified_sample(
                open_items, n, seed, lambda r: str(r.get("category", "all"))
            )
        return McqJob(self.name, items, open_items)

    def score(self, lm, ec: EvalConfig, seed: int, progress) -> dict[str, Any]:
        common = {"n_resamples": ec.bootstrap_samples, "seed": seed}
        res = evaluate_mcq(
            lm,
            self.items,
            batch_questions=ec.batch_questions,
            gen_tokens=ec.mcq_max_new_tokens if ec.generative else 0,
            progress=progress,
            options_only=ec.options_only,
            **common,
        )
        if self.open_items:
            open_metrics, res["open_items"] = evaluate_open(
                lm,
                self.open_items,
                batch_size=ec.batch_sequences,
                max_new_tokens=ec.open_max_new_tokens,
                progress=progress,
                **common,
            )
            res["metrics"].update(open_metrics)
        return res


@dataclass
class GeneralJob:
    """taigi_general: bits per character on Taigi sentences, chrF++ on translation pairs."""

    sentences: list[dict]
    pairs: list[dict]
    name: str = "taigi_general"

    @property
    def ids(self) -> list[str]:
        return [r["id"] for r in self.sentences] + [r["id"] for r in self.pairs]

    @property
    def size(self) -> int:
        return len(self.ids)

    def sampled(self, n: int | None, seed: int, ec: EvalConfig) -> GeneralJob:
        """``n`` sentences stratified by source; pairs per direction (``n`` unless
        ``eval.translation_per_direction`` says otherwise)."""
        sentences = evsets.stratified_sample(self.sentences, n, seed, lambda r: str(r["source"]))
        per_direction = ec.translation_per_direction if n is not None else None
        pairs = evsets.sample_translation(self.pairs, per_direction or n, seed)
        return GeneralJob(sentences, pairs, self.name)

    def score(self, lm, ec: EvalConfig, seed: int, progress) -> dict[str, Any]:
        return evaluate_general(
            lm,
            self.sentences,
            self.pairs,
            batch_size=ec.batch_sequences,
            max_new_tokens=ec.translation_max_new_tokens,
            progress=progress,
            n_resamples=ec.bootstrap_samples,
            seed=seed,
        )


EvalJob = McqJob | GeneralJob


def evaluate_model(
    cfg: Config,
    workdir: Workdir | str | Path | None,
    model_dir: str | Path,
    out_json: str | Path,
    extra_mcq: Sequence[str | Path] = (),
    full: bool = False,
    champion_report: str | Path | dict | None = None,
    data_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Score ``model_dir`` on the configured sets, write ``out_json`` and a report beside it.

    ``full=False`` scores the recipe's seeded, stratified sample (``eval.sample_per_set``);
    ``data_dir`` (a prepared version folder) defaults to the work directory's newest; a
    ``champion_report`` (path or dict) adds champion-vs-challenger plots.
    """
    wd = workdir if isinstance(workdir, Workdir) else Workdir.resolve(workdir)
    ec = cfg.eval
    seed = ec.seed if ec.seed is not None else cfg.seed
    sample_n = None if full else sample_size(cfg)
    out_json = Path(out_json)
    started = time.perf_counter()

    # Load and validate every input before the (slow) model so bad files fail at once.
    jobs, skipped = _load_jobs(cfg, wd, data_dir, extra_mcq)
    # Balance is a property of the set, not of the sample: a 10-item sample of a balanced
    # set can look lopsided, so the report states it for the full set.
    balance = {j.name: check_balance(j.items).to_dict() for j in jobs if isinstance(j, McqJob)}
    jobs = [job.sampled(sample_n, seed, ec) for job in jobs]
    results, set_seconds = _score_jobs(jobs, cfg, wd, model_dir, out_json, seed)

    for name, bal in balance.items():
        results[name]["balance"] = bal
    report = {
        "schema": SCHEMA,
        "model": {"path": str(model_dir), "name": Path(str(model_dir)).name},
        "sample": {
            "full": sample_n is None,
            "sample_per_set": sample_n,
            "per_set_n": _per_set_n(jobs),
            "seed": seed,
        },
        "sets": annotate_power(results, cfg.gate.alpha, ec.power),
        "skipped_sets": skipped,
        "seconds": round(time.perf_counter() - started, 2),
        "set_seconds": {k: round(v, 2) for k, v in set_seconds.items()},
    }
    write_json_atomic(out_json, report)
    champion = _read_report(champion_report)
    write_report(report, out_json, champion)
    shutil.rmtree(_parts_dir(out_json), ignore_errors=True)
    return report


def _load_jobs(
    cfg: Config, wd: Workdir, data_dir: str | Path | None, extra_mcq: Sequence[str | Path]
) -> tuple[list[EvalJob], dict[str, str]]:
    """A job per configured set on its full items, and the sets skipped (with why)."""
    ec = cfg.eval
    prepared = None
    if {"medqa_tw", "taigi_general", "taigi_cloze"} & set(ec.sets):
        prepared = evsets.open_prepared(Path(data_dir) if data_dir else wd)
    jobs: list[EvalJob] = []
    skipped: dict[str, str] = {}
    if "medqa_tw" in ec.sets:
        rows = evsets.prepared_rows(prepared, "medqa_test")
        jobs.append(McqJob("medqa_tw", evsets.check_mcq(rows, f"{prepared.path}/medqa_test")))
    if "taigi_cloze" in ec.sets:
        rows = evsets.prepared_rows(prepared, "taigi_cloze_test")
        if rows:
            where = f"{prepared.path}/taigi_cloze_test"
            jobs.append(McqJob("taigi_cloze", evsets.check_mcq(rows, where)))
        else:
            # A small corpus slice (the tiny recipe) can leave too few words for distractors.
            skipped["taigi_cloze"] = "the prepared data has no cloze items (corpus too small)"
    if "taigi_medical" in ec.sets:
        mcq, open_items = evsets.load_taigi_medical(ec.taigi_medical_path)
        jobs.append(McqJob("taigi_medical", mcq, open_items))
    for path in extra_mcq:
        jobs.append(McqJob(f"extra:{Path(path).name}", evsets.load_extra_mcq(path)))
    if "taigi_general" in ec.sets:
        jobs.append(
            GeneralJob(
                evsets.prepared_rows(prepared, "taigi_test"),
                evsets.prepared_rows(prepared, "translation_test"),
            )
        )
    return jobs, skipped


def _per_set_n(jobs: list[EvalJob]) -> dict[str, int]:
    """Items scored per set: MCQ sets, then open questions, then taigi_general's two parts."""
    mcq = [j for j in jobs if isinstance(j, McqJob)]
    n = {j.name: len(j.items) for j in mcq}
    n |= {f"{j.name}_open": len(j.open_items) for j in mcq if j.open_items}
    for j in jobs:
        if isinstance(j, GeneralJob):
            n |= {j.name: len(j.sentences), f"{j.name}_translation": len(j.pairs)}
    return n


def _score_jobs(
    jobs: list[EvalJob],
    cfg: Config,
    wd: Workdir,
    model_dir: str | Path,
    out_json: Path,
    seed: int,
) -> tuple[dict[str, Any], dict[str, float]]:
    """Each job's result and seconds; the model loads only if some job was not finished.

    Each finished set is kept under <out>.parts/ until the report is written, so an
    interrupted run resumes with the sets it had not finished (same model, config, items).
    """
    parts = _parts_dir(out_json)
    fingerprint = _fingerprint(cfg, model_dir)
    results: dict[str, Any] = {}
    set_seconds: dict[str, float] = {}
    lm = None
    with _progress() as bar:
        for job in jobs:
            key = json_fingerprint([fingerprint, job.name, job.ids])
            part = parts / f"{_slug(job.name)}.json"
            cached = _read_part(part, key)
            if cached is not None:
                results[job.name], set_seconds[job.name] = cached["result"], cached["seconds"]
                bar.add_task(f"{job.name} (resumed)", total=job.size, completed=job.size)
                continue
            if lm is None:
                lm = _load_scorer(cfg, wd, model_dir)
            task = bar.add_task(job.name, total=job.size)
            t0 = time.perf_counter()
            res = job.score(lm, cfg.eval, seed, lambda k, t=task: bar.advance(t, k))
            results[job.name], set_seconds[job.name] = res, time.perf_counter() - t0
            write_json_atomic(part, {"key": key, "result": res, "seconds": set_seconds[job.name]})
            # A line per finished set: without a terminal (CI, Argo pods) the bars only
            # appear when everything is done.
            bar.console.print(
                f"{job.name}: {job.size} items scored in {set_seconds[job.name]:.0f} s"
            )
    return results, set_seconds


def _parts_dir(out_json: Path) -> Path:
    return out_json.with_name(f".{out_json.name}.parts")


def sample_size(cfg: Config) -> int | None:
    """Items per set for a sampled run: sized for ``eval.detectable_difference`` when set,
    else ``eval.sample_per_set`` (None: full sets)."""
    ec = cfg.eval
    if ec.detectable_difference is not None:
        from taigimed.evaluate.power import n_for_mde

        return n_for_mde(ec.detectable_difference, alpha=cfg.gate.alpha, power=ec.power)
    return ec.sample_per_set


def annotate_power(results: dict[str, Any], alpha: float, power: float) -> dict[str, Any]:
    """Add each set's minimal detectable differences (``power``) at the n it was scored on."""
    from taigimed.evaluate.metrics import item_values
    from taigimed.evaluate.power import set_power

    for res in results.values():
        values = {}
        for name in res.get("metrics", {}):
            try:
                values[name] = list(item_values(res, name).values())
            except KeyError:
                continue
        res["power"] = set_power(res["metrics"], values, alpha, power)
    return results


def _load_scorer(cfg: Config, wd: Workdir, model_dir: str | Path):
    """The torch model, or (``eval.scorer: gguf``) its GGUF export run by llama.cpp."""
    ec = cfg.eval
    if ec.scorer == "torch":
        return load_model(
            model_dir,
            ec.dtype or cfg.model.dtype,
            cfg.model.max_context,
            cfg.model.trust_remote_code,
        )
    from taigimed.evaluate.scoring_gguf import load_gguf_model
    from taigimed.models.gguf_export import ensure_gguf, template_for

    exported = ensure_gguf(model_dir, ec.gguf_type, template_for(cfg.model.base, wd))
    return load_gguf_model(
        exported.path, model_dir, cfg.model.max_context, batch_sequences=ec.batch_sequences
    )


def _fingerprint(cfg: Config, model_dir: str | Path) -> list:
    """What a cached set result depends on: eval and model settings, and the weights' files."""
    folder = Path(str(model_dir))
    files = sorted(
        (p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.glob("*") if p.is_file()
    )
    return [cfg.fingerprint("eval", "model", "seed"), str(folder.resolve()), files]


def _read_part(path: Path, key: str) -> dict | None:
    try:
        part = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return part if part.get("key") == key else None


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def _read_report(report: str | Path | dict | None) -> dict | None:
    if report is None or isinstance(report, dict):
        return report
    path = Path(report)
    if not path.exists():
        raise FileNotFoundError(f"champion report {path} not found")
    return json.loads(path.read_text(encoding="utf-8"))


def _progress():
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=False,
    )
