"""Medical textbooks connector: OCR clean-up, OpenCC ``s2twp``, chunks for LM training.

Input: Simplified-Chinese ``*.txt``, one paragraph a line. Line rules run on the
Simplified text (where the OCR patterns were observed); conversion then runs per file
in worker processes, since ``s2twp`` over 8 MB is the slowest step on one core.
"""

from __future__ import annotations

import re
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from taigimed.data.config import DataConfig
from taigimed.data.report import SourceReport
from taigimed.text import normalize_text, simplified_chars, to_taiwan_traditional

_PART = r"第[一二三四五六七八九十百\d—]{1,4}[篇章节筒篮筛]"
# "44第—篇常见症状": a running header with the page number glued to its front, or back.
_RUNNING_HEADER_RE = re.compile(
    rf"^\d{{1,4}}\s*{_PART}\S{{0,20}}$|^{_PART}\S{{0,20}}?\s*\d{{1,4}}$"
)
_PAGE_NUMBER_RE = re.compile(r"^[\d\s·.\-—~～]{1,12}$")
_DOT_LEADER_RE = re.compile(r"[.．·…]{4,}")
# OCR slips a rule can fix safely: a dash read for 一 in 第一篇/章/节, 篇 misread as 筒/篮/筛,
# and mismatched heading brackets (［临床意义】 → 【临床意义】).
_OCR_FIXES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"第[—－-]([篇章节])"), r"第一\1"),
    (re.compile(r"(第[一二三四五六七八九十]{1,3})[筒篮筛](?=\S)"), r"\1篇"),
    (re.compile(r"^[［｛\[{【]([^\s［｛】］｝\]]{1,12})[］｝\]】}]"), r"【\1】"),
    # "步骤l：" — a lower-case L read for the digit 1 in a numbered step.
    (re.compile(r"(?<=[步骤第])l(?=[：:])"), "1"),
    # 入 read for 人 where the result is not a word: 入员 → 人员, 个入防护 → 个人防护.
    (re.compile(r"入员"), "人员"),
    (re.compile(r"个入防护"), "个人防护"),
)
# Reference-list lines ("李宁秀社会医学成都：四川大学出版社，2017"): citations, not prose.
_BIBLIOGRAPHY_RE = re.compile(r"出版社[，,．.]?\s*(?:19|20)\d\d")
_HAN_RE = re.compile(r"[\u4e00-\u9fff]")
_SENTENCE_END_RE = re.compile(r"(?<=[。！？；])")


def clean_line(line: str, cfg: DataConfig, report: SourceReport) -> str | None:
    """One paragraph after OCR rules and standardisation, or None with the reason counted."""
    line = normalize_text(line)
    if not line:
        report.drop("empty_line")
        return None
    if _RUNNING_HEADER_RE.match(line):
        report.drop("running_header")
        return None
    if _PAGE_NUMBER_RE.match(line):
        report.drop("page_number_line")
        return None
    if _DOT_LEADER_RE.search(line) and len(_HAN_RE.findall(line)) < 0.5 * len(line):
        report.drop("dot_leader_or_ocr_noise")
        return None
    if _BIBLIOGRAPHY_RE.search(line):
        report.drop("bibliography")
        return None
    fixed = line
    for rx, repl in _OCR_FIXES:
        fixed = rx.sub(repl, fixed)
    if fixed != line:
        report.cleaned["ocr_fix"] += 1  # lines changed, whatever the number of slips
        line = fixed
    if len(line) < cfg.min_text_chars and not line.endswith(("。", "！", "？", "：", "；")):
        report.drop("bare_heading")
        return None
    if len(line) < cfg.min_text_chars:
        report.drop("too_short")
        return None
    if len(line) > cfg.max_text_chars:
        report.drop("too_long")
        return None
    if len(_HAN_RE.findall(line)) < 0.3 * len(line):
        report.drop("mostly_non_chinese")
        return None
    return line


def _convert(paragraphs: list[str]) -> list[str]:
    # One call per file: OpenCC's per-call overhead dominates on short strings.
    return to_taiwan_traditional("\n".join(paragraphs)).split("\n")


def convert_all(per_file: list[list[str]], workers: int) -> list[list[str]]:
    """``s2twp`` over every paragraph, in equal-sized batches across ``workers`` processes."""
    flat = [p for paras in per_file for p in paras]
    if workers > 1 and len(flat) > 2000:
        n = workers * 2
        step = -(-len(flat) // n)
        with ProcessPoolExecutor(max_workers=workers) as pool:
            done = pool.map(_convert, [flat[i : i + step] for i in range(0, len(flat), step)])
            flat = [p for batch in done for p in batch]
    elif flat:
        flat = _convert(flat)
    out, start = [], 0
    for paras in per_file:
        out.append(flat[start : start + len(paras)])
        start += len(paras)
    return out


def chunk_paragraphs(paragraphs: list[str], size: int) -> list[str]:
    """Greedy chunks of about ``size`` characters on paragraph, then sentence, boundaries."""
    chunks: list[str] = []
    current = ""
    for para in paragraphs:
        pieces = [para] if len(para) <= size else [s for s in _SENTENCE_END_RE.split(para) if s]
        for piece in pieces:
            if current and len(current) + len(piece) + 1 > size:
                chunks.append(current)
                current = ""
            current = f"{current}\n{piece}" if current else piece
    if current:
        chunks.append(current)
    return chunks


def load_textbooks(
    files: list[Path], cfg: DataConfig, report: SourceReport, source: str = "textbooks"
) -> list[dict]:
    """Clean paragraphs ``{book, text}`` in Taiwan Traditional Chinese (chunk them with
    ``chunk_books`` after deduplication, so every removed row is a paragraph)."""
    per_file: list[list[str]] = []
    for path in files:
        kept: list[str] = []
        with path.open(encoding="utf-8", errors="strict") as f:
            try:
                lines = f.read().split("\n")
            except UnicodeDecodeError as exc:
                report.bad_row(str(path), f"not UTF-8 ({exc.reason} at byte {exc.start})")
                per_file.append([])
                continue
        for line in lines:
            if cfg.max_rows_per_source is not None and report.read >= cfg.max_rows_per_source:
                break
            report.read += 1
            cleaned = clean_line(line, cfg, report)
            if cleaned is not None:
                kept.append(cleaned)
        per_file.append(kept)

    converted = convert_all(per_file, cfg.workers)

    paragraphs_out: list[dict] = []
    for path, paragraphs in zip(files, converted, strict=True):
        for para in paragraphs:
            if simplified_chars(para) > cfg.max_simplified_ratio * len(para):
                report.drop("simplified_left_after_conversion")
                continue
            paragraphs_out.append({"book": path.stem, "text": para})
    return paragraphs_out


def chunk_books(paragraphs: list[dict], size: int, source: str = "textbooks") -> list[dict]:
    """Chunk records ``{id, source, text}`` per book, in reading order."""
    books: dict[str, list[str]] = {}
    for p in paragraphs:
        books.setdefault(p["book"], []).append(p["text"])
    return [
        {"id": f"{source}-{book}-{i:05d}", "source": source, "text": chunk}
        for book, paras in books.items()
        for i, chunk in enumerate(chunk_paragraphs(paras, size))
    ]
