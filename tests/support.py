"""Helpers shared by the tests: the real data root, server processes (free loopback ports,
readiness and stopping come from ``taigimed.localproc`` and are re-exported here).

``tests/`` is on ``sys.path`` (pytest puts the rootdir conftest's folder there), so any test
module imports these as ``from support import ...``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from taigimed.localproc import NotReadyError, free_port, stop, wait_http

REPO = Path(__file__).resolve().parents[1]
ASSETS = Path(__file__).parent / "assets"


def shared_data_root() -> Path | None:
    """TAIGIMED_DATA_ROOT, or ../shared/data beside the checkout, when present."""
    env = os.environ.get("TAIGIMED_DATA_ROOT")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "data")
    for c in candidates:
        if (c / "medqa_tw").is_dir():
            return c
    return None


@contextmanager
def server_process(
    cmd: Sequence[str],
    ready_url: str,
    log: Path,
    *,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    cwd: Path | None = None,
    new_session: bool = False,
) -> Iterator[subprocess.Popen]:
    """Run ``cmd`` with its output in ``log``, wait until ``ready_url`` answers 200, and stop
    it on exit. ``new_session`` lets the stop reach the children it forks (mlflow's workers)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as fh:
        proc = subprocess.Popen(
            list(cmd),
            stdout=fh,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=new_session,
        )
    try:
        wait_http(ready_url, proc, timeout, log)
        yield proc
    finally:
        stop(proc)


@dataclass
class Server:
    proc: subprocess.Popen
    base_url: str
    workdir: Path
    log: Path


def start_serve(workdir: Path, *args: str, env: dict[str, str | None] | None = None) -> Server:
    """`taigimed serve` on a free port, ready; stop it with ``stop(server.proc)``. ``env`` adds
    to (or, with None values, removes from) the environment it gets."""
    port = free_port()
    log = workdir.parent / f"serve-{port}.log"
    extra = env or {}
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "HF_HUB_OFFLINE": "1"}
    env.pop("TAIGIMED_DATABASE_URL", None)
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    cmd = [sys.executable, "-m", "taigimed.cli", "serve", "--workdir", str(workdir)]
    cmd += ["--host", "127.0.0.1", "--port", str(port), *args]
    with log.open("w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/readyz", proc, 180, log)
    except NotReadyError:
        stop(proc)
        raise
    return Server(proc, base, workdir, log)


@contextmanager
def mlflow_server(root: Path) -> Iterator[str]:
    """A real `mlflow server` on a free loopback port, its store and proxied artifacts
    (``root/artifacts``) under ``root``; yields its URL."""
    port = free_port()
    cmd = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}"]
    cmd += ["--artifacts-destination", (root / "artifacts").as_uri(), "--workers", "1"]
    # No background job runner: it forks seven consumers we do not need.
    env = {
        **os.environ,
        "OMP_WAIT_POLICY": "PASSIVE",
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    }
    url = f"http://127.0.0.1:{port}"
    with server_process(cmd, f"{url}/health", root / "server.log", env=env, new_session=True):
        yield url


def write_prepared(folder: Path, datasets: dict[str, list[dict]]) -> Path:
    """A prepared-data version at ``folder`` in the layout `taigimed data prepare` writes:
    each dataset saved with its schema's features (rows lacking a column are saved as they
    are, to test the readers' checks), and a manifest naming them."""
    import json

    from datasets import Dataset

    from taigimed.data.schema import features_for

    for name, rows in datasets.items():
        features = features_for(name)
        whole = all(set(features) <= set(r) for r in rows)
        ds = Dataset.from_list(rows, features=features if whole else None)
        ds.save_to_disk(str(folder / "datasets" / name))
    manifest = {
        "version": folder.name,
        "datasets": {k: {"rows": len(v), "path": f"datasets/{k}"} for k, v in datasets.items()},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def ws_turn(ws, text: str, max_tokens: int = 8) -> tuple[str, dict]:
    """One chat turn over the `/v1/chat/ws` WebSocket: (streamed text, the end frame)."""
    ws.send_json({"type": "message", "content": text, "max_tokens": max_tokens})
    tokens = []
    while True:
        m = ws.receive_json()
        if m["type"] == "token":
            tokens.append(m["text"])
        elif m["type"] == "end":
            return "".join(tokens), m
        elif m["type"] == "error":
            raise AssertionError(m)


def wait_for_scrapes(prometheus: str, targets: Sequence[str], after: float, n: int = 2) -> None:
    """Wait until Prometheus has scraped every ``host:port`` in ``targets`` ``n`` times since
    ``after`` (a ``time.time()``), so a window ending now holds the counts they had then."""
    import time

    import httpx

    seen: dict[str, set[float]] = {t: set() for t in targets}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            r = httpx.get(
                f"{prometheus}/api/v1/query", params={"query": "timestamp(up)"}, timeout=5
            )
            for row in r.json()["data"]["result"]:
                stamp = float(row["value"][1])
                if row["metric"].get("instance") in seen and stamp > after:
                    seen[row["metric"]["instance"]].add(stamp)
        except (httpx.HTTPError, KeyError, ValueError):
            pass  # not ready yet: ask again
        if all(len(s) >= n for s in seen.values()):
            return
        time.sleep(0.2)
    counts = {t: len(s) for t, s in seen.items()}
    raise AssertionError(f"Prometheus scraped {counts} times since the load, wanted {n} each")


def without_ways(rules_text: str) -> str:
    """The rule file's text without the ways-of-taking reading (``dose_intent`` modal / take
    / may_i, the ninth round): an older round's broken-input test removes its own words
    and must see them missing, not caught by the later general reading."""
    out = re.sub(r"^  (?:modal|take|may_i):\n(?:    .*\n)+", "", rules_text, flags=re.MULTILINE)
    if out == rules_text:
        raise AssertionError("no ways-of-taking blocks in the rule text")
    return out


def without_cues(rules_text: str, *blocks: str) -> str:
    """The rule file's text without these ``cues`` blocks: a broken input that removes a
    round's reading, or an older round's test that must not see a later general one (the
    thirteenth round's ``well`` settles what the eighth round's words did)."""
    for block in blocks:
        rules_text, n = re.subn(rf"^  {block}:\n(?:    .*\n)+", "", rules_text, flags=re.MULTILINE)
        if n != 1:
            raise AssertionError(f"no cues block {block!r} in the rule text")
    return rules_text


def rules_from(tmp_path: Path, text: str):
    """The rule set of ``text`` (a rule file's text, usually the shipped one broken on
    purpose), written to a folder of its own under ``tmp_path`` and loaded as the server
    would. A folder of its own: the loader caches by path and modification time, and one
    test may break the file several ways within a clock tick."""
    import tempfile

    from taigimed.safety.rules import load_rules

    path = Path(tempfile.mkdtemp(dir=tmp_path)) / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return load_rules(path)


def rules_replaced(tmp_path: Path, old: str, new: str = ""):
    """The shipped rule file with ``old`` (which must stand in it) replaced by ``new``: a
    broken input that removes a round's words."""
    from taigimed.safety.rules import DEFAULT_RULES

    text = DEFAULT_RULES.read_text(encoding="utf-8")
    if old not in text:
        raise AssertionError(f"{old!r} is not in the rule file")
    return rules_from(tmp_path, text.replace(old, new, 1))


def rules_removed(tmp_path: Path, *olds: str):
    """The shipped rule file with each of ``olds`` (each must stand in it) taken out once,
    in turn: a broken input that removes a round's words from several lists."""
    from taigimed.safety.rules import DEFAULT_RULES

    text = DEFAULT_RULES.read_text(encoding="utf-8")
    for old in olds:
        if old not in text:
            raise AssertionError(f"{old!r} is not in the rule file")
        text = text.replace(old, "", 1)
    return rules_from(tmp_path, text)


def rule_hits(rules, text: str) -> list[str]:
    """The categories the rules alone fire on one message typed as a user would."""
    from taigimed.safety.conversation import standardized
    from taigimed.safety.triage import triage

    return sorted({h.category for h in triage(rules, standardized(text)).hits})


def fired(rules, classifier, *turns: str) -> list[str]:
    """The categories the server's conversation triage fires on these user turns (typed as
    a user would; standardised first), or [] when nothing fires."""
    from taigimed.safety.conversation import assess_conversation, standardized

    r = assess_conversation(rules, [standardized(t) for t in turns], classifier)
    return r.categories if r.triggered else []
