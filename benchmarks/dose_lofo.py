"""Leave-one-file-out for the learned dosing reading (safety/dose.py, 2026-12-06).

For each training file X of ``generate/dose_classifier.FILES``: build the reading without X
(its threshold calibrated on cross-validated scores of the other files only), then score X
through the shipped decision: the triage (rules + the shipped classifier) first, and on a
turn with no alarm the redirect by the rules alone vs by the rules or the learned reading.
Per file: dosing questions redirected and non-dosing rows redirected, before → after.

    python benchmarks/dose_lofo.py [--no-medicine-gate] [--out FILE] [FILE_NAME ...]

Each build takes about 20 s on 2 cores. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from taigimed.generate import dose_classifier as builder
from taigimed.safety.classifier import load_classifier
from taigimed.safety.conversation import assess_conversation
from taigimed.safety.dose import is_dose_conversation, load_dose_reading
from taigimed.safety.rules import load_rules


def score(rows, rules, clf, reading) -> dict:
    out = {"dosing": 0, "nondosing": 0, "alarm": 0}
    out |= {k: 0 for k in ("dose_rules", "dose_learned", "other_rules", "other_learned")}
    out["other_ids"] = []
    for i, r in enumerate(rows):
        kind = "dose" if r.dose else "other"
        out["dosing" if r.dose else "nondosing"] += 1
        if assess_conversation(rules, r.turns, clf).triggered:
            out["alarm"] += 1
            continue  # the emergency reply answers first
        before = is_dose_conversation(rules, r.turns)
        after = is_dose_conversation(rules, r.turns, reading)
        out[f"{kind}_rules"] += before
        out[f"{kind}_learned"] += after
        if after and not before and not r.dose:
            out["other_ids"].append(i)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", help="files to leave out in turn (default: all)")
    ap.add_argument("--no-medicine-gate", action="store_true", help="let the reading fire alone")
    ap.add_argument("--out", type=Path, help="write every figure here as JSON")
    args = ap.parse_args()
    rules, clf = load_rules(), load_classifier()
    out = {}
    print("| file left out | dosing redirected (rules → rules or learned) | non-dosing |")
    print("|---|---|---|")
    files = builder.FILES
    if args.files:  # in the order given
        by_name = {p.name: (p, role) for p, role in builder.FILES}
        files = [by_name[name] for name in args.files]
    for path, role in files:
        model = builder.build(exclude=(path.name,), needs_medicine=not args.no_medicine_gate)
        with tempfile.TemporaryDirectory() as tmp:
            p = Path(tmp) / "reading.json"
            p.write_text(json.dumps(model, ensure_ascii=False), encoding="utf-8")
            reading = load_dose_reading(p)
            s = score(builder.file_rows(path, role), rules, clf, reading)
        s["threshold"] = model["threshold"]
        out[path.name] = s
        dose = f"{s['dose_rules']} → {s['dose_learned']} of {s['dosing']}" if s["dosing"] else "–"
        print(
            f"| {path.name} | {dose} | {s['other_rules']} → {s['other_learned']} of "
            f"{s['nondosing']} |",
            flush=True,
        )
    tot = {k: sum(v[k] for v in out.values()) for k in ("dose_rules", "dose_learned", "dosing")}
    tot |= {k: sum(v[k] for v in out.values()) for k in ("other_rules", "other_learned")}
    tot["nondosing"] = sum(v["nondosing"] for v in out.values())
    print(
        f"| all | {tot['dose_rules']} → {tot['dose_learned']} of {tot['dosing']} | "
        f"{tot['other_rules']} → {tot['other_learned']} of {tot['nondosing']} |"
    )
    if args.out:
        args.out.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
