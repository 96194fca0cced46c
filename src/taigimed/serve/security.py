"""API-key checks, per-key rate limits and the request-size limit."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from dataclasses import dataclass

from fastapi import HTTPException

from taigimed.serve.errors import APIError
from taigimed.serve.keys import KeyInfo, pepper, verify_key
from taigimed.serve.storage.writer import StorageWriter

KEY_CACHE_S = 30.0  # a revoked key stops working within this many seconds


@dataclass
class Caller:
    key: KeyInfo | None
    address: str

    @property
    def bucket(self) -> str:
        return f"key:{self.key.id}" if self.key else f"addr:{self.address}"


class Authenticator:
    def __init__(self, required: bool, writer: StorageWriter):
        self.required = required
        self.writer = writer
        self._pepper = pepper() if required else None  # fail at start-up, not per request
        self._cache: dict[str, tuple[float, KeyInfo | None]] = {}

    async def check(self, token: str | None, address: str) -> Caller:
        if not self.required:
            return Caller(None, address)
        if not token:
            raise APIError(
                401,
                "an API key is required: send 'Authorization: Bearer <key>' "
                "(keys come from 'taigimed keys create')",
                "authentication_error",
                code="missing_api_key",
            )
        now = time.monotonic()
        hit = self._cache.get(token)
        if hit is None or hit[0] < now:
            info = await self.writer.run(lambda s: verify_key(s, token, self._pepper))
            self._cache[token] = hit = (now + KEY_CACHE_S, info)
        if hit[1] is None:
            raise APIError(
                401,
                "the API key is unknown or revoked",
                "authentication_error",
                code="invalid_api_key",
            )
        return Caller(hit[1], address)


class RateLimiter:
    """A sliding one-minute window per key (or per client address without keys)."""

    def __init__(self, per_minute: int | None):
        self.per_minute = per_minute
        self._hits: dict[str, deque[float]] = defaultdict(deque)

    def check(self, caller: Caller) -> None:
        limit = (caller.key.rate_limit_per_minute if caller.key else None) or self.per_minute
        if limit is None:
            return
        now = time.monotonic()
        hits = self._hits[caller.bucket]
        while hits and hits[0] <= now - 60:
            hits.popleft()
        if len(hits) >= limit:
            retry = max(1, int(60 - (now - hits[0])) + 1)
            raise APIError(
                429,
                f"rate limit of {limit} requests per minute reached; retry in {retry} s",
                "rate_limit_error",
                code="rate_limited",
                headers={"Retry-After": str(retry)},
            )
        hits.append(now)


def bearer(header: str | None) -> str | None:
    if header and header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None


class BodySizeLimit:
    """Pure ASGI middleware: bodies over ``max_bytes`` get 413 before they are read whole."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        too_big = APIError(
            413,
            f"the request body is larger than serve.max_request_bytes={self.max_bytes}",
            code="request_too_large",
        )
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            return await too_big.response()(scope, receive, send)
        seen = 0

        async def counting_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # FastAPI passes HTTPException through body parsing; the app's
                    # handler renders it in the OpenAI error shape.
                    raise HTTPException(413, too_big.message)
            return message

        await self.app(scope, counting_receive, send)
