"""Red-flag triage recall and precision per category and per script, with 95 % intervals.

    python benchmarks/eval_triage.py            # tables for docs/safety.md
    python benchmarks/eval_triage.py --record   # also update the tuning figures the tests guard

Reads src/taigimed/serve/safety/eval/triage_tuning.jsonl (the tuning corpus: rules and
classifier were fitted on it) and triage_heldout.jsonl (written before the rules changed,
never tuned on). Each file is scored twice: the rules alone, and the shipped decision
(rules or classifier).
"""

from __future__ import annotations

import argparse
import json

from taigimed.serve.safety.classifier import load_classifier
from taigimed.serve.safety.evaluation import (
    DEFAULT_EVAL,
    HELDOUT,
    below_floors,
    evaluate_triage,
    load_eval,
)
from taigimed.serve.safety.rules import load_rules
from taigimed.serve.safety.triage import assess

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
    args = ap.parse_args()
    rules, clf = load_rules(), load_classifier()
    results = {}
    for name, path in (("tuning", DEFAULT_EVAL), ("held-out", HELDOUT)):
        rows = load_eval(path)
        for mode, c in (("rules alone", None), ("rules + classifier (shipped)", clf)):
            r = evaluate_triage(rules, rows, lambda t, raw, c=c: assess(rules, t, c))
            results[(name, mode)] = r
            print(markdown(f"{name}, {mode}", r), end="\n\n")
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
