"""Cross-check a GGUF export against its safetensors model: greedy answers and log-probs.

For each prompt: the greedy answer of transformers (fp32) and of llama.cpp on the
GGUF, both from the same token ids, compared token for token; then the fp32
model's answer is fed to both (teacher forcing) and the per-token
log-probabilities are compared, so a difference is stated as a number even
when the answers agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch


def crosscheck_gguf(
    model_dir: str | Path,
    gguf_path: str | Path,
    prompts: Sequence[str],
    max_new_tokens: int = 24,
    max_context: int = 2048,
) -> dict[str, Any]:
    """``{"n", "greedy_equal", "mismatches", "logprob_abs_diff": {max, mean, p95}}``."""
    from taigimed.evaluate.scoring import load_model
    from taigimed.evaluate.scoring_gguf import GGUFModel, _log_softmax_at

    lm = load_model(model_dir, "float32", max_context)
    gm = GGUFModel(gguf_path, model_dir, max_context, batch_sequences=1)
    try:
        diffs: list[float] = []
        mismatches = []
        for i, prompt in enumerate(prompts):
            ids = lm.tokenizer.encode(prompt)[-(max_context - max_new_tokens) :]
            ref = _torch_greedy(lm, ids, max_new_tokens)
            got = gm._greedy([ids], [[]], [max_new_tokens])[0]
            if ref != got:
                mismatches.append({"prompt": i, "torch": ref, "gguf": got})
            seq = ids + ref
            if len(seq) < 2:
                continue
            with torch.inference_mode():
                logits = lm.model(torch.tensor([seq])).logits[0, :-1].float()
            lp_t = torch.log_softmax(logits, -1)[torch.arange(len(seq) - 1), seq[1:]].numpy()
            gm.rt.clear()
            lp_g = _log_softmax_at(gm._prompt(seq[:-1], 0, want_all=True), seq[1:])
            # Only the answer's tokens (and the first one after the prompt) are compared.
            tail = slice(len(ids) - 1, None)
            diffs += np.abs(lp_t[tail] - lp_g[tail]).tolist()
    finally:
        gm.close()
    arr = np.array(diffs or [0.0])
    return {
        "n": len(prompts),
        "greedy_equal": len(prompts) - len(mismatches),
        "mismatches": mismatches,
        "logprob_abs_diff": {
            "max": float(arr.max()),
            "mean": float(arr.mean()),
            "p95": float(np.quantile(arr, 0.95)),
            "tokens": len(diffs),
        },
    }


def _torch_greedy(lm, ids: list[int], n: int) -> list[int]:
    """Greedy tokens from transformers, batch of one (no padding), stopping at end of turn."""
    with torch.inference_mode():
        out = lm.model.generate(
            input_ids=torch.tensor([ids]),
            attention_mask=torch.ones(1, len(ids), dtype=torch.long),
            max_new_tokens=n,
            do_sample=False,
            eos_token_id=lm.stop_ids,
            pad_token_id=lm.pad_id,
        )[0, len(ids) :].tolist()
    kept = []
    for t in out:
        if t in lm.stop_ids:
            break
        kept.append(t)
    return kept
