"""Exact then near-duplicate removal (MinHash + LSH banding), and the leakage check.

Exact duplicates (same text once whitespace and punctuation are ignored) go first, in
one dict pass, so MinHash only sees distinct texts. MinHash signatures use datasketch's
permutation parameters and universal-hash scheme and LSH uses datasketch's optimal
(bands, rows) for the threshold; both are applied with numpy over every document at
once (and split across worker processes), because datasketch's per-document
``MinHash.update``/``MinHashLSH.insert`` loop was two thirds of a naive 33 s build.
Candidate pairs from the bands are verified by estimated Jaccard before counting.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache

import numpy as np

_MASK32 = np.uint64(0xFFFFFFFF)
_IGNORED_RE = re.compile(r"[\s\W_]+")
_BATCH_SHINGLES = 4096  # ~2 MB of uint32 per batch: stays in cache


def exact_key(text: str) -> str:
    """Text with case, whitespace and punctuation ignored."""
    return _IGNORED_RE.sub("", text).lower()


@lru_cache(maxsize=8)
def _permutations(num_perm: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's per-permutation (a, b) draws, as odd/any 32-bit multipliers/offsets."""
    from datasketch import MinHash

    a, b = MinHash(num_perm=num_perm, seed=seed).permutations
    return a.astype(np.uint32) | np.uint32(1), b.astype(np.uint32)


def _shingle_hashes(
    texts: Sequence[str], k: int, sample_above: int
) -> tuple[np.ndarray, np.ndarray]:
    """32-bit hashes of the character k-grams of every text, and each text's first index.

    Texts shorter than k are padded so each has at least one shingle. Texts longer than
    ``sample_above`` keep only the shingles whose hash is 0 mod 4: a consistent sample
    (the same shingle is kept in every text), so Jaccard estimates stay unbiased while
    long textbook chunks cost a quarter of the work.
    """
    padded = [t + "\0" * max(0, k - len(t)) for t in texts]
    lengths = np.fromiter((len(t) for t in padded), dtype=np.int64, count=len(padded))
    codes = np.frombuffer("".join(padded).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    n = len(codes) - k + 1
    h = np.zeros(max(n, 0), dtype=np.uint64)
    for j in range(k):  # polynomial rolling hash of each k-gram
        h = (h * np.uint64(1_000_003) + codes[j : j + n]) & _MASK32
    # murmur3 finaliser: spread nearby code points over all 32 bits
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(0x85EBCA6B)) & _MASK32
    h ^= h >> np.uint64(13)
    h = (h * np.uint64(0xC2B2AE35)) & _MASK32
    h ^= h >> np.uint64(16)
    h = h.astype(np.uint32)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    counts = lengths - k + 1
    pieces, sizes = [], []
    for s, c in zip(starts.tolist(), counts.tolist(), strict=True):
        piece = h[s : s + c]
        if c > sample_above:
            sampled = piece[(piece & np.uint32(3)) == 0]
            piece = sampled if len(sampled) else piece[:1]
        pieces.append(piece)
        sizes.append(len(piece))
    new_starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    return np.concatenate(pieces), new_starts


def signatures(texts: Sequence[str], num_perm: int, k: int, sample_above: int = 200) -> np.ndarray:
    """MinHash signatures, shape ``(len(texts), num_perm)``, dtype uint32.

    Each permutation is ``a·h + b mod 2³²`` with odd ``a`` (a bijection on 32-bit
    hashes); uint32 arithmetic in small cache-sized batches is several times faster
    than datasketch's 61-bit modular form and estimates Jaccard as well.
    """
    if not texts:
        return np.zeros((0, num_perm), dtype=np.uint32)
    hashes, starts = _shingle_hashes(texts, k, sample_above)
    a, b = _permutations(num_perm)
    out = np.empty((len(texts), num_perm), dtype=np.uint32)
    bounds = np.append(starts, len(hashes))
    doc = 0
    while doc < len(texts):
        # a batch of whole documents holding about _BATCH_SHINGLES shingles
        end = int(np.searchsorted(bounds, bounds[doc] + _BATCH_SHINGLES, side="right")) - 1
        end = min(max(end, doc + 1), len(texts))
        lo, hi = bounds[doc], bounds[end]
        phv = np.multiply.outer(hashes[lo:hi], a)
        phv += b
        out[doc:end] = np.minimum.reduceat(phv, bounds[doc:end] - lo, axis=0)
        doc = end
    return out


def parallel_signatures(texts: Sequence[str], num_perm: int, k: int, workers: int) -> np.ndarray:
    """``signatures`` split across ``workers`` processes when there is enough work."""
    # Below a few million characters the fork and pickling cost more than they save
    # (benchmarks/bench_data_prepare.py --dedup-compare).
    if workers <= 1 or sum(map(len, texts)) < 4_000_000:
        return signatures(texts, num_perm, k)
    step = -(-len(texts) // workers)
    parts = [list(texts[i : i + step]) for i in range(0, len(texts), step)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        done = list(pool.map(signatures, parts, [num_perm] * len(parts), [k] * len(parts)))
    return np.concatenate(done)


@lru_cache(maxsize=8)
def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) minimising false positives + negatives at ``threshold`` (datasketch)."""
    from datasketch.lsh import _optimal_param

    return _optimal_param(threshold, num_perm, 0.5, 0.5)


def near_duplicate_pairs(sigs: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """Pairs ``(i, j)``, ``i < j``, whose estimated Jaccard similarity is ≥ ``threshold``."""
    n, num_perm = sigs.shape
    if n < 2:
        return []
    bands, rows = lsh_params(threshold, num_perm)
    candidates: set[tuple[int, int]] = set()
    mix = np.random.default_rng(0).integers(1, 2**63, size=rows, dtype=np.uint64) | np.uint64(1)
    for band in range(bands):
        block = sigs[:, band * rows : (band + 1) * rows].astype(np.uint64)
        # One 64-bit key per band (a random linear combination, wrapping): sorting uint64
        # is far faster than sorting the raw bytes; verification below removes the rare
        # accidental collision.
        keys = (block * mix).sum(axis=1, dtype=np.uint64)
        _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
        shared = np.flatnonzero(counts[inverse] > 1)
        if len(shared) == 0:
            continue
        order = shared[np.argsort(inverse[shared], kind="stable")]
        groups = np.split(order, np.flatnonzero(np.diff(inverse[order])) + 1)
        for group in groups:
            members = group.tolist()
            for x, i in enumerate(members):
                for j in members[x + 1 :]:
                    candidates.add((i, j) if i < j else (j, i))
    pairs = []
    for i, j in sorted(candidates):
        if np.count_nonzero(sigs[i] == sigs[j]) >= threshold * num_perm:
            pairs.append((i, j))
    return pairs


def deduplicate(
    texts: Sequence[str],
    threshold: float,
    num_perm: int,
    k: int,
    workers: int = 1,
) -> tuple[list[str | None], np.ndarray, list[int], list[tuple[int, int]]]:
    """Keep the first of each group of duplicates.

    Returns ``(reasons, signatures, duplicate_of, kept_pairs)``: per text ``None`` (kept),
    ``"exact_duplicate"`` or ``"near_duplicate"``; signatures of the kept texts; for each
    removed text the index it duplicates (-1 if kept); and near-duplicate pairs among
    the kept texts (indices into the kept texts), normally none.
    """
    reasons: list[str | None] = [None] * len(texts)
    dup_of = [-1] * len(texts)
    first: dict[str, int] = {}
    for i, text in enumerate(texts):
        key = exact_key(text) or text
        if key in first:
            reasons[i], dup_of[i] = "exact_duplicate", first[key]
        else:
            first[key] = i
    distinct = [i for i in range(len(texts)) if reasons[i] is None]
    sigs = parallel_signatures([texts[i] for i in distinct], num_perm, k, workers)
    dropped = np.zeros(len(distinct), dtype=bool)
    pairs = near_duplicate_pairs(sigs, threshold)
    for a, b in pairs:  # sorted: a's fate is settled first
        if not dropped[a] and not dropped[b]:
            dropped[b] = True
            reasons[distinct[b]], dup_of[distinct[b]] = "near_duplicate", distinct[a]
    # Pairs whose both members survived (possible when a chain a~b~c drops only b);
    # re-indexed to the kept texts, they are what the leakage check inspects.
    kept_index = np.cumsum(~dropped) - 1
    survivors = [
        (int(kept_index[a]), int(kept_index[b]))
        for a, b in pairs
        if not dropped[a] and not dropped[b]
    ]
    return reasons, sigs[~dropped], dup_of, survivors


def cross_duplicates(train: np.ndarray, held_out: np.ndarray, threshold: float) -> list[int]:
    """Indices of ``held_out`` rows that are near-duplicates of any ``train`` row."""
    if len(train) == 0 or len(held_out) == 0:
        return []
    pairs = near_duplicate_pairs(np.concatenate([train, held_out]), threshold)
    n = len(train)
    return sorted({j - n for i, j in pairs if i < n <= j})
