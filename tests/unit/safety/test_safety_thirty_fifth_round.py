"""Issue 21, thirty-fifth round (rules 2027.01.12): what held-out v60-v66 showed after they
were judged, and the misses of v67-v69 once those were judged blind. A Han expression that
opens with a group (才 6 禮拜) is tried at all; "don't know" does not negate (毋知食幾粒落去);
"won't wake again" is no recovery; soup poured on a child; a small child told by age; going
to the late father with "I'll leave"; insulin spelt î-tó-sòo; a farewell with "nothing of
mine any more";
and the look-alikes of powder, fractions, knees, pacing, a complaint and a lost game. Steps 6
and 7 of safety/conversation.py read the turns joined more loosely where the hit's own
clause holds a scope word. Our own sentences; each check comes with a broken input that
makes it fail."""

from __future__ import annotations

import pytest
from rounds import CLF, RULES, fires, redirected

from support import rules_removed as _without
from taigimed.safety import conversation
from taigimed.safety.conversation import assess_conversation, standardized

CASES = [
    # The expression opens with a group: before this round it was never tried.
    (
        "child_danger",
        ("阮BB才5禮拜，今仔日量著38.6，奶攏毋食",),
        (
            r", 're:(?:才|出世|出生)\s*(?:[一二兩三四五六七八1-8]|十[一二]?)"
            r"\s*個?(?:禮拜|星期|週|周)'",
        ),
    ),
    (
        "poisoning",
        (
            "Guán sun-á kā io̍h-á-kuàn phah-khui, m̄ tsai tsia̍h kuí lia̍p lo̍h-khì, tsit-má "
            "tsiok ài khùn",
        ),
        ("毋知, m̄ tsai, m̄-tsai",),
    ),
    (
        "poisoning",
        ("阮孫仔共藥仔罐仔拍開，毋知食幾粒落去，這馬足愛睏",),
        ("io̍h-á-kuàn, 藥仔罐, 藥罐,",),
    ),
    ("poisoning", ("三歲的女兒把外婆的降血糖藥吃了三顆",), ("歲女兒, 歲的女兒, ",)),
    (
        "suicide",
        ("Guán a-pah khì-nî kuè-sin. Guá beh khì tshuē guán a-pah, guá tō beh tsáu",),
        ("bô lōo-īng, tō beh tsáu, 就欲走",),
    ),
    (
        "suicide",
        ("我共藥仔攏收做伙，下昏就欲去揣阮翁，這擺袂閣醒矣", "你毋免勸我，批我已經寫好矣"),
        ("袂閣醒矣, bē koh tshénn--ah, ",),
    ),
    (
        "suicide",
        ("M̄-bián tshuē guá, liáu-āu tō bô guá ê tāi-tsì ah",),
        ("bô guá ê tāi-tsì, 無我的代誌,",),
    ),
    (
        "suicide",
        ("Hué-thuànn guá bé hó--ah, guá bô beh koh thua-luī lín",),
        (", liân-luī, 連累, thua-luī, 拖累",),
    ),
    (
        "hypoglycaemia",
        ("A-má ū thn̂g-jiō-pēnn, tsa-àm bô tsia̍h-pn̄g, tsit-má kiò i kan-na ē ńg, kuānn tâm-tâm",),
        ("kuānn tâm, 汗澹, kan-na ē ńg, 干焦會嗯",),
    ),
    (
        "burns",
        ("sun-a ka tsit tiann thng phah-to, kui tiann lam ti i e kha, khi tsiok tse tsui-pha",),
        (", tiánn … lâm, 鼎…淋, phah-tó … thng, 拍倒…湯, thng … phah-tó, 湯…拍倒",),
    ),
]


@pytest.mark.parametrize(("category", "turns", "words"), CASES)
def test_this_rounds_emergencies(tmp_path, category, turns, words):
    assert category in fires(*turns)
    assert category not in fires(*turns, rules=_without(tmp_path, *words), sure=False)


def test_spilt_soup_with_no_blister_is_no_burn():
    assert "burns" not in fires("湯拍倒矣，規塗跤攏是，我閣愛拖塗跤")


LOOKALIKES = [
    # Powder poured into porridge (粉倒 read as 昏倒).
    ("膠囊會使拍開，粉倒落去糜內底予伊食無？", ("'粉倒落去', ",), None),
    # Toneless: ground to powder (hún read as hūn) after spitting the pills out.
    (
        "a-ma ioh-a long thoo tshut-lai, e-sai ka ioh-a ging tso hun tsham be bo?",
        ("tsò hún, 做粉, ",),
        True,
    ),
    # Divided in two doses (hun, 分).
    (
        "Hueh-thn̂g io̍h tsin tuā lia̍p, ē-sái tshiat puànn, hun nn̄g pái tsia̍h bô?",
        ("hun nn̄g pái tsia̍h, 分兩擺食, ",),
        None,
    ),
    # Pacing at night (走來走去 holds 來走, "leave").
    ("醫生開安眠藥給我媽，她半夜起來走來走去，可以再吃半顆嗎", ("走來走去, ", "走來走去, "), True),
    # A complaint that the pills are too many.
    (
        "我爸一直嫌藥吃太多，可以改成兩天吃一顆嗎？",
        ("'(?:嫌|怨嘆|抱怨)[^，。！？,!?]{0,6}藥仔?(?:吃|食)(?:太多|傷濟)', ",),
        True,
    ),
    # A grazed knee (膝頭 holds 頭).
    (
        "阮孫仔跋倒，膝頭破皮流一點仔血，愛抹啥物藥？",
        ("膝頭, tshik-thâu, tshiah-thâu, 跤頭趺, kha-thâu-u, ",),
        False,
    ),
    # A game lost "to vomiting blood".
    ("被隊友坑到吐血，今天不玩了", ("坑到吐血, ",), False),
]


@pytest.mark.parametrize(("text", "words", "dose"), LOOKALIKES)
def test_this_rounds_lookalikes(tmp_path, text, words, dose):
    """``dose``: do the rules alone send it to the pharmacist (None: the dosing reading
    decides, which these tests do not load)?"""
    assert fires(text) == []
    assert dose is None or redirected(text) is dose
    assert fires(text, rules=_without(tmp_path, *words), sure=False)


DOSING = [
    ("我上大夜班，胃藥一天三次飯後，時間要怎麼排？", "怎麼排, 怎樣排, 按怎排, "),
    ("Hueh-ap io̍h-á ē-sái kái tiong-tàu tsia̍h bô?", "kái tiong-tàu, 改中晝, "),
    ("Sim-tsōng ê tah-phìnn, guá ē-sái tah kui ji̍t bô?", "tah kui ji̍t, 貼規日, "),
]


@pytest.mark.parametrize(("text", "words"), DOSING)
def test_a_schedule_or_a_patch_is_the_pharmacists(tmp_path, text, words):
    assert redirected(text)
    assert not redirected(text, rules=_without(tmp_path, words))


def test_sugar_water_given_settles_the_turn(tmp_path):
    turns = (
        "Guá a-kong tsá-khí hueh-thn̂g tsin kē, guá kā i lim thn̂g-tsuí liáu-āu i tsit-má tsin "
        "tshing-tshó",
        "Beh án-tsuánn ī-hông?",
    )
    assert fires(*turns) == []
    assert fires(*turns, rules=_without(tmp_path, "thn̂g-tsuí liáu-āu, 糖水了後, "), sure=False)


def test_a_habit_of_choking_beside_a_dosing_question(monkeypatch):
    """Step 6: the joined turns read high from the choking told before, but the hit's own
    clause says it happens every time the pill is swallowed."""
    turns = [
        standardized(t)
        for t in (
            "阮阿爸藥丸仔攏吞袂落，逐擺攏哽著，足艱苦",
            "醫生開的彼粒白色的敢會使磨做粉摻糜予伊食？",
        )
    ]
    result = assess_conversation(RULES, turns, CLF)
    assert not result.triggered and "dosing" in {why for _, why in result.suppressed}
    # Broken: no scope word counts, the joined reading alone decides.
    monkeypatch.setattr(conversation, "CLEARING_SCOPE", ())
    assert assess_conversation(RULES, turns, CLF).triggered


def test_a_worry_after_the_palpitations_that_caused_it(monkeypatch):
    """Step 7: the joined turns must only not fire, not be sure of "no"."""
    turns = [
        standardized(t)
        for t in (
            "我最近晚上常常心悸，心跳很大聲",
            "沒有胸痛，上個月醫生做心電圖說正常",
            "可是我還是很怕睡著睡著心臟就停了，這種焦慮要怎麼辦",
        )
    ]
    result = assess_conversation(RULES, turns, CLF)
    assert not result.triggered and "clear" in {why for _, why in result.suppressed}
    # Broken: the joined turns must be sure of "no" as before this round.
    strict = conversation._clears
    monkeypatch.setattr(
        conversation, "_clears", lambda r, t, s, c, joined_below_alarm=False: strict(r, t, s, c)
    )
    assert assess_conversation(RULES, turns, CLF).triggered


def test_a_hit_told_before_and_back_now_is_not_cleared(monkeypatch):
    """Step 7 never clears a condition told back in the last turn, and reads the joined
    turns loosely only for the last turn's own hits or a last turn that tells nothing of
    now: last month's stroke, then "it is back"."""
    turns = [standardized(t) for t in ("我爸上個月中風", "他又發作了")]
    assert assess_conversation(RULES, turns, CLF).triggered
    # Broken: "again" not heard and every hit taken for the last turn's own, the
    # earlier-day scope word clears it.
    monkeypatch.setattr(conversation, "_again", lambda rules, text: False)
    monkeypatch.setattr(conversation, "_all_in_last_turn", lambda *args: True)
    assert not assess_conversation(RULES, turns, CLF).triggered


def test_a_condition_back_now_is_no_background_of_a_dosing_question(monkeypatch):
    """Steps 5, 6 and 7: last month's stroke told back, with a dosing question after it."""
    turns = ("我爸上個月中風", "他又發作了，藥要加吃一顆嗎?")
    assert "stroke" in fires(*turns)
    # Broken: "again" not heard, the stroke is the question's background.
    monkeypatch.setattr(conversation, "_again", lambda rules, text: False)
    assert "stroke" not in fires(*turns)
