"""Fixtures for the knowledge tests: the three test cards in tests/assets/cards, built."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from support import ASSETS

CARDS = ASSETS / "cards"


@pytest.fixture()
def cards_dir(tmp_path) -> Path:
    """A writable copy of the test cards (tests break them on purpose)."""
    out = tmp_path / "cards"
    shutil.copytree(CARDS, out)
    return out
