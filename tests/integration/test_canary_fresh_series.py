"""A canary whose first scrape already holds all its observations still gets a TTFT quantile.

A real Prometheus scrapes a real exporter (prometheus-client) that was filled before its
first scrape, so ``rate()`` over the window is zero for every bucket: the analyser must
fall back to the buckets' growth since the window's start (seen in CI as a flaky
"canary has no time-to-first-token samples" on a fast canary).
"""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest
from prometheus_client import CollectorRegistry, Histogram, start_http_server

from support import free_port
from taigimed.monitor.analyze import TTFT_BUCKETS, instance_selector, measure
from taigimed.monitor.config import CanaryConfig
from taigimed.monitor.prometheus import PrometheusClient, PrometheusError

pytestmark = [pytest.mark.integration]


def test_ttft_quantile_of_a_series_born_full(tmp_path):
    prometheus = shutil.which("prometheus")
    if prometheus is None:
        pytest.skip("prometheus not installed (scripts/install-services.sh installs it)")
    registry = CollectorRegistry()
    # prometheus-client forbids ':' in names; Prometheus renames on scrape (below).
    ttft = Histogram(
        TTFT_BUCKETS.removesuffix("_bucket").replace(":", "_"),
        "time to first token",
        buckets=(0.1, 0.5, 1.0, 5.0),
        registry=registry,
    )
    for seconds in (0.05, 0.2, 0.3, 0.4, 0.7):
        ttft.observe(seconds)
    exporter_port, prom_port = free_port(), free_port()
    server, _ = start_http_server(exporter_port, addr="127.0.0.1", registry=registry)
    target = f"127.0.0.1:{exporter_port}"
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: fresh\n"
        f"    static_configs:\n      - targets: ['{target}']\n"
        "    metric_relabel_configs:\n"
        "      - source_labels: [__name__]\n"
        "        regex: 'taigimed_time_to_first_token_seconds_(.*)'\n"
        "        target_label: __name__\n"
        "        replacement: 'taigimed:time_to_first_token_seconds_$1'\n"
    )
    proc = subprocess.Popen(
        [
            prometheus,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{prom_port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    prom = PrometheusClient(f"http://127.0.0.1:{prom_port}")
    try:
        deadline = time.monotonic() + 60
        samples = 0.0
        while time.monotonic() < deadline and samples < 3:
            try:
                samples = prom.scalar(f'count_over_time(up{{instance="{target}"}}[1m])') or 0.0
            except PrometheusError:  # not listening yet
                samples = 0.0
            time.sleep(0.5)
        assert samples >= 3, "Prometheus did not scrape the exporter three times in 60 s"
        selector = instance_selector(f"http://{target}")
        rate_q = f"sum by (le) (rate({TTFT_BUCKETS}{{{selector}}}[5m]))"
        assert all(float(r["value"][1]) == 0 for r in prom.query(rate_q)), "no growth: rate 0"

        side = measure(prom, f"http://{target}", selector, CanaryConfig(), "5m")
        # 5 observations, p95 in the (0.5, 1.0] bucket.
        assert side.ttft_quantile_s is not None
        assert 0.5 < side.ttft_quantile_s <= 1.0
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        server.shutdown()
