"""schemathesis, all default checks, against a real `taigimed serve` on a real PostgreSQL.

    .venv/bin/python scripts/fuzz_serve_schema.py --max-time 600

Starts a throwaway PostgreSQL (as the tests do), a server with API keys and clinician review
on, and runs ``schemathesis run`` on its /openapi.json with a reviewer key and the review
token (so the review API is reachable). Two things are configured, not hidden: a chat request
may be refused 400 for what JSON Schema cannot state (the *last* message must be a non-blank
user turn; the prompt must fit the model's context, counted in tokens), and 413 (a body over
the size limit, refused before it is parsed) counts as rejecting invalid data.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests"), str(REPO / "tests" / "integration" / "serve")]

CONFIG = """\
# A body over serve.max_request_bytes is refused from its length, before it is parsed: 413 is
# a rejection of invalid data too (schemathesis's list stops at 4xx codes it knows).
[checks.negative_data_rejection]
expected-statuses = [
  "400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx",
]

[[operations]]
include-path = "/v1/chat/completions"
checks.positive_data_acceptance.expected-statuses = [
  "2xx", "400", "401", "403", "404", "409", "429", "5xx",
]
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-time", type=int, default=600)
    parser.add_argument("--out", type=Path, default=Path(tempfile.mkdtemp(prefix="fuzz-")))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    import pytest  # noqa: F401  (the fixture module imports it)
    from serve_storage import PEPPER, REVIEW_TOKEN, fresh_database, make_keys

    from support import start_serve, stop

    spec = REPO / "tests" / "unit" / "serve" / "conftest.py"
    ns: dict = {}
    exec(compile(spec.read_text(), str(spec), "exec"), ns)  # the tests' PostgreSQL fixture
    pg = ns["postgres_url"].__wrapped__()
    url_base = next(pg)
    try:
        url = fresh_database("postgresql", args.out, url_base)
        keys = make_keys(url, dr="reviewer")
        env = {
            "TAIGIMED_DATABASE_URL": url,
            "TAIGIMED_API_KEY_PEPPER": PEPPER,
            "TAIGIMED_REVIEW_TOKEN": REVIEW_TOKEN,
        }
        settings = ["--config", "tiny", "--set", "serve.require_api_key=true"]
        settings += ["--set", "serve.safety.review_mode=flagged"]
        settings += ["--set", "serve.rate_limit_per_minute=1000000"]
        settings += ["--set", "serve.max_tokens_limit=8", "--set", "serve.default_max_tokens=4"]
        server = start_serve(args.out / "work", *settings, env=env)
        (args.out / "schemathesis.toml").write_text(CONFIG)
        try:
            cmd = [str(Path(sys.executable).with_name("schemathesis")), "--config-file"]
            cmd += [str(args.out / "schemathesis.toml"), "run", f"{server.base_url}/openapi.json"]
            cmd += ["-H", f"Authorization: Bearer {keys['dr'][1]}"]
            cmd += ["-H", f"X-Review-Token: {REVIEW_TOKEN}", "--workers", "1"]
            cmd += ["--max-time", str(args.max_time), "--seed", "20261206"]
            cmd += ["--report", "junit", "--report-dir", str(args.out / "report")]
            print(" ".join(cmd[:4]), "... (log:", server.log, ")", flush=True)
            return subprocess.run(cmd, cwd=args.out, env={**os.environ}).returncode
        finally:
            stop(server.proc)
    finally:
        next(pg, None)


if __name__ == "__main__":
    sys.exit(main())
