"""Everyday negatives for the triage classifier, read at build time, never committed.

The tuning corpus (``eval/triage_tuning.jsonl``) holds mostly emergencies and hard
negatives built from the same phrases (past, hearsay, negated), so everyday language in any
script was unfamiliar to the classifier and leaned "emergency" (*我今仔日去市場買菜。* scored
0.87 against a threshold of 0.59). This module gives it everyday text in every script:

- **Sinica Han-Lo sentences** (Academia Sinica's Taigi corpus, under the data root at
  ``taigi/sinica_hanlo_sentences.txt.gz``): everyday Taigi sentences with their Tâi-lô,
  re-spelled by ``thokit`` into tone numbers and POJ. The corpus may not be
  redistributed: the builder reads it and only the classifier's weights are committed.
- **The health-education cards** (``knowledge/demo_cards/*.yaml``): their Mandarin, Taigi
  Han and Tâi-lô texts split into clauses (Mandarin also in Simplified, Tâi-lô also in tone
  numbers and POJ) — everyday health language, the register patients ask in.
- **Everyday questions written here** (``QUESTIONS``): diet, screening, vaccines, clinics,
  errands, care at home, asked by or for an older adult, in every script. Written for this
  module, not from any evaluation set.

Only text in which **no rule pattern matches at all** (neither a red flag nor one the scope
cues suppress) and that holds none of ``EMERGENCY_WORDS`` is kept, so nothing an emergency
could be told with is taught as benign. Sampling is deterministic (fixed seed, file order).
Without a data root the build fails naming ``TAIGIMED_DATA_ROOT``; the shipped JSON stays.
"""

from __future__ import annotations

import gzip
import hashlib
import random
import re
from pathlib import Path

import yaml

from taigimed.artifacts import SOURCE_CHECKOUT
from taigimed.data.config import DataConfig
from taigimed.data.sinica import parse_sentence
from taigimed.data.sources import ENV_DATA_ROOT, ROOT_SINICA, data_root
from taigimed.knowledge.config import DEMO_CARDS as CARDS

SEED = 20261206
SINICA_SENTENCES = 1200  # each in Han, Tâi-lô, tone numbers and POJ
MIN_HAN, MAX_HAN = 6, 40
# Words no negative may hold, whether or not a rule matches them: death, blood, fainting,
# poison, suicide, falls, the emergency services. Taigi and Mandarin share the characters.
EMERGENCY_WORDS = re.compile(
    r"死|血|昏|暈|毒|殺|跋倒|摔|跌|救護|急診|急救|119|110|緊急|危險|喘|抽搐|搐|窒|噎|哽|燒傷|燙|"
    r"農藥|自殺|跳樓|刀|槍|命|癲|中風|休克|心臟|胸|痛|疼|吐|瀉|發燒|燒|車禍|撞|挵|溺|淹"
)
# The same in Tâi-lô, for the cards' romanised clauses (the Sinica ones are checked on Han).
EMERGENCY_ROMAN = re.compile(
    r"(?<![\w])(?:sí|hueh|huih|hūn|thiànn|tshuán|thòo|pua̍h|tiòng-hong|sim-tsōng|hing-khám|"
    r"huat-sio|sio|tsū-sat|kiù-hōo-tshia|kip-tsín|tòo|thǹg)(?![\w])",
    re.IGNORECASE,
)


class EverydayDataMissing(RuntimeError):
    """The data root (with the Sinica corpus) is not there: the classifier cannot be rebuilt."""


Text = tuple[str, str]  # (script, text)

# Everyday questions (our wording): (Mandarin, Taigi Han, Tâi-lô) per topic, each asked
# bare and by a named asker.
QUESTIONS: list[tuple[str, str, str]] = [
    (
        "有糖尿病，平常吃飯要注意什麼？",
        "有糖尿病，平常時食飯愛注意啥？",
        "Ū thn̂g-jiō-pēnn, pîng-siông-sî tsia̍h-pn̄g ài tsù-ì siánn?",
    ),
    ("流感疫苗要去哪裡打？", "流感疫苗愛去佗位拍？", "Liû-kám i-biâu ài khì tó-uī phah?"),
    (
        "老人家一天要喝多少水？",
        "老大人一工愛啉偌濟水？",
        "Lāu-tuā-lâng tsi̍t-kang ài lim guā-tsē tsuí?",
    ),
    (
        "膝蓋退化可以去爬山嗎？",
        "跤頭趺退化會當去𤆬山無？",
        "Kha-thâu-u thè-huà ē-tàng khì peh-suann bô?",
    ),
    (
        "晚上睡不好，要看哪一科？",
        "暗時睏袂好，愛看佗一科？",
        "Àm-sî khùn bē hó, ài khuànn tó tsi̍t kho?",
    ),
    (
        "慢性病連續處方箋要怎麼領藥？",
        "慢性病連續處方箋愛按怎領藥仔？",
        "Bān-sìng-pēnn liân-siok tshú-hong-tsian ài án-tsuánn niá io̍h-á?",
    ),
    (
        "健康檢查前一天可以吃早餐嗎？",
        "健康檢查進前會當食早頓無？",
        "Kiān-khong kiám-tsa tsìn-tsîng ē-tàng tsia̍h tsá-tǹg bô?",
    ),
    (
        "大腸癌篩檢要去哪裡拿採便管？",
        "大腸癌篩檢愛去佗位提篩檢管？",
        "Tuā-tn̂g-gâm thai-kiám ài khì tó-uī the̍h thai-kiám-kóng?",
    ),
    (
        "我媽記性越來越差，要帶她去哪裡檢查？",
        "阮阿母記持愈來愈稞，愛𤆬伊去佗位檢查？",
        "Guán a-bó kì-tî lú lâi lú bái, ài tshuā i khì tó-uī kiám-tsa?",
    ),
    ("假牙要怎麼清洗？", "假喙齒愛按怎洗？", "Ké-tshuì-khí ài án-tsuánn sé?"),
    (
        "老人家吃素要怎麼補蛋白質？",
        "老大人食菜愛按怎補蛋白質？",
        "Lāu-tuā-lâng tsia̍h-tshài ài án-tsuánn póo tān-pe̍h-tsit?",
    ),
    (
        "血壓計要買哪一種比較好？",
        "血壓計愛買佗一款較好？",
        "Hueh-ap-kè ài bé tó tsi̍t khuán khah hó?",
    ),
    ("掛號要帶健保卡嗎？", "掛號愛紮健保卡無？", "Kuà-hō ài tsah kiān-pó-khah bô?"),
    ("每天走路多久比較好？", "逐工行路偌久較好？", "Ta̍k-kang kiânn-lōo guā kú khah hó?"),
    (
        "便秘可以多吃什麼水果？",
        "放屎袂出來會當加食啥物果子？",
        "Pàng-sái bē tshut--lâi ē-tàng ke tsia̍h siánn-mih kué-tsí?",
    ),
    (
        "眼睛乾乾的，可以點人工淚液嗎？",
        "目睭焦焦，會當點人工目屎無？",
        "Ba̍k-tsiu ta-ta, ē-tàng tiám jîn-kang ba̍k-sái bô?",
    ),
    (
        "耳朵聽不太清楚，要去配助聽器嗎？",
        "耳仔聽袂啥清楚，愛去配助聽器無？",
        "Hīnn-á thiann bē siánn tshing-tshó, ài khì phuè tsōo-thiann-khì bô?",
    ),
    (
        "去醫院要搭幾號公車？",
        "欲去病院愛坐幾號的公車？",
        "Beh khì pēnn-īnn ài tsē kuí hō ê kong-tshia?",
    ),
    (
        "長照的居家服務要怎麼申請？",
        "長照的居家服務愛按怎申請？",
        "Tn̂g-tsiàu ê ku-ka ho̍k-bū ài án-tsuánn sin-tshíng?",
    ),
    ("骨質疏鬆要補充鈣片嗎？", "骨質疏鬆愛補鈣片無？", "Kut-tsit soo-song ài póo kài-phìnn bô?"),
    (
        "天氣冷，老人家洗澡要注意什麼？",
        "天氣寒，老大人洗身軀愛注意啥？",
        "Thinn-khì kuânn, lāu-tuā-lâng sé-sin-khu ài tsù-ì siánn?",
    ),
    (
        "可以幫我預約下禮拜的門診嗎？",
        "會當共我預約後禮拜的門診無？",
        "Ē-tàng kā guá ī-iok āu lé-pài ê bûn-tsín bô?",
    ),
    ("吃完飯可以馬上睡覺嗎？", "食飽會當隨去睏無？", "Tsia̍h-pá ē-tàng suî khì khùn bô?"),
    (
        "皮膚很乾很癢，要擦什麼乳液？",
        "皮膚足焦足癢，愛抹啥物乳液？",
        "Phuê-hu tsiok ta tsiok tsiūnn, ài buah siánn-mih jú-i̍k?",
    ),
]
ASKERS = [("我爸", "阮老爸", "Guán lāu-pē"), ("阿嬤", "阮阿嬤", "Guán a-má"), ("我", "我", "Guá")]


def sinica_file() -> Path:
    """The Sinica corpus under the data root (TAIGIMED_DATA_ROOT, else ../shared/data)."""
    root = data_root(
        DataConfig(
            data_root_search=[Path("../shared/data"), SOURCE_CHECKOUT.parent / "shared" / "data"]
        )
    )
    path = root / ROOT_SINICA if root else None
    if path is None or not path.is_file():
        raise EverydayDataMissing(
            f"the Sinica Han-Lo corpus ({ROOT_SINICA}) is not under a data root: set "
            f"{ENV_DATA_ROOT} to a copy of shared/data to rebuild the triage classifier "
            "(the shipped model/triage_classifier.json is left as it is)"
        )
    return path


def _respell(tailo: str) -> list[Text]:
    from taigimed.text.romanize import _thokit

    tk = _thokit()
    return [
        ("tailo", tailo),
        ("tailo_num", tk.tailoUnicode2Ascii(tailo)),
        ("poj", tk.tailoUnicode2PojUnicode(tailo)),
    ]


def _quiet(rules, *texts: str) -> bool:
    """No rule pattern matches any of ``texts`` (suppressed ones included), and none holds
    an emergency word."""
    from taigimed.safety.triage import triage
    from taigimed.text.romanize import standardize_input

    for t in texts:
        if EMERGENCY_WORDS.search(t) or EMERGENCY_ROMAN.search(t):
            return False
        r = triage(rules, standardize_input(t)[0])
        if r.hits or r.suppressed:
            return False
    return True


def sinica(rules, path: Path, n: int = SINICA_SENTENCES) -> list[Text]:
    kept: list[tuple[str, str]] = []
    seen: set[str] = set()
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            parsed = parse_sentence(line)
            if parsed is None:
                continue
            han, tailo, _ = parsed
            if not MIN_HAN <= len(han) <= MAX_HAN or han in seen or EMERGENCY_WORDS.search(han):
                continue
            seen.add(han)
            kept.append((han, tailo))
    rng = random.Random(SEED)
    out: list[Text] = []
    # Draw in file order's shuffle until n quiet sentences (the rules run only on draws).
    for han, tailo in rng.sample(kept, len(kept)):
        if len(out) >= 4 * n:
            break
        if _quiet(rules, han, tailo):
            out += [("taigi_han", han), *_respell(tailo)]
    return out


def _clauses(text: str, roman: bool) -> list[str]:
    parts = re.split(r"[；;。！？!?]\s*" if roman else r"[；。！？]", text)
    return [p.strip(" ，,") for p in parts if len(p.strip(" ，,")) >= (12 if roman else 5)]


def cards(rules) -> list[Text]:
    from taigimed.text.normalize import to_simplified

    out: list[Text] = []
    files = sorted(CARDS.glob("*.yaml"))
    if not files:  # a moved folder must not quietly drop every card negative
        raise FileNotFoundError(f"no card files in {CARDS}")
    for f in files:
        card = yaml.safe_load(f.read_text(encoding="utf-8"))
        blocks = [card.get("title") or {}, card.get("text") or {}, *(card.get("key_facts") or [])]
        for b in blocks:
            for c in _clauses(str(b.get("mandarin", "")), roman=False):
                if _quiet(rules, c):
                    out += [("mandarin", c), ("mandarin_simplified", to_simplified(c))]
            for c in _clauses(str(b.get("taigi_han", "")), roman=False):
                if _quiet(rules, c):
                    out.append(("taigi_han", c))
            for c in _clauses(str(b.get("tailo", "")), roman=True):
                if _quiet(rules, c):
                    out += _respell(c)
    return out


def questions(rules) -> list[Text]:
    from taigimed.text.normalize import to_simplified

    out: list[Text] = []
    for i, (zh, han, tl) in enumerate(QUESTIONS):
        a_zh, a_han, a_tl = ASKERS[i % len(ASKERS)]
        for text in (zh, f"{a_zh}{zh}"):
            out += [("mandarin", text), ("mandarin_simplified", to_simplified(text))]
        out += [("taigi_han", han), ("taigi_han", f"{a_han}{han}")]
        out += _respell(tl) + _respell(f"{a_tl} {tl[0].lower()}{tl[1:]}")
        out.append(("mixed", f"{a_han} {tl[0].lower()}{tl[1:]}"))
    return [t for t in out if _quiet(rules, t[1])]


def build(rules) -> list[Text]:
    """All everyday negatives, deterministic; raises EverydayDataMissing without data."""
    out: list[Text] = []
    seen: set[str] = set()
    for script, text in sinica(rules, sinica_file()) + cards(rules) + questions(rules):
        if text not in seen:
            seen.add(text)
            out.append((script, text))
    return out


def digest(texts: list[Text]) -> str:
    """SHA-256 of the negatives (recorded in the JSON; the corpus itself is not shipped)."""
    return hashlib.sha256("\n".join(f"{s}\t{t}" for s, t in texts).encode()).hexdigest()
