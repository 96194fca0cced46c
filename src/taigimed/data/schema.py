"""The schemas of the prepared datasets (docs/architecture.md, "Prepared data").

The one owner of what each dataset's columns are: ``data`` writes with these features,
``data.load`` checks them on reading, training checks its records against
``check_records``, the feedback export writes training records with ``RECORD_FEATURES``
so they concatenate with ``stage2_train``, and the tests build their records from here.
"""

from __future__ import annotations

from datasets import Features, List, Value

MCQ_FEATURES = Features(
    {
        "id": Value("string"),
        "question": Value("string"),
        "options": {k: Value("string") for k in "ABCD"},
        "answer_idx": Value("string"),
        "answer": Value("string"),
        "category": Value("string"),
        "source": Value("string"),
    }
)
# A training record: ``kind='chat'`` is rendered with ``chat.render_segments`` (loss on the
# assistant turns only); ``kind='text'`` is learned in full. ``text`` of a chat record is its
# rendering, kept for lengths, dedup and inspection.
RECORD_FEATURES = Features(
    {
        "id": Value("string"),
        "source": Value("string"),
        "kind": Value("string"),
        "messages": List({"role": Value("string"), "content": Value("string")}),
        "text": Value("string"),
        "difficulty": Value("float64"),
        "phase": Value("int32"),
    }
)
RECORD_COLUMNS = tuple(RECORD_FEATURES)
RECORD_KINDS = ("chat", "text")
TAIGI_FEATURES = Features({k: Value("string") for k in ("id", "han", "tailo", "source")})
TRANSLATION_FEATURES = Features(
    {k: Value("string") for k in ("id", "direction", "source_text", "target_text")}
)


class DatasetSchemaError(ValueError):
    """A dataset does not match its schema; the message names what is wrong and what to run."""


def features_for(name: str) -> Features:
    """The features of the prepared dataset ``name``."""
    if name.startswith("medqa_") or name == "taigi_cloze_test":
        return MCQ_FEATURES
    if name.startswith("stage"):
        return RECORD_FEATURES
    return TAIGI_FEATURES if name == "taigi_test" else TRANSLATION_FEATURES


def check_columns(dataset, name: str, features: Features | None = None) -> None:
    """Raise ``DatasetSchemaError`` when ``dataset`` lacks a column of its schema
    (``features``, default: the prepared dataset ``name``'s)."""
    expected = list(features if features is not None else features_for(name))
    missing = [c for c in expected if c not in dataset.column_names]
    if missing:
        raise DatasetSchemaError(
            f"dataset {name!r} lacks columns {missing}; expected {expected} "
            "(docs/architecture.md); re-run `taigimed data prepare`"
        )


def check_records(dataset, name: str) -> None:
    """Raise ``DatasetSchemaError`` unless ``dataset`` holds training records to learn from."""
    check_columns(dataset, name, RECORD_FEATURES)
    if len(dataset) == 0:
        raise DatasetSchemaError(f"dataset {name!r} is empty")
    kinds = set(dataset.unique("kind"))
    if not kinds <= set(RECORD_KINDS):
        raise DatasetSchemaError(f"dataset {name!r}: kind must be 'chat' or 'text', got {kinds}")
