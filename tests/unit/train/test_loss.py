"""Chunked loss over labelled positions equals the full-logits loss, in value and gradient."""

import torch
from torch.nn import functional as F
from transformers import AutoModelForCausalLM

from taigimed.train.loss import CausalLMLoss
from taigimed.train.packing import collate_packed
from taigimed.train.records import IGNORE, Example


def test_chunked_loss_equals_full_loss(tiny_model_dir):
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    rows = []
    for _row in range(2):
        row = []
        for _ex in range(3):
            ids = torch.randint(3, 500, (20,)).tolist()
            targets = [t if i % 3 else IGNORE for i, t in enumerate([*ids[1:], 7])]
            row.append(Example(ids, targets))
        rows.append(row)
    batch = collate_packed(rows, seq_len=64, filler_id=0)
    wrapper = CausalLMLoss(model, chunk=7)  # several uneven chunks
    loss_sum, n = wrapper(batch.input_ids, batch.targets, batch.position_ids)
    (loss_sum / n).backward()
    chunked_grad = model.model.layers[0].self_attn.q_proj.weight.grad.clone()
    model.zero_grad()

    logits = model(
        input_ids=batch.input_ids, position_ids=batch.position_ids, use_cache=False
    ).logits
    full = F.cross_entropy(logits.flatten(0, 1), batch.targets.flatten(), ignore_index=IGNORE)
    full.backward()
    assert n == (batch.targets != IGNORE).sum()
    torch.testing.assert_close(loss_sum / n, full, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(
        chunked_grad, model.model.layers[0].self_attn.q_proj.weight.grad, rtol=1e-4, atol=1e-6
    )
