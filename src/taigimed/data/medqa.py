"""MedQA (Taiwan subset) connector: schema check, cleaning, quality filters, categories.

Rows: ``{"question", "options": {"A".."D"}, "answer", "answer_idx", "meta_info"}``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from taigimed.data.config import DataConfig
from taigimed.data.report import SourceReport
from taigimed.text import count_private_use, normalize_text

LETTERS = ("A", "B", "C", "D", "E")

# "52." or "38" alone: the exam number survived but the question text leaked into an option.
_ONLY_NUMBER_RE = re.compile(r"^\s*\d{1,3}\s*[.、．]?\s*$")
# "15 有關…" / "15. 下列…": a leading exam number before the real question.
_LEADING_NUMBER_RE = re.compile(r"^\s*\d{1,3}\s*[.、．]?\s+(?=\D)|^\s*\d{1,3}\s*[.、．]\s*(?=\D)")
# The text refers to a figure or photograph that the row does not carry.
_FIGURE_RE = re.compile(
    r"如圖|下圖|上圖|附圖|右圖|左圖|見圖|圖中|圖示|照片|附相|如相片|下列影像|影像如下"
)
_PREVIOUS_RE = re.compile(r"承上題|承上")

# Coarse subject from keywords, first match wins (order: specific before general).
CATEGORY_RULES: tuple[tuple[str, str], ...] = (
    ("pharmacology", r"藥物|藥理|劑量|副作用|抑制劑|拮抗劑|mg|用藥"),
    ("obstetrics_gynecology", r"懷孕|妊娠|孕婦|產婦|子宮|卵巢|月經|停經|胎兒|分娩|產後"),
    ("pediatrics", r"新生兒|嬰兒|兒童|幼兒|小兒|男童|女童|男嬰|女嬰|\d+\s*個月大"),
    ("surgery", r"手術|開刀|外科|術後|切除"),
    ("cardiology", r"心臟|心電圖|心肌|冠狀動脈|心衰竭|心律|瓣膜|主動脈"),
    ("infectious_disease", r"感染|細菌|病毒|抗生素|黴菌|寄生蟲|疫苗|結核"),
    ("oncology", r"癌|腫瘤|化療|放射治療|淋巴瘤|白血病"),
    ("neurology_psychiatry", r"神經|腦|癲癇|中風|失智|憂鬱|精神|思覺失調|焦慮"),
    ("anatomy_physiology", r"解剖|生理|肌肉|骨骼|動脈|靜脈|神經支配|分泌"),
    ("biochemistry", r"酵素|代謝|蛋白質|胺基酸|DNA|RNA|基因|粒線體"),
)
_CATEGORY_RES = tuple((name, re.compile(rx)) for name, rx in CATEGORY_RULES)


def category(question: str) -> str:
    """A coarse subject for reporting per-category accuracy; 'general' if no keyword matches."""
    for name, rx in _CATEGORY_RES:
        if rx.search(question):
            return name
    return "general"


def read_jsonl(path: Path, report: SourceReport, limit: int | None = None):
    """Yield ``(where, row)`` for each JSON object line; bad lines go to ``report.bad_row``."""
    read_here = 0  # the cap applies per file, so a capped dev file still leaves test rows
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            if limit is not None and read_here >= limit:
                return
            read_here += 1
            where = f"{path}:{lineno}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                report.bad_row(where, f"malformed JSON ({exc.msg} at column {exc.colno})")
                continue
            if not isinstance(row, dict):
                report.bad_row(where, "expected a JSON object")
                continue
            report.read += 1
            yield where, row


def _schema_problem(row: dict) -> str | None:
    if not isinstance(row.get("question"), str):
        return "missing or non-string 'question'"
    options = row.get("options")
    if not isinstance(options, dict) or not options:
        return "'options' must be an object of letter → text"
    if not set(options) <= set(LETTERS) or not all(isinstance(v, str) for v in options.values()):
        return f"'options' keys must be letters A–E with string values, got {sorted(options)}"
    if not isinstance(row.get("answer_idx"), str):
        return "missing or non-string 'answer_idx'"
    if "answer" in row and not isinstance(row["answer"], str):
        return "'answer' must be a string"
    return None


def load_medqa(
    files: dict[str, Path], cfg: DataConfig, report: SourceReport, source: str
) -> dict[str, list[dict]]:
    """Clean, filtered MCQ rows per split file (``train``/``dev``/``test``)."""
    out: dict[str, list[dict]] = {}
    for split, path in files.items():
        rows = []
        for where, raw in read_jsonl(path, report, cfg.max_rows_per_source):
            problem = _schema_problem(raw)
            if problem:
                report.bad_row(where, f"MedQA schema: {problem}")
                continue
            row = clean_row(raw, cfg, report)
            if row is not None:
                row["id"] = f"{source}-{split}-{where.rsplit(':', 1)[1]}"
                row["source"] = source
                rows.append(row)
        out[split] = rows
    return out


def clean_row(raw: dict, cfg: DataConfig, report: SourceReport) -> dict | None:
    """Standardise one schema-checked row, or return None with the reason counted."""
    question = normalize_text(raw["question"])
    options = {k: normalize_text(v) for k, v in sorted(raw["options"].items())}
    answer_idx = normalize_text(raw["answer_idx"]).upper()
    answer = normalize_text(raw.get("answer", "")) if raw.get("answer") is not None else ""

    if _ONLY_NUMBER_RE.match(question):
        report.drop("question_is_exam_number")
        return None
    stripped = _LEADING_NUMBER_RE.sub("", question, count=1)
    if stripped != question:
        report.cleaned["leading_exam_number"] += 1
        question = stripped
    if not question:
        report.drop("empty_question")
        return None
    if _PREVIOUS_RE.search(question):
        report.drop("depends_on_previous_question")
        return None
    if _FIGURE_RE.search(question):
        report.drop("refers_to_missing_figure")
        return None
    if len(question) < cfg.min_question_chars:
        report.drop("question_too_short")
        return None
    if len(question) > cfg.max_question_chars:
        report.drop("question_too_long")
        return None
    if sorted(options) != list(LETTERS[:4]):
        # The output schema (and the evaluation prompt) is four options A–D.
        report.drop("not_four_options_A_to_D")
        return None
    if any(not v for v in options.values()):
        report.drop("empty_option")
        return None
    if len(set(options.values())) < len(options):
        report.drop("duplicate_options")
        return None
    if answer_idx not in options:
        report.drop("answer_idx_not_an_option")
        return None
    if answer and answer != options[answer_idx]:
        report.drop("answer_text_mismatch")
        return None
    text_all = question + "".join(options.values())
    if count_private_use(text_all):
        # Nothing recovers these glyphs; keep the row (the rest is readable) but count it.
        report.flagged["private_use_characters"] += 1
    raw_all = raw["question"] + "".join(raw["options"].values())
    if any(0xF900 <= ord(c) <= 0xFAFF or 0x2F800 <= ord(c) <= 0x2FA1F for c in raw_all):
        report.cleaned["compatibility_ideographs_folded"] += 1
    if any(0x2E80 <= ord(c) <= 0x2FDF for c in raw_all):
        report.cleaned["kangxi_radicals_folded"] += 1
    return {
        "question": question,
        "options": options,
        "answer_idx": answer_idx,
        "answer": options[answer_idx],
        "category": category(question),
    }
