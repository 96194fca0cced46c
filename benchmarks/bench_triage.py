"""Safety-layer cost per turn: load time and per-message latency of triage and dosing.

    python benchmarks/bench_triage.py [--repeat 3]

Cold loads run in fresh subprocesses (so imports count): the rule file alone, the
classifier JSON alone, and the whole safety layer as the server builds it. Per-message
latency is measured over every message of the tuning and held-out files (each message
new to the canonical-form cache on the first pass), for: the standardiser every turn
already pays (the baseline), the rules, the classifier, the dosing-intent check, and the
whole pre-model chain, and the conversation chain per turn (every turn of the
conversations in triage_tuning_conversations.jsonl with the user turns before it).
Prints a markdown table and the CPU flags that matter.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from taigimed.safety.canonical import _read_clause
from taigimed.safety.classifier import load_classifier
from taigimed.safety.conversation import assess_conversation
from taigimed.safety.dose import dose_reading_for, is_dose_conversation, is_dose_question
from taigimed.safety.evaluation import DEFAULT_EVAL, EVAL_DIR, HELDOUT, load_eval, row_turns
from taigimed.safety.rules import load_rules
from taigimed.safety.triage import assess, triage
from taigimed.text.romanize import standardize_input

COLD = {
    "rules (YAML → compiled)": "from taigimed.safety.rules import load_rules; load_rules()",
    "classifier (JSON)": "from taigimed.safety.classifier import load_classifier; "
    "load_classifier()",
    "whole safety layer": "from taigimed.serve.safety_layer import safety_hooks; "
    "from taigimed.safety.config import SafetyConfig; safety_hooks(SafetyConfig())",
}
FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16", "amx_int8", "avx_vnni")


def cpu_flags() -> str:
    from taigimed.train.precision import cpu_flags as read_flags

    have = read_flags()
    return " ".join(f for f in FLAGS if f in have) or "none of " + ",".join(FLAGS)


def cold(code: str, repeat: int) -> float:
    """Median seconds for a fresh interpreter to run ``code`` (minus bare start-up)."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def per_message(fn, items) -> tuple[float, float]:
    times = []
    for x in items:
        t = time.perf_counter()
        fn(x)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"CPU flags: {cpu_flags()}")
    bare = cold("import taigimed", args.repeat)
    print("\n| cold load (fresh process) | seconds | minus `import taigimed` |\n|---|---|---|")
    for name, code in COLD.items():
        s = cold(code, args.repeat)
        print(f"| {name} | {s:.3f} | {s - bare:.3f} |")

    from taigimed.safety import classifier as clf_mod

    clf_mod.load_classifier()
    warm = []
    for _ in range(5):
        clf_mod._load.cache_clear()
        t = time.perf_counter()
        clf_mod.load_classifier()
        warm.append(time.perf_counter() - t)
    print(f"| classifier JSON in a running process | {statistics.median(warm):.3f} | – |")
    rules, clf = load_rules(), load_classifier()
    texts = [r["text"] for r in load_eval(DEFAULT_EVAL) + load_eval(HELDOUT)]
    convs = [
        [standardize_input(t)[0] for t in row_turns(r)]
        for r in load_eval(EVAL_DIR / "triage_tuning_conversations.jsonl")
        if r.get("format") == "conversation"
    ]
    # Every turn of every conversation as the server meets it: the turns so far.
    prefixes = [c[: i + 1] for c in convs for i in range(len(c))]
    std = [standardize_input(t)[0] for t in texts]
    rows = []
    _read_clause.cache_clear()
    rows.append(("standardise (baseline, every turn)", per_message(standardize_input, texts)))
    rows.append(
        ("rules, first sight (canonical form read)", per_message(lambda s: triage(rules, s), std))
    )
    rows.append(("rules, canonical form cached", per_message(lambda s: triage(rules, s), std)))
    _read_clause.cache_clear()
    rows.append(
        ("classifier, first sight", per_message(lambda s: clf.score(s, rules.variants), std))
    )
    rows.append(("dosing intent", per_message(lambda s: is_dose_question(rules, s), std)))
    reading = dose_reading_for(rules)
    rows.append(
        (
            "dosing decision, rules or learned reading",
            per_message(lambda s: is_dose_conversation(rules, [s], reading), std),
        )
    )
    # Before (the rules' redirect alone) and after (with the learned reading), back to back.
    for label, dose_reading in (("rules' redirect", None), ("with the learned reading", reading)):
        _read_clause.cache_clear()

        def chain(s: str, r=dose_reading) -> None:
            if not assess(rules, s, clf).triggered:
                is_dose_conversation(rules, [s], r)

        rows.append((f"whole pre-model chain, first sight, {label}", per_message(chain, std)))
    for label, dose_reading in (("rules' redirect", None), ("with the learned reading", reading)):
        _read_clause.cache_clear()

        def conv_chain(turns: list[str], r=dose_reading) -> None:
            if not assess_conversation(rules, turns, clf).triggered:
                is_dose_conversation(rules, turns, r)

        rows.append(
            (
                f"conversation chain per turn, first sight, {label} ({len(prefixes)} turns)",
                per_message(conv_chain, prefixes),
            )
        )
    base = rows[0][1][0]
    print(f"\n{len(texts)} messages\n")
    print("| step | p50 ms | p95 ms | p50 ÷ standardise |\n|---|---|---|---|")
    for name, (p50, p95) in rows:
        print(f"| {name} | {p50:.2f} | {p95:.2f} | {p50 / base:.1f} |")


if __name__ == "__main__":
    main()
