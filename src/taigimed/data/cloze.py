"""A Taigi cloze set from held-out Sinica sentences: pick the word that fills the blank.

Judges general Taigi by accuracy, not only bits per character. Each item blanks one Han
word of a test-split sentence (never trained on) and offers it among three distractors
drawn from the training sentences' vocabulary:

* the same number of characters as the answer, so length says nothing;
* of similar corpus frequency (nearest ranks among same-length words), so "the common
  word" says little;
* never a word of the sentence itself.

The answer letter cycles through a seeded permutation, so letters are balanced.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np

BLANK = "＿＿"
INSTRUCTION = "揀一个詞囥入空格，予這句台語通順："
LETTERS = "ABCD"
_HAN_WORD = re.compile(r"^[\u4e00-\u9fff\U00020000-\U0003ffff]{2,4}$")
# Distractors come from this many same-length words on each side of the answer's rank.
RANK_WINDOW = 40


def _u(seed: int, key: str) -> int:
    return int.from_bytes(hashlib.blake2b(f"{seed}:cloze:{key}".encode(), digest_size=8).digest())


def build_cloze(
    test_sentences: Sequence[dict], train_sentences: Sequence[dict], n: int, seed: int
) -> list[dict]:
    """Up to ``n`` MCQ rows (MedQA schema, ``category`` = answer length) in a stable order."""
    if n <= 0:
        return []
    freq = Counter(w for s in train_sentences for w in s.get("words", []) if _HAN_WORD.match(w))
    by_len: dict[int, list[str]] = defaultdict(list)
    for w, c in sorted(freq.items(), key=lambda kv: (-kv[1], kv[0])):
        if c >= 2:
            by_len[len(w)].append(w)
    rank = {w: i for ws in by_len.values() for i, w in enumerate(ws)}
    rng = np.random.default_rng(seed)
    order = sorted(test_sentences, key=lambda s: _u(seed, s["id"]))
    gold_letters = [LETTERS[i] for i in rng.permutation(4)]
    rows: list[dict] = []
    for s in order:
        if len(rows) >= n:
            break
        words = s.get("words", [])
        han = s["han"]
        candidates = [
            w for w in words[1:] if w in rank and words.count(w) == 1 and han.count(w) == 1
        ]
        if not candidates:
            continue
        # Candidates in a seeded order; the first with three distractors of its length wins.
        candidates.sort(key=lambda w: _u(seed, f"{s['id']}:{w}"))
        answer, near = None, []
        for word in candidates:
            pool, r = by_len[len(word)], rank[word]
            near = [
                w
                for w in pool[max(0, r - RANK_WINDOW) : r + RANK_WINDOW + 1]
                if w != word and w not in words and w not in han
            ]
            if len(near) >= 3:
                answer = word
                break
        if answer is None:
            continue
        picks = [near[i] for i in rng.choice(len(near), size=3, replace=False)]
        gold = gold_letters[len(rows) % 4]
        if len(rows) % 4 == 3:
            gold_letters = [LETTERS[i] for i in rng.permutation(4)]
        others = iter(picks)
        options = {k: answer if k == gold else next(others) for k in LETTERS}
        rows.append(
            {
                "id": f"cloze-{s['id']}",
                "question": INSTRUCTION + han.replace(answer, BLANK, 1),
                "options": options,
                "answer_idx": gold,
                "answer": answer,
                "category": f"{len(answer)}-char",
                "source": s.get("source", "sinica"),
            }
        )
    return rows
