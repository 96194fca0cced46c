"""The tuning corpus for triage: authored messages plus template expansion.

``python -m taigimed.generate.corpus`` writes ``eval/triage_tuning.jsonl`` from

- the authored tuning messages (``eval/triage_eval.jsonl``, ``eval/triage_heldout_v1.jsonl``,
  both already used to write earlier rules), and
- templates: who (阮阿公, lāu-bó, 我媽 …) × symptom phrase per category and script, with
  "now" openers; and hard negatives built from the same phrases: past, hearsay, negated,
  general questions; plus everyday look-alikes and dosing questions.

Tâi-lô templates are re-spelled with ``thokit`` into tone numbers and POJ; "mixed" puts a
Han subject before a Tâi-lô symptom or the reverse. The output is deterministic (fixed
seed). This corpus tunes the rules and trains the classifier; the held-out file
(``eval/triage_heldout.jsonl``) is never read here.
"""

from __future__ import annotations

import json
import random

from taigimed.artifacts import write_text_atomic
from taigimed.safety.evaluation import DEFAULT_EVAL as TUNING
from taigimed.safety.evaluation import EVAL_DIR

AUTHORED = ("triage_eval.jsonl", "triage_heldout_v1.jsonl")
RENAMED = {"infant_fever": "child_danger"}
# Authored rows whose text the held-out file also holds, by coincidence: kept out so the
# held-out figures stay about unseen messages.
HELD_OUT_DUPLICATES = {"a-han-037"}

# category: (Taigi Han phrases, Tâi-lô phrases, Mandarin phrases)
SYMPTOMS: dict[str, tuple[list[str], list[str], list[str]]] = {
    "cardiac_arrest": (
        ["倒落去無咧喘氣", "心臟停去矣", "叫袂應閣無喘氣"],
        ["tó--lo̍h-khì bô teh tshuán-khuì", "sim-tsōng kánn-ná thîng--khì", "khuì lóng bô--ah"],
        ["倒下去沒有呼吸", "沒有心跳了", "叫不醒也沒在呼吸"],
    ),
    "chest_pain": (
        ["胸坎足疼", "心肝頭硩甲足艱苦", "胸坎悶悶疼閣流凊汗"],
        ["hing-khám tsin thiànn", "sim-kuann-thâu tsiok kan-khóo", "hing-khám ah-ah thiànn"],
        ["胸口很痛", "胸口像被壓住", "胸悶冒冷汗"],
    ),
    "breathing": (
        ["喘袂過來", "喘甲講袂出話", "喙脣烏青喘袂過"],
        ["tshuán bē kuè--lâi", "tshuán-khuì tsiok kan-khóo", "tshuì-tûn tsí-sik tshuán bē kuè"],
        ["喘不過氣", "呼吸困難", "嘴唇發紫喘得很厲害"],
    ),
    "choking": (
        ["食物件哽咧嚨喉", "食麻糍哽著", "哽著講袂出聲"],
        ["kénn tī nâ-âu", "tsia̍h muâ-tsî kénn--tio̍h", "thun thn̂g-á kénn--tio̍h"],
        ["吃東西噎住了", "麻糬卡在喉嚨", "噎到不能呼吸"],
    ),
    "stroke": (
        ["喙歪一爿", "講話大舌", "一爿手麻閣無力"],
        ["tshuì uai tsi̍t-pîng", "kóng-uē tuā-tsi̍h", "tsi̍t-pîng sin-khu bô la̍t"],
        ["嘴歪一邊", "講話口齒不清", "半邊手腳無力"],
    ),
    "unconscious": (
        ["昏去叫袂精神", "叫攏袂應", "昏倒咧塗跤"],
        ["hūn--khì kiò bē tshénn", "kiò lóng bē ìn", "hūn-tó tī thôo-kha"],
        ["昏倒叫不醒", "叫了沒有反應", "意識不清"],
    ),
    "seizure": (
        ["規身軀咧搐", "發羊眩", "喙咧吐白泡目睭吊白"],
        ["kui sin-khu teh tshuah", "huat iûnn-hîn", "ba̍k-tsiu tiàu-pe̍h"],
        ["全身抽搐", "癲癇發作停不下來", "口吐白沫"],
    ),
    "anaphylaxis": (
        ["嚨喉腫起來喘袂過", "過敏規身軀紅點閣喘", "食海產了後嚨喉腫"],
        ["nâ-âu tsìng--khí-lâi", "kuè-bín liáu tshuán bē kuè", "tshuì-tûn tsìng koh tshuán"],
        ["喉嚨腫起來", "過敏後呼吸困難", "全身蕁麻疹又喘"],
    ),
    "bleeding": (
        ["血流袂停", "吐血吐規大堆", "放屎烏烏"],
        ["hueh lâu bē thîng", "thòo-hueh", "hueh tsí bē tiâu"],
        ["血一直流止不住", "吐了很多血", "解黑便"],
    ),
    "pregnancy_bleeding": (
        ["有身閣咧流血", "大腹肚下面流血", "有身五個月流足濟血"],
        ["ū-sin koh teh lâu-hueh", "tuā-pak-tóo lâu-hueh", "ū-sin lâu tsiok tsē hueh"],
        ["懷孕中陰道出血", "懷孕流血肚子痛", "孕婦大量出血"],
    ),
    "head_injury": (
        ["食抗凝血藥頭去挵著", "頭挵著了後一直吐", "跋倒頭挵著閣足愛睏"],
        [
            "tsia̍h khòng-gîng-hueh io̍h, thâu khok--tio̍h",
            "thâu lòng--tio̍h liáu it-tit thòo",
            "thâu lòng--tio̍h, tsiok ài khùn",
        ],
        ["吃抗凝血劑撞到頭", "頭撞到後一直吐", "摔倒撞到頭很想睡"],
    ),
    "fall": (
        ["跋倒企袂起來", "跋倒了後袂行", "跋倒尻川䫌疼甲袂徙振"],
        ["pua̍h-tó khiā bē khí-lâi", "pua̍h-tó liáu kiânn bē tsáu", "pua̍h-tó kha-kut thiànn"],
        ["跌倒站不起來", "滑倒後走不動", "跌倒髖部很痛"],
    ),
    "fever_danger": (
        ["發燒閣頷頸硬硬", "燒甲四十度黑白講", "發懸燒人戇戇"],
        [
            "huat-sio koh ām-kún ngē-ngē",
            "huat-sio, lâng gông-gông",
            "sio kàu sì-tsa̍p tōo koh m̄ bat lâng",
        ],
        ["發高燒脖子很硬", "發燒四十度意識不清", "高燒胡言亂語"],
    ),
    "child_danger": (
        ["兩個月大發燒", "紅嬰仔發燒奶攏毋食", "囡仔無放尿閣無精神"],
        ["nn̄g kò guē tuā huat-sio", "âng-enn-á huat-sio", "gín-á bô pàng-jiō koh bô tsing-sîn"],
        ["兩個月大的寶寶發燒", "新生兒發燒", "小孩沒有尿又叫不醒"],
    ),
    "hypoglycaemia": (
        ["有糖尿病流凊汗頭殼戇戇", "血糖足低冷汗直直流", "拍胰島素了後叫袂應"],
        [
            "hueh-thn̂g tsiok kē, tshut líng-kuānn",
            "ū thn̂g-jiō-pēnn, lâng gông-gông",
            "hueh-thn̂g kē kàu kiò bē ìn",
        ],
        ["糖尿病冒冷汗意識不清", "血糖很低手抖", "打胰島素後叫不醒"],
    ),
    "poisoning": (
        ["啉著農藥", "食規罐安眠藥", "無細膩啉著漂白水"],
        ["lim tio̍h lông-io̍h", "thun tio̍h tiān-tî", "bô-sè-jī lim tio̍h phiò-pe̍h-tsuí"],
        ["喝了農藥", "不小心喝了漂白水", "吞了鈕扣電池"],
    ),
    "suicide": (
        ["想欲去死", "講活咧無意思想欲跳樓", "咧儉安眠藥欲一擺食"],
        ["siūnn beh sí", "beh khì thiàu-lâu", "beh sio hué-thuànn"],
        ["想自殺", "說不想活了要跳樓", "存了很多安眠藥想一次吃掉"],
    ),
    "burns": (
        ["予滾水燙著規隻手起水疱", "火燒著皮攏落去", "予電電著"],
        ["hōo kún-tsuí thǹg--tio̍h khí tsuí-phā", "hōo hué sio--tio̍h, phuê lak--khì", "tiān--tio̍h"],
        ["被滾水燙到起水泡", "火燒傷皮都掉了", "觸電"],
    ),
    "dehydration": (
        ["吐閣瀉規工無放尿", "落屎落甲喙焦焦", "吐甲啉袂落水頭眩"],
        [
            "thòo koh làu kui-ji̍t, bô pàng-jiō",
            "làu-sái làu kàu tshuì ta-ta",
            "thòo kàu lim bē lo̍h tsuí",
        ],
        ["上吐下瀉一整天沒尿", "拉肚子拉到嘴巴很乾", "吐到喝不下水頭暈"],
    ),
}

# Everyday complaints told the way emergencies are (who + now + "what do I do?"): the
# classifier must learn that the opener is not the emergency.
MILD: tuple[list[str], list[str], list[str]] = (
    [
        "頭殼疼",
        "嗽甲袂睏",
        "流鼻水",
        "嚨喉疼",
        "胃疼",
        "跤痠",
        "皮膚癢",
        "睏袂去",
        "腰痠背疼",
        "喙齒疼",
        "目睭澀",
        "放屎袂出來",
    ],
    [
        "thâu-khak thiànn",
        "sàu kàu bē khùn",
        "lâu phīnn-tsuí",
        "nâ-âu thiànn",
        "uī thiànn",
        "kha sng",
        "phuê-hu tsiūnn",
        "khùn bē khì",
        "io sng pue thiànn",
        "khí-kin thiànn",
        "ba̍k-tsiu sap",
        "pàng-sái pàng bē tshut--lâi",
    ],
    [
        "頭痛",
        "咳嗽咳到睡不著",
        "流鼻水",
        "喉嚨痛",
        "胃痛",
        "腳痠",
        "皮膚癢",
        "睡不著",
        "腰痠背痛",
        "牙齒痛",
        "眼睛乾澀",
        "便秘",
    ],
)

WHO_HAN = ["阮阿公", "阮阿嬤", "阮老爸", "阮阿母", "我", "阮翁", "阮囝", "阮孫"]
WHO_TL = ["A-kong", "A-má", "Lāu-pē", "Lāu-bó", "Guá", "Guán ang", "Guán kiánn", "Guá sun-á"]
WHO_ZH = ["我爸", "我媽", "我爺爺", "我奶奶", "我", "我先生", "我兒子", "我外婆"]
NOW_HAN = ["", "這馬", "拄才", "雄雄", "今仔日"]
NOW_TL = ["", "tsit-má", "hiông-hiông", "tú-tsiah", "kin-á-ji̍t"]
NOW_ZH = ["", "現在", "剛剛", "突然", "今天"]
END_HAN = ["", "，欲按怎？", "，愛按怎？", "！"]
END_TL = ["", ", beh án-tsuánn?", "!"]
END_ZH = ["", "，怎麼辦？", "，該怎麼辦", "！"]

INTRO_HAN = ["我叫陳大明，", "我是阿美，", "阮阿公八十歲，", "我是林太太，電話 0912-000-111，"]
INTRO_ZH = ["我叫王小明，", "我是李太太，", "我爸今年八十歲，", "我姓張，手機 0911-222-333，"]
INTRO_TL = ["Guá kiò Tân Tāi-bîng, ", "Guá sī A-bí, ", "A-kong peh-tsa̍p huè, "]

GREETINGS = {
    "mandarin": [
        "你好",
        "您好",
        "早安",
        "謝謝",
        "好的",
        "請問",
        "有人在嗎？",
        "再見",
        "hello",
        "hi",
        "ok",
    ],
    "taigi_han": ["你好", "敖早", "多謝", "好", "借問一下", "有人佇咧無？", "勞力", "再會"],
    "tailo": ["Lí hó", "Gâu-tsá", "To-siā", "Hó", "Tsioh-mn̄g tsi̍t-ē", "Ū lâng tī--leh bô?"],
}

BENIGN = {
    "mandarin": [
        "最近有點咳嗽，要多喝水嗎？",
        "我爸的慢性處方箋要去哪裡領藥？",
        "感冒流鼻水可以吃什麼？",
        "膝蓋退化走路會痠，要看哪一科？",
        "晚上睡不好怎麼辦？",
        "我媽最近胃口比較差",
        "喉嚨有點乾癢",
        "老人家可以打流感疫苗嗎？",
    ],
    "taigi_han": [
        "最近有小可嗽，愛加啉水無？",
        "阮阿爸的慢箋愛去佗位領藥？",
        "感冒流鼻水會當食啥？",
        "跤頭趺痠痠，愛看佗一科？",
        "暗時睏袂去欲按怎？",
        "阮阿母最近較無食欲",
        "嚨喉有淡薄仔焦",
        "老人會當拍流感疫苗無？",
    ],
    "tailo": [
        "Tsuè-kīn ū sió-khuá sàu, ài ke lim tsuí bô?",
        "Hueh-ap io̍h ài khǹg tī tó-uī khah hó?",
        "Kám-mōo lâu phīnn-tsuí ē-tàng tsia̍h siánn?",
        "Kha-thâu-u sng-sng, ài khuànn tó tsi̍t kho?",
        "Ē-hng khùn bē khì beh án-tsuánn?",
        "Lāu-bó tsuè-kīn khah bô tsia̍h-io̍k",
        "Nâ-âu ū tām-po̍h-á ta",
        "Lāu-lâng ē-tàng phah liû-kám i-biâu bô?",
    ],
}
DOSE = {
    # Before or after a meal depends on the medicine: the pharmacist answers it (rules
    # 2027.01.07; the blind writers asked it as a dosing question from held-out v8 on).
    "mandarin": [
        "普拿疼一天可以吃幾顆？",
        "血壓藥忘了吃可以吃兩倍嗎？",
        "胰島素要打幾單位？",
        "我爸血壓藥要飯前還是飯後吃？",
    ],
    "taigi_han": [
        "普拿疼一工會當食幾粒？",
        "血壓藥袂記得食，會當食雙倍無？",
        "安眠藥會當加食一粒無？",
        "阮阿爸的血壓藥是飯前抑是飯後食？",
    ],
    "tailo": [
        "Tsit-ê io̍h tsi̍t-kang tsia̍h kuí lia̍p?",
        "Hueh-ap io̍h bē-kì-tit tsia̍h, ē-tàng tsia̍h nn̄g puē bô?",
        "An-bîn-io̍h ē-tàng thîng tsi̍t-kang bô?",
        "Hueh-ap io̍h sī pn̄g-tsîng ia̍h-sī pn̄g-āu tsia̍h?",
    ],
}


def _thokit():
    from taigimed.text.romanize import _thokit as tk

    return tk()


Row = tuple[str, str, list[str]]  # (script, text, categories)


def _respelled(text: str, cats: list[str]) -> list[Row]:
    """A Tâi-lô template as written, in tone numbers and in POJ (``thokit``)."""
    tk = _thokit()
    return [
        ("tailo", text, cats),
        ("tailo_num", tk.tailoUnicode2Ascii(text), cats),
        ("poj", tk.tailoUnicode2PojUnicode(text), cats),
    ]


def _emergencies(rng: random.Random, han: list[str], tl: list[str], zh: list[str], cat: str):
    """Each of a category's three phrases said of someone now, in every script."""
    rows: list[Row] = []
    for i in range(3):
        w = rng.randrange(len(WHO_HAN))
        text = f"{WHO_HAN[w]}{rng.choice(NOW_HAN)}{han[i]}{rng.choice(END_HAN)}"
        rows.append(("taigi_han", text, [cat]))
        now = rng.choice(NOW_TL)
        rows += _respelled(
            f"{WHO_TL[w]} {now + ' ' if now else ''}{tl[i]}{rng.choice(END_TL)}", [cat]
        )
        rows.append(
            ("mandarin", f"{WHO_ZH[w]}{rng.choice(NOW_ZH)}{zh[i]}{rng.choice(END_ZH)}", [cat])
        )
        if i % 2 == 0:
            rows.append(("mixed", f"{WHO_HAN[w]} {tl[i]}{rng.choice(END_HAN)}", [cat]))
        else:
            rows.append(("mixed", f"{WHO_TL[w]} {han[i]}，beh án-tsuánn?", [cat]))
    return rows


def _hard_negatives(rng: random.Random, han: list[str], tl: list[str], zh: list[str]):
    """The same phrases in the past, as hearsay, or as a general question: not emergencies."""
    i = rng.randrange(3)
    w = rng.randrange(len(WHO_HAN))
    rows: list[Row] = [
        ("taigi_han", f"{WHO_HAN[w]}舊年{han[i]}，這馬攏好矣", []),
        ("taigi_han", f"聽講隔壁的阿伯{han[(i + 1) % 3]}，我足煩惱", []),
        ("mandarin", f"{WHO_ZH[w]}去年{zh[i]}過，現在已經好了", []),
        ("mandarin", f"聽說鄰居{zh[(i + 1) % 3]}，好可怕", []),
        ("mandarin", f"{zh[(i + 2) % 3]}是什麼原因？", []),
    ]
    rows += _respelled(f"{WHO_TL[w]} kū-nî {tl[i]}, tsit-má hó ah", [])
    rows += _respelled(f"Thiann-kóng tshù-pinn ê a-peh {tl[(i + 1) % 3]}", [])
    rows.append(("mixed", f"阮阿公 í-tsîng {tl[i]}，這馬好好", []))
    rows.append(("mixed", f"聽講 tshù-pinn {han[(i + 2) % 3]}", []))
    return rows


def _mild(rng: random.Random) -> list[Row]:
    """Mild complaints said of someone now: not emergencies either."""
    rows: list[Row] = []
    for han, tl, zh in zip(*MILD, strict=True):
        w = rng.randrange(len(WHO_HAN))
        rows.append(
            ("taigi_han", f"{WHO_HAN[w]}{rng.choice(NOW_HAN)}{han}{rng.choice(END_HAN)}", [])
        )
        now = rng.choice(NOW_TL)
        rows += _respelled(f"{WHO_TL[w]} {now + ' ' if now else ''}{tl}{rng.choice(END_TL)}", [])
        rows.append(("mandarin", f"{WHO_ZH[w]}{rng.choice(NOW_ZH)}{zh}{rng.choice(END_ZH)}", []))
        rows.append(("mandarin", f"{zh}怎麼辦？", []))
        rows.append(("mixed", f"{WHO_HAN[w]} {tl}，欲按怎？", []))
    return rows


def _everyday(rng: random.Random) -> list[Row]:
    """Everyday questions, the same framed the way emergencies are, and greetings."""
    rows: list[Row] = []
    for script, msgs in BENIGN.items():
        for m in msgs:
            rows += _respelled(m, []) if script == "tailo" else [(script, m, [])]
    # Everyday questions framed the way emergencies are (a person, a name, a phone number):
    # without them the classifier learns "someone is named" as a sign of an emergency.
    rows += [("taigi_han", f"{rng.choice(INTRO_HAN)}{m}", []) for m in BENIGN["taigi_han"]]
    rows += [("mandarin", f"{rng.choice(INTRO_ZH)}{m}", []) for m in BENIGN["mandarin"]]
    for m in BENIGN["tailo"]:
        rows += _respelled(f"{rng.choice(INTRO_TL)}{m}", [])
    # Greetings and chit-chat are the commonest first messages to a chat service; short texts
    # carry little evidence, and without them the classifier's prior alone can cross its
    # threshold ("hello" did).
    rows += [(script, m, []) for script, msgs in GREETINGS.items() for m in msgs]
    for a, b in zip(BENIGN["taigi_han"][:4], BENIGN["tailo"][4:], strict=True):
        rows.append(("mixed", f"{a[:4]} {b}", []))
    return rows


def _dosing() -> list[tuple[str, str]]:
    """Dosing questions, each Tâi-lô one also in tone numbers and POJ."""
    rows: list[tuple[str, str]] = []
    for script, msgs in DOSE.items():
        for m in msgs:
            if script == "tailo":
                rows += [(s, text) for s, text, _ in _respelled(m, [])]
            else:
                rows.append((script, m))
    return rows


def _expand(rng: random.Random) -> list[dict]:
    """Template rows, numbered per script (the rng is drawn in this order: keep it)."""
    rows: list[Row] = []
    for cat, (han, tl, zh) in SYMPTOMS.items():
        rows += _emergencies(rng, han, tl, zh, cat)
        rows += _hard_negatives(rng, han, tl, zh)
    rows += _mild(rng) + _everyday(rng)
    out, count = [], {}
    tagged = [(s, t, c, {}) for s, t, c in rows]
    tagged += [(s, t, [], {"intent": "dose"}) for s, t in _dosing()]
    for script, text, cats, extra in tagged:
        count[script] = count.get(script, 0) + 1
        row = {"id": f"t-{script}-{count[script]:03d}", "script": script, "text": text}
        out.append({**row, "categories": cats, **extra})
    return out


def build() -> list[dict]:
    rows = []
    for name in AUTHORED:
        for line in (EVAL_DIR / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                r["categories"] = [RENAMED.get(c, c) for c in r["categories"]]
                r["id"] = f"a-{r['id']}"
                if r["id"] not in HELD_OUT_DUPLICATES:
                    rows.append(r)
    return rows + _expand(random.Random(20261201))


def main() -> None:
    rows = build()
    write_text_atomic(TUNING, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    print(f"{len(rows)} messages → {TUNING}")


if __name__ == "__main__":
    main()
