"""Padding-free packing: several examples per row, none attending to another.

Each packed row carries ``position_ids`` that restart at 0 for every example.
With no attention mask, transformers (``masking_utils.find_packed_sequence_indices``)
turns those restarts into a block-diagonal causal mask for sdpa/eager and into
varlen boundaries for flash attention, so a packed row computes exactly what the
examples would compute one by one (only with ``use_cache=False``: with a KV cache
transformers skips the packed-sequence detection) — ``tests/unit/train/test_packing.py`` checks
the logits. The tail of a row is filler that starts its own position run and has
no targets.

``pad_rows`` is the naive baseline measured in benchmarks/bench_train_packing.py:
one example per row, padded to ``seq_len``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from taigimed.train.records import IGNORE, Example

# How many rows stay open for first-fit; small, so that curriculum order survives.
OPEN_ROWS = 16


@dataclass
class Batch:
    input_ids: torch.Tensor  # (rows, seq_len)
    targets: torch.Tensor  # (rows, seq_len), IGNORE where nothing is learned
    position_ids: torch.Tensor  # (rows, seq_len)
    attention_mask: torch.Tensor | None = None  # only for the padded baseline

    @property
    def tokens(self) -> int:
        if self.attention_mask is not None:
            return int(self.attention_mask.sum())
        return int(self.input_ids.numel())

    @property
    def useful(self) -> int:
        return int((self.targets != IGNORE).sum())


def pack(examples: list[Example], seq_len: int) -> list[list[Example]]:
    """Group examples into rows of at most ``seq_len`` tokens, first-fit over a few open rows."""
    rows: list[list[Example]] = []
    open_rows: list[tuple[int, int]] = []  # (row index, free tokens)
    for ex in examples:
        size = min(len(ex.input_ids), seq_len)
        for k, (idx, free) in enumerate(open_rows):
            if size <= free:
                rows[idx].append(ex)
                open_rows[k] = (idx, free - size)
                break
        else:
            rows.append([ex])
            open_rows.append((len(rows) - 1, seq_len - size))
            if len(open_rows) > OPEN_ROWS:
                open_rows.pop(0)
        open_rows = [(i, f) for i, f in open_rows if f > 0]
    return rows


def collate_packed(rows: list[list[Example]], seq_len: int, filler_id: int) -> Batch:
    """Tensors for packed rows: restarting positions, no cross-example attention."""
    ids = torch.full((len(rows), seq_len), filler_id, dtype=torch.long)
    tgt = torch.full((len(rows), seq_len), IGNORE, dtype=torch.long)
    pos = torch.zeros((len(rows), seq_len), dtype=torch.long)
    for r, row in enumerate(rows):
        at = 0
        for ex in row:
            n = min(len(ex.input_ids), seq_len - at)
            ids[r, at : at + n] = torch.tensor(ex.input_ids[:n])
            tgt[r, at : at + n] = torch.tensor(ex.targets[:n])
            pos[r, at : at + n] = torch.arange(n)
            at += n
        # filler: its own position run, so it never joins the last example's block
        pos[r, at:] = torch.arange(seq_len - at)
    return Batch(ids, tgt, pos)


def pad_rows(examples: list[Example], seq_len: int, pad_id: int, train_prompt: bool) -> list[Batch]:
    """The naive baseline: one example per row, right-padded to ``seq_len`` with ``pad_id``.

    ``train_prompt`` reproduces the common mistake of learning every token
    (prompt included); pad positions never count either way.
    """
    batches = []
    for ex in examples:
        n = min(len(ex.input_ids), seq_len)
        ids = torch.full((1, seq_len), pad_id, dtype=torch.long)
        tgt = torch.full((1, seq_len), IGNORE, dtype=torch.long)
        mask = torch.zeros((1, seq_len), dtype=torch.long)
        ids[0, :n] = torch.tensor(ex.input_ids[:n])
        mask[0, :n] = 1
        if train_prompt:
            # every next token inside the example, prompt included; the final one is
            # lost, as when pad = EOS masks the real EOS
            tgt[0, : n - 1] = torch.tensor(ex.input_ids[1:n])
        else:
            tgt[0, :n] = torch.tensor(ex.targets[:n])
        batches.append(Batch(ids, tgt, torch.arange(seq_len).unsqueeze(0), mask))
    return batches


def stack(batches: list[Batch]) -> Batch:
    """Concatenate single-row padded batches into one."""
    mask = [b.attention_mask for b in batches]
    return Batch(
        torch.cat([b.input_ids for b in batches]),
        torch.cat([b.targets for b in batches]),
        torch.cat([b.position_ids for b in batches]),
        torch.cat(mask) if all(m is not None for m in mask) else None,
    )
