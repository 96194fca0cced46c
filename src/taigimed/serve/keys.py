"""API keys: random tokens shown once, stored as HMAC-SHA256 with a pepper from the environment.

The pepper (TAIGIMED_API_KEY_PEPPER) lives outside the database, so a leaked
database alone cannot be used to check guesses against the hashes.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from taigimed.serve.storage.models import KEY_ROLES, ApiKey, utcnow

ENV_PEPPER = "TAIGIMED_API_KEY_PEPPER"
KEY_PREFIX = "tm-"


class PepperMissing(RuntimeError):
    """API keys are in use but TAIGIMED_API_KEY_PEPPER is not set."""


def pepper() -> bytes:
    value = os.environ.get(ENV_PEPPER)
    if not value:
        raise PepperMissing(
            f"set {ENV_PEPPER} to a long random secret (the same for 'taigimed keys' and "
            "'taigimed serve'), e.g. export "
            f"{ENV_PEPPER}=$(python -c 'import secrets; print(secrets.token_hex(32))')"
        )
    return value.encode()


def hash_key(key: str, pepper_bytes: bytes) -> str:
    return hmac.new(pepper_bytes, key.encode(), hashlib.sha256).hexdigest()


@dataclass
class KeyInfo:
    id: int
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    rate_limit_per_minute: int | None
    role: str = "client"  # "reviewer" keys may also use the clinician review API


def _info(k: ApiKey) -> KeyInfo:
    return KeyInfo(
        k.id,
        k.name,
        k.prefix,
        k.created_at,
        k.revoked_at,
        k.rate_limit_per_minute,
        k.role or "client",
    )


def create_key(
    session: Session, name: str, rate_limit_per_minute: int | None = None, role: str = "client"
) -> tuple[str, KeyInfo]:
    """A new key; the plain text is returned once and never stored."""
    if role not in KEY_ROLES:
        raise ValueError(f"role must be one of {KEY_ROLES}, got {role!r}")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        name=name,
        prefix=key[:10],
        key_hash=hash_key(key, pepper()),
        rate_limit_per_minute=rate_limit_per_minute,
        role=role,
    )
    session.add(row)
    session.flush()
    return key, _info(row)


def revoke_key(session: Session, key_id: int) -> KeyInfo:
    row = session.get(ApiKey, key_id)
    if row is None:
        raise KeyError(f"no API key with id {key_id}; 'taigimed keys list' shows them")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return _info(row)


def active_reviewer_keys(session: Session) -> int:
    """How many unrevoked reviewer keys exist."""
    rows = session.scalars(
        select(ApiKey.id).where(ApiKey.role == "reviewer", ApiKey.revoked_at.is_(None))
    )
    return len(rows.all())


def list_keys(session: Session) -> list[KeyInfo]:
    return [_info(k) for k in session.scalars(select(ApiKey).order_by(ApiKey.id))]


def verify_key(session: Session, key: str, pepper_bytes: bytes) -> KeyInfo | None:
    """The key's row when it exists and is not revoked."""
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key, pepper_bytes)))
    if row is None or row.revoked_at is not None:
        return None
    return _info(row)
