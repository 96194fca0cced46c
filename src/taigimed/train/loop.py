"""The optimisation loop: a fixed step plan, checkpoints, resume, validation loss.

The whole plan (which packed rows each step sees) is computed up front from
the seed, so a resumed run replays exactly the steps an uninterrupted run would
have taken and ends at the same step count.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import torch
from tqdm.auto import tqdm

from taigimed.artifacts import publish_dir
from taigimed.train.config import StageConfig, TrainConfig
from taigimed.train.loss import CausalLMLoss
from taigimed.train.model import load_trainable_state, trainable_state
from taigimed.train.packing import Batch, collate_packed, pack
from taigimed.train.records import Example


def step_plan(examples: list[Example], stage: StageConfig, seed: int) -> list[list[list[Example]]]:
    """Packed rows for each optimizer step, cycling epochs (reshuffled) until the budget is met."""
    need = stage.max_steps * stage.batch_rows
    rows: list[list[Example]] = []
    epoch = 0
    while len(rows) < need:
        order = list(examples)
        if stage.shuffle:
            random.Random(seed + epoch).shuffle(order)
        rows += pack(order, stage.seq_len)
        epoch += 1
    return [rows[i * stage.batch_rows : (i + 1) * stage.batch_rows] for i in range(stage.max_steps)]


def _autocast(device: str, dtype: torch.dtype | None):
    return torch.autocast(device, dtype=dtype) if dtype is not None else nullcontext()


def _to(batch: Batch, device) -> dict:
    out = {
        "input_ids": batch.input_ids.to(device),
        "targets": batch.targets.to(device),
        "position_ids": batch.position_ids.to(device),
    }
    if batch.attention_mask is not None:
        out["attention_mask"] = batch.attention_mask.to(device)
    return out


@torch.no_grad()
def mean_loss(
    wrapper: CausalLMLoss,
    examples: list[Example],
    seq_len: int,
    rows: int,
    filler_id: int,
    device: str,
    amp: torch.dtype | None,
) -> float:
    """Mean per-token loss over every labelled token of ``examples`` (packed, no cross-talk)."""
    was_training = wrapper.training
    wrapper.eval()
    total, count = 0.0, 0
    packed = pack(examples, seq_len)
    for i in tqdm(range(0, len(packed), rows), desc="validation loss", unit="batch", leave=False):
        batch = collate_packed(packed[i : i + rows], seq_len, filler_id)
        with _autocast(device, amp):
            loss_sum, n = wrapper(**_to(batch, device))
        total += float(loss_sum)
        count += int(n)
    wrapper.train(was_training)
    return total / max(count, 1)


@dataclass
class Progress:
    step: int = 0
    tokens: int = 0
    useful: int = 0
    seconds: float = 0.0
    losses: list[float] = field(default_factory=list)


def _save_checkpoint(ckpt_root: Path, model, optimizer, scheduler, prog: Progress, keep: int):
    final = ckpt_root / f"step-{prog.step:06d}"
    with publish_dir(final) as tmp:  # a checkpoint folder exists only once complete
        torch.save(trainable_state(model), tmp / "trainable.pt")
        torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
        torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
        torch.save(torch.get_rng_state(), tmp / "rng.pt")
        (tmp / "progress.json").write_text(json.dumps(prog.__dict__))
    for old in sorted(ckpt_root.glob("step-*"))[:-keep]:
        shutil.rmtree(old, ignore_errors=True)


def latest_checkpoint(ckpt_root: Path) -> Path | None:
    found = sorted(ckpt_root.glob("step-*"))
    return found[-1] if found else None


def _restore(ckpt: Path, model, optimizer, scheduler) -> Progress:
    load_trainable_state(model, torch.load(ckpt / "trainable.pt", weights_only=True))
    optimizer.load_state_dict(torch.load(ckpt / "optimizer.pt", weights_only=True))
    scheduler.load_state_dict(torch.load(ckpt / "scheduler.pt", weights_only=True))
    torch.set_rng_state(torch.load(ckpt / "rng.pt", weights_only=True))
    return Progress(**json.loads((ckpt / "progress.json").read_text()))


def train_steps(
    model,
    plan: list[list[list[Example]]],
    train: TrainConfig,
    stage: StageConfig,
    device: str,
    filler_id: int,
    ckpt_root: Path,
    resume_from: Path | None,
    log_metrics,
    accelerator,
) -> Progress:
    """Run the plan; ``log_metrics(dict, step)`` receives per-step figures."""
    from transformers import get_cosine_schedule_with_warmup

    from taigimed.train.model import autocast_dtype

    amp = autocast_dtype(train)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=stage.learning_rate, weight_decay=stage.weight_decay)
    scheduler = get_cosine_schedule_with_warmup(optimizer, stage.warmup_steps, stage.max_steps)
    prog = Progress()
    if resume_from is not None:
        prog = _restore(resume_from, model, optimizer, scheduler)
    wrapper = CausalLMLoss(model, train.loss_chunk_tokens)
    wrapper, optimizer = accelerator.prepare(wrapper, optimizer)
    wrapper.train()
    world, rank = accelerator.num_processes, accelerator.process_index
    micro = stage.rows_per_forward
    bar = tqdm(
        total=len(plan),
        initial=prog.step,
        desc="train",
        unit="step",
        disable=not accelerator.is_main_process,
    )
    while prog.step < len(plan):
        rows = plan[prog.step]
        step_useful = sum(ex.useful for row in rows for ex in row)
        mine = rows[rank::world]
        started = time.perf_counter()
        loss_total = 0.0
        for i in range(0, len(mine), micro):
            batch = collate_packed(mine[i : i + micro], stage.seq_len, filler_id)
            with _autocast(device, amp):
                loss_sum, _ = wrapper(**_to(batch, accelerator.device))
            # DDP averages gradients over ranks, so scale by world to get the global mean
            loss = loss_sum * world / max(step_useful, 1)
            accelerator.backward(loss)
            loss_total += float(loss_sum.detach())
        accelerator.clip_grad_norm_(params, stage.max_grad_norm)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        elapsed = time.perf_counter() - started
        step_loss = loss_total * world / max(step_useful, 1)
        if not math.isfinite(step_loss):
            raise FloatingPointError(f"loss became {step_loss} at step {prog.step + 1}")
        tokens = len(rows) * stage.seq_len
        prog.step += 1
        prog.tokens += tokens
        prog.useful += step_useful
        prog.seconds += elapsed
        prog.losses.append(step_loss)
        bar.update(1)
        bar.set_postfix(loss=f"{step_loss:.3f}", tok_s=f"{tokens / elapsed:.0f}")
        if prog.step % train.log_every == 0 or prog.step == len(plan):
            log_metrics(
                {
                    "train_loss": step_loss,
                    "learning_rate": scheduler.get_last_lr()[0],
                    "tokens_per_s": tokens / elapsed,
                    "useful_tokens_per_s": step_useful / elapsed,
                },
                prog.step,
            )
        if accelerator.is_main_process and (
            prog.step % stage.checkpoint_every == 0 or prog.step == len(plan)
        ):
            _save_checkpoint(
                ckpt_root,
                accelerator.unwrap_model(wrapper).model,
                optimizer,
                scheduler,
                prog,
                stage.keep_checkpoints,
            )
    bar.close()
    return prog
