"""Fixed-size, stratified hold-outs: rows that evaluation reads and training never sees.

Hash-fraction splits (``records.split_of``) suit large sources; a small source such as
the parallel file (about 100 complete rows) needs a hold-out of an exact size with every
topic represented, or the translation score rests on a handful of pairs.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Sequence


def _rank(seed: int, key: str) -> bytes:
    return hashlib.blake2b(f"{seed}:holdout:{key}".encode(), digest_size=8).digest()


def stratified_holdout(
    rows: Sequence[dict], n: int, seed: int, stratum: Callable[[dict], str]
) -> set[str]:
    """Ids of ``min(n, len(rows))`` rows, strata in proportion (largest remainders), each
    stratum's rows chosen by a seeded hash of their id: stable when other rows change."""
    n = min(n, len(rows))
    if n <= 0:
        return set()
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[stratum(r) or "none"].append(r)
    names = sorted(groups)
    exact = {g: len(groups[g]) * n / len(rows) for g in names}
    quota = {g: int(exact[g]) for g in names}
    for g in sorted(names, key=lambda g: (-(exact[g] - quota[g]), g))[: n - sum(quota.values())]:
        quota[g] += 1
    chosen: set[str] = set()
    for g in names:
        ranked = sorted(groups[g], key=lambda r: _rank(seed, r["id"]))
        chosen |= {r["id"] for r in ranked[: quota[g]]}
    return chosen
