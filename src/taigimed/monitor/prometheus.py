"""A small client for the Prometheus HTTP API (instant queries); errors say what to fix."""

from __future__ import annotations

import math

import httpx


class PrometheusError(RuntimeError):
    """Prometheus could not be reached or rejected a query; the message names the URL or query."""


class PrometheusClient:
    def __init__(self, url: str, timeout_s: float = 10.0):
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s

    def query(self, promql: str) -> list[dict]:
        """The result vector of an instant query (``[]`` when no series matched)."""
        try:
            resp = httpx.get(
                f"{self.url}/api/v1/query", params={"query": promql}, timeout=self.timeout_s
            )
        except httpx.HTTPError as exc:
            raise PrometheusError(f"cannot reach Prometheus at {self.url}: {exc}") from exc
        try:
            body = resp.json()
        except ValueError as exc:
            raise PrometheusError(
                f"{self.url} answered HTTP {resp.status_code} without JSON; is it Prometheus?"
            ) from exc
        if body.get("status") != "success":
            raise PrometheusError(f"query rejected: {body.get('error', body)!s}; query: {promql}")
        return body["data"]["result"]

    def scalar(self, promql: str) -> float | None:
        """The single value of a query, or None when no series matched or it is NaN."""
        result = self.query(promql)
        if not result:
            return None
        if len(result) > 1:
            raise PrometheusError(f"expected one series, got {len(result)}; query: {promql}")
        value = float(result[0]["value"][1])
        return None if math.isnan(value) or math.isinf(value) else value
