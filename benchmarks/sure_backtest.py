"""Back-test of the sure readings and a lower threshold (docs/safety.md "When the reading is
sure", "A lower threshold"): how an older commit's decision would have done on files written
after it, had a sure reading been added or the classifier's threshold been lowered.

The triage step (``conversation._escalate_when_sure``): a last turn that nothing fired on,
scored at ``bar`` or more by the classifier, with no idiom recognised, the second readings
agreeing and no dosing question asked, becomes an alarm. The dosing step
(``dose.learned_dose``): a turn nothing redirected, that asks and that the dosing reading
scores at ``bar`` or more, goes to the pharmacist. Both are re-stated here from the
primitives older commits already have, since those commits do not hold the steps; the
shipped code is what serving runs.

    git worktree add /tmp/old ec8158a
    python benchmarks/sure_backtest.py --checkout /tmp/old FILE.jsonl [FILE.jsonl ...]

Files must be ones the commit never read (written after it). Prints, per bar, the missed
emergencies and dosing questions turned around and the other messages newly alarmed or
redirected; and, per step down of the classifier's threshold, the same for the whole decision
rerun with it.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections import Counter
from pathlib import Path

BARS = (0.85, 0.90, 0.95)
LOWER = (0.02, 0.04, 0.10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkout", type=Path, required=True, help="a worktree of the commit")
    ap.add_argument("--bars", nargs="+", type=float, default=BARS, help="sure bars to try")
    ap.add_argument("files", nargs="+", type=Path)
    args = ap.parse_args()
    bars = tuple(args.bars)
    sys.path.insert(0, str(args.checkout.resolve() / "src"))
    # The commit's own package, imported after the path is set.
    import taigimed
    from taigimed.safety.classifier import load_classifier
    from taigimed.safety.dose import asks_something, is_dose_question, load_dose_reading
    from taigimed.safety.dose import is_dose_conversation as redirected
    from taigimed.safety.evaluation import conversation_decider, load_eval, row_turns
    from taigimed.safety.hearing import hear
    from taigimed.safety.rules import load_rules
    from taigimed.safety.triage import assess
    from taigimed.text.romanize import standardize_input

    print(f"package: {Path(taigimed.__file__).parent}")
    rules, clf, reading = load_rules(), load_classifier(), load_dose_reading()
    decide = conversation_decider(rules, clf)
    lowered = {
        d: conversation_decider(rules, dataclasses.replace(clf, threshold=clf.threshold - d))
        for d in LOWER
    }
    n = Counter()
    for path in args.files:
        for row in load_eval(str(path)):
            turns = [standardize_input(t)[0] for t in row_turns(row)]
            last, emergency = turns[-1], bool(row.get("categories"))
            dosing = row.get("intent") == "dose"
            n["emergencies"] += emergency
            n["others"] += not emergency
            n["dosing"] += dosing
            if decide(turns).triggered:
                continue
            for d, lower in lowered.items():
                if lower(turns).triggered:
                    n["caught" if emergency else "alarmed", -d] += 1
            n["missed"] += emergency
            result = assess(rules, last, clf)
            asks = asks_something(rules, last)
            dose_asked = is_dose_question(rules, last, ways=False) and asks
            agree = clf.agrees(hear(rules, last), rules.variants)
            for bar in bars:
                if (
                    result.classifier_score >= bar
                    and not result.idiom_seen
                    and agree
                    and not dose_asked
                ):
                    n["caught" if emergency else "alarmed", bar] += 1
            if redirected(rules, turns, reading):
                continue
            n["dosing missed"] += dosing
            score = reading.score(rules, last)
            for bar in bars:
                if asks and score >= max(bar, reading.threshold):
                    n["redirected" if dosing else "misdirected", bar] += 1
    print(
        f"{len(args.files)} files: {n['emergencies']} emergencies ({n['missed']} missed), "
        f"{n['others']} other messages, {n['dosing']} dosing questions "
        f"({n['dosing missed']} reached the model)"
    )
    print("| bar | emergencies caught | others alarmed | dosing redirected | others redirected |")
    print("|---|---|---|---|---|")
    for bar in bars:
        print(
            f"| {bar:.2f} | {n['caught', bar]} of {n['missed']} | {n['alarmed', bar]} | "
            f"{n['redirected', bar]} of {n['dosing missed']} | {n['misdirected', bar]} |"
        )
    print(f"\n| threshold ({clf.threshold}) lowered by | emergencies caught | others alarmed |")
    print("|---|---|---|")
    for d in LOWER:
        print(f"| {d:.2f} | {n['caught', -d]} of {n['missed']} | {n['alarmed', -d]} |")


if __name__ == "__main__":
    main()
