"""The pipeline's cache keys: a fingerprint of what a step reads.

A step's key is ``taigimed.artifacts.fingerprint`` of the config parts it uses
(``Config.part``) and the recorded hashes of its inputs (``file_sha256``,
``folder_digest``, the prepared data's dataset digests), plus ``KEY_FORMAT``.
"""

from __future__ import annotations

from typing import Any

from taigimed.artifacts import fingerprint

# Raised whenever what a key covers, or what a stored result's fields mean, changes, so
# that every step recorded under the old format misses and runs again instead of being
# read with the new meaning. 2: file hashes are a file's sha256 (no longer name + bytes),
# folders have a sha256sum-listing digest, datasets the digest their manifest records.
KEY_FORMAT = 2


def step_key(**parts: Any) -> str:
    """The cache key of one step's run on ``parts``."""
    return fingerprint({"key_format": KEY_FORMAT, **parts})
