"""False alarms of the triage on everyday health questions: how many get the 119 reply.

    python benchmarks/everyday_false_alarms.py $SETS/knowledge_questions_dev.jsonl
    python benchmarks/everyday_false_alarms.py FILE --ids    # also list the flagged rows

Every row of such a file is a question with no emergency happening now, so every red flag
is a false alarm. Each question is judged as one user turn through the server's decision
(``assess_conversation``, as ``eval_triage.py`` does); conversation rows (``turns``) are
judged on their user turns. Prints the count with a Wilson 95 % interval, the path (rules
alone, classifier alone, both) and the count per script; ``--ids`` lists the flagged rows
(use it on tuning material only: a held-out file is counted as totals).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from taigimed.safety.classifier import load_classifier
from taigimed.safety.conversation import assess_conversation, standardized
from taigimed.safety.dose import dose_reading_for, is_dose_conversation
from taigimed.safety.evaluation import wilson
from taigimed.safety.rules import load_rules


def _turns(row: dict) -> list[str]:
    if row.get("turns"):
        return [t["content"] for t in row["turns"] if t.get("role", "user") == "user"]
    return [row.get("question") or row["text"]]


def count(path: Path, rules, clf, reading=None) -> dict:
    rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    flagged, path_of, per_script, dose, dose_rules = [], Counter(), Counter(), 0, 0
    for r in rows:
        turns = [standardized(t) for t in _turns(r)]
        res = assess_conversation(rules, turns, clf)
        if res.triggered:
            flagged.append(r.get("id", "?"))
            per_script[r.get("script", "?")] += 1
            kind = (
                "both"
                if res.rules_fired and res.classifier_fired
                else ("rules alone" if res.rules_fired else "classifier alone")
            )
            path_of[kind] += 1
        else:
            dose_rules += is_dose_conversation(rules, turns)
            dose += is_dose_conversation(rules, turns, reading)
    k, n = len(flagged), len(rows)
    return {
        "file": path.name,
        "questions": n,
        "red_flag": k,
        "rate": round(k / n, 3) if n else None,
        "ci": [round(x, 2) for x in wilson(k, n)] if n else None,
        "path": dict(path_of),
        "per_script": dict(per_script),
        # The pharmacist reply: the shipped redirect (rules or the learned reading) and the
        # rules' alone.
        "dose_redirect": dose,
        "dose_redirect_rules_alone": dose_rules,
        "flagged": flagged,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", type=Path, nargs="+")
    ap.add_argument("--ids", action="store_true", help="list the flagged rows (tuning only)")
    args = ap.parse_args()
    rules, clf = load_rules(), load_classifier()
    reading = dose_reading_for(rules)
    for f in args.files:
        out = count(f, rules, clf, reading)
        if not args.ids:
            del out["flagged"]
        print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
