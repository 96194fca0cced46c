import json

import pytest

from taigimed.knowledge.base import (
    KnowledgeBase,
    build_knowledge,
    current_knowledge,
    open_knowledge,
)
from taigimed.knowledge.cards import CardError
from taigimed.knowledge.config import KnowledgeConfig
from taigimed.workdir import Workdir


def test_build_is_versioned_by_content_and_cached(cards_dir, tmp_path):
    wd = Workdir.resolve(tmp_path / "w")
    cfg = KnowledgeConfig(cards_dirs=[cards_dir])
    first = build_knowledge(cfg, wd)
    manifest = json.loads((first / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["version"] == first.name
    assert manifest["cards"] == 3
    assert manifest["unreviewed"] == ["test-hypertension-salt", "test-quit-smoking"]
    assert "2 of 3 cards are UNREVIEWED" in (first / "DATA_CARD.md").read_text(encoding="utf-8")
    assert current_knowledge(wd) == first
    mtime = (first / "manifest.json").stat().st_mtime_ns
    assert build_knowledge(cfg, wd) == first  # unchanged cards: a cache hit
    assert (first / "manifest.json").stat().st_mtime_ns == mtime

    card = cards_dir / "test-knee-pain.yaml"
    card.write_text(card.read_text(encoding="utf-8").replace("溫和", "和緩"), encoding="utf-8")
    second = build_knowledge(cfg, wd)
    assert second != first and second.is_dir() and first.is_dir()
    assert current_knowledge(wd) == second
    assert build_knowledge(KnowledgeConfig(cards_dirs=[cards_dir], bm25_k1=2.0), wd) != second


def test_a_changed_file_in_a_build_is_refused(cards_dir, tmp_path):
    wd = Workdir.resolve(tmp_path / "w")
    folder = build_knowledge(KnowledgeConfig(cards_dirs=[cards_dir]), wd)
    KnowledgeBase.load(folder)
    with (folder / "cards.jsonl").open("a", encoding="utf-8") as f:
        f.write("\n")
    with pytest.raises(CardError, match=r"cards\.jsonl: missing or changed since the build"):
        KnowledgeBase.load(folder)


def test_serving_with_require_reviewed_fails_closed(cards_dir, tmp_path):
    wd = Workdir.resolve(tmp_path / "w")
    folder = build_knowledge(KnowledgeConfig(cards_dirs=[cards_dir]), wd)
    with pytest.raises(CardError, match="require_reviewed is on and 2 card"):
        open_knowledge(KnowledgeConfig(cards_dirs=[cards_dir], require_reviewed=True), wd, folder)


def test_expired_cards_are_not_served(test_kb):
    from datetime import date

    kb = KnowledgeBase.load(test_kb.folder, today=date(2100, 1, 1))
    assert kb.cards == {}
    assert not kb.retrieve("高血壓吃什麼", 3, 0.0).hits


@pytest.mark.parametrize(
    ("question", "card"),
    [
        ("高血壓的人飲食要注意什麼？", "test-hypertension-salt"),  # Mandarin
        ("高血压的人吃东西要注意什么？", "test-hypertension-salt"),  # Simplified
        ("阮阿母血壓傷懸，食物愛注意啥物？", "test-hypertension-salt"),  # Taigi Han
        ("Guá hueh-ap kuân, tsia̍h-mi̍h ài tsù-ì siánn?", "test-hypertension-salt"),  # Tâi-lô
        ("gua2 hueh4-ap4 kuan5 tsiah8 mih8", "test-hypertension-salt"),  # tone numbers
        ("Góa hoeh-ap koân, chia̍h-mi̍h ài chù-ì siáⁿ?", "test-hypertension-salt"),  # POJ
        ("阮阿爸 kha-thâu-u 足疼", "test-knee-pain"),  # mixed
        ("我想戒菸，有沒有專線？", "test-quit-smoking"),
    ],
)
def test_a_question_in_any_script_finds_its_card(test_kb, question, card):
    from taigimed.knowledge.base import answer_question

    found, _ = answer_question(test_kb, question, 3, 0.0)
    assert found.hits[0].card.id == card


def test_relevance_is_low_for_words_the_cards_never_use(test_kb):
    on = test_kb.retrieve("高血壓的人飲食要注意什麼", 3)
    off = test_kb.retrieve("明天會不會下雨要不要帶傘", 3)
    assert off.hits == () or off.hits[0].hit.relevance < on.hits[0].hit.relevance / 3
    assert on.answered and not off.answered  # the shipped decision, at its own threshold
    assert off.confidence < 0.2 < 0.8 < on.confidence
    assert test_kb.retrieve("明天會不會下雨要不要帶傘", 3, 0.0).answered  # a floor of 0: always


def test_a_questions_framing_is_not_its_topic():
    from taigimed.knowledge.terms import query_terms, terms

    full = terms("阮阿母血壓懸，平常食物愛注意啥物？")
    query = query_terms("阮阿母血壓懸，平常食物愛注意啥物？")
    assert {"h:注意", "h:啥物", "h:阿母", "s:siann mih", "s:tsu i"} <= set(full)
    assert not {"h:注意", "h:啥物", "h:阿母", "s:siann mih", "s:tsu i"} & set(query)
    assert {"h:血壓", "h:壓懸", "s:hueh ap", "h:食物"} <= set(query)


def test_the_issues_first_question_finds_a_blood_pressure_card(tmp_path):
    """Issue 20's first example went to the medication card on 愛注意啥物 before the query
    left its framing out; on the shipped cards it must reach a blood-pressure card."""
    from taigimed.knowledge.base import answer_question
    from taigimed.knowledge.config import DEMO_CARDS

    kb = open_knowledge(KnowledgeConfig(cards_dirs=[DEMO_CARDS]), Workdir.resolve(tmp_path / "w"))
    found, script = answer_question(kb, "阮阿母血壓傷懸，平常食物愛注意啥物？", 3)
    assert script == "taigi_han" and found.answered
    assert found.best.topic == "hypertension"


def test_the_topic_field_outranks_shared_filler_words():
    """A card that only shares a question's filler (how to eat, once) must not beat the card
    whose topic the question names; without the topic boost it does."""
    from taigimed.knowledge.index import Index

    docs = [
        ("diet", "Tsia̍h-pn̄g beh án-tsuánn tsia̍h? Tsi̍t pái tsia̍h khah tsió, tsia̍h pá tō hó."),
        ("stroke", "Beh ī-hông tiòng-hong, hueh-ap ài khòng-tsè hó, hun ài kài, tsiànn ūn-tōng."),
        ("teeth", "Tshuì-khí ài tsa-khí àm-tíng lóng ài tshit, ké-tshuì-khí ài tsáu."),
        ("sleep", "Àm-sî khùn bē-lo̍h-khì, e-poo mài lim ka-pi, khùn-tshn̂g kan-na khùn."),
    ]
    topics = ["tsia̍h-pn̄g", "tiòng-hong, ī-hông tiòng-hong", "tshuì-khí", "khùn bē-lo̍h-khì"]
    question = "Beh án-tsuánn tsia̍h bē koh tiòng-hong? Í-king tiòng-hong kuè tsi̍t pái"
    plain = Index.build(docs, topics=topics, boost=0.0)
    boosted = Index.build(docs, topics=topics, boost=2.0)
    assert plain.search(question, 1)[0].doc_id == "diet"
    assert boosted.search(question, 1)[0].doc_id == "stroke"


def test_the_topic_field_survives_save_and_load(tmp_path):
    from taigimed.knowledge.index import Index

    docs = [("a", "血壓懸愛食較汫"), ("b", "喙齒愛照顧")]
    built = Index.build(docs, topics=["高血壓", "假喙齒"], boost=2.0)
    built.save(tmp_path / "ix")
    loaded = Index.load(tmp_path / "ix")
    assert loaded.boost == 2.0
    assert [h.score for h in loaded.search("假喙齒按怎洗")] == [
        h.score for h in built.search("假喙齒按怎洗")
    ]
    with pytest.raises(ValueError, match="topic texts"):
        Index.build(docs, topics=["only one"], boost=2.0)


def test_a_question_in_another_accent_finds_the_card(monkeypatch):
    """病 is *pēnn* in the cards' MOE spelling and *pīnn* where the writer lives; 尿 *jiō* is
    *liō* in much of Taiwan. Without the accent folds the question's own accent picks the
    wrong card (the one that only shares 按怎照顧)."""
    from taigimed.knowledge import terms
    from taigimed.knowledge.index import Index

    docs = [
        ("foot", "Thn̂g-jiō-pēnn ài kòo kha: kha ta̍k-kang ài khuànn, kha-té ū siong-kháu."),
        ("care", "Án-tsuánn tsiàu-kòo lāu-lâng: ài tsiàu-kòo sin-khu, tsiàu-kòo sim-tsîng."),
    ]  # fmt: skip
    question = "thn̂g-liō-pīnn ê kha beh án-tsuánn tsiàu-kòo"
    assert Index.build(docs).search(question, 1)[0].doc_id == "foot"
    monkeypatch.setattr(terms, "_ACCENT_FOLDS", ())
    terms._terms.cache_clear()
    terms.fold_accent.cache_clear()
    try:
        assert Index.build(docs).search(question, 1)[0].doc_id == "care"
    finally:
        terms._terms.cache_clear()
        terms.fold_accent.cache_clear()


def test_accent_folds_keep_rhymes_that_are_not_variants():
    from taigimed.knowledge.terms import fold_accent

    assert [fold_accent(s) for s in ("pinn", "sinn", "hir", "sionn", "jit")] == [
        "penn", "senn", "hi", "siunn", "lit",
    ]  # fmt: skip
    # 歹 pháinn, 關 kuainn keep their rhymes: -inn there is not the rhyme that varies
    assert [fold_accent(s) for s in ("phainn", "kuainn", "ainn")] == ["phainn", "kuainn", "ainn"]


def test_an_index_built_with_other_terms_is_refused_naming_the_rebuild(tmp_path):
    """Terms decide what a question meets: an index built with other terms (an older package's
    build registered with a model) would answer differently from what was evaluated."""
    import json

    from taigimed.knowledge.index import INDEX_JSON, Index, KnowledgeIndexError

    Index.build([("a", "血壓懸愛食較汫"), ("b", "喙齒愛照顧")]).save(tmp_path / "ix")
    assert Index.load(tmp_path / "ix").doc_ids == ["a", "b"]
    meta = json.loads((tmp_path / "ix" / INDEX_JSON).read_text(encoding="utf-8"))
    meta["terms_version"] -= 1
    (tmp_path / "ix" / INDEX_JSON).write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(KnowledgeIndexError, match="taigimed pipeline run"):
        Index.load(tmp_path / "ix")
