"""Issue 21, twenty-second round (rules 2026.12.28): what held-out v26 (judged blind at
2026.12.27, a tuning set since) showed, as classes. A brand names the medicine for the
learned dosing reading; a worry in a run-on clause governs its phrase on; a moved viewer
names nobody a story happens to; a story told to the end of a turn reaches the next; weak
legs alone are no stroke; a look-alike word is a misreading, not a scope; and the words it
showed. Our own sentences; each check comes with a broken input that makes it fail."""

from __future__ import annotations

import re

from rounds import CLF, RULES, TEXT
from rounds import fires as _fires
from rounds import hits as _rule_hits
from rounds import redirected as _redirected

from support import rules_from
from support import rules_replaced as replaced
from taigimed.safety import dose, triage
from taigimed.safety.conversation import standardized

NEVER = re.compile(r"(?!)")


def _learned(*turns: str) -> bool:
    reading = dose.load_dose_reading()
    return dose.learned_dose(RULES, [standardized(t) for t in turns], reading)


def test_a_brand_names_the_medicine_for_the_learned_reading(monkeypatch):
    asks = "阿嬤的 Norvasc 會使剝一半予伊食無?"
    assert not _redirected(asks)  # no medicine word: the rules alone do not take it
    assert _learned(asks)
    # A proper name in a message the reading does not take for a dosing question.
    assert not _learned("阮阿母逐工去跳 Zumba 一擺跳一點鐘 按呢OK無")
    assert not dose.names_proper("Guá ê a-má tsia̍h-pá tō khùn")  # Taigi, capitalised
    monkeypatch.setattr(dose, "_PROPER_NAME", NEVER)
    monkeypatch.setattr(dose, "SURE", 1.0)  # sure of it since v45-v59 were read
    assert not _learned(asks)


def test_patches_asked_by_the_count(tmp_path):
    asks = "阿伯腰酸，彼款日本來的 一工貼幾片較好？"
    assert _redirected(asks)
    assert not _redirected(asks, rules=replaced(tmp_path, ", 貼幾片, 貼幾張, 貼幾塊"))


def test_a_worry_in_a_run_on_clause_governs_its_phrase_on(monkeypatch):
    told = "阿母頭殼撞著 吐兩擺 一直愛睏 我想欲學急救"
    assert "head_injury" in _fires(told)
    # A question before the wish to learn still asks (its cue is no fear).
    assert _fires("請問中風會有什麼症狀 我想先學起來") == []
    assert _fires("我好擔心 阿公哪一工會中風") == []  # the worry opens the clause
    monkeypatch.setattr(triage, "_worry_phrase", lambda rules, c: 0)
    assert "head_injury" not in _fires(told)


def test_a_moved_viewer_names_nobody(tmp_path):
    show = "電視劇主角突然倒下沒呼吸 我哭到不行"
    assert _fires(show) == []
    assert "cardiac_arrest" in _fires("阮阿公突然倒下沒呼吸 我哭到不行")
    unmoved = TEXT.replace(" 哭甲, 哭到,", "").replace(" [哭到, 哭得, 哭了,", " [")
    assert _fires(show, rules=rules_from(tmp_path, unmoved))


def test_a_story_told_to_the_end_of_a_turn_reaches_the_next(monkeypatch):
    news = (
        "我拄仔看新聞",
        "講有一个阿伯佇公園昏倒，路人共伊救起來",
        "老人家熱天愛按怎預防中暑?",
    )
    assert _fires(*news) == []
    # The writer's own people are never the story's.
    assert "unconscious" in _fires("我拄仔看新聞", "阮阿公這馬嘛昏去 叫袂醒")
    views = triage._views
    monkeypatch.setattr(
        triage, "_views", lambda rules, text, stutter=None, heard=False: views(rules, text, stutter)
    )
    assert _fires(*news)


def test_weak_legs_alone_are_no_stroke(tmp_path):
    standing = "阮阿母跤無力，欲去看醫生有輪椅通借無?"
    sudden = "阿母雄雄跤無力"
    assert _fires(standing) == []
    assert "stroke" in _rule_hits(sudden)
    assert "stroke" in _rule_hits(
        standing, replaced(tmp_path, "tshiú-kha bô la̍t, 手無力, 手跤無力", "kha bô la̍t, 跤無力")
    )
    legs = "[kha bô la̍t, 跤無力, kha nńg, 跤軟]\n      mandarin: [腳沒力, 腳無力, 腳軟]"
    no_combo = replaced(tmp_path, legs, "[x]\n      mandarin: [x]")
    assert "stroke" not in _rule_hits(sudden, no_combo)


def test_an_hour_is_no_swelling_and_a_look_alike_no_scope(tmp_path, monkeypatch):
    ride = "A-kong khiâ-tshia tsi̍t tiám-tsing, tshuán-khuì khah kín, hioh tsi̍t-ē tō hó, ē-sái bô?"
    assert _fires(ride) == []
    assert _fires(ride, rules=replaced(tmp_path, ", tiám-tsing, 點鐘"))
    # The chest, an hour of it, the arm: no rule fires, the classifier is still asked.
    chest = "A-pa kóng hing-khám kuài-kuài, ná hōo lâng teh--leh, tsi̍t tiám-tsing, tò-tshiú bâ-bâ"
    result = triage.assess(RULES, standardized(chest), CLF)
    assert not result.hits and result.classifier_fired
    verdict = triage._verdict
    monkeypatch.setattr(
        triage, "_verdict", lambda idiom, alike, neg, ctx: verdict(idiom or alike, False, neg, ctx)
    )
    assert not triage.assess(RULES, standardized(chest), CLF).classifier_fired


def test_words_of_this_round(tmp_path):
    rest = "阮阿爸騎車騎到喘甲，歇一下就好，按呢會使騎無"
    well = (
        "A-má tú-tsiah hueh-thn̂g kàng kàu sì-tsa̍p, kóng-uē lām-sám.",
        "Lim thn̂g-á-tsuí liáu, tsit-má lâng tsiok tsing-sîn.",
        "Āu-pái ài án-tsuánn tsiah bē koh kàng?",
    )
    bill = "氣死 電費單來矣 我看著心肝頭強欲停矣"
    throat = "a kong tsiah khong ging hueh ioh, hueh tui na au lau loh khi"
    pressed = "a kong phinn hueh tshih leh ma bo hau"
    assert _fires(rest) == []
    assert _fires(*well) == []
    assert _fires(bill) == []
    assert "bleeding" in _rule_hits(throat)
    assert "bleeding" in _rule_hits(pressed)
    added = ", hioh tsi̍t-ē tō hó, hioh--tsi̍t-ē tō hó, hioh tsi̍t-ē-á tō hó, 歇一下就好"
    restless = TEXT.replace(added, "").replace(", 歇一下就好", "")
    assert _fires(rest, rules=rules_from(tmp_path, restless))
    # Since the twenty-ninth round a care question is not read joined with the event
    # either, and the last turn reads as one (án-tsuánn tsiah, "how to eat", is in it).
    unwell = TEXT.replace(", tsiok tsing-sîn, 足精神", "").replace(", 按怎食, án-tsuánn tsia̍h", "")
    assert _fires(*well, rules=rules_from(tmp_path, unwell))
    assert _fires(bill, rules=replaced(tmp_path, ", 心肝頭強欲停矣"), sure=False)
    added = ", hueh … nâ-âu lâu, hueh tuì nâ-âu, hueh uì nâ-âu, hueh tuè nâ-âu, 血…嚨喉流, 血對嚨喉"
    no_throat = replaced(tmp_path, added)
    assert "bleeding" not in _rule_hits(throat, no_throat)
    no_press = replaced(tmp_path, ", tēnn … bô-hāu, 捏…無效, tshi̍h … bô-hāu, 揤…無效")
    assert "bleeding" not in _rule_hits(pressed, no_press)
