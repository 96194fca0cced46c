"""Synthetic load for a canary window when real traffic is too thin for a verdict.

`taigimed deploy analyze` needs ``canary.min_requests`` canary requests in its window; at
10 % of a small service's traffic (and a Sunday 03:00 schedule) that is often not there, and
the release ends inconclusive. ``synthetic_load`` sends benign health-information questions
(no red flag, no dose: they must not move the safety alerts) to the canary and the baseline
alike, one per server per round, and sends nothing in a round where the canary already had
enough real requests.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

# Everyday questions in Mandarin and Taigi (Han characters and POJ); none is a red flag or
# a dosing question (tests/unit/rollout/test_load.py checks both with the safety rules).
BENIGN_PROMPTS = (
    "請問平常要按怎保持身體健康？",
    "老人家每工愛行路偌久較好？",
    "請簡單說明什麼是高血壓。",
    "Lāu-lâng beh án-tsuánn khùn khah hó-khùn?",
    "食菜有啥物好處？",
)


@dataclass
class LoadResult:
    rounds: int = 0
    skipped_rounds: int = 0  # real traffic was enough
    sent: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)


def parse_duration(text: str) -> float:
    """``90s``, ``30m``, ``2h`` or plain seconds, as seconds."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([smh]?)", text.strip())
    if not m:
        raise ValueError(f"duration {text!r} must look like 90s, 30m or 2h")
    return float(m[1]) * {"": 1, "s": 1, "m": 60, "h": 3600}[m[2]]


def synthetic_load(
    clients: dict[str, httpx.Client],
    rounds: int,
    interval_s: float,
    enough: Callable[[], bool] | None = None,
    max_tokens: int = 32,
    sleep: Callable[[float], None] = time.sleep,
) -> LoadResult:
    """``rounds`` rounds, ``interval_s`` apart: one benign chat turn to every client unless
    ``enough()`` says the canary's real traffic already suffices. A failed request is counted,
    not raised: the analysis, not this step, judges the servers."""
    result = LoadResult(sent={k: 0 for k in clients}, failed={k: 0 for k in clients})
    for i in range(rounds):
        if i:
            sleep(interval_s)
        result.rounds += 1
        if enough is not None and enough():
            result.skipped_rounds += 1
            continue
        prompt = BENIGN_PROMPTS[i % len(BENIGN_PROMPTS)]
        for name, client in clients.items():
            try:
                r = client.post(
                    "/v1/chat/completions",
                    json={
                        "max_tokens": max_tokens,
                        "messages": [{"role": "user", "content": prompt}],
                    },
                )
                ok = r.status_code == 200
            except httpx.HTTPError:
                ok = False
            result.sent[name] += 1
            result.failed[name] += 0 if ok else 1
    return result


def canary_has_enough(prometheus: str, selector: str, window: str, need: int) -> Callable[[], bool]:
    """``enough()`` for :func:`synthetic_load`: the canary's requests in the window (the same
    count `deploy analyze` makes) reach ``need``."""
    from taigimed.monitor.analyze import REQUEST_ERRORS, REQUESTS_OK, count
    from taigimed.monitor.prometheus import PrometheusClient

    prom = PrometheusClient(prometheus)

    def enough() -> bool:
        try:
            seen = count(prom, REQUESTS_OK, selector, window)
            seen += count(prom, REQUEST_ERRORS, selector, window)
        except Exception:  # Prometheus unreachable: send load rather than risk no verdict
            return False
        return seen >= need

    return enough
