"""Canary analysis: compare the canary with the baseline (production) over a window and answer
promote or rollback, with reasons.

Both servers export the same metrics (``taigimed.serve.metrics``); Prometheus tells them apart
by a label selector: by default the ``instance`` label of the URL's host:port (static scrape
configs), in Kubernetes ``track="canary"`` / ``track="stable"`` (deploy/monitoring/prometheus.yml).
The decision is also an exit code, so an Argo step or an Argo Rollouts Job can act on it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

import httpx

from taigimed.monitor.config import CanaryConfig
from taigimed.monitor.prometheus import PrometheusClient

# Metric names exported by taigimed.serve.metrics (prometheus-client adds _total / _bucket).
REQUESTS_OK = "taigimed:request_success_total"
REQUEST_ERRORS = "taigimed:request_errors_total"
TTFT_BUCKETS = "taigimed:time_to_first_token_seconds_bucket"
FEEDBACK = "taigimed:feedback_total"

EXIT_PROMOTE, EXIT_ROLLBACK, EXIT_INCONCLUSIVE = 0, 1, 3


@dataclass
class Side:
    """Figures of one deployment over the window."""

    url: str
    selector: str
    ready: bool | None = None
    requests: float | None = None
    errors: float | None = None
    error_rate: float | None = None
    ttft_quantile_s: float | None = None
    feedback: float | None = None
    negative_feedback_ratio: float | None = None


@dataclass
class Verdict:
    decision: str  # "promote", "rollback" or "inconclusive"
    reasons: list[str] = field(default_factory=list)
    canary: Side | None = None
    baseline: Side | None = None
    window: str = ""

    @property
    def exit_code(self) -> int:
        return {"promote": EXIT_PROMOTE, "rollback": EXIT_ROLLBACK}.get(
            self.decision, EXIT_INCONCLUSIVE
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False)


def instance_selector(url: str) -> str:
    """``instance="host:port"`` for a server URL, as Prometheus labels a static target."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if not parts.hostname:
        raise ValueError(f"not a server URL: {url!r}; expected e.g. http://127.0.0.1:8000")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f'instance="{parts.hostname}:{port}"'


def _is_ready(url: str, timeout_s: float = 5.0) -> bool:
    try:
        return httpx.get(url.rstrip("/") + "/readyz", timeout=timeout_s).status_code == 200
    except httpx.HTTPError:
        return False


def growth(series: str, window: str) -> str:
    """PromQL for how much each counter series grew since the window's start, counting a
    series born inside the window from 0 (``increase()``/``rate()`` miss its first value)."""
    return f"({series} - (({series} offset {window}) or ({series} * 0)))"


def count(prom: PrometheusClient, metric: str, matchers: str, window: str) -> float:
    """Events a counter saw in the window.

    ``increase()`` alone misses the first value of a series born inside the window (a
    fresh canary, or the first error of a kind), which can be all of its events; the
    difference from the value at the window's start (0 when the series did not exist)
    catches those. The larger of the two wins, so counter resets still count via increase().
    """
    series = f"{metric}{{{matchers}}}"
    by_increase = prom.scalar(f"sum(increase({series}[{window}]))") or 0.0
    by_delta = prom.scalar(f"sum{growth(series, window)}")
    return max(by_increase, by_delta or 0.0)


def measure(
    prom: PrometheusClient, url: str, selector: str, cfg: CanaryConfig, window: str
) -> Side:
    side = Side(url=url, selector=selector, ready=_is_ready(url))
    kinds = "|".join(cfg.server_error_kinds)
    neg = "|".join(cfg.negative_feedback_kinds)
    ok = count(prom, REQUESTS_OK, selector, window)
    err = count(prom, REQUEST_ERRORS, f'{selector},kind=~"{kinds}"', window)
    side.errors = err
    side.requests = ok + err
    side.error_rate = err / side.requests if side.requests > 0 else None
    buckets = f"{TTFT_BUCKETS}{{{selector}}}"
    quantile = f"histogram_quantile({cfg.ttft_quantile}, sum by (le) "
    side.ttft_quantile_s = prom.scalar(f"{quantile}(rate({buckets}[{window}])))")
    if side.ttft_quantile_s is None:
        # As in count(): buckets first scraped with all their observations (a fresh
        # canary answering before its first scrape) have no rate; their growth since
        # the window's start still describes the window.
        side.ttft_quantile_s = prom.scalar(f"{quantile}{growth(buckets, window)})")
    total_fb = count(prom, FEEDBACK, selector, window)
    neg_fb = count(prom, FEEDBACK, f'{selector},kind=~"{neg}"', window)
    side.feedback = total_fb
    side.negative_feedback_ratio = neg_fb / total_fb if total_fb > 0 else None
    return side


def decide(canary: Side, baseline: Side, cfg: CanaryConfig) -> tuple[str, list[str]]:
    """Rollback on any failed rule; inconclusive when the canary saw too little traffic."""
    failed: list[str] = []
    passed: list[str] = []
    if canary.ready is False:
        failed.append(f"canary {canary.url} is not ready (/readyz did not answer 200)")
    requests = canary.requests or 0.0
    if requests < cfg.min_requests and not failed:
        return "inconclusive", [
            f"canary served {requests:.0f} requests in the window, fewer than "
            f"min_requests={cfg.min_requests}; let it take traffic longer"
        ]
    c_err, b_err = canary.error_rate or 0.0, baseline.error_rate or 0.0
    if c_err > cfg.max_error_rate:
        failed.append(
            f"canary error rate {c_err:.3f} is above the ceiling {cfg.max_error_rate:.3f}"
        )
    elif c_err > b_err + cfg.max_error_rate_increase:
        failed.append(
            f"canary error rate {c_err:.3f} exceeds baseline {b_err:.3f} "
            f"by more than {cfg.max_error_rate_increase:.3f}"
        )
    else:
        passed.append(f"error rate {c_err:.3f} vs baseline {b_err:.3f}")
    q = f"p{round(cfg.ttft_quantile * 100)}"
    c_t, b_t = canary.ttft_quantile_s, baseline.ttft_quantile_s
    if c_t is None:
        failed.append(f"canary has no time-to-first-token samples in the window ({q})")
    elif b_t is None:
        passed.append(f"TTFT {q} {c_t:.3f}s; baseline has no samples to compare with")
    elif c_t > b_t * cfg.max_ttft_ratio + cfg.ttft_slack_s:
        failed.append(
            f"canary TTFT {q} {c_t:.3f}s exceeds baseline {b_t:.3f}s × {cfg.max_ttft_ratio} "
            f"+ {cfg.ttft_slack_s}s"
        )
    else:
        passed.append(f"TTFT {q} {c_t:.3f}s vs baseline {b_t:.3f}s")
    c_n, b_n = canary.negative_feedback_ratio, baseline.negative_feedback_ratio
    if (canary.feedback or 0) < cfg.min_feedback or c_n is None:
        passed.append(
            f"negative feedback not judged: {canary.feedback or 0:.0f} canary feedback events "
            f"(< min_feedback={cfg.min_feedback})"
        )
    elif c_n > (b_n or 0.0) + cfg.max_negative_feedback_increase:
        failed.append(
            f"canary negative-feedback share {c_n:.2f} exceeds baseline {b_n or 0.0:.2f} "
            f"by more than {cfg.max_negative_feedback_increase:.2f}"
        )
    else:
        passed.append(f"negative-feedback share {c_n:.2f} vs baseline {b_n or 0.0:.2f}")
    if failed:
        return "rollback", failed
    return "promote", passed


def analyze(
    cfg: CanaryConfig,
    canary_url: str,
    baseline_url: str,
    prometheus_url: str,
    window: str | None = None,
    canary_selector: str | None = None,
    baseline_selector: str | None = None,
) -> Verdict:
    window = window or cfg.window
    prom = PrometheusClient(prometheus_url)
    canary = measure(
        prom, canary_url, canary_selector or instance_selector(canary_url), cfg, window
    )
    baseline = measure(
        prom, baseline_url, baseline_selector or instance_selector(baseline_url), cfg, window
    )
    decision, reasons = decide(canary, baseline, cfg)
    return Verdict(decision, reasons, canary, baseline, window)
