from datetime import date

import pytest
import yaml

from taigimed.knowledge.cards import CardError, load_cards


def _edit(path, change):
    card = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(card)
    path.write_text(yaml.safe_dump(card, allow_unicode=True), encoding="utf-8")


def test_the_test_cards_load_in_id_order(cards_dir):
    cards = load_cards([cards_dir])
    assert [c.id for c in cards.cards] == [
        "test-hypertension-salt",
        "test-knee-pain",
        "test-quit-smoking",
    ]
    assert cards.unreviewed == ["test-hypertension-salt", "test-quit-smoking"]


def test_the_shipped_demo_cards_are_valid_and_unreviewed():
    from taigimed.knowledge.config import DEMO_CARDS

    cards = load_cards([DEMO_CARDS])
    assert len(cards.cards) >= 60
    assert len({c.topic for c in cards.cards}) >= 30
    assert set(cards.unreviewed) == {c.id for c in cards.cards}  # nobody signed the demo set


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c.pop("source"), "source: Field required"),
        (lambda c: c["text"].update(tailo="  "), "text.tailo: Value error, must not be empty"),
        (lambda c: c["source"].update(url="www.hpa.gov.tw"), "source.url"),
        (lambda c: c.update(id="Bad_Id"), "id: String should match pattern"),
        (lambda c: c["text"].update(mandarin="降血壓藥一次吃兩顆。"), "a medicine amount ('兩顆')"),
        (lambda c: c["key_facts"][0].update(tailo="tsia̍h 5 mg"), "key_facts[0].tailo"),
        (
            lambda c: c["text"].update(mandarin="請打 0800-123-456 諮詢。"),
            "'0800-123-456' looks like a phone number",
        ),
        (lambda c: c.update(expires="2020-01-01"), "expired on 2020-01-01"),
        (
            lambda c: c["review"].update(status="reviewed"),
            "a reviewed card names its reviewer and reviewed_on date",
        ),
    ],
)
def test_a_broken_card_is_refused_with_its_file_and_field(cards_dir, change, message):
    path = cards_dir / "test-hypertension-salt.yaml"
    _edit(path, change)
    with pytest.raises(CardError) as err:
        load_cards([cards_dir], today=date(2026, 12, 6))
    assert str(path) in str(err.value)
    assert message in str(err.value)


def test_known_public_lines_are_allowed(cards_dir):
    # test-quit-smoking names 0800-63-63-63; 119 and 1925 and 1966 pass too.
    _edit(
        cards_dir / "test-knee-pain.yaml",
        lambda c: c["text"].update(mandarin="緊急請打 119，心情不好可打 1925，長照打 1966。"),
    )
    assert len(load_cards([cards_dir]).cards) == 3


def test_id_must_match_the_file(cards_dir):
    (cards_dir / "copy.yaml").write_text(
        (cards_dir / "test-knee-pain.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    with pytest.raises(CardError, match="id 'test-knee-pain' must equal the file name 'copy'"):
        load_cards([cards_dir])


def test_ids_are_unique_across_folders(cards_dir, tmp_path):
    other = tmp_path / "more"
    other.mkdir()
    (other / "test-knee-pain.yaml").write_bytes((cards_dir / "test-knee-pain.yaml").read_bytes())
    with pytest.raises(CardError, match="id 'test-knee-pain' is used by another card too"):
        load_cards([cards_dir, other])


def test_require_reviewed_fails_closed_on_unreviewed_cards(cards_dir):
    with pytest.raises(CardError, match="not reviewed by a clinician"):
        load_cards([cards_dir], require_reviewed=True)
    for p in cards_dir.glob("*.yaml"):
        if p.stem != "test-knee-pain":
            p.unlink()
    assert [c.id for c in load_cards([cards_dir], require_reviewed=True).cards] == [
        "test-knee-pain"
    ]


def test_missing_folder_and_empty_folder_are_errors(tmp_path):
    with pytest.raises(CardError, match="no such folder of cards"):
        load_cards([tmp_path / "nope"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(CardError, match="no cards found"):
        load_cards([tmp_path / "empty"])


def test_unreadable_yaml_is_named(cards_dir):
    (cards_dir / "bad.yaml").write_text("id: [unclosed", encoding="utf-8")
    with pytest.raises(CardError, match=r"bad\.yaml: cannot read"):
        load_cards([cards_dir])
