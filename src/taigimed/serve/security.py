"""API-key checks, per-key rate limits, failed-login limits and the request-size limit."""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict, defaultdict, deque
from dataclasses import dataclass

from fastapi import HTTPException

from taigimed.serve.errors import APIError
from taigimed.serve.keys import KeyInfo, PepperMissing, pepper, verify_key
from taigimed.serve.storage.writer import StorageWriter

KEY_CACHE_S = 30.0  # a revoked key stops working within this many seconds
KEY_CACHE_MAX = 4096  # cached verdicts; the least recently used go first
MAX_TOKEN_CHARS = 256  # our keys are 46 characters; longer is never a key, so never looked up
FAILED_AUTH_PER_MINUTE = 20  # wrong keys per client address before it gets 429s


@dataclass
class Caller:
    key: KeyInfo | None
    address: str

    @property
    def bucket(self) -> str:
        return f"key:{self.key.id}" if self.key else f"addr:{self.address}"


class SlidingWindow:
    """Events per key in the last minute; keys with no recent events are forgotten, so
    the table cannot grow without bound under a flood of distinct keys."""

    def __init__(self, per_minute: int | None, max_keys: int = 100_000):
        self.per_minute = per_minute
        self.max_keys = max_keys
        self._hits: dict[str, deque[float]] = defaultdict(deque)

    def retry_after(self, key: str, limit: int | None = None, add: bool = True) -> int | None:
        """Seconds to wait when ``key`` is over the limit, else None (and, with ``add``,
        the event is counted)."""
        limit = limit or self.per_minute
        if limit is None:
            return None
        now = time.monotonic()
        hits = self._hits[key]
        while hits and hits[0] <= now - 60:
            hits.popleft()
        if len(hits) >= limit:
            return max(1, int(60 - (now - hits[0])) + 1)
        if add:
            hits.append(now)
        if len(self._hits) > self.max_keys:
            for k in [k for k, h in self._hits.items() if not h or h[-1] <= now - 60]:
                del self._hits[k]
        return None


class Authenticator:
    def __init__(
        self,
        required: bool,
        writer: StorageWriter,
        failed_per_minute: int | None = FAILED_AUTH_PER_MINUTE,
        cache_max: int = KEY_CACHE_MAX,
    ):
        self.required = required
        self.writer = writer
        self._pepper = pepper() if required else None  # fail at start-up, not per request
        # Keyed by a digest, never the token: a flood of huge wrong tokens costs 32 bytes each,
        # and at most ``cache_max`` of them.
        self._cache: OrderedDict[bytes, tuple[float, KeyInfo | None]] = OrderedDict()
        self.cache_max = cache_max
        self.failures = SlidingWindow(failed_per_minute)

    def _too_many_failures(self, address: str) -> None:
        retry = self.failures.retry_after(f"addr:{address}", add=False)
        if retry is not None:
            raise APIError(
                429,
                f"too many failed authentications from this address; retry in {retry} s",
                "rate_limit_error",
                code="auth_rate_limited",
                headers={"Retry-After": str(retry)},
            )

    async def verify(self, token: str, address: str) -> KeyInfo | None:
        """The key's info, or None after counting a failure for ``address``."""
        self._too_many_failures(address)
        info = None
        if len(token) <= MAX_TOKEN_CHARS:
            digest = hashlib.sha256(token.encode("utf-8", "replace")).digest()
            now = time.monotonic()
            hit = self._cache.get(digest)
            if hit is None or hit[0] < now:
                info = await self.writer.run(lambda s: verify_key(s, token, self._pepper))
                hit = (now + KEY_CACHE_S, info)
                self._cache[digest] = hit
                while len(self._cache) > self.cache_max:
                    self._cache.popitem(last=False)
            self._cache.move_to_end(digest)
            info = hit[1]
        if info is None:
            self.failures.retry_after(f"addr:{address}")
        return info

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
        return Caller(await self.known_key(token, address), address)

    async def known_key(self, token: str, address: str) -> KeyInfo:
        """The key's info, or 401. Keys can be checked even where they are not required
        (reviewer keys): without a pepper to hash with, no key is known."""
        info = None
        try:
            if self._pepper is None:
                self._pepper = pepper()
        except PepperMissing:
            pass
        else:
            info = await self.verify(token, address)
        if info is None:
            raise APIError(
                401,
                "the API key is unknown or revoked",
                "authentication_error",
                code="invalid_api_key",
            )
        return info


class RateLimiter:
    """A sliding one-minute window per key (or per client address without keys)."""

    def __init__(self, per_minute: int | None):
        self.per_minute = per_minute
        self._window = SlidingWindow(per_minute)

    def check(self, caller: Caller) -> None:
        limit = (caller.key.rate_limit_per_minute if caller.key else None) or self.per_minute
        retry = self._window.retry_after(caller.bucket, limit)
        if retry is not None:
            raise APIError(
                429,
                f"rate limit of {limit} requests per minute reached; retry in {retry} s",
                "rate_limit_error",
                code="rate_limited",
                headers={"Retry-After": str(retry)},
            )


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
