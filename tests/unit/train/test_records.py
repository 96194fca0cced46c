"""Loss masking: chat learns only assistant turns (with <|im_end|>), text all tokens + EOS."""

import pytest
from transformers import AutoTokenizer

from taigimed import chat
from taigimed.data.records import record
from taigimed.data.schema import DatasetSchemaError, check_records
from taigimed.train.records import IGNORE, encode_record, to_examples


@pytest.fixture(scope="module")
def tok(tiny_model_dir):
    return AutoTokenizer.from_pretrained(tiny_model_dir)


def test_chat_learns_only_the_answer_and_its_end(tok):
    msgs = chat.mcq_messages("頭殼痛", {"A": "發燒", "B": "咳嗽"}, "B")
    eos = tok.convert_tokens_to_ids(chat.IM_END)
    ids, learn = encode_record(record("x", "s", "chat", messages=msgs), tok, eos)
    assert tok.decode(ids) == chat.render(msgs)
    learned = tok.decode([i for i, keep in zip(ids, learn, strict=True) if keep])
    assert learned == chat.mcq_assistant_answer("B", {"A": "發燒", "B": "咳嗽"}) + chat.IM_END
    (ex,) = to_examples(ids, learn, seq_len=512)
    # targets are shifted: the last learned target is the assistant's <|im_end|>
    targets = [t for t in ex.targets if t != IGNORE]
    assert targets[-1] == eos
    assert len(targets) == sum(learn[1:])


def test_text_learns_every_token_and_eos(tok):
    eos = tok.convert_tokens_to_ids(chat.IM_END)
    ids, learn = encode_record(record("x", "s", "text", text="阮阿公血壓懸"), tok, eos)
    assert ids[-1] == eos and all(learn)
    (ex,) = to_examples(ids, learn, seq_len=512)
    assert ex.targets == ids[1:]


def test_long_text_is_split_not_dropped(tok):
    ids, learn = list(range(100)), [True] * 100
    parts = to_examples(ids, learn, seq_len=32)
    assert all(len(p.input_ids) <= 32 for p in parts)
    assert sum(p.useful for p in parts) == 99


def test_schema_mismatch_names_the_missing_columns():
    from datasets import Dataset

    with pytest.raises(DatasetSchemaError, match=r"lacks columns.*messages"):
        check_records(Dataset.from_list([{"id": "1", "text": "x"}]), "stage1_train")
    bad = Dataset.from_list([record("x", "s", "audio", text="?")])
    with pytest.raises(DatasetSchemaError, match="kind must be"):
        check_records(bad, "stage2_train")
