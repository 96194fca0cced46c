"""Personal-data scrubbing: each kind is found, counted, and medical numbers are left alone."""

from __future__ import annotations

import pytest

from taigimed.data.pii import PLACEHOLDERS, Scrubber, valid_national_id


@pytest.mark.parametrize("good", ["A123456789", "F131104093", "a123456789"])
def test_valid_national_ids(good):
    assert valid_national_id(good)


@pytest.mark.parametrize("bad", ["A123456788", "A323456789", "AB23456789", "A12345678"])
def test_invalid_national_ids(bad):
    assert not valid_national_id(bad)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("身分證 A123456789 請幫我查", "national_id"),
        ("ID：Ａ１２３４５６７８９", "national_id"),
        ("手機 0912-345-678", "phone"),
        ("手機0912345678", "phone"),
        ("+886 912 345 678", "phone"),
        ("厝裡電話 (02)2345-6789", "phone"),
        ("電話 02-2345-6789", "phone"),
        ("07-123-4567 高雄", "phone"),
        ("寫批去 a.lin+tw@example.com.tw", "email"),
        ("我叫陳大明，七十歲", "name"),
        ("姓名：王小美", "name"),
        ("林志明先生講伊頭殼痛", "name"),
        ("My name is John Smith", "name"),
    ],
)
def test_each_kind_is_scrubbed_and_counted(text, kind):
    scrub = Scrubber()
    out = scrub(text)
    assert PLACEHOLDERS[kind] in out
    assert scrub.counts[kind] == 1
    assert sum(scrub.counts.values()) == 1, scrub.counts


def test_checksum_invalid_ids_are_scrubbed_but_counted_apart():
    scrub = Scrubber()
    assert scrub("A123456788") == PLACEHOLDERS["national_id"]
    assert scrub.counts["national_id_unverified"] == 1
    assert scrub.counts["national_id"] == 0


@pytest.mark.parametrize(
    "text",
    [
        "血壓 140/90，心跳 88，A1C 7.2%",
        "2024-01-02 量的血糖 126 mg/dL",
        "一工食 500 mg 兩擺，連紲 7 工",
        "我是醫生，伊阿公八十歲",
        "醫師講愛食較濟水。",
        "tsiah̍-pn̄g liáu ài tsia̍h io̍h-á",
    ],
)
def test_medical_text_is_left_alone(text):
    scrub = Scrubber()
    assert scrub(text) == text
    assert sum(scrub.counts.values()) == 0


def test_counts_accumulate_over_calls_and_none_passes_through():
    scrub = Scrubber()
    scrub("0912-345-678")
    scrub("0987 654 321 或者 a@b.org")
    assert scrub(None) is None
    assert scrub.counts["phone"] == 2
    assert scrub.counts["email"] == 1
