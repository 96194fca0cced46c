"""Training records → token ids and next-token targets.

A record (schema "Training record" in docs/architecture.md) is either a chat,
rendered with ``chat.render_segments`` so that only assistant turns (and their
closing ``<|im_end|>``) are learned, or plain text learned in full plus EOS.

Targets are shifted here, per example, so that a packed row never asks one
example to predict the first token of the next one.
"""

from __future__ import annotations

from dataclasses import dataclass

from taigimed import chat
from taigimed.data.schema import DatasetSchemaError

IGNORE = -100


@dataclass(frozen=True)
class Example:
    input_ids: list[int]
    targets: list[int]  # targets[i] is the token after input_ids[i], or IGNORE

    @property
    def useful(self) -> int:
        return sum(t != IGNORE for t in self.targets)


def _tokens(tokenizer, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def encode_record(record: dict, tokenizer, eos_id: int) -> tuple[list[int], list[bool]]:
    """Token ids of one record and, per token, whether the model should learn to produce it."""
    if record["kind"] == "chat":
        ids: list[int] = []
        learn: list[bool] = []
        for text, trainable in chat.render_segments(record["messages"]):
            piece = _tokens(tokenizer, text)
            ids += piece
            learn += [trainable] * len(piece)
        return ids, learn
    if record["kind"] == "text":
        ids = [*_tokens(tokenizer, record["text"]), eos_id]
        return ids, [True] * len(ids)
    raise DatasetSchemaError(f"record {record.get('id')!r}: unknown kind {record['kind']!r}")


def to_examples(ids: list[int], learn: list[bool], seq_len: int) -> list[Example]:
    """Shifted examples of at most ``seq_len`` tokens; long texts are split, not dropped."""
    out = []
    step = seq_len
    for start in range(0, max(len(ids) - 1, 1), step):
        chunk = ids[start : start + seq_len + 1]
        mask = learn[start : start + seq_len + 1]
        inputs = chunk[:-1] if len(chunk) > 1 else chunk
        targets = [t if m else IGNORE for t, m in zip(chunk[1:], mask[1:], strict=True)]
        if any(t != IGNORE for t in targets):
            out.append(Example(inputs, targets))
    return out


def encode_dataset(dataset, tokenizer, seq_len: int) -> list[Example]:
    """All examples of a training-record dataset, in dataset order."""
    eos_id = chat.end_of_turn_id(tokenizer)
    examples: list[Example] = []
    for record in dataset:
        ids, learn = encode_record(record, tokenizer, eos_id)
        examples += to_examples(ids, learn, seq_len)
    return examples


def budget_indices(dataset, tokenizer, need_tokens: int, shuffle: bool, seed: int) -> list[int]:
    """Which records to encode so that about ``need_tokens`` tokens are available.

    A CPU budget covers a small fraction of a large dataset. Encoding all of it
    wastes minutes, and taking the first rows of a curriculum-ordered set would
    train on the easiest phase only: so pick a random subset (``shuffle``) or an
    evenly spaced one that keeps the order, sized from a sample's mean length.
    """
    import random

    n = len(dataset)
    rng = random.Random(seed)
    sample = rng.sample(range(n), min(n, 256))
    eos = chat.end_of_turn_id(tokenizer)
    lengths = [len(encode_record(dataset[i], tokenizer, eos)[0]) for i in sample]
    mean = max(sum(lengths) / len(lengths), 1.0)
    want = int(need_tokens / mean * 1.25) + 1  # margin: packing leaves some room unused
    if want >= n:
        return list(range(n))
    if shuffle:
        return sorted(rng.sample(range(n), want))
    stride = n / want
    return [int(k * stride) for k in range(want)]
