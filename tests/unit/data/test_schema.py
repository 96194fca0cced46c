"""The prepared-data schemas: one owner (taigimed.data.schema), matching the documented
contract, checked when a prepared dataset is read back."""

from __future__ import annotations

import re

import pytest
from datasets import Dataset

from support import REPO, write_prepared
from taigimed.data.load import PreparedDataError, load_prepared
from taigimed.data.records import mcq_output, record
from taigimed.data.schema import (
    MCQ_FEATURES,
    RECORD_COLUMNS,
    DatasetSchemaError,
    check_records,
)


def test_the_documented_training_record_is_the_schema():
    doc = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    line = re.search(r"\*\*Training record\*\*: `([^`]+)`", doc)
    assert line, "docs/architecture.md lost its Training record line"
    assert tuple(re.findall(r"(?:^|,\s*)(\w+):", line[1])) == RECORD_COLUMNS
    assert tuple(record("x", "s", "text", text="t")) == RECORD_COLUMNS  # the constructor
    row = {k: "x" for k in MCQ_FEATURES} | {"options": {k: k for k in "ABCD"}}
    assert tuple(mcq_output(row)) == tuple(MCQ_FEATURES)


def test_reading_back_checks_the_columns(tmp_path):
    good = write_prepared(tmp_path / "v1", {"stage1_train": [record("a", "s", "text", text="t")]})
    assert load_prepared(good).dataset("stage1_train")[0]["text"] == "t"

    broken = write_prepared(tmp_path / "v2", {"stage1_train": [{"id": "a", "text": "t"}]})
    with pytest.raises(DatasetSchemaError, match=r"lacks columns \['source', 'kind', 'messages'"):
        load_prepared(broken).dataset("stage1_train")
    with pytest.raises(PreparedDataError, match=r"no dataset 'stage2_train'.*data prepare"):
        load_prepared(broken).dataset("stage2_train")


def test_training_records_must_be_non_empty_chat_or_text():
    with pytest.raises(DatasetSchemaError, match="is empty"):
        check_records(Dataset.from_dict({c: [] for c in RECORD_COLUMNS}), "stage1_train")
    with pytest.raises(DatasetSchemaError, match="kind must be"):
        check_records(Dataset.from_list([record("a", "s", "audio", text="?")]), "stage2_train")
