"""Leave-one-file-out: how the classifier trained on the read files does on a file it did
not train on (issue 21, sixth round).

For each read file X (generate/read_files.FILES): build the classifier without X (the
threshold still calibrated by cross-validation on what it trained on), then score X through
the shipped decision (rules + classifier over the recent user turns). Beside it, X scored
with a reference classifier JSON (``--before``, e.g. the one built from the tuning corpus
alone) and with the rules alone. Triage files give recall, precision, conversation recall
and dosing redirected; everyday files the 119 replies (and how many by the classifier alone).

    TAIGIMED_DATA_ROOT=../shared/data python benchmarks/classifier_lofo.py \\
        --before /tmp/before.json --out /tmp/lofo.json [FILE_NAME ...]

Each build takes about half a minute on 2 cores. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from taigimed.generate import classifier as builder
from taigimed.generate import everyday, read_files
from taigimed.safety.classifier import load_classifier
from taigimed.safety.conversation import assess_conversation, standardized
from taigimed.safety.evaluation import conversation_decider, evaluate_triage, load_eval
from taigimed.safety.rules import load_rules


def _everyday(path: Path, rules, clf) -> dict:
    rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    fired = alone = 0
    for r in rows:
        res = assess_conversation(rules, [standardized(r["question"])], clf)
        if res.triggered:
            fired += 1
            alone += not res.rules_fired
    return {"n": len(rows), "red_flag": fired, "classifier_alone": alone}


def _triage(path: Path, rules, clf) -> dict:
    r = evaluate_triage(rules, load_eval(path), decide_turns=conversation_decider(rules, clf))
    conv = r["per_format"].get("conversation", {})
    return {
        "recall": r["overall"]["recall"],
        "precision": r["overall"]["precision"],
        "conversation_recall": conv.get("recall"),
        "dose": f"{r['dose']['redirected']}/{r['dose']['n']}",
        "missed": r["missed"],
        "false_alarms": r["false_alarms"],
    }


def score(path: Path, role: str, rules, clf) -> dict:
    return (_triage if role == "triage" else _everyday)(path, rules, clf)


def _cell(role: str, s: dict) -> str:
    if role == "triage":
        conv = s["conversation_recall"]
        conv = "–" if conv is None else f"{conv:.3f}"
        return f"{s['recall']:.3f} / {s['precision']:.3f} / {conv} / {s['dose']}"
    return f"{s['red_flag']} of {s['n']} ({s['classifier_alone']} alone)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", help="read files to leave out in turn (default: all)")
    ap.add_argument("--before", type=Path, help="a reference classifier JSON to score beside")
    ap.add_argument("--out", type=Path, help="write every figure here as JSON")
    ap.add_argument("--keep", type=Path, help="also keep each left-out model JSON in this folder")
    args = ap.parse_args()
    rules = load_rules()
    daily = everyday.build(rules)
    before = load_classifier(args.before) if args.before else None
    out = {}
    for path, role in read_files.FILES:
        if args.files and path.name not in args.files:
            continue
        model = builder.build(exclude=(path.name,), daily_rows=daily)
        with tempfile.TemporaryDirectory() as tmp:
            p = (args.keep or Path(tmp)) / f"without_{path.stem}.json"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(json.dumps(model, ensure_ascii=False), encoding="utf-8")
            left_out = load_classifier(p)
            out[path.name] = {
                "role": role,
                "threshold": model["threshold"],
                "rules_alone": score(path, role, rules, None),
                "before": score(path, role, rules, before) if before else None,
                "left_out": score(path, role, rules, left_out),
            }
        r = out[path.name]
        print(
            f"| {path.name} | {_cell(role, r['rules_alone'])} | "
            f"{_cell(role, r['before']) if before else '–'} | {_cell(role, r['left_out'])} |",
            flush=True,
        )
    if args.out:
        args.out.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
