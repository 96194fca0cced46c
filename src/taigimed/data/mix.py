"""Stage-2 mix: Taigi records plus replayed stage-1 records, in curriculum order.

Difficulty score (documented in the data card), in [0, 1]:

    difficulty = ½ · rank(length) + ½ · rank(rarity)

where ``length`` is the characters of a record's content (message contents for chats)
and ``rarity`` is the mean surprisal −log₂ p(c) of its characters under the character
frequencies of the whole mix; ``rank`` is the percentile rank within the mix. Short
records made of common characters come first.

Taigi records are cut into ``curriculum_phases`` equal phases by difficulty (phase 0 =
easiest). Replayed stage-1 records are dealt evenly over all phases and spaced evenly
inside each phase, so the model sees medical Mandarin throughout stage 2.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from taigimed.data.records import capped

if TYPE_CHECKING:
    from taigimed.data.config import DataConfig


@dataclass
class Stage2Mix:
    """``stage2_train`` in training order, and the figures the manifest reports for it."""

    records: list[dict]
    stats: dict


def stage2_mix(
    taigi: list[dict],
    stage1_train: list[dict],
    feedback: list[dict],
    d: DataConfig,
    seed: int,
) -> Stage2Mix:
    """Taigi records and replayed ``stage1_train`` records in curriculum order, then
    ``feedback`` records (already in training-record form), within ``stage2_train``'s cap."""
    cap = d.dataset_caps.get("stage2_train")
    if cap is not None:
        # Cap the Taigi share first, so the replay share survives the dataset cap.
        taigi = capped(taigi, max(1, round(cap * (1 - d.replay_fraction))), seed)
    n_replay = replay_count(len(taigi), d.replay_fraction, len(stage1_train))
    replay = [
        dict(r, id=f"replay-{r['id']}", messages=list(r["messages"]))
        for r in capped(stage1_train, n_replay, seed)
    ]
    records = capped(curriculum(taigi, replay, d.curriculum_phases, seed), cap, seed)
    # Answers users liked or clinicians corrected come last: the export puts them in the
    # hardest phase, and they are the closest thing to the traffic the model will see.
    records += feedback  # never sampled away by the cap
    stats = {
        "taigi_records": len(taigi),
        "replay_records": len(replay),
        "replay_share": round(len(replay) / max(1, len(records)), 4),
        "feedback_records": len(feedback),
        "phases": _phase_counts(records),
    }
    return Stage2Mix(records, stats)


def _phase_counts(records: list[dict]) -> dict[str, int]:
    """Records per phase and origin (``taigi``, ``replay``, ``feedback``), e.g. ``phase0_taigi``."""
    counts: Counter[str] = Counter()
    for r in records:
        is_copy = r["id"].startswith(("replay-", "feedback-"))
        origin = r["id"].split("-", 1)[0] if is_copy else "taigi"
        counts[f"phase{r['phase']}_{origin}"] += 1
    return dict(sorted(counts.items()))


def _content(rec: dict) -> str:
    if rec["kind"] == "chat":
        return "".join(m["content"] for m in rec["messages"])
    return rec["text"]


def score_difficulty(records: list[dict]) -> None:
    """Set ``difficulty`` on every record in place (see the module docstring)."""
    if not records:
        return
    contents = [_content(r) or " " for r in records]
    lengths = np.fromiter((len(c) for c in contents), dtype=np.int64, count=len(contents))
    codes = np.frombuffer("".join(contents).encode("utf-32-le"), dtype=np.uint32)
    counts = np.bincount(codes)  # code points < 0x110000: a direct table, no sort
    with np.errstate(divide="ignore"):
        table = -np.log2(counts / len(codes))
    surprisal = table[codes]
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    rarity = np.add.reduceat(surprisal, starts) / lengths
    frame = pd.DataFrame({"length": lengths, "rarity": rarity})
    score = 0.5 * frame["length"].rank(pct=True) + 0.5 * frame["rarity"].rank(pct=True)
    for rec, s in zip(records, score.round(6).tolist(), strict=True):
        rec["difficulty"] = float(s)


def replay_count(n_taigi: int, replay_fraction: float, available: int) -> int:
    """Replayed records so that they are ``replay_fraction`` of the mix (capped by supply)."""
    if replay_fraction <= 0 or n_taigi == 0:
        return 0
    return min(available, round(replay_fraction * n_taigi / (1 - replay_fraction)))


def curriculum(taigi: list[dict], replay: list[dict], phases: int, seed: int) -> list[dict]:
    """Order ``taigi`` easy → hard in ``phases`` phases, with ``replay`` spread through all."""
    score_difficulty(taigi + replay)
    ordered = sorted(taigi, key=lambda r: (r["difficulty"], r["id"]))
    n = len(ordered)
    buckets: list[list[dict]] = [[] for _ in range(phases)]
    for i, rec in enumerate(ordered):
        rec["phase"] = min(phases - 1, i * phases // max(n, 1))
        buckets[rec["phase"]].append(rec)
    shuffled = list(replay)
    random.Random(seed).shuffle(shuffled)
    replay_buckets: list[list[dict]] = [[] for _ in range(phases)]
    for i, rec in enumerate(shuffled):
        rec["phase"] = i % phases
        replay_buckets[rec["phase"]].append(rec)
    out: list[dict] = []
    for main, extra in zip(buckets, replay_buckets, strict=True):
        out.extend(_interleave(main, extra))
    return out


def _interleave(main: list[dict], extra: list[dict]) -> list[dict]:
    """``extra`` spaced evenly among ``main``, keeping both orders."""
    total = len(main) + len(extra)
    if not extra:
        return list(main)
    slots = {round((k + 0.5) * total / len(extra) - 0.5) for k in range(len(extra))}
    out, mi, ei = [], 0, 0
    for pos in range(total):
        take_extra = (pos in slots and ei < len(extra)) or mi >= len(main)
        if take_extra:
            out.append(extra[ei])
            ei += 1
        else:
            out.append(main[mi])
            mi += 1
    return out
