"""Prometheus metrics, named in vLLM's style (``taigimed:<what>``), labelled by model version
and engine. Each app has its own registry, so tests can build several apps."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
)

# The *_created series double the exposition size and no dashboard of ours reads them.
disable_created_metrics()

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
ITL_BUCKETS = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 1, 2.5)
BASE = ("model_version", "engine")


class Metrics:
    def __init__(self, model_version: str, engine: str):
        self.registry = CollectorRegistry()
        r = self.registry
        self.labels = {"model_version": model_version, "engine": engine}
        self.ttft = Histogram(
            "taigimed:time_to_first_token_seconds",
            "Seconds from request to the first generated text.",
            BASE,
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.itl = Histogram(
            "taigimed:inter_token_latency_seconds",
            "Seconds between streamed pieces of one answer.",
            BASE,
            buckets=ITL_BUCKETS,
            registry=r,
        )
        self.e2e = Histogram(
            "taigimed:e2e_request_latency_seconds",
            "Seconds from request to the end of the answer.",
            BASE,
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.tokens_per_s = Histogram(
            "taigimed:generation_tokens_per_second",
            "Generated tokens per second of one answer, after its first token.",
            BASE,
            buckets=(1, 2, 5, 10, 20, 40, 60, 80, 120, 200, 400),
            registry=r,
        )
        self.success = Counter(
            "taigimed:request_success", "Answers finished (any finish reason).", BASE, registry=r
        )
        self.errors = Counter(
            "taigimed:request_errors",
            "Requests that failed, by kind (invalid_request, rate_limited, auth, timeout, "
            "engine, disconnected).",
            (*BASE, "kind"),
            registry=r,
        )
        self.prompt_tokens = Counter(
            "taigimed:prompt_tokens", "Prompt tokens processed.", BASE, registry=r
        )
        self.generation_tokens = Counter(
            "taigimed:generation_tokens", "Tokens generated.", BASE, registry=r
        )
        self.running = Gauge(
            "taigimed:num_requests_running", "Requests being generated now.", BASE, registry=r
        )
        self.waiting = Gauge(
            "taigimed:num_requests_waiting",
            "Requests waiting for the engine.",
            BASE,
            registry=r,
        )
        self.safety = Counter(
            "taigimed:safety_triggers",
            "Safety rules that fired, by category.",
            (*BASE, "category"),
            registry=r,
        )
        self.feedback = Counter(
            "taigimed:feedback",
            "Feedback received, by kind (thumbs_up, thumbs_down, rating, inaccuracy).",
            (*BASE, "kind"),
            registry=r,
        )

        # What can go wrong quietly: storage, queues, sessions, the review backlog, the process.
        self.storage_failures = Counter(
            "taigimed:storage_write_failures",
            "Database writes that failed, by kind (write, queue_full); each is also logged.",
            ("kind",),
            registry=r,
        )
        self.storage_fixups = Counter(
            "taigimed:storage_text_fixups",
            "Texts repaired before storage (NUL characters removed).",
            registry=r,
        )
        self._fixups_seen = 0
        self.interrupted = Counter(
            "taigimed:interrupted_turns_marked",
            "Answers cut by a crash, marked interrupted at start-up.",
            registry=r,
        )
        self.writer_queue = Gauge(
            "taigimed:storage_queue_depth", "Jobs waiting for the storage writer.", registry=r
        )
        self.ws_open = Gauge(
            "taigimed:websocket_sessions_open", "WebSocket sessions open now.", registry=r
        )
        self.review_queue = Gauge(
            "taigimed:review_queue_pending",
            "Answers held for clinician review, pending (all replicas: read from the database).",
            registry=r,
        )
        # process_cpu_seconds_total, process_resident_memory_bytes, open fds... (Linux /proc).
        ProcessCollector(registry=r)

    def storage_failure(self, kind: str) -> None:
        self.storage_failures.labels(kind=kind).inc()

    def fixups(self, total: int) -> None:
        """Bring the fixup counter up to the writer's running total."""
        if total > self._fixups_seen:
            self.storage_fixups.inc(total - self._fixups_seen)
            self._fixups_seen = total

    def error(self, kind: str) -> None:
        self.errors.labels(**self.labels, kind=kind).inc()

    def safety_trigger(self, category: str) -> None:
        self.safety.labels(**self.labels, category=category).inc()

    def feedback_kind(self, kind: str) -> None:
        self.feedback.labels(**self.labels, kind=kind).inc()
