"""Recall and precision of the red-flag triage on a labelled message file, with 95 % intervals.

Each line of the file is a single message ``{"id", "script", "format"?: "single", "text",
"categories": [...], "intent"?: "dose", "tags"?}`` or a conversation ``{"id", "script",
"format": "conversation", "turns": [{"role", "content"}, ...], "categories", ...}`` whose
labels are about its last user turn; an empty ``categories`` list is a look-alike
non-emergency. Messages go through the same standardiser and decision the server uses
(for a conversation: the recent user turns, :mod:`safety.conversation`).

- Per category: recall = labelled messages of the category that triggered it;
  precision = messages that triggered it that were labelled with it.
- Per script, per format (single / conversation) and overall (the emergency decision
  itself): recall = emergencies that triggered any rule; precision = triggered messages
  that were emergencies.
- Dosing: of the rows with ``"intent": "dose"``, how many got the dosing reply (the
  dosing check said yes and no emergency answered first).

Intervals are Wilson score intervals (95 %). ``decide`` is the decision under test: the
rules alone, or the rules with the classifier beside them (``serve.safety.classifier``).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from taigimed.safety.conversation import assess_conversation
from taigimed.safety.dose import is_dose_conversation
from taigimed.safety.rules import RuleSet, load_rules
from taigimed.safety.triage import TriageResult
from taigimed.text.romanize import standardize_input

FORMATS = ("single", "conversation")

EVAL_DIR = Path(__file__).parent / "eval"
DEFAULT_EVAL = EVAL_DIR / "triage_tuning.jsonl"
HELDOUT = EVAL_DIR / "triage_heldout.jsonl"


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float] | None:
    """The Wilson score interval for k successes out of n (None when n is 0)."""
    if n == 0:
        return None
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return round(max(0.0, mid - half), 4), round(min(1.0, mid + half), 4)


def load_eval(path: Path | str = DEFAULT_EVAL) -> list[dict[str, Any]]:
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{n}: not valid JSON: {exc}") from exc
        rows.append(_check_row(row, f"{path}:{n}"))
    return rows


def _check_row(row: Any, where: str) -> dict[str, Any]:
    if not isinstance(row, dict):
        raise ValueError(f"{where}: a row is a JSON object")
    fmt = row.get("format", "single")
    if fmt not in FORMATS:
        raise ValueError(f"{where}: format {fmt!r} is not one of {list(FORMATS)}")
    need = {"id", "script", "categories"} | ({"turns"} if fmt == "conversation" else {"text"})
    missing = need - set(row)
    if missing:
        raise ValueError(f"{where}: missing fields {sorted(missing)}")
    if fmt == "conversation":
        turns = row["turns"]
        if (
            not isinstance(turns, list)
            or not turns
            or not all(isinstance(t, dict) and {"role", "content"} <= set(t) for t in turns)
        ):
            raise ValueError(f"{where}: turns must be a list of {{role, content}} objects")
        if turns[-1]["role"] != "user":
            raise ValueError(f"{where}: the last turn must be the user's (it is the one judged)")
    return row


def row_turns(row: dict[str, Any]) -> list[str]:
    """The row's user turns as typed, oldest first (one for a single message)."""
    if row.get("format", "single") == "conversation":
        return [t["content"] for t in row["turns"] if t["role"] == "user"]
    return [row["text"]]


def conversation_decider(rules: RuleSet, classifier=None) -> Callable[[list[str]], TriageResult]:
    """The server's decision over standardised user turns (the rules, and the classifier
    when one is given)."""
    return lambda turns: assess_conversation(rules, turns, classifier)


def _ratio(num: int, den: int) -> float | None:
    return None if den == 0 else round(num / den, 4)


def _rates(v: dict[str, int]) -> dict:
    """Recall and precision of a tp/fn/fp count, each with its Wilson interval."""
    return {
        "recall": _ratio(v["tp"], v["tp"] + v["fn"]),
        "recall_ci": wilson(v["tp"], v["tp"] + v["fn"]),
        "precision": _ratio(v["tp"], v["tp"] + v["fp"]),
        "precision_ci": wilson(v["tp"], v["tp"] + v["fp"]),
    }


def evaluate_triage(
    rules: RuleSet | None = None,
    rows: list[dict] | None = None,
    decide: Callable[[str, str], TriageResult] | None = None,
    decide_turns: Callable[[list[str]], TriageResult] | None = None,
    dose_reading=None,
) -> dict[str, Any]:
    """Figures per category, per script, per format and overall, the dosing redirect
    rate (the rules, and ``dose_reading`` beside them when given), and the misses.

    ``decide_turns(standardised user turns)`` judges conversations and defaults to the
    server's reading with the rules alone; single messages go through it too (as one
    turn) unless ``decide(standardised, raw)`` is given for them."""
    rules = rules or load_rules()
    rows = rows if rows is not None else load_eval()
    decide_turns = decide_turns or conversation_decider(rules)
    decide = decide or (lambda text, raw: decide_turns([text]))
    cat = defaultdict(lambda: {"tp": 0, "fn": 0, "fp": 0})
    scr = defaultdict(lambda: {"tp": 0, "fn": 0, "fp": 0, "tn": 0})
    fmt = defaultdict(lambda: {"tp": 0, "fn": 0, "fp": 0, "tn": 0})
    misses, false_alarms = [], []
    dose = {"n": 0, "redirected": 0, "missed": []}
    for row in rows:
        raw = row_turns(row)
        turns = [standardize_input(t)[0] for t in raw]
        single = row.get("format", "single") == "single"
        res = decide(turns[-1], raw[-1]) if single else decide_turns(turns)
        got = set(res.categories) if res.triggered else set()
        want = set(row["categories"])
        if row.get("intent") == "dose":
            dose["n"] += 1
            if not got and is_dose_conversation(rules, turns, dose_reading):
                dose["redirected"] += 1
            else:
                dose["missed"].append(row["id"])
        for c in want | got:
            key = "tp" if c in want and c in got else "fn" if c in want else "fp"
            cat[c][key] += 1
        for s in (scr[row["script"]], fmt[row.get("format", "single")]):
            if want:
                s["tp" if got else "fn"] += 1
            else:
                s["fp" if got else "tn"] += 1
        if want and not got:
            misses.append(row["id"])
        elif got and not want:
            false_alarms.append(row["id"])
    per_cat = {c: {"n": v["tp"] + v["fn"], **_rates(v)} for c, v in sorted(cat.items())}
    tot = {k: sum(v[k] for v in scr.values()) for k in ("tp", "fn", "fp", "tn")}
    per_script, per_format = (
        {
            s: {"emergencies": v["tp"] + v["fn"], "look_alikes": v["fp"] + v["tn"], **_rates(v)}
            for s, v in sorted(table.items())
        }
        for table in (scr, fmt)
    )
    return {
        "rules_version": rules.version,
        "messages": len(rows),
        "overall": {
            "recall": _ratio(tot["tp"], tot["tp"] + tot["fn"]),
            "recall_ci": wilson(tot["tp"], tot["tp"] + tot["fn"]),
            "precision": _ratio(tot["tp"], tot["tp"] + tot["fp"]),
            "precision_ci": wilson(tot["tp"], tot["tp"] + tot["fp"]),
            **tot,
        },
        "per_category": per_cat,
        "per_script": per_script,
        "per_format": per_format,
        "dose": {
            **dose,
            "rate": _ratio(dose["redirected"], dose["n"]),
            "rate_ci": wilson(dose["redirected"], dose["n"]),
        },
        "missed": misses,
        "false_alarms": false_alarms,
    }


# What the held-out file must show (the figures the project promises).
FLOORS = {"recall": 0.95, "precision": 0.90, "script_recall": 0.90}


def below_floors(result: dict[str, Any], floors: dict[str, float] = FLOORS) -> list[str]:
    """Every figure of ``result`` under its floor, named; empty when all hold."""
    bad = []
    o = result["overall"]
    if (o["recall"] or 0) < floors["recall"]:
        bad.append(f"overall recall {o['recall']} < {floors['recall']}")
    if (o["precision"] or 0) < floors["precision"]:
        bad.append(f"overall precision {o['precision']} < {floors['precision']}")
    for script, v in result["per_script"].items():
        if v["emergencies"] and (v["recall"] or 0) < floors["script_recall"]:
            bad.append(f"{script} recall {v['recall']} < {floors['script_recall']}")
    return bad
