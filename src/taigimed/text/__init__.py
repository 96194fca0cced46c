"""Text standardisation shared by data preparation and serving.

Pure functions only (no I/O, no global state beyond cached converters), because
the server calls them on every user message:

- ``normalize``: Unicode NFC, Kangxi radicals, width, whitespace, OpenCC ``s2twp``.
- ``tailo``: numeric-tone Tâi-lô → diacritic Tâi-lô.
"""

from taigimed.text.normalize import (
    count_private_use,
    fold_width,
    normalize_text,
    normalize_unicode,
    normalize_whitespace,
    simplified_chars,
    to_taiwan_traditional,
)
from taigimed.text.tailo import numeric_to_diacritic

__all__ = [
    "count_private_use",
    "fold_width",
    "normalize_text",
    "normalize_unicode",
    "normalize_whitespace",
    "numeric_to_diacritic",
    "simplified_chars",
    "to_taiwan_traditional",
]
