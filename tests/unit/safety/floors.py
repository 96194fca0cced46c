"""What the held-out floor tests share: score a file as the server decides, list the
figures below their floors, cripple a rule file, and the tuning files' judged messages."""

from __future__ import annotations

from pathlib import Path

from taigimed.safety.evaluation import (
    EVAL_DIR,
    conversation_decider,
    evaluate_triage,
    load_eval,
    row_turns,
)
from taigimed.safety.rules import DEFAULT_RULES

TUNING_FILES = ("triage_tuning.jsonl", "triage_tuning_conversations.jsonl")


def score(rules, classifier, rows: list[dict]) -> dict:
    """The report of ``rows`` through the server's decision (rules and classifier)."""
    return evaluate_triage(rules, rows, None, conversation_decider(rules, classifier))


def below(report: dict, floors: dict) -> list[str]:
    """Each overall, per-format, dosing and per-script figure under its floor."""
    o, f = report["overall"], report["per_format"]
    checks = [
        ("recall", o["recall"]),
        ("precision", o["precision"]),
        ("conversation_recall", f["conversation"]["recall"]),
        ("conversation_precision", f["conversation"]["precision"]),
        ("single_recall", f["single"]["recall"]),
        ("single_precision", f["single"]["precision"]),
        ("dose_redirected", report["dose"]["redirected"]),
    ]
    bad = [f"{k} {v} < {floors[k]}" for k, v in checks if (v or 0) < floors[k]]
    for script, floor in floors["script_recall"].items():
        got = report["per_script"][script]["recall"]
        if (got or 0) < floor:
            bad.append(f"{script} recall {got} < {floor}")
    return bad


def rules_without(tmp_path: Path, *categories: str) -> Path:
    """A copy of the shipped rule file with these categories' lexicons removed."""
    text = DEFAULT_RULES.read_text(encoding="utf-8")
    for cid in categories:
        start = text.index(f"- id: {cid}\n")
        text = text[:start] + text[text.index("\n- id: ", start + 1) + 1 :]
    crippled = tmp_path / "rules.yaml"
    crippled.write_text(text, encoding="utf-8")
    return crippled


def rules_without_cue(tmp_path: Path, cue: str) -> Path:
    """A copy of the shipped rule file without the cue list ``cue`` (an indented
    ``  <cue>:`` block, up to the next comment line)."""
    text = DEFAULT_RULES.read_text(encoding="utf-8")
    start = text.index(f"\n  {cue}:\n")
    end = text.index("\n  #", start + 1)
    path = tmp_path / "rules.yaml"
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    return path


def judged_in_tuning(path: Path) -> set[str]:
    """Judged messages of ``path`` (a single message or a conversation's last turn) that the
    tuning files also hold."""
    judged = {row_turns(r)[-1] for r in load_eval(path)}
    tuning = {row_turns(r)[-1] for f in TUNING_FILES for r in load_eval(EVAL_DIR / f)}
    return judged & tuning
