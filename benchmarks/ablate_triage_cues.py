"""The triage with and without some cue lists: what each reading buys and what it costs.

    python benchmarks/ablate_triage_cues.py habitual asking alarm

Scores the shipped rule file and a copy without the named ``cues.<key>`` lists (written to a
temporary file, the shipped one is untouched) on the triage regression files (recall and
precision, shipped decision) and on the everyday question sets (how many get the 119 reply),
both through the server's decision over the user turns. Totals only: a held-out file read
this way is not opened row by row.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from pathlib import Path

from taigimed.safety.classifier import load_classifier
from taigimed.safety.conversation import assess_conversation, standardized
from taigimed.safety.evaluation import EVAL_DIR, conversation_decider, evaluate_triage, load_eval
from taigimed.safety.rules import DEFAULT_RULES, load_rules

TRIAGE = (
    "triage_heldout_v4.jsonl",
    "triage_heldout_v3.jsonl",
    "triage_heldout.jsonl",
    "triage_tuning_conversations.jsonl",
)
SETS = Path(__file__).resolve().parents[1] / "src" / "taigimed" / "evaluate" / "sets"
EVERYDAY = (
    EVAL_DIR / "everyday_heldout_v3.jsonl",
    SETS / "knowledge_questions_heldout_v2.jsonl",
    SETS / "knowledge_questions_heldout.jsonl",
    SETS / "knowledge_questions_dev.jsonl",
    SETS / "knowledge_everyday_check.jsonl",
)


def without(keys: list[str], folder: Path) -> Path:
    """A copy of the shipped rule file without the named cue lists."""
    text = DEFAULT_RULES.read_text(encoding="utf-8")
    for key in keys:
        text, n = re.subn(rf"\n  {re.escape(key)}:\n(?:    .*\n)+", "\n", text)
        if n != 1:
            raise SystemExit(f"cues.{key} is not a cue list of {DEFAULT_RULES}")
    path = folder / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _turns(row: dict) -> list[str]:
    if row.get("turns"):
        return [t["content"] for t in row["turns"] if t.get("role", "user") == "user"]
    return [row.get("question") or row["text"]]


def figures(rules, clf) -> dict[str, str]:
    out = {}
    for name in TRIAGE:
        o = evaluate_triage(
            rules, load_eval(EVAL_DIR / name), None, conversation_decider(rules, clf)
        )
        o = o["overall"]
        out[name] = f"{o['recall']:.3f} / {o['precision']:.3f}"
    for path in EVERYDAY:
        rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
        fired = sum(
            assess_conversation(rules, [standardized(t) for t in _turns(r)], clf).triggered
            for r in rows
        )
        out[path.name] = f"{fired} of {len(rows)}"
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("keys", nargs="+", help="cue lists to take out (habitual asking alarm …)")
    args = ap.parse_args()
    clf = load_classifier()
    with tempfile.TemporaryDirectory() as tmp:
        cut = figures(load_rules(without(args.keys, Path(tmp))), clf)
    shipped = figures(load_rules(), clf)
    print(f"| file | without {', '.join(args.keys)} | shipped |")
    print("|---|---|---|")
    for name in shipped:
        print(f"| {name} | {cut[name]} | {shipped[name]} |")


if __name__ == "__main__":
    main()
