"""Next-token loss computed only where targets exist, in chunks.

The plain ``model(..., labels=...)`` path materialises rows × seq_len × vocab
logits (8 × 512 × 49,152 fp32 = 805 MB, plus its gradient and softmax copies),
most of it for prompt and filler positions that carry no loss. Here the
backbone's hidden states are gathered at labelled positions and pushed through
``lm_head`` a chunk at a time under activation checkpointing, so at most one
chunk of logits is alive in forward or backward.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.checkpoint import checkpoint

from taigimed.train.records import IGNORE


def _chunk_loss(hidden: torch.Tensor, lm_head: nn.Module, targets: torch.Tensor) -> torch.Tensor:
    # calling the module (not its weight) lets FSDP gather a sharded head
    logits = lm_head(hidden).float()
    return F.cross_entropy(logits, targets, reduction="sum")


def chunked_loss_sum(
    hidden: torch.Tensor, lm_head: nn.Module, targets: torch.Tensor, chunk: int
) -> torch.Tensor:
    """Summed cross-entropy over positions whose target is not IGNORE."""
    keep = targets != IGNORE
    h = hidden[keep]
    t = targets[keep]
    total = hidden.new_zeros((), dtype=torch.float32)
    if h.shape[0] == 0:
        return total + 0.0 * hidden.sum()  # keeps the graph connected for DDP
    for start in range(0, h.shape[0], chunk):
        piece = (h[start : start + chunk], lm_head, t[start : start + chunk])
        if torch.is_grad_enabled():
            total = total + checkpoint(_chunk_loss, *piece, use_reentrant=False)
        else:
            total = total + _chunk_loss(*piece)
    return total


class CausalLMLoss(nn.Module):
    """Wraps a causal LM so that forward returns (loss sum, labelled tokens).

    Going through one module's ``forward`` keeps DDP/FSDP gradient hooks intact
    when ``accelerate`` wraps it.
    """

    def __init__(self, model: nn.Module, chunk: int):
        super().__init__()
        self.model = model
        self.chunk = chunk

    def causal_lm(self) -> nn.Module:
        get_base = getattr(self.model, "get_base_model", None)
        return get_base() if get_base else self.model

    def forward(
        self,
        input_ids: torch.Tensor,
        targets: torch.Tensor,
        position_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        lm = self.causal_lm()
        out = lm.model(
            input_ids=input_ids,
            position_ids=position_ids,
            attention_mask=attention_mask,
            use_cache=False,
        )
        loss_sum = chunked_loss_sum(out.last_hidden_state, lm.lm_head, targets, self.chunk)
        return loss_sum, (targets != IGNORE).sum()
