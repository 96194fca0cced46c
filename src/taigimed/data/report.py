"""Counting what happened to every row, so nothing is dropped silently.

Each source gets a ``SourceReport``: rows read, rows kept, rows removed by reason,
rows changed by a cleaning rule, rows flagged, and rows skipped as unreadable
(``--on-error skip``) with their file and line.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


class DataFormatError(ValueError):
    """A malformed input row; the message names the file and line."""


@dataclass
class SourceReport:
    name: str
    on_error: str = "raise"
    read: int = 0
    removed: Counter = field(default_factory=Counter)
    cleaned: Counter = field(default_factory=Counter)
    flagged: Counter = field(default_factory=Counter)
    skipped: list[str] = field(default_factory=list)  # "file:line: why"
    notes: dict = field(default_factory=dict)  # e.g. textbook chunks made from kept paragraphs

    def bad_row(self, where: str, why: str) -> None:
        """A row that cannot be parsed: raise, or count it when skipping."""
        message = f"{where}: {why}"
        if self.on_error != "skip":
            raise DataFormatError(message + " (use --on-error skip to count and skip such rows)")
        self.skipped.append(message)

    def drop(self, reason: str, n: int = 1) -> None:
        self.removed[reason] += n

    def as_dict(self, kept: int) -> dict:
        return {
            "read": self.read,
            "kept": kept,
            "removed": dict(sorted(self.removed.items())),
            "cleaned": dict(sorted(self.cleaned.items())),
            "flagged": dict(sorted(self.flagged.items())),
            "skipped_unreadable": len(self.skipped),
            "skipped_examples": self.skipped[:20],
            **self.notes,
        }
