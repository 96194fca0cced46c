"""Real writing for the triage classifier: the evaluation files that have been read.

Until the sixth round of issue 21 the classifier learnt from the generated and authored
tuning corpus alone, and every new writer's file showed what that costs: it fitted the
corpus and generalised only partly (held-out v5, blind: recall 0.923, 22 of 180 everyday
statements answered with 119 by the classifier alone). The files below were each scored
once as held-out material and read afterwards; they are regression sets now, so their rows
are training material too — real people's wording of emergencies, look-alikes, dosing
questions and everyday questions, in every script.

How a row becomes a training row (``rows``):

- a triage file's single message: its text, an emergency when it has categories;
- a conversation that is no emergency: its **last user turn**, the one the classifier
  reads at serving (safety/conversation.py reads the earlier ones with the rules);
- a conversation that is an emergency: its user turns **joined**. Its last turn alone is
  often no emergency (現在量體溫38.5度 after 寶寶兩個月大): learnt as one, the classifier
  fired on that fever told of an adult. Joined, it learns the emergency's words;
- an everyday or knowledge question: its question, not an emergency.

A dosing question (``"intent": "dose"``) has no categories and is a negative: the
pharmacist reply, not 119. The builder records each file's name, role and SHA-256 in the
JSON (``trained_on``); a file not there stops the build naming it, so a moved file is never
dropped quietly. ``--leave-out`` style checks pass ``exclude`` (benchmarks/classifier_lofo.py).
"""

from __future__ import annotations

import json
from pathlib import Path

from taigimed.artifacts import file_sha256

_SAFETY_EVAL = Path(__file__).resolve().parent.parent / "safety" / "eval"
_SETS = Path(__file__).resolve().parent.parent / "evaluate" / "sets"

# (path, role). Not the conversation tuning file: it calibrates the syllable reading and
# must stay a file the classifier never trained on. Not triage_eval.jsonl: its rows are the
# tuning corpus's authored ones under other ids.
FILES: list[tuple[Path, str]] = [
    (_SAFETY_EVAL / "triage_heldout.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v1.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v3.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v4.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v5.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v6.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v7.jsonl", "triage"),
    # Judged blind once each, read since (docs/safety.md, issue 21 rounds eight to twenty-five).
    (_SAFETY_EVAL / "triage_heldout_v8.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v9.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v10.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v11.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v12.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v13.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v14.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v15.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v16.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v17.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v18.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v19.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v20.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v21.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v22.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v23.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v24.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v25.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v26.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v27.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v28.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v29.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v30.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v31.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v32.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v33.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v34.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v35.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v36.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v37.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v38.jsonl", "triage"),
    # Judged blind once each with the sure readings (2026-12-07), read since.
    (_SAFETY_EVAL / "triage_heldout_v39.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v40.jsonl", "triage"),
    # Judged blind once each (2026-12-07), read since rules 2027.01.06 with the sure bar at
    # 0.85; the classifier retrained with them was judged on new blind files (v45-v47).
    (_SAFETY_EVAL / "triage_heldout_v41.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v42.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v43.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v44.jsonl", "triage"),
    # Judged blind once each (2026-12-07), read since rules 2027.01.09. A forward test
    # decided it: both readings built with v45-v53 as well scored v54-v59, which neither
    # had read, with the same emergencies (860 of 864), four false alarms fewer (58 -> 54)
    # and one dosing question more (docs/safety.md). Reading v45-v47 alone had been judged
    # on the files already read, and turned down.
    (_SAFETY_EVAL / "triage_heldout_v45.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v46.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v47.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v48.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v49.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v50.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v51.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v52.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v53.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v54.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v55.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v56.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v57.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v58.jsonl", "triage"),
    (_SAFETY_EVAL / "triage_heldout_v59.jsonl", "triage"),
    (_SAFETY_EVAL / "everyday_heldout_v3.jsonl", "everyday"),
    (_SAFETY_EVAL / "everyday_heldout_v4.jsonl", "everyday"),
    (_SETS / "knowledge_questions_dev.jsonl", "everyday"),
    (_SETS / "knowledge_questions_heldout.jsonl", "everyday"),
    (_SETS / "knowledge_questions_heldout_v2.jsonl", "everyday"),
    (_SETS / "knowledge_everyday_check.jsonl", "everyday"),
    (_SETS / "knowledge_everyday_check_v2.jsonl", "everyday"),
]


class ReadFileError(ValueError):
    """A read file is missing or a row cannot be used; the message names the file and line."""


def _text(row: dict, where: str, emergency: bool) -> str:
    turns = row.get("turns")
    if turns is None:
        text = row.get("text", row.get("question"))
    else:
        users = [t.get("content") for t in turns if isinstance(t, dict) and t.get("role") == "user"]
        users = [u for u in users if isinstance(u, str) and u.strip()]
        # An emergency told across turns is learnt whole: its last turn alone (現在量體溫
        # 38.5度 after 寶寶兩個月大) is no emergency, and learnt as one it fired on adults.
        text = ("。".join(users) if emergency else users[-1]) if users else None
    if not isinstance(text, str) or not text.strip():
        raise ReadFileError(f"{where}: no text, question or user turn to train on")
    return text


def rows(path: Path, role: str) -> list[tuple[str, int]]:
    """(text, label) per row of one read file; label 1 for an emergency."""
    if not path.is_file():
        raise ReadFileError(f"{path}: a read file the classifier trains on is missing")
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ReadFileError(f"{where}: not valid JSON: {exc}") from exc
        if role == "triage" and not isinstance(row.get("categories"), list):
            raise ReadFileError(f"{where}: a triage row needs a categories list")
        label = 1 if role == "triage" and row["categories"] else 0
        out.append((_text(row, where, bool(label)), label))
    return out


def training_rows(exclude: tuple[str, ...] = ()) -> tuple[list[tuple[str, int, str]], list]:
    """Every read file's rows as (text, label, file name), and the record of what was read
    (name, role, rows, SHA-256) for the JSON; files named in ``exclude`` are left out."""
    out, record = [], []
    for path, role in FILES:
        if path.name in exclude:
            continue
        got = rows(path, role)
        out += [(t, y, path.name) for t, y in got]
        record.append(
            {
                "file": path.name,
                "role": role,
                "rows": len(got),
                "emergencies": sum(y for _, y in got),
                "sha256": file_sha256(path),
            }
        )
    return out, record
