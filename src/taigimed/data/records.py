"""Output formats: MCQ rows, training records (chat / text), evaluation pairs; seeded splits.

Training record (docs/architecture.md): ``id, source, kind ('chat'|'text'), messages,
text, difficulty, phase``. Chat records keep ``messages`` and, for convenience
(lengths, dedup, inspection), ``text`` = the rendered chat; text records have no messages.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from taigimed import chat

ZH_TO_HAN = "請共這句華語翻做台語漢字："
HAN_TO_TAILO = "請共這句台語漢字寫做台羅拼音："


def split_of(key: str, seed: int, fractions: dict[str, float]) -> str:
    """Deterministic split for ``key``: stable across runs, caps and machines.

    ``fractions`` maps held-out split names to shares; the rest is ``train``.
    """
    digest = hashlib.blake2b(f"{seed}:{key}".encode(), digest_size=8).digest()
    u = int.from_bytes(digest, "big") / 2**64
    edge = 0.0
    for name, share in fractions.items():
        edge += share
        if u < edge:
            return name
    return "train"


def uniforms(key: str, seed: int, n: int) -> list[float]:
    """``n`` independent deterministic numbers in [0, 1) for ``key`` from one hash call."""
    digest = hashlib.blake2b(f"{seed}:{key}".encode(), digest_size=8 * n).digest()
    return [int.from_bytes(digest[8 * i : 8 * i + 8], "big") / 2**64 for i in range(n)]


def capped(rows: list, cap: int | None, seed: int) -> list:
    """At most ``cap`` rows, a seeded sample that keeps the original order."""
    if cap is None or len(rows) <= cap:
        return rows
    ranked = sorted(
        range(len(rows)),
        key=lambda i: hashlib.blake2b(f"{seed}:cap:{i}".encode(), digest_size=8).digest(),
    )
    return [rows[i] for i in sorted(ranked[:cap])]


def record(
    id_: str,
    source: str,
    kind: str,
    text: str = "",
    messages: Sequence[dict] | None = None,
    phase: int = 0,
) -> dict:
    msgs = [dict(m) for m in messages or []]
    if kind == "chat":
        text = chat.render(msgs)
    return {
        "id": id_,
        "source": source,
        "kind": kind,
        "messages": msgs,
        "text": text,
        "difficulty": 0.0,
        "phase": phase,
    }


def mcq_record(row: dict) -> dict:
    """A MedQA row as an SFT chat: the one MCQ prompt from ``taigimed.chat``."""
    msgs = chat.mcq_messages(row["question"], row["options"], row["answer_idx"])
    return record(row["id"], row["source"], "chat", messages=msgs)


def translation_record(id_: str, source: str, instruction: str, src: str, tgt: str) -> dict:
    msgs = [
        {"role": "user", "content": instruction + src},
        {"role": "assistant", "content": tgt},
    ]
    return record(id_, source, "chat", messages=msgs)


def mcq_output(row: dict) -> dict:
    return {
        k: row[k]
        for k in ("id", "question", "options", "answer_idx", "answer", "category", "source")
    }
