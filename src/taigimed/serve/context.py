"""Fit a conversation into the model's context window: the system prompt is always kept, the
oldest turns are dropped first, and the turn being answered is never cut."""

from __future__ import annotations

from collections.abc import Callable, Sequence


class PromptTooLong(ValueError):
    """Even the system prompt and the new message alone do not fit; the message says by how much."""


def fit_history(
    system: dict[str, str],
    messages: Sequence[dict[str, str]],
    count_tokens: Callable[[Sequence[dict[str, str]]], int],
    budget: int,
) -> tuple[list[dict[str, str]], int, int]:
    """``[system, *the newest messages that fit]`` within ``budget`` prompt tokens.

    Returns (prompt messages, prompt tokens, messages dropped). Per-message counts
    are summed first (ChatML renders each message on its own), then the result is
    checked with one exact count of the whole prompt.
    """
    kept = list(messages)
    dropped = 0
    fixed = count_tokens([system])
    sizes = [count_tokens([m]) for m in kept]
    total = fixed + sum(sizes)
    while True:
        while total > budget and len(kept) > 1:
            total -= sizes.pop(0)
            kept.pop(0)
            dropped += 1
        # A history must not open with an assistant turn answering a dropped question.
        while len(kept) > 1 and kept[0]["role"] != "user":
            total -= sizes.pop(0)
            kept.pop(0)
            dropped += 1
        prompt = [system, *kept]
        exact = count_tokens(prompt)
        if exact <= budget:
            return prompt, exact, dropped
        if len(kept) <= 1:
            raise PromptTooLong(
                f"the message needs {exact} prompt tokens but only {budget} fit "
                "(the model's context minus max_tokens); shorten the message or lower max_tokens"
            )
        total = budget + 1  # the per-message sum undercounted: drop one more turn
