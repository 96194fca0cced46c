"""Property-based fuzzing of the app against its own OpenAPI schema with all of
schemathesis's default checks: no 5xx, and every status code, content type, header and body
is one the schema declares (the schema says what the server does)."""

from __future__ import annotations

import time

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.python import asgi

from taigimed.config import load_config
from taigimed.serve.app import create_app
from taigimed.serve.hooks import Hooks

EXAMPLES = 25  # for chat completions; other operations get fewer, so the run stays < 1 min
OTHER_EXAMPLES = 10
REVIEW_TOKEN = "fuzz-review-token-0123456789abcdef"
TIME_LIMIT_S = 150  # bounded: a slow or hung server fails the test instead of eating CI
# A schema-valid request may still be refused for what JSON Schema cannot say, and the
# schema says so: the last message must be a non-empty user turn, the prompt must fit the
# context (400); a model id must be the served one, an answer id must exist (404).
CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "400", "404"]}}}
)


codes: dict[int, str] = {}


def _fuzz_operation(
    operation, client, checked: dict[str, int], statuses: set, reviewer: dict[str, str]
) -> None:
    # The review API always needs a credential (the schema says so); the rest needs none here.
    headers = reviewer if "/v1/review" in operation.path else None

    @settings(
        max_examples=EXAMPLES if operation.label.endswith("/chat/completions") else OTHER_EXAMPLES,
        derandomize=True,  # the same examples on every run: CI failures reproduce
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def fuzz(case):
        response = case.call(session=client, headers=headers)
        # Every default check; the credential goes as a transport header, so the auth checks
        # can probe without it and with a wrong one.
        case.validate_response(response, transport_kwargs={"headers": headers} if headers else None)
        checked[operation.label] = checked.get(operation.label, 0) + 1
        statuses.add((operation.label, response.status_code // 100))
        if response.status_code >= 400 and operation.label.endswith("/chat/completions"):
            codes[response.status_code] = response.text[:120]

    fuzz()


def test_no_server_errors_for_any_schema_input(tmp_path, engine_factory, monkeypatch):
    monkeypatch.setenv("TAIGIMED_REVIEW_TOKEN", REVIEW_TOKEN)
    monkeypatch.setenv("TAIGIMED_API_KEY_PEPPER", "fuzz-pepper")
    cfg = load_config("tiny")
    cfg.serve.default_max_tokens = 2  # generated bodies rarely set max_tokens; keep answers short
    cfg.serve.max_tokens_limit = 4
    cfg.serve.rate_limit_per_minute = None
    cfg.serve.failed_auth_per_minute = None  # the auth checks send many wrong credentials
    app = create_app(cfg, tmp_path / "work", engine=engine_factory(), hooks=Hooks())
    schema = schemathesis.openapi.from_dict(app.openapi(), config=CONFIG)
    schema.app = app
    checked: dict[str, int] = {}
    statuses: set[tuple[str, int]] = set()
    t0 = time.monotonic()
    with asgi.get_client(app) as client:  # one lifespan for all calls
        from taigimed.serve.keys import create_key

        with app.state.taigimed.sessions_factory.begin() as s:
            key, _ = create_key(s, "fuzz-reviewer", role="reviewer")
        # Both credentials the review API accepts, so none is generated at random.
        reviewer = {"Authorization": f"Bearer {key}", "X-Review-Token": REVIEW_TOKEN}
        for result in schema.get_all_operations():
            operation = result.ok()
            if operation.method.upper() in ("GET", "POST"):
                _fuzz_operation(operation, client, checked, statuses, reviewer)
    assert time.monotonic() - t0 < TIME_LIMIT_S
    assert {"POST /v1/chat/completions", "POST /v1/feedback", "GET /v1/models"} <= set(checked)
    assert checked["POST /v1/chat/completions"] >= EXAMPLES // 2
    # Both valid answers and rejected bad input were exercised.
    assert {("POST /v1/chat/completions", 2), ("POST /v1/chat/completions", 4)} <= statuses, (
        statuses,
        codes,
    )
