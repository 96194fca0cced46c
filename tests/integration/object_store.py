"""A real S3-compatible object store on loopback (moto's server, a subprocess) and a helper
that uploads a corpus with its data manifest, as the release process does in production."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "data"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def s3_server(log: Path) -> Iterator[str]:
    """moto_server on a free loopback port; yields its endpoint URL."""
    exe = shutil.which("moto_server", path=str(Path(sys.executable).parent))
    if exe is None:
        raise RuntimeError("moto_server not installed: pip install 'moto[server]'")
    port = _free_port()
    with log.open("w") as out:
        proc = subprocess.Popen(
            [exe, "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"moto_server did not start: {log.read_text()}") from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def client(endpoint: str):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def asset_corpus() -> dict[str, bytes]:
    """The small test corpus (tests/assets/data) under the data-root keys."""
    files = {
        f"medqa_tw/{p.name}": p.read_bytes() for p in sorted((ASSETS / "medqa").glob("*.jsonl"))
    }
    files |= {
        f"medical_textbooks_zh/{p.name}": p.read_bytes()
        for p in sorted((ASSETS / "textbooks").glob("*.txt"))
    }
    files["taigi/sinica_hanlo_sentences.txt.gz"] = gzip.compress(
        (ASSETS / "sinica_small.txt").read_bytes(), mtime=0
    )
    files["taigi/hokkien_parallel_240.jsonl"] = (ASSETS / "parallel.jsonl").read_bytes()
    return files


def upload(endpoint: str, bucket: str, files: dict[str, bytes], manifest: dict | None = None):
    """Put ``files`` and a manifest naming each with its sha256 (or ``manifest`` as given)."""
    s3 = client(endpoint)
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=bucket)
    for key, body in files.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    if manifest is None:
        manifest = {
            "files": [
                {"key": k, "sha256": hashlib.sha256(b).hexdigest(), "size": len(b)}
                for k, b in sorted(files.items())
            ]
        }
    s3.put_object(Bucket=bucket, Key="manifest.json", Body=json.dumps(manifest).encode())
