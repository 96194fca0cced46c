"""Packing is padding-free and exact: a packed row computes what each example computes alone."""

import torch
from transformers import AutoModelForCausalLM

from taigimed.train.packing import collate_packed, pack, pad_rows
from taigimed.train.records import IGNORE, Example


def _ex(n: int, start: int = 5) -> Example:
    ids = [(start + 7 * i) % 500 + 3 for i in range(n)]
    return Example(ids, [*ids[1:], IGNORE])


def test_pack_fills_rows_without_splitting_examples():
    examples = [_ex(n) for n in (50, 30, 60, 20, 10, 90)]
    rows = pack(examples, seq_len=100)
    assert sorted(len(e.input_ids) for r in rows for e in r) == [10, 20, 30, 50, 60, 90]
    assert all(sum(len(e.input_ids) for e in r) <= 100 for r in rows)
    assert len(rows) == 3  # 260 tokens in 3 rows of 100, where padding needs 6


def test_packed_logits_equal_unpacked_logits(tiny_model_dir):
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32).eval()
    examples = [_ex(17, 1), _ex(9, 2), _ex(30, 3)]
    batch = collate_packed([examples], seq_len=64, filler_id=0)
    assert batch.position_ids[0, 17].item() == 0 and batch.position_ids[0, 26].item() == 0
    with torch.no_grad():
        packed = model(
            input_ids=batch.input_ids, position_ids=batch.position_ids, use_cache=False
        ).logits[0]
        at = 0
        for ex in examples:
            alone = model(input_ids=torch.tensor([ex.input_ids])).logits[0]
            n = len(ex.input_ids)
            torch.testing.assert_close(packed[at : at + n], alone, rtol=1e-4, atol=1e-4)
            at += n
        # the check can fail: without restarting positions the second example differs
        naive = model(input_ids=batch.input_ids, use_cache=False).logits[0]
        alone = model(input_ids=torch.tensor([examples[1].input_ids])).logits[0]
        assert not torch.allclose(naive[17:26], alone, atol=1e-3)


def test_padded_baseline_wastes_rows_and_learns_the_prompt():
    ex = Example([1, 2, 3, 4], [IGNORE, IGNORE, 4, 9])
    (row,) = pad_rows([ex], seq_len=8, pad_id=0, train_prompt=True)
    assert row.tokens == 4 and row.input_ids.shape == (1, 8)
    assert row.targets[0, :4].tolist() == [2, 3, 4, IGNORE]  # prompt learned, final EOS lost
    (row,) = pad_rows([ex], seq_len=8, pad_id=0, train_prompt=False)
    assert row.useful == 2
