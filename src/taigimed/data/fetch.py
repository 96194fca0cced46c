"""``fetch``: new corpus files from an S3-compatible object store into versioned sources.

    taigimed data fetch --set data.store.bucket=taigimed-corpus \\
        --set data.store.endpoint_url=https://chi.tacc.chameleoncloud.org:7480
    TAIGIMED_DATA_ROOT=$WORKDIR/sources/current taigimed data prepare

The bucket holds the corpus files and a manifest naming each with its sha256. Files are
stored once by content (``sources/objects/<sha256>``); a version (``sources/versions/<id>``,
id = hash of the manifest entries fetched) is a folder laid out like shared/data whose files
are hard links to those objects, and ``sources/current`` points at the newest. An unchanged
store downloads nothing and keeps the same version, so `data prepare` (keyed by the content
of its data root) is a cache hit. A file whose bytes do not match the manifest is refused.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from taigimed.artifacts import file_sha256, fingerprint, publish_dir, publish_file
from taigimed.data.config import ObjectStoreConfig

MANIFEST_NAME = "store-manifest.json"


class FetchError(RuntimeError):
    """The store, its manifest or a file in it is unusable; the message says what to fix."""


@dataclass
class FetchResult:
    version: str
    path: Path
    downloaded: list[str] = field(default_factory=list)  # keys fetched this time
    reused: int = 0  # files already held by content
    changed: bool = False  # current moved to a new version
    ignored: list[str] = field(default_factory=list)  # manifest keys no source claims


def _client(store: ObjectStoreConfig):
    import boto3
    from botocore.config import Config as BotoConfig

    return boto3.client(
        "s3",
        endpoint_url=store.endpoint_url,
        region_name=store.region,
        config=BotoConfig(retries={"max_attempts": 5, "mode": "standard"}),
    )


def _manifest(client, store: ObjectStoreConfig) -> list[dict[str, Any]]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        body = client.get_object(Bucket=store.bucket, Key=store.manifest_key)["Body"].read()
    except (ClientError, BotoCoreError) as exc:
        raise FetchError(
            f"cannot read s3://{store.bucket}/{store.manifest_key} at "
            f"{store.endpoint_url or 'AWS'}: {exc}; check data.store.* and the AWS_* credentials"
        ) from exc
    try:
        files = json.loads(body)["files"]
        entries = [{**f, "key": str(f["key"]), "sha256": str(f["sha256"]).lower()} for f in files]
    except (ValueError, KeyError, TypeError) as exc:
        raise FetchError(
            f"{store.manifest_key}: not a data manifest ({exc}); expected "
            '{"files": [{"key": ..., "sha256": ...}, ...]}'
        ) from exc
    for e in entries:
        parts = PurePosixPath(e["key"]).parts
        if e["key"].startswith("/") or ".." in parts:
            raise FetchError(f"{store.manifest_key}: key {e['key']!r} would leave the data root")
        if len(e["sha256"]) != 64:
            raise FetchError(f"{store.manifest_key}: {e['key']} has no sha256 (64 hex digits)")
    return entries


def _placed(store: ObjectStoreConfig, entries: list[dict]) -> tuple[list[tuple[dict, str]], list]:
    """(entry, path inside the data root) for every entry a configured source claims."""
    placed, ignored = [], []
    for e in entries:
        src = next((s for s in store.sources if e["key"].startswith(s.prefix)), None)
        if src is None:
            ignored.append(e["key"])
            continue
        rel = str(PurePosixPath(src.target) / e["key"][len(src.prefix) :].lstrip("/"))
        placed.append(({**e, "source": src.name}, rel))
    return placed, ignored


def _download(client, bucket: str, entry: dict, objects: Path) -> None:
    """Fetch one object into the content store, checking its sha256 before it is kept."""
    with publish_file(objects / entry["sha256"]) as tmp:
        with tmp.open("wb") as out:
            client.download_fileobj(bucket, entry["key"], out)
        got = file_sha256(tmp)
        if got != entry["sha256"]:  # raising leaves no partial file behind
            raise FetchError(
                f"s3://{bucket}/{entry['key']}: sha256 {got} does not match the manifest's "
                f"{entry['sha256']}; re-upload the file or fix the manifest"
            )


def fetch_sources(store: ObjectStoreConfig, sources_dir: Path) -> FetchResult:
    """Bring the store's current files into ``sources_dir`` (see the module docstring)."""
    if not store.bucket:
        raise FetchError("data.store.bucket is not set: name the bucket that holds the corpus")
    client = _client(store)
    placed, ignored = _placed(store, _manifest(client, store))
    if not placed:
        prefixes = ", ".join(s.prefix for s in store.sources)
        raise FetchError(f"the manifest lists no file under the configured prefixes ({prefixes})")
    listing = sorted(({"path": rel, **e} for e, rel in placed), key=lambda x: x["path"])
    version = fingerprint(listing)[:12]
    objects = sources_dir / "objects"
    versions = sources_dir / "versions"
    objects.mkdir(parents=True, exist_ok=True)
    versions.mkdir(parents=True, exist_ok=True)
    result = FetchResult(version=version, path=versions / version, ignored=ignored)
    for e in listing:
        if (objects / e["sha256"]).is_file():
            result.reused += 1
        else:
            _download(client, store.bucket, e, objects)
            result.downloaded.append(e["key"])
    if not result.path.is_dir():
        with publish_dir(result.path) as tmp:
            for e in listing:
                dest = tmp / e["path"]
                dest.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(objects / e["sha256"], dest)
                except OSError:  # a file system without hard links: copy
                    shutil.copy2(objects / e["sha256"], dest)
            (tmp / MANIFEST_NAME).write_text(
                json.dumps({"version": version, "files": listing}, indent=2, ensure_ascii=False),
                encoding="utf-8",
            )
    current = sources_dir / "current"
    if not (current.is_symlink() and os.readlink(current) == f"versions/{version}"):
        link = sources_dir / f".current-{os.getpid()}"
        link.unlink(missing_ok=True)
        link.symlink_to(f"versions/{version}")
        os.replace(link, current)
        result.changed = True
    return result
