"""Canary analysis for real: Prometheus on loopback scrapes real `taigimed serve` processes
serving two registry aliases of the tiny model under bounded load; `taigimed deploy analyze`
promotes a healthy canary and rolls back one whose upstream engine is broken. The servers'
real /metrics also prove every dashboard panel and alert queries an exported metric."""

from __future__ import annotations

import concurrent.futures
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from taigimed.config import load_config
from taigimed.registry.register import register_model
from taigimed.workdir import Workdir

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "deploy"))
from deploy_checks import check_metric_names  # noqa: E402

from support import free_port, wait_for_scrapes  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.slow]
TAIGIMED = [sys.executable, "-m", "taigimed.cli"]
REQUESTS_PER_SERVER = 16


def wait_for(url: str, timeout: float, ok=(200,)) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code in ok:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} did not answer {ok} within {timeout}s")


@pytest.fixture(scope="module")
def registry_workdir(tmp_path_factory, tiny_model_dir) -> Path:
    """The tiny model registered twice: version 1 `production`, version 2 `canary`."""
    root = tmp_path_factory.mktemp("canary") / "work"
    cfg = load_config("tiny")
    wd = Workdir.resolve(root)
    report = root / "eval.json"
    root.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps({"schema": 1, "sets": {}}))
    for alias in ("production", "canary"):
        register_model(
            cfg,
            wd,
            tiny_model_dir,
            eval_report=report,
            decision={"passed": True, "reasons": []},
            lineage={},
            alias=alias,
        )
    return root


@pytest.fixture(scope="module")
def stack(registry_workdir, tmp_path_factory):
    """Prometheus and three servers: baseline, healthy canary, canary with a dead upstream."""
    prometheus = shutil.which("prometheus")
    if prometheus is None:
        pytest.skip("prometheus not installed (scripts/install-services.sh installs it)")
    env = {
        **os.environ,
        "OMP_WAIT_POLICY": "PASSIVE",
        "OMP_NUM_THREADS": "1",
        "TAIGIMED_HOME": str(registry_workdir),
        "HF_HUB_OFFLINE": "1",
    }
    env.pop("MLFLOW_TRACKING_URI", None)
    env.pop("TAIGIMED_DATABASE_URL", None)
    ports = {name: free_port() for name in ("baseline", "canary", "broken", "prometheus")}
    dead = free_port()  # nothing listens here: the broken canary's upstream
    common = [
        "serve",
        "--config",
        "tiny",
        "--workdir",
        str(registry_workdir),
        "--host",
        "127.0.0.1",
    ]
    args = {
        "baseline": [*common, "--model", "production", "--port", str(ports["baseline"])],
        "canary": [*common, "--model", "canary", "--port", str(ports["canary"])],
        "broken": [
            *common,
            "--model",
            "canary",
            "--port",
            str(ports["broken"]),
            "--engine",
            "upstream",
            "--upstream-url",
            f"http://127.0.0.1:{dead}",
        ],
    }
    logs = tmp_path_factory.mktemp("logs")
    procs = {}
    for name, a in args.items():
        # Separate SQLite files: three writers on one file would only add lock waits.
        procs[name] = subprocess.Popen(
            [*TAIGIMED, *a, "--set", f"serve.database_url=sqlite:///{logs / name}.sqlite"],
            env=env,
            stdout=(logs / f"{name}.log").open("w"),
            stderr=subprocess.STDOUT,
        )
    config = logs / "prometheus.yml"
    targets = ", ".join(f'"127.0.0.1:{ports[n]}"' for n in ("baseline", "canary", "broken"))
    config.write_text(
        "global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: taigimed\n"
        f"    static_configs:\n      - targets: [{targets}]\n"
    )
    procs["prometheus"] = subprocess.Popen(
        [
            prometheus,
            f"--config.file={config}",
            f"--storage.tsdb.path={logs / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{ports['prometheus']}",
        ],
        stdout=(logs / "prometheus.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    urls = {n: f"http://127.0.0.1:{p}" for n, p in ports.items()}
    try:
        wait_for(urls["prometheus"] + "/-/ready", 60)
        for name in ("baseline", "canary"):
            wait_for(urls[name] + "/readyz", 180)
        wait_for(urls["broken"] + "/healthz", 180)
        yield urls
    finally:
        for p in procs.values():
            p.send_signal(signal.SIGTERM)
        for p in procs.values():
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def _load(url: str, n: int) -> list[int]:
    """n sequential short chats, plus feedback on the answers that came back."""
    codes = []
    with httpx.Client(base_url=url, timeout=60) as client:
        model = client.get("/v1/models").json()["data"][0]["id"]
        for i in range(n):
            r = client.post(
                "/v1/chat/completions",
                json={
                    "model": model,
                    "max_tokens": 4,
                    "messages": [{"role": "user", "content": f"頭殼痛第 {i} 工矣，欲按怎？"}],
                },
            )
            codes.append(r.status_code)
            if r.status_code == 200 and i % 3 == 0:
                client.post("/v1/feedback", json={"response_id": r.json()["id"], "thumbs": "up"})
    return codes


@pytest.fixture(scope="module")
def loaded(stack):
    names = ("baseline", "canary", "broken")
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        futures = {n: pool.submit(_load, stack[n], REQUESTS_PER_SERVER) for n in names}
        codes = {n: f.result() for n, f in futures.items()}
    loaded_at = time.time()
    assert set(codes["baseline"]) == {200} and set(codes["canary"]) == {200}, codes
    assert all(c >= 500 for c in codes["broken"]), codes["broken"]
    # Two more scrapes of each server, so the window holds the final counts.
    targets = [stack[n].removeprefix("http://") for n in names]
    wait_for_scrapes(stack["prometheus"], targets, after=loaded_at)
    return stack


def _analyze(urls, canary: str, tmp_path) -> tuple[int, dict, str]:
    out = tmp_path / f"{canary}.json"
    r = subprocess.run(
        [
            *TAIGIMED,
            "deploy",
            "analyze",
            "--config",
            "tiny",
            "--set",
            "monitor.canary.min_requests=10",
            "--canary",
            urls[canary],
            "--baseline",
            urls["baseline"],
            "--prometheus",
            urls["prometheus"],
            "--window",
            "5m",
            "--json-out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"},
    )
    return r.returncode, json.loads(out.read_text()), r.stdout + r.stderr


def test_healthy_canary_is_promoted(loaded, tmp_path):
    code, verdict, output = _analyze(loaded, "canary", tmp_path)
    assert code == 0, output
    assert verdict["decision"] == "promote"
    assert verdict["canary"]["requests"] >= REQUESTS_PER_SERVER - 1
    assert verdict["canary"]["error_rate"] == 0
    assert verdict["canary"]["ttft_quantile_s"] is not None
    assert verdict["baseline"]["feedback"] > 0


def test_canary_with_broken_upstream_is_rolled_back(loaded, tmp_path):
    code, verdict, output = _analyze(loaded, "broken", tmp_path)
    assert code == 1, output
    assert verdict["decision"] == "rollback"
    reasons = " ".join(verdict["reasons"])
    assert "not ready" in reasons and "error rate" in reasons, reasons
    assert verdict["canary"]["errors"] >= REQUESTS_PER_SERVER - 1


def test_dashboard_and_alerts_query_metrics_the_server_exports(loaded):
    exposition = httpx.get(loaded["baseline"] + "/metrics", timeout=10).text
    assert "taigimed:time_to_first_token_seconds_bucket" in exposition
    assert check_metric_names(REPO / "deploy", exposition) == []
