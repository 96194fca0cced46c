"""Serving settings; values live in ``configs/*.yaml`` under ``serve:``."""

from typing import Literal

from pydantic import Field

from taigimed.configbase import StrictModel
from taigimed.safety.config import SafetyConfig


class ServeConfig(StrictModel):
    host: str = Field("127.0.0.1", description="Interface to bind.")
    port: int = Field(8000, ge=0, le=65535, description="Port to bind; 0 picks a free one.")
    engine: Literal["auto", "llamacpp", "builtin", "upstream"] = Field(
        "auto",
        description="Model engine. auto: llamacpp on CPU when llama-cpp-python is installed and "
        "the model is a Llama (its GGUF export served by a supervised llama.cpp server), else "
        "builtin (transformers; development, GPUs, other architectures). upstream: any "
        "OpenAI-compatible server (vLLM on GPUs).",
    )
    model: str | None = Field(
        None, description="Registry alias or model directory; None: production, newest, base."
    )
    base_until_registered: bool = Field(
        False,
        description="When `model` is an alias no version holds yet (an empty registry), serve "
        "the base model instead of failing (staging before the first training run).",
    )

    # Upstream engine (vLLM, llama.cpp server, any OpenAI-compatible server).
    upstream_url: str | None = Field(
        None, description="Base URL of the OpenAI-compatible server, e.g. http://127.0.0.1:8080."
    )
    upstream_model: str | None = Field(
        None, description="Model name sent upstream; None: the first one its /v1/models lists."
    )
    upstream_api_key: str | None = Field(
        None, description="Bearer token for the upstream server (or TAIGIMED_UPSTREAM_API_KEY)."
    )
    upstream_connect_timeout_s: float = Field(
        10.0, gt=0, description="Seconds to wait for the upstream server to accept a request."
    )

    # llama.cpp engine (CPU).
    gguf_type: Literal["f32", "f16", "q8_0"] | None = Field(
        None, description="GGUF tensor type served; None: eval.gguf_type, the one the gate scored."
    )
    llama_threads: int | None = Field(
        None, ge=1, description="llama.cpp threads; None: the physical cores this process may use."
    )

    # Built-in engine (transformers, CPU or GPU).
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="Built-in engine device; auto picks cuda when available."
    )
    max_batch_size: int = Field(
        8, ge=1, description="Most requests decoded together in one batch by the built-in engine."
    )
    batch_wait_ms: float = Field(
        5.0, ge=0, description="How long the built-in engine waits for more requests to batch."
    )
    torch_threads: int | None = Field(
        None, ge=1, description="torch intra-op threads; None: torch's default (all cores)."
    )
    omp_wait_policy: Literal["PASSIVE", "ACTIVE"] | None = Field(
        "PASSIVE",
        description="OMP_WAIT_POLICY set before torch loads: PASSIVE stops idle threads spinning "
        "on shared machines; None leaves the environment alone.",
    )

    # Limits.
    default_max_tokens: int = Field(
        256, ge=1, description="Tokens generated when a request does not say max_tokens."
    )
    max_tokens_limit: int = Field(1024, ge=1, description="Largest max_tokens a request may ask.")
    max_request_bytes: int = Field(
        65536, ge=1024, description="Largest request body accepted; bigger ones get 413."
    )
    max_message_chars: int = Field(
        8000, ge=1, description="Largest single message content, in characters."
    )
    max_messages: int = Field(64, ge=1, description="Most messages in one request.")
    generation_timeout_s: float = Field(
        120.0, gt=0, description="A generation running longer is stopped and stored as partial."
    )
    rate_limit_per_minute: int | None = Field(
        120, ge=1, description="Requests per minute per API key (per client address without keys)."
    )

    failed_auth_per_minute: int | None = Field(
        20,
        ge=1,
        description="Failures of one wrong API key or review token from one client address per "
        "minute before that credential gets 429 there (five times as many failures of any "
        "credentials lock the address's failing credentials out; valid keys keep working); "
        "None: unlimited (tests only).",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or CIDR networks of the ingress / reverse proxies whose "
        "X-Forwarded-For and X-Forwarded-Proto headers are believed (uvicorn's "
        "forwarded_allow_ips); empty: none, the client address is the TCP peer. Set it to the "
        "ingress controller's pod network, never to '*' on a port clients can reach.",
    )
    key_cache_s: float = Field(
        30.0,
        ge=0,
        description="Seconds an API key's verdict is cached: a revoked key stops working within "
        "this delay; 0 looks every key up on every request.",
    )
    ws_max_frame_bytes: int = Field(
        65536,
        ge=1024,
        description="Largest WebSocket frame or message accepted; bigger ones close the socket "
        "with 1009 before they are read or parsed.",
    )
    ws_per_address: int = Field(
        20, ge=1, description="Most WebSocket connections open at once from one client address."
    )
    ws_per_key: int = Field(
        20, ge=1, description="Most WebSocket connections open at once with one API key."
    )

    # Security and privacy.
    require_api_key: bool = Field(
        False,
        description="Require 'Authorization: Bearer <key>' made by 'taigimed keys create'; "
        "keys are hashed with the pepper in TAIGIMED_API_KEY_PEPPER.",
    )
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed by CORS; empty: same origin only."
    )
    privacy_mode: bool = Field(
        True, description="Never write prompt or answer text to logs at INFO level."
    )
    log_json: bool = Field(True, description="Structured JSON log lines with request ids.")

    # Storage and sessions.
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL (postgresql+psycopg://...); None: SQLite under WORKDIR/serve. "
        "TAIGIMED_DATABASE_URL overrides it.",
    )
    migrate_on_start: bool = Field(
        True, description="Apply Alembic migrations at start-up ('taigimed db upgrade' otherwise)."
    )
    max_sessions: int = Field(
        10000,
        ge=1,
        description="Most WebSocket sessions open at once in this process; more are closed "
        "with 1013 (try again later). History itself is read from the database.",
    )
    shutdown_grace_s: float = Field(
        30.0, ge=0, description="Seconds in-flight streams get to finish on shutdown."
    )
    safety: SafetyConfig = Field(
        default_factory=SafetyConfig,
        description="Safety layer: triage, dose filter, disclaimer, clinician review.",
    )
    answer_mode: Literal["cards", "rag", "model"] = Field(
        "cards",
        description="What a patient reads (docs/knowledge.md). cards: the best vetted card in "
        "the user's script, with its source. rag: the model answers from the top cards and "
        "cites them; an answer that is unsupported, loops, echoes the question or is in the "
        "wrong script is replaced by the card. model: the model alone (loops and echoes are "
        "still cut). In every mode, no close card means an honest 'no vetted information'.",
    )
    answer_guard: bool = Field(
        True,
        description="Cut a model answer at the first loop, repeat, echo of the question or "
        "wrong-script piece and send the card (or the no-card reply) instead. Off only for "
        "tests of the raw model path.",
    )
    rag_min_support: float = Field(
        0.6,
        ge=0,
        le=1,
        description="rag mode: the share of the answer's content tokens (Han bigrams, Tâi-lô "
        "syllables) that must appear in the retrieved cards for the answer to be shown.",
    )
