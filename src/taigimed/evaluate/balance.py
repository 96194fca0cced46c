"""Does an MCQ set give its answers away by position or by length?

A set where the correct option is usually the longest (or usually letter A) rewards a
model's habits, not its knowledge: a model that likes long continuations scores well
on ``acc_norm`` without reading the question. This module owns the check; tests run it
on every shipped set and ``taigimed eval --extra-mcq`` prints it for a user's file.

Ties are split: an item whose correct option shares the greatest length with one
distractor adds 1/2 to the "longest" share (what a length-following model that breaks ties
at random earns there), so an item whose options all have one length carries no signal
(1/4 for longest and shortest alike). ``correct_longest`` also reports the tie-inclusive
count, the stricter figure for authored sets.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

# Thresholds for four options (chance of each rank is 25 %): the correct option may be
# the longest in at most 30 % of items and must be the shortest in at least 20 %.
MAX_LONGEST_SHARE = 0.30
MIN_SHORTEST_SHARE = 0.20
# No letter may hold the answer more than this much above its fair share (1 / options).
MAX_LETTER_EXCESS = 0.05


def option_length(text: str) -> int:
    """Length as a reader (and acc_norm, which divides by characters) sees it."""
    return len("".join(str(text).split()))


@dataclass
class BalanceReport:
    """Position and length balance of one MCQ set; ``problems`` empty when it passes."""

    n: int
    letters: dict[str, int]
    correct_longest: int
    correct_uniquely_longest: int
    correct_shortest: int
    longest_share: float
    shortest_share: float
    max_letter_share: float
    fair_letter_share: float
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}

    def summary(self) -> str:
        verdict = "balanced" if self.passed else "NOT balanced: " + "; ".join(self.problems)
        letters = ", ".join(f"{k} {v}" for k, v in self.letters.items())
        return (
            f"n={self.n}; correct option longest in {self.longest_share:.0%} (ties split; "
            f"{self.correct_longest} items counting ties, {self.correct_uniquely_longest} "
            f"uniquely), shortest in {self.shortest_share:.0%}; "
            f"answer letters {letters} — {verdict}"
        )


def check_balance(
    items: Sequence[dict],
    max_longest: float = MAX_LONGEST_SHARE,
    min_shortest: float = MIN_SHORTEST_SHARE,
    max_letter_excess: float = MAX_LETTER_EXCESS,
) -> BalanceReport:
    """Balance of MedQA-schema items (``options`` letter -> text, ``answer_idx``)."""
    n = len(items)
    if n == 0:
        raise ValueError("check_balance needs at least one item")
    longest = unique = shortest = 0
    longest_share = shortest_share = 0.0
    letters: Counter[str] = Counter()
    all_letters: set[str] = set()
    fair = 0.0
    for it in items:
        opts, gold = it["options"], it["answer_idx"]
        lengths = {k: option_length(v) for k, v in opts.items()}
        g = lengths[gold]
        others = [v for k, v in lengths.items() if k != gold]
        longest += g >= max(others)
        unique += g > max(others)
        shortest += g <= min(others)
        values = list(lengths.values())
        if g == max(values):
            longest_share += 1.0 / values.count(g)
        if g == min(values):
            shortest_share += 1.0 / values.count(g)
        letters[gold] += 1
        all_letters |= set(opts)
        fair += 1.0 / len(opts)
    fair /= n
    report = BalanceReport(
        n=n,
        letters={k: letters.get(k, 0) for k in sorted(all_letters)},
        correct_longest=longest,
        correct_uniquely_longest=unique,
        correct_shortest=shortest,
        longest_share=longest_share / n,
        shortest_share=shortest_share / n,
        max_letter_share=max(letters.values()) / n,
        fair_letter_share=fair,
    )
    if report.longest_share > max_longest:
        report.problems.append(
            f"the correct option is the longest in {report.longest_share:.0%} of {n} items "
            f"(ties split; > {max_longest:.0%}): lengthen distractors"
        )
    if report.shortest_share < min_shortest:
        report.problems.append(
            f"the correct option is the shortest in only {report.shortest_share:.0%} of {n} items "
            f"(ties split; < {min_shortest:.0%}): shorten some correct options"
        )
    if report.max_letter_share > fair + max_letter_excess:
        top = max(letters, key=letters.__getitem__)
        report.problems.append(
            f"letter {top} holds {report.max_letter_share:.0%} of answers "
            f"(fair share {fair:.0%}): reshuffle the options"
        )
    return report
