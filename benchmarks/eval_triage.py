"""Red-flag triage recall and precision per category and per script, with 95 % intervals.

    python benchmarks/eval_triage.py            # tables for docs/safety.md
    python benchmarks/eval_triage.py --record   # also update the tuning figures the tests guard
    python benchmarks/eval_triage.py --only path/to/new_heldout.jsonl   # one file alone

Reads src/taigimed/safety/eval/triage_tuning.jsonl and
triage_tuning_conversations.jsonl (the tuning corpora: rules and classifier were fitted on
them), then the earlier held-out files kept as regression sets (triage_heldout.jsonl,
triage_heldout_v1.jsonl, triage_eval.jsonl, triage_heldout_v3.jsonl). Each file is scored
twice, through the server's decision over the recent user turns
(safety.conversation): the rules alone, and the shipped decision (rules or
classifier). Tables per script, per format
(single / conversation) and per category, with Wilson 95 % intervals, and the dosing
redirect rate.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from taigimed.safety.classifier import load_classifier
from taigimed.safety.dose import dose_reading_for
from taigimed.safety.evaluation import (
    DEFAULT_EVAL,
    EVAL_DIR,
    HELDOUT,
    below_floors,
    conversation_decider,
    evaluate_triage,
    load_eval,
)
from taigimed.safety.rules import load_rules

FILES = {
    "tuning": DEFAULT_EVAL,
    "tuning, conversations and carers": EVAL_DIR / "triage_tuning_conversations.jsonl",
    "held-out": HELDOUT,
    "held-out v1 (regression)": EVAL_DIR / "triage_heldout_v1.jsonl",
    "authored eval (regression)": EVAL_DIR / "triage_eval.jsonl",
    # Scored once for issue 21 and read afterwards: a regression set now. Held-out v4 is
    # scored only with --only (docs/safety.md, "Held-out v4").
    "held-out v3 (regression)": EVAL_DIR / "triage_heldout_v3.jsonl",
    # Scored once blind at rules 2026.12.13 (docs/safety.md, "The eighth round"), read since.
    "held-out v7 (regression)": EVAL_DIR / "triage_heldout_v7.jsonl",
}

RECORDED = DEFAULT_EVAL.parent / "recorded.json"


def _fmt(x) -> str:
    return "–" if x is None else f"{x:.3f}"


def _ci(ci) -> str:
    return "–" if ci is None else f"[{ci[0]:.2f}, {ci[1]:.2f}]"


def markdown(title: str, r: dict) -> str:
    o = r["overall"]
    lines = [
        f"#### {title} ({r['messages']} messages, rules {r['rules_version']})",
        "",
        f"Overall: recall **{_fmt(o['recall'])}** {_ci(o['recall_ci'])}, precision "
        f"**{_fmt(o['precision'])}** {_ci(o['precision_ci'])} "
        f"(tp {o['tp']}, fn {o['fn']}, fp {o['fp']}, tn {o['tn']})",
        "",
        "| script | emergencies | look-alikes | recall [95 % CI] | precision [95 % CI] |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {s} | {v['emergencies']} | {v['look_alikes']} | {_fmt(v['recall'])} "
        f"{_ci(v['recall_ci'])} | {_fmt(v['precision'])} {_ci(v['precision_ci'])} |"
        for s, v in r["per_script"].items()
    ]
    if len(r.get("per_format", {})) > 1:
        lines += [
            "",
            "| format | emergencies | look-alikes | recall [95 % CI] | precision [95 % CI] |",
        ]
        lines += ["|---|---|---|---|---|"]
        lines += [
            f"| {f} | {v['emergencies']} | {v['look_alikes']} | {_fmt(v['recall'])} "
            f"{_ci(v['recall_ci'])} | {_fmt(v['precision'])} {_ci(v['precision_ci'])} |"
            for f, v in r["per_format"].items()
        ]
    d = r.get("dose", {})
    if d.get("n"):
        lines += [
            "",
            f"Dosing questions redirected: **{d['redirected']} of {d['n']}** "
            f"({_fmt(d['rate'])} {_ci(d['rate_ci'])}); not redirected: "
            f"{', '.join(d['missed']) or 'none'}",
        ]
    lines += ["", "| category | n | recall [95 % CI] | precision [95 % CI] |", "|---|---|---|---|"]
    lines += [
        f"| {c} | {v['n']} | {_fmt(v['recall'])} {_ci(v['recall_ci'])} | "
        f"{_fmt(v['precision'])} {_ci(v['precision_ci'])} |"
        for c, v in r["per_category"].items()
    ]
    lines += [
        "",
        f"Missed: {', '.join(r['missed']) or 'none'}; "
        f"false alarms: {', '.join(r['false_alarms']) or 'none'}",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--record", action="store_true", help="write the figures the tests guard")
    ap.add_argument("--only", type=Path, help="score this one file (both decisions) and stop")
    args = ap.parse_args()
    rules, clf = load_rules(), load_classifier()
    reading = dose_reading_for(rules)  # the shipped redirect: the rules or the learned reading
    files = {args.only.name: args.only} if args.only else FILES
    results = {}
    for name, path in files.items():
        rows = load_eval(path)
        for mode, c in (("rules alone", None), ("rules + classifier (shipped)", clf)):
            r = evaluate_triage(
                rules, rows, None, conversation_decider(rules, c), reading if c else None
            )
            results[(name, mode)] = r
            print(markdown(f"{name}, {mode}", r), end="\n\n")
    if args.only:
        return
    shipped = results[("held-out", "rules + classifier (shipped)")]
    print("held-out floors:", below_floors(shipped) or "all hold")
    if args.record:
        t = results[("tuning", "rules + classifier (shipped)")]["overall"]
        h = shipped
        recorded = {
            "rules_version": rules.version,
            "tuning": {"recall": t["recall"], "precision": t["precision"]},
            # Measured, not tuned: the guard that the held-out figures do not drop.
            "heldout": {
                "recall": h["overall"]["recall"],
                "precision": h["overall"]["precision"],
                "per_script_recall": {s: v["recall"] for s, v in h["per_script"].items()},
            },
        }
        tmp = RECORDED.with_suffix(".tmp")
        tmp.write_text(json.dumps(recorded, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        tmp.replace(RECORDED)
        print(f"recorded → {RECORDED}")


if __name__ == "__main__":
    main()
