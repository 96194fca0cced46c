"""The evaluation sets: where they come from, their schema checks, and seeded samples.

* ``medqa_tw``: ``medqa_test`` of the prepared data (MedQA schema).
* ``taigi_medical``: the set authored by the project, shipped in ``evaluate/sets/``.
* ``taigi_general``: ``taigi_test`` (bits per character) and ``translation_test`` (chrF++).
* ``taigi_cloze``: ``taigi_cloze_test``, a blank in held-out Sinica sentences (accuracy).
* ``extra:<file name>``: any JSONL file in the MedQA schema (``--extra-mcq``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from taigimed.workdir import Workdir

Row = dict[str, Any]


class EvalDataError(ValueError):
    """An evaluation file or prepared dataset that cannot be scored; the message says where."""


def builtin_set_dir() -> Path:
    return Path(str(resources.files("taigimed.evaluate") / "sets"))


def read_jsonl(path: Path) -> list[Row]:
    rows = []
    with Path(path).open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise EvalDataError(f"{path}:{n}: not valid JSON ({exc.msg})") from exc
            if not isinstance(row, dict):
                raise EvalDataError(f"{path}:{n}: each line must be a JSON object")
            rows.append(row)
    return rows


def check_mcq(rows: Sequence[Row], where: str) -> list[Row]:
    """Validated copies of MedQA-schema rows: ids filled, letters checked, category defaulted."""
    out, seen = [], set()
    for n, row in enumerate(rows, 1):
        at = f"{where} item {n}"
        q, opts, ans = row.get("question"), row.get("options"), row.get("answer_idx")
        if not isinstance(q, str) or not q.strip():
            raise EvalDataError(f"{at}: 'question' must be a non-empty string")
        if not isinstance(opts, dict) or len(opts) < 2:
            raise EvalDataError(f"{at}: 'options' must map letters (A, B, ...) to option texts")
        letters = sorted(opts)
        if letters != [chr(ord("A") + i) for i in range(len(letters))]:
            raise EvalDataError(f"{at}: option letters must be A, B, C... in order, got {letters}")
        if any(not isinstance(v, str) or not v.strip() for v in opts.values()):
            raise EvalDataError(f"{at}: every option text must be a non-empty string")
        if ans not in opts:
            raise EvalDataError(f"{at}: 'answer_idx' must be one of {letters}, got {ans!r}")
        item_id = str(row.get("id") or f"{Path(where).stem}-{n}")
        if item_id in seen:
            raise EvalDataError(f"{at}: duplicate id {item_id!r}")
        seen.add(item_id)
        out.append(
            {
                "id": item_id,
                "question": q,
                "options": {k: opts[k] for k in letters},
                "answer_idx": ans,
                "category": str(row.get("category") or "all"),
            }
        )
    if not out:
        raise EvalDataError(f"{where}: no items")
    return out


def load_extra_mcq(path: str | Path) -> list[Row]:
    path = Path(path)
    if not path.is_file():
        raise EvalDataError(f"--extra-mcq {path}: file not found")
    if path.suffix == ".json":
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise EvalDataError(f"{path}: not valid JSON ({exc.msg})") from exc
        if not isinstance(rows, list):
            raise EvalDataError(f"{path}: a .json file must hold a list of items")
    else:
        rows = read_jsonl(path)
    return check_mcq(rows, str(path))


def load_taigi_medical(folder: str | Path | None = None) -> tuple[list[Row], list[Row]]:
    """(MCQ items, open questions) of the authored Taigi medical set."""
    folder = Path(folder) if folder else builtin_set_dir()
    mcq = check_mcq(read_jsonl(folder / "taigi_medical_mcq.jsonl"), str(folder / "mcq"))
    open_rows = read_jsonl(folder / "taigi_medical_open.jsonl")
    from taigimed.evaluate.rubric import RubricError, check_rubric

    for n, row in enumerate(open_rows, 1):
        where = f"{folder}/taigi_medical_open.jsonl:{n}"
        for key in ("id", "question", "reference"):
            if not isinstance(row.get(key), str) or not row[key].strip():
                raise EvalDataError(f"{where}: {key!r} missing")
        try:
            check_rubric(row, where)
        except RubricError as exc:
            raise EvalDataError(str(exc)) from exc
    return mcq, open_rows


def open_prepared(source: Path | Workdir):
    """Prepared data: a version folder, or a work directory's newest (``data/current.json``)."""
    from taigimed.data.load import PreparedDataError, load_prepared

    try:
        return load_prepared(source)
    except PreparedDataError as exc:
        raise EvalDataError(str(exc)) from exc


def prepared_rows(prepared, name: str) -> list[Row]:
    """One prepared dataset as a list of dicts."""
    if name not in prepared.names:
        raise EvalDataError(
            f"prepared data {prepared.path} has no {name!r}: re-run `taigimed data prepare`"
        )
    return [dict(r) for r in prepared.dataset(name)]


def stratified_sample(
    rows: Sequence[Row], n: int | None, seed: int, key: Callable[[Row], str]
) -> list[Row]:
    """A fixed, seeded sample of ``n`` rows, strata in proportion, original order kept."""
    if n is None or n >= len(rows):
        return list(rows)
    groups: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        groups[key(row)].append(i)
    names = sorted(groups)
    exact = np.array([len(groups[g]) * n / len(rows) for g in names])
    quota = np.floor(exact).astype(int)
    # Largest remainders get the seats rounding left over (ties broken by name).
    for j in np.argsort(-(exact - quota), kind="stable")[: n - int(quota.sum())]:
        quota[j] += 1
    rng = np.random.default_rng(seed)
    chosen: list[int] = []
    for g, q in zip(names, quota, strict=True):
        chosen += rng.choice(groups[g], size=int(q), replace=False).tolist()
    return [rows[i] for i in sorted(chosen)]


def sample_translation(pairs: Sequence[Row], per_direction: int | None, seed: int) -> list[Row]:
    """Up to ``per_direction`` pairs of each direction; held-out parallel-file pairs (the only
    Mandarin→Han ones, and human translations) are kept before Sinica's Han→Tâi-lô pairs."""
    if per_direction is None:
        return list(pairs)
    out: list[Row] = []
    for direction in sorted({p["direction"] for p in pairs}):
        sub = [p for p in pairs if p["direction"] == direction]
        par = [p for p in sub if str(p["id"]).startswith("parallel-")]
        rest = [p for p in sub if not str(p["id"]).startswith("parallel-")]
        keep = stratified_sample(par, per_direction, seed, lambda r: "parallel")
        keep += stratified_sample(rest, max(0, per_direction - len(keep)), seed, lambda r: "x")
        out += keep
    return out
