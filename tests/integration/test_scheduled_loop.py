"""The scheduled loop (deploy/argo/continuous-training-cronworkflow.yaml) run locally, step by
step, with the same `taigimed` subcommands the Argo steps run, on the tiny recipe:

    data fetch (moto S3 server) → pipeline run (prepare, stage 1 cached, stage 2, evaluate,
    gate with adjust-and-retrain, register as staging) → restart staging → deploy smoke →
    model first-release → (first model: canary and production restarted, done) or
    model promote --to canary → canary serving beside production → deploy analyze (real
    Prometheus scraping both) → model promote --to production, or model rollback --alias canary

Every server is a real `taigimed serve` process writing to a real PostgreSQL. The first model
has no production to compare a canary with: its staging smoke test is its gate and
`model first-release` sends it to production. Then a good release is promoted and a bad one
(its canary's engine fails every request, as a model that crashes vLLM would) is rolled back
while production keeps serving the good one.
"""

from __future__ import annotations

import concurrent.futures
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from object_store import CREDENTIALS, asset_corpus, s3_server, upload

from support import wait_for_scrapes
from taigimed.config import load_config
from taigimed.localproc import wait_http
from taigimed.registry.aliases import list_versions
from taigimed.workdir import Workdir

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(2400)]
REPO = Path(__file__).resolve().parents[2]
TAIGIMED = [sys.executable, "-m", "taigimed.cli"]
BUCKET = "taigimed-corpus"
REQUESTS = 12
NO_RECIPE = {("deploy", "smoke")}
NO_WORKDIR = {("deploy", "smoke"), ("deploy", "analyze")}
# The loop's recipe: tiny, with the learning rates near zero so the model stays close to its
# random start. A tiny model really trained on a few hundred rows answers with end-of-text at
# once; it then has no time-to-first-token samples and the canary analysis (rightly) rolls it
# back. Its stage-2 loss does not fall either, so that gate check is off; a gate the model
# cannot pass is shown refusing it below.
LENIENT_GATE = (
    "--set",
    "gate.min_stage2_gain=null",
    "--set",
    "train.stage1.learning_rate=1e-6",
    "--set",
    "train.stage2.learning_rate=1e-6",
)

# The real PostgreSQL fixture of the serving tests, shared rather than copied.
_spec = importlib.util.spec_from_file_location(
    "serve_conftest", REPO / "tests" / "unit" / "serve" / "conftest.py"
)
_serve_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_serve_conftest)
postgres_url = _serve_conftest.postgres_url
free_port = _serve_conftest.free_port


class Loop:
    """The work directory, object store, database and servers of one local deployment."""

    def __init__(self, root: Path, store: str, db_url: str):
        self.root, self.store, self.db_url = root, store, db_url
        self.work = root / "work"
        self.logs = root / "logs"
        self.logs.mkdir(parents=True)
        self.env = {
            **os.environ,
            **CREDENTIALS,
            "OMP_WAIT_POLICY": "PASSIVE",
            "OMP_NUM_THREADS": "1",
            "HF_HUB_OFFLINE": "1",
            "TAIGIMED_DATA_ROOT": str(self.work / "sources" / "current"),
        }
        for var in ("MLFLOW_TRACKING_URI", "TAIGIMED_DATABASE_URL", "TAIGIMED_HOME"):
            self.env.pop(var, None)
        self.ports = {n: free_port() for n in ("staging", "production", "canary", "prometheus")}
        self.urls = {n: f"http://127.0.0.1:{p}" for n, p in self.ports.items()}
        self.procs: dict[str, subprocess.Popen] = {}
        self.steps: list[tuple[str, int]] = []

    def run(self, *args: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess:
        """One loop step: a `taigimed` subcommand, as the Argo step runs it."""
        # `deploy smoke` only talks to a URL; `deploy analyze` reads Prometheus, no workdir.
        common = [] if args[:2] in NO_RECIPE else ["--config", "tiny"]
        common += [] if args[:2] in NO_WORKDIR else ["--workdir", str(self.work)]
        r = subprocess.run(
            [*TAIGIMED, *args, *common],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=1200,
        )
        self.steps.append((" ".join(args[:2]), r.returncode))
        assert r.returncode in ok, (
            f"taigimed {' '.join(args)} → {r.returncode}\n{r.stdout}\n{r.stderr}"
        )
        return r

    def fetch(self) -> subprocess.CompletedProcess:
        return self.run(
            "data",
            "fetch",
            "--set",
            f"data.store.endpoint_url={self.store}",
            "--set",
            f"data.store.bucket={BUCKET}",
        )

    def serve(self, name: str, alias: str, *extra: str) -> None:
        """(Re)start the server of one deployment on its port: a rollout restart."""
        self.stop(name)
        log = self.logs / f"{name}-{time.monotonic_ns()}.log"
        args = ["serve", "--config", "tiny", "--workdir", str(self.work), "--host", "127.0.0.1"]
        args += ["--port", str(self.ports[name]), "--model", alias, *extra]
        args += ["--set", f"serve.database_url={self.db_url}"]
        self.procs[name] = subprocess.Popen(
            [*TAIGIMED, *args], env=self.env, stdout=log.open("w"), stderr=subprocess.STDOUT
        )
        probe = "/healthz" if extra else "/readyz"  # a broken engine never becomes ready
        wait_http(self.urls[name] + probe, self.procs[name], 240, log)

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()

    def aliases(self) -> dict[str, int]:
        # mlflow.set_tracking_uri() in earlier in-process tests leaves MLFLOW_TRACKING_URI set
        # in this process; read this workdir's own registry, as the loop's steps do.
        with pytest.MonkeyPatch.context() as mp:
            mp.delenv("MLFLOW_TRACKING_URI", raising=False)
            versions = list_versions(load_config("tiny"), Workdir.resolve(self.work))
        return {a: v["version"] for v in versions for a in v["aliases"]}

    def release_path(self) -> tuple[str, subprocess.CompletedProcess]:
        """The promotion's first-release step: 'first' (released now) or 'canary'."""
        out = self.root / f"release-path-{len(self.steps)}"
        r = self.run("model", "first-release", "--out", str(out))
        return out.read_text(), r

    def release_decision(self, version: int) -> str:
        with pytest.MonkeyPatch.context() as mp:
            mp.delenv("MLFLOW_TRACKING_URI", raising=False)
            from taigimed.registry import store

            cfg = load_config("tiny")
            client = store.client(cfg, Workdir.resolve(self.work), None)
            mv = client.get_model_version(cfg.tracking.registered_model, str(version))
        return mv.tags.get(store.TAG_RELEASE_DECISION, "")

    def load(self, names: tuple[str, ...]) -> None:
        """Users on production and the canary (the weighted split, here one load each)."""
        # One request each and two scrapes first: a histogram series that appears with all
        # its requests already counted shows no growth in the window.
        targets = [self.urls[n].removeprefix("http://") for n in names]
        for n in names:
            _chats(self.urls[n], 1)
        wait_for_scrapes(self.urls["prometheus"], targets, after=time.time())
        with concurrent.futures.ThreadPoolExecutor(len(names)) as pool:
            list(pool.map(lambda n: _chats(self.urls[n], REQUESTS), names))
        # Two more scrapes, so the window holds the final counts.
        wait_for_scrapes(self.urls["prometheus"], targets, after=time.time())

    def analyze(self, ok: tuple[int, ...]) -> dict:
        out = self.root / f"verdict-{len(self.steps)}.json"
        self.run(
            "deploy",
            "analyze",
            "--set",
            "monitor.canary.min_requests=8",
            "--canary",
            self.urls["canary"],
            "--baseline",
            self.urls["production"],
            "--prometheus",
            self.urls["prometheus"],
            "--window",
            "5m",
            "--json-out",
            str(out),
            ok=ok,
        )
        return json.loads(out.read_text())


def _chats(url: str, n: int) -> None:
    with httpx.Client(base_url=url, timeout=60) as client:
        model = client.get("/v1/models").json()["data"][0]["id"]
        for i in range(n):
            client.post(
                "/v1/chat/completions",
                json={
                    "model": model,
                    "max_tokens": 4,
                    "messages": [{"role": "user", "content": f"頭殼痛第 {i} 工矣，欲按怎？"}],
                },
            )


@pytest.fixture(scope="module")
def loop(tmp_path_factory, postgres_url):
    prometheus = shutil.which("prometheus")
    if prometheus is None:
        pytest.skip("prometheus not installed (scripts/install-services.sh installs it)")
    root = tmp_path_factory.mktemp("loop")
    with s3_server(root / "moto.log") as store:
        lp = Loop(root, store, postgres_url)
        config = root / "prometheus.yml"
        targets = ", ".join(f'"127.0.0.1:{lp.ports[n]}"' for n in ("production", "canary"))
        config.write_text(
            "global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: taigimed\n"
            f"    static_configs:\n      - targets: [{targets}]\n"
        )
        lp.procs["prometheus"] = subprocess.Popen(
            [
                prometheus,
                f"--config.file={config}",
                f"--storage.tsdb.path={root / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{lp.ports['prometheus']}",
            ],
            stdout=(lp.logs / "prometheus.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        try:
            yield lp
        finally:
            for name in list(lp.procs):
                lp.stop(name)


@pytest.fixture(scope="module")
def first_production(loop):
    """The loop's first run: no production yet, so the smoke-tested model is released directly."""
    upload(loop.store, BUCKET, asset_corpus())
    assert "new version" in loop.fetch().stdout
    loop.run("pipeline", "run", *LENIENT_GATE)
    loop.serve("staging", "staging")
    loop.run("deploy", "smoke", "--url", loop.urls["staging"])
    path, released = loop.release_path()
    assert path == "first", released.stdout
    loop.serve("production", "production")  # restart-first: both tracks restarted
    loop.serve("canary", "canary")
    return released.stdout, loop.aliases(), loop.release_decision(1)


@pytest.fixture(scope="module")
def good_release(loop, first_production):
    """New data in the store → a retrained model, smoke-tested, canaried and promoted."""
    files = asset_corpus()
    files["medical_textbooks_zh/hypertension.txt"] = (
        "高血壓是常見的慢性病，需要長期追蹤血壓並調整生活習慣，例如減少鹽分攝取與規律運動。"
        "若出現頭痛、視力模糊或胸悶，應盡快就醫。\n"
    ).encode()
    upload(loop.store, BUCKET, files)
    fetched = loop.fetch()
    assert "downloaded 1" in fetched.stdout, fetched.stdout
    loop.run("pipeline", "run", *LENIENT_GATE)
    loop.serve("staging", "staging")
    loop.run("deploy", "smoke", "--url", loop.urls["staging"])
    assert loop.release_path()[0] == "canary"
    loop.run("model", "promote", "--to", "canary")
    loop.serve("canary", "canary")
    loop.load(("production", "canary"))
    verdict = loop.analyze(ok=(0,))
    loop.run("model", "promote", "--to", "production")
    loop.serve("production", "production")
    return verdict, loop.aliases()


@pytest.fixture(scope="module")
def bad_release(loop, good_release):
    """A release whose canary fails every request: analysis rolls it back."""
    fetched = loop.fetch()
    assert "downloaded 0" in fetched.stdout and "unchanged" in fetched.stdout
    before = loop.aliases()
    # A new recipe value, so the run trains a new stage 2 (stage 1 and data are cache hits).
    # A gate it cannot pass refuses it on every attempt: exit 3, nothing registered or moved.
    refused = loop.run(
        "pipeline",
        "run",
        "--set",
        "train.stage2.max_steps=7",
        *LENIENT_GATE,
        "--set",
        "gate.at_least={medqa_tw.acc: 1.01}",
        ok=(3,),
    )
    assert "nothing registered" in refused.stdout
    assert loop.aliases() == before
    loop.run("pipeline", "run", "--set", "train.stage2.max_steps=7", *LENIENT_GATE)
    loop.serve("staging", "staging")
    loop.run("deploy", "smoke", "--url", loop.urls["staging"])
    assert loop.release_path()[0] == "canary"
    loop.run("model", "promote", "--to", "canary")
    dead = free_port()  # the canary's engine: nothing answers there
    loop.serve(
        "canary", "canary", "--engine", "upstream", "--upstream-url", f"http://127.0.0.1:{dead}"
    )
    loop.load(("production", "canary"))
    verdict = loop.analyze(ok=(1, 3))
    loop.run("model", "rollback", "--alias", "canary")
    loop.stop("canary")
    return before, verdict, loop.aliases()


def test_first_model_reaches_production_after_its_smoke_test(first_production, loop):
    said, aliases, decision = first_production
    assert aliases["production"] == aliases["canary"] == aliases["staging"] == 1
    assert "canary, production → version 1" in said
    assert decision.startswith("staging smoke test: first release"), decision
    assert httpx.get(loop.urls["production"] + "/readyz", timeout=10).status_code == 200
    # No canary analysis ran: the smoke test decided.
    names = [s for s, _ in loop.steps]
    assert names[names.index("deploy smoke") + 1 :][:1] == ["model first-release"]
    assert "deploy analyze" not in names[: names.index("model first-release")]


def test_new_data_and_a_good_model_are_promoted(loop, good_release):
    verdict, aliases = good_release
    assert verdict["decision"] == "promote", verdict
    assert aliases["production"] == aliases["canary"] == aliases["staging"] == 2
    served = httpx.get(loop.urls["production"] + "/v1/models", timeout=10).json()
    assert served["data"], served


def test_a_bad_model_is_rolled_back_and_production_keeps_serving(loop, bad_release):
    before, verdict, aliases = bad_release
    assert verdict["decision"] == "rollback", verdict
    assert aliases["staging"] == 3
    assert aliases["canary"] == before["production"] == aliases["production"] == 2
    assert httpx.get(loop.urls["production"] + "/readyz", timeout=10).status_code == 200
    # The release's steps, in the loop's order, each a taigimed subcommand; analysis decided.
    names = [s for s, _ in loop.steps]
    last = names[len(names) - names[::-1].index("data fetch") - 1 :]
    assert last == [
        "data fetch",
        "pipeline run",
        "pipeline run",
        "deploy smoke",
        "model first-release",
        "model promote",
        "deploy analyze",
        "model rollback",
    ], last
    assert dict(loop.steps[-2:])["deploy analyze"] != 0
