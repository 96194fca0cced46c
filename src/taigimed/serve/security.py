"""API-key checks, per-key rate limits, failed-login limits and the request-size limit.

Limits key on the client address uvicorn reports: the TCP peer, or the address a trusted
proxy put in X-Forwarded-For when ``serve.trusted_proxies`` names that proxy (never
otherwise: a client could name any address). Every table here is bounded.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import OrderedDict
from dataclasses import dataclass

from fastapi import HTTPException

from taigimed.serve.errors import APIError
from taigimed.serve.keys import KeyInfo, PepperMissing, pepper, verify_key
from taigimed.serve.storage.writer import StorageWriter

KEY_CACHE_S = 30.0  # default serve.key_cache_s: a revoked key stops working within this
KEY_CACHE_MAX = 4096  # cached verdicts; the least recently used go first
MAX_TOKEN_CHARS = 256  # our keys are 46 characters; longer is never a key, so never looked up
FAILED_AUTH_PER_MINUTE = 20  # failures of one credential from one address before 429s
# Failures of all credentials together from one address: a client retrying its one stale
# key locks out only that key, while a flood of guesses still ends in 429s. Valid keys are
# never refused by either lockout.
ADDRESS_FAILURES_FACTOR = 5
WINDOW_MAX_KEYS = 10_000  # keys (addresses, credentials) one limiter table remembers


@dataclass
class Caller:
    key: KeyInfo | None
    address: str

    @property
    def bucket(self) -> str:
        return f"key:{self.key.id}" if self.key else f"addr:{self.address}"


class SlidingWindow:
    """Events per key in the last minute, as a sliding-window counter: this period's count
    plus the last period's, weighted by the share of it still inside the minute (exact for
    a burst within one minute). Three numbers per key, and at most ``max_keys`` keys (the
    least recently used go first), so a flood of distinct keys costs bounded memory and
    constant time per event."""

    def __init__(self, per_minute: int | None, max_keys: int = WINDOW_MAX_KEYS):
        self.per_minute = per_minute
        self.max_keys = max_keys
        self._table: OrderedDict[str, list[float]] = OrderedDict()  # key: [start, prev, now]

    def __len__(self) -> int:
        return len(self._table)

    def retry_after(self, key: str, limit: int | None = None, add: bool = True) -> int | None:
        """Seconds to wait when ``key`` is over the limit, else None (and, with ``add``,
        the event is counted)."""
        limit = limit or self.per_minute
        if limit is None:
            return None
        now = time.monotonic()
        entry = self._table.get(key)
        if entry is None:
            if not add:
                return None
            entry = self._table[key] = [now, 0.0, 0.0]
            if len(self._table) > self.max_keys:
                self._table.popitem(last=False)
        else:
            self._table.move_to_end(key)
            periods = int((now - entry[0]) // 60)
            if periods:
                entry[:] = [entry[0] + 60 * periods, entry[2] if periods == 1 else 0.0, 0.0]
        start, prev, curr = entry
        elapsed = now - start
        if prev * (1 - elapsed / 60) + curr >= limit:
            if curr >= limit:  # wait into the next period until this one weighs less
                wait = 60 - elapsed + 60 * (1 - limit / curr)
            else:
                wait = 60 * (1 - (limit - curr) / prev) - elapsed
            return max(1, math.ceil(wait))
        if add:
            entry[2] += 1
        return None


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "replace")).digest()


class Authenticator:
    def __init__(
        self,
        required: bool,
        writer: StorageWriter,
        failed_per_minute: int | None = FAILED_AUTH_PER_MINUTE,
        cache_max: int = KEY_CACHE_MAX,
        cache_s: float = KEY_CACHE_S,
    ):
        self.required = required
        self.writer = writer
        self._pepper = pepper() if required else None  # fail at start-up, not per request
        # Keyed by a digest, never the token: a flood of huge wrong tokens costs 32 bytes each,
        # and at most ``cache_max`` of them.
        self._cache: OrderedDict[bytes, tuple[float, KeyInfo | None]] = OrderedDict()
        self.cache_max = cache_max
        self.cache_s = cache_s
        # Lockouts: one failing credential from one address, and all failures from an address.
        self.failures = SlidingWindow(failed_per_minute)
        self.address_failures = SlidingWindow(
            failed_per_minute and failed_per_minute * ADDRESS_FAILURES_FACTOR
        )

    @staticmethod
    def _locked_out(retry: int) -> APIError:
        return APIError(
            429,
            f"too many failed authentications from this address; retry in {retry} s",
            "rate_limit_error",
            code="auth_rate_limited",
            headers={"Retry-After": str(retry)},
        )

    def refuse_locked(self, address: str, credential: str) -> None:
        """429 when this credential has failed too often from this address."""
        retry = self.failures.retry_after(f"{address}|{_digest(credential).hex()}", add=False)
        if retry is not None:
            raise self._locked_out(retry)

    def failed(self, address: str, credential: str) -> None:
        """Count a failed credential; 429 (instead of the caller's 401) once the address has
        failed too often with any credential."""
        self.failures.retry_after(f"{address}|{_digest(credential).hex()}")
        retry = self.address_failures.retry_after(address)
        if retry is not None:
            raise self._locked_out(retry)

    async def verify(self, token: str, address: str) -> KeyInfo | None:
        """The key's info, or None after counting a failure (429 once locked out)."""
        self.refuse_locked(address, token)
        info = None
        if len(token) <= MAX_TOKEN_CHARS:
            digest = _digest(token)
            now = time.monotonic()
            hit = self._cache.get(digest)
            if hit is None or hit[0] < now:
                info = await self.writer.run(lambda s: verify_key(s, token, self._pepper))
                hit = (now + self.cache_s, info)
                if self.cache_s > 0:
                    self._cache[digest] = hit
                    while len(self._cache) > self.cache_max:
                        self._cache.popitem(last=False)
            if digest in self._cache:
                self._cache.move_to_end(digest)
            info = hit[1]
        if info is None:
            self.failed(address, token)
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
