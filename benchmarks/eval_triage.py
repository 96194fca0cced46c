"""Red-flag triage recall and precision per category and per script.

    python benchmarks/eval_triage.py                 # tables for docs/safety.md
    python benchmarks/eval_triage.py --record   # also update the figures the tests guard

Reads src/taigimed/serve/safety/eval/triage_eval.jsonl (and triage_heldout.jsonl).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from taigimed.serve.safety.evaluation import DEFAULT_EVAL, evaluate_triage, load_eval

EVAL_DIR = DEFAULT_EVAL.parent
RECORDED = EVAL_DIR / "recorded.json"


def _fmt(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def markdown(name: str, r: dict) -> str:
    lines = [
        f"### {name} ({r['messages']} messages, rules {r['rules_version']})",
        "",
        f"Overall: recall {_fmt(r['overall']['recall'])}, "
        f"precision {_fmt(r['overall']['precision'])}",
        "",
        "| category | n | recall | precision |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {c} | {v['n']} | {_fmt(v['recall'])} | {_fmt(v['precision'])} |"
        for c, v in r["per_category"].items()
    ]
    lines += [
        "",
        "| script | emergencies | look-alikes | recall | precision |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {s} | {v['emergencies']} | {v['look_alikes']} | {_fmt(v['recall'])} "
        f"| {_fmt(v['precision'])} |"
        for s, v in r["per_script"].items()
    ]
    if r["missed"] or r["false_alarms"]:
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
    results = {}
    for name in ("triage_eval", "triage_heldout"):
        path = EVAL_DIR / f"{name}.jsonl"
        if Path(path).exists():
            results[name] = evaluate_triage(rows=load_eval(path))
            print(markdown(name, results[name]), end="\n\n")
    if args.record:
        r = results["triage_eval"]
        recorded = {
            "rules_version": r["rules_version"],
            "overall_recall": r["overall"]["recall"],
            "per_category_recall": {c: v["recall"] for c, v in r["per_category"].items()},
            "per_script_recall": {s: v["recall"] for s, v in r["per_script"].items()},
        }
        tmp = RECORDED.with_suffix(".tmp")
        tmp.write_text(json.dumps(recorded, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        tmp.replace(RECORDED)
        print(f"recorded → {RECORDED}")


if __name__ == "__main__":
    main()
