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
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from taigimed.artifacts import write_json_atomic
from taigimed.config import Config
from taigimed.evaluate import eval_sets as evsets
from taigimed.evaluate.report import write_report
from taigimed.evaluate.scoring import load_model
from taigimed.evaluate.suites import evaluate_general, evaluate_mcq, evaluate_open
from taigimed.workdir import Workdir

SCHEMA = 1


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
    mcq_sets: dict[str, list[dict]] = {}
    taigi_open: list[dict] = []
    general: tuple[list[dict], list[dict]] | None = None
    needs_data = {"medqa_tw", "taigi_general", "taigi_cloze"} & set(ec.sets)
    prepared = None
    if needs_data:
        prepared = evsets.open_prepared(Path(data_dir) if data_dir else wd)
    if "medqa_tw" in ec.sets:
        rows = evsets.prepared_rows(prepared, "medqa_test")
        mcq_sets["medqa_tw"] = evsets.check_mcq(rows, f"{prepared.path}/medqa_test")
    skipped: dict[str, str] = {}
    if "taigi_cloze" in ec.sets:
        rows = evsets.prepared_rows(prepared, "taigi_cloze_test")
        if rows:
            mcq_sets["taigi_cloze"] = evsets.check_mcq(rows, f"{prepared.path}/taigi_cloze_test")
        else:
            # A small corpus slice (the tiny recipe) can leave too few words for distractors.
            skipped["taigi_cloze"] = "the prepared data has no cloze items (corpus too small)"
    if "taigi_medical" in ec.sets:
        mcq_sets["taigi_medical"], taigi_open = evsets.load_taigi_medical(ec.taigi_medical_path)
    for path in extra_mcq:
        mcq_sets[f"extra:{Path(path).name}"] = evsets.load_extra_mcq(path)
    if "taigi_general" in ec.sets:
        general = (
            evsets.prepared_rows(prepared, "taigi_test"),
            evsets.prepared_rows(prepared, "translation_test"),
        )

    # Balance is a property of the set, not of the sample: a 10-item sample of a balanced
    # set can look lopsided, so the report states it for the full set.
    from taigimed.evaluate.balance import check_balance

    balance = {name: check_balance(rows).to_dict() for name, rows in mcq_sets.items()}
    per_set_n: dict[str, int] = {}
    for name, rows in mcq_sets.items():
        mcq_sets[name] = evsets.stratified_sample(rows, sample_n, seed, lambda r: r["category"])
        per_set_n[name] = len(mcq_sets[name])
    if taigi_open:
        taigi_open = evsets.stratified_sample(
            taigi_open, sample_n, seed, lambda r: str(r.get("category", "all"))
        )
        per_set_n["taigi_medical_open"] = len(taigi_open)
    if general is not None:
        sents = evsets.stratified_sample(general[0], sample_n, seed, lambda r: str(r["source"]))
        per_direction = ec.translation_per_direction if sample_n is not None else None
        pairs = evsets.sample_translation(general[1], per_direction or sample_n, seed)
        general = (sents, pairs)
        per_set_n["taigi_general"] = len(sents)
        per_set_n["taigi_general_translation"] = len(pairs)

    # Each finished set is kept under <out>.parts/ until the report is written, so an
    # interrupted run resumes with the sets it had not finished (same model, config, items).
    parts = out_json.with_name(f".{out_json.name}.parts")
    fingerprint = _fingerprint(cfg, model_dir)
    jobs = []
    common = {"n_resamples": ec.bootstrap_samples, "seed": seed}
    gen_tokens = ec.mcq_max_new_tokens if ec.generative else 0
    for name, items in mcq_sets.items():
        extra = taigi_open if name == "taigi_medical" else []
        ids = [r["id"] for r in items] + [r["id"] for r in extra]
        jobs.append((name, ids, len(items) + len(extra), ("mcq", items, extra)))
    if general is not None:
        ids = [r["id"] for r in general[0]] + [r["id"] for r in general[1]]
        jobs.append(("taigi_general", ids, len(ids), ("general", *general)))

    results: dict[str, Any] = {}
    set_seconds: dict[str, float] = {}
    lm = None
    with _progress() as bar:
        for name, ids, size, job in jobs:
            key = hashlib.sha256(json.dumps([fingerprint, name, ids]).encode()).hexdigest()
            part = parts / f"{_slug(name)}.json"
            cached = _read_part(part, key)
            if cached is not None:
                results[name], set_seconds[name] = cached["result"], cached["seconds"]
                bar.add_task(f"{name} (resumed)", total=size, completed=size)
                continue
            if lm is None:
                lm = _load_scorer(cfg, wd, model_dir)
            task = bar.add_task(name, total=size)
            progress = lambda k, t=task: bar.advance(t, k)  # noqa: E731
            t0 = time.perf_counter()
            if job[0] == "mcq":
                _, items, extra = job
                res = evaluate_mcq(
                    lm,
                    items,
                    batch_questions=ec.batch_questions,
                    gen_tokens=gen_tokens,
                    progress=progress,
                    options_only=ec.options_only,
                    **common,
                )
                if extra:
                    open_metrics, res["open_items"] = evaluate_open(
                        lm,
                        extra,
                        batch_size=ec.batch_sequences,
                        max_new_tokens=ec.open_max_new_tokens,
                        progress=progress,
                        **common,
                    )
                    res["metrics"].update(open_metrics)
            else:
                res = evaluate_general(
                    lm,
                    job[1],
                    job[2],
                    batch_size=ec.batch_sequences,
                    max_new_tokens=ec.translation_max_new_tokens,
                    progress=progress,
                    **common,
                )
            results[name], set_seconds[name] = res, time.perf_counter() - t0
            write_json_atomic(part, {"key": key, "result": res, "seconds": set_seconds[name]})
            # A line per finished set: without a terminal (CI, Argo pods) the bars only
            # appear when everything is done.
            bar.console.print(f"{name}: {size} items scored in {set_seconds[name]:.0f} s")

    for name, bal in balance.items():
        results[name]["balance"] = bal
    report = {
        "schema": SCHEMA,
        "model": {"path": str(model_dir), "name": Path(str(model_dir)).name},
        "sample": {
            "full": sample_n is None,
            "sample_per_set": sample_n,
            "per_set_n": per_set_n,
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
    shutil.rmtree(parts, ignore_errors=True)
    return report


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
