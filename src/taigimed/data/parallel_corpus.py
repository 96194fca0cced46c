"""Parallel Mandarin / Taigi-Han / Tâi-lô file (JSONL with ``ZH``, ``HAN``, ``TL`` columns).

Only complete rows give pairs; rows that carry just a ``Prompt`` (instruction data with
no translation) are counted as incomplete, never silently dropped.
"""

from __future__ import annotations

from pathlib import Path

from taigimed.data.config import DataConfig
from taigimed.data.medqa import read_jsonl
from taigimed.data.report import SourceReport
from taigimed.text import normalize_text
from taigimed.text.tailo import numeric_to_diacritic


def load_parallel(
    path: Path, cfg: DataConfig, report: SourceReport, source: str = "parallel"
) -> list[dict]:
    """Rows ``{id, source, zh, han, tailo}`` from the complete lines of the file."""
    rows: list[dict] = []
    for where, raw in read_jsonl(path, report, cfg.max_rows_per_source):
        fields = {k: raw.get(k) for k in ("ZH", "HAN", "TL")}
        if not all(isinstance(v, str) and v.strip() for v in fields.values()):
            report.drop("incomplete_row_no_translation")
            continue
        zh, han = normalize_text(fields["ZH"]), normalize_text(fields["HAN"])
        # TL is already diacritic in this file; numeric syllables, if any, are converted.
        tailo = normalize_text(numeric_to_diacritic(fields["TL"]))
        if max(len(zh), len(han)) > cfg.max_sentence_chars:
            report.drop("too_long")
            continue
        rows.append(
            {
                "id": f"{source}-{where.rsplit(':', 1)[1]}",
                "source": source,
                "zh": zh,
                "han": han,
                "tailo": tailo,
                "topic": str(raw.get("Topic") or "none"),
            }
        )
    return rows
