"""Dedup (exact, MinHash near-duplicates, leakage) and the stage-2 curriculum."""

import numpy as np

from taigimed.data.dedup import cross_duplicates, deduplicate, signatures
from taigimed.data.mix import curriculum, replay_count, score_difficulty
from taigimed.data.records import record, split_of

BASE = "病人主訴最近三個月來快走會有心悸和胸悶的現象，身體檢查時血壓偏高，心跳規律。"


def test_exact_then_near_duplicates():
    texts = [
        BASE,
        BASE.replace("，", ", "),  # same once punctuation/space is ignored
        BASE[:20] + "快" + BASE[21:],  # one character changed: a near-duplicate
        "完全不同的一句話，談的是糖尿病病人的飲食與運動建議。",
        "短",
    ]
    reasons, sigs, dup_of, kept_pairs = deduplicate(texts, threshold=0.7, num_perm=128, k=5)
    assert reasons == [None, "exact_duplicate", "near_duplicate", None, None]
    assert dup_of[1] == 0 and dup_of[2] == 0
    assert sigs.shape == (3, 128)
    assert kept_pairs == []


def test_signature_estimates_jaccard():
    a = BASE * 3
    b = BASE * 2 + BASE[:20] + "另一段完全不同的文字內容在這裡出現了許多次" * 2
    sig = signatures([a, b], num_perm=256, k=5, sample_above=10_000)
    sa = {a[i : i + 5] for i in range(len(a) - 4)}
    sb = {b[i : i + 5] for i in range(len(b) - 4)}
    true = len(sa & sb) / len(sa | sb)
    assert abs(float(np.mean(sig[0] == sig[1])) - true) < 0.12


def test_leakage_cross_check():
    train = signatures([BASE, "另一題完全無關的內容，講的是骨質疏鬆。"], 128, 5)
    held = signatures([BASE[:-1] + "！", "新的題目，與訓練資料沒有任何重疊的內容。"], 128, 5)
    assert cross_duplicates(train, held, 0.8) == [0]


def test_split_is_deterministic_and_seeded():
    keys = [f"item-{i}" for i in range(2000)]
    a = [split_of(k, 1, {"validation": 0.1, "test": 0.05}) for k in keys]
    assert a == [split_of(k, 1, {"validation": 0.1, "test": 0.05}) for k in keys]
    assert a != [split_of(k, 2, {"validation": 0.1, "test": 0.05}) for k in keys]
    assert 150 < a.count("validation") < 250 and 60 < a.count("test") < 140


def test_difficulty_ranks_length_and_rarity():
    recs = [
        record("a", "s", "text", text="我我我"),
        record("b", "s", "text", text="我我我我我我我我我我我我鬱"),
        record("c", "s", "text", text="我我"),
    ]
    score_difficulty(recs)
    assert recs[2]["difficulty"] < recs[0]["difficulty"] < recs[1]["difficulty"]


def test_curriculum_phases_and_replay_spread():
    taigi = [record(f"t{i}", "sinica", "text", text="字" * (i + 1)) for i in range(30)]
    replay = [record(f"replay-{i}", "medqa", "text", text="醫" * 5) for i in range(9)]
    out = curriculum(taigi, replay, phases=3, seed=0)
    assert len(out) == 39
    phases = [r["phase"] for r in out]
    assert phases == sorted(phases)  # phase 0 first
    taigi_out = [r for r in out if not r["id"].startswith("replay-")]
    assert [r["difficulty"] for r in taigi_out] == sorted(r["difficulty"] for r in taigi_out)
    for p in range(3):
        block = [r for r in out if r["phase"] == p]
        assert sum(r["id"].startswith("replay-") for r in block) == 3
        assert not block[0]["id"].startswith("replay-") or not block[-1]["id"].startswith("replay-")


def test_replay_count():
    assert replay_count(80, 0.2, 1000) == 20  # 20 / (80 + 20) = 0.2
    assert replay_count(80, 0.2, 5) == 5
    assert replay_count(80, 0.0, 1000) == 0


def test_stage2_mix_caps_taigi_first_and_puts_feedback_last():
    from taigimed.data.config import DataConfig
    from taigimed.data.mix import stage2_mix

    taigi = [record(f"t{i}", "sinica", "text", text="字" * (i % 7 + 1)) for i in range(100)]
    stage1 = [record(f"m{i}", "medqa", "text", text="醫" * 5) for i in range(100)]
    feedback = [
        dict(record(f"feedback-{i}", "feedback", "text", text="好"), phase=2) for i in range(3)
    ]
    d = DataConfig(dataset_caps={"stage2_train": 50}, replay_fraction=0.2, curriculum_phases=3)
    stage1_before = [dict(r) for r in stage1]
    mixed = stage2_mix(taigi, stage1, feedback, d, seed=0)
    ids = [r["id"] for r in mixed.records]
    # the Taigi share is capped first (40 of 50), so the replay share survives the cap
    assert mixed.stats["taigi_records"] == 40 and mixed.stats["replay_records"] == 10
    assert len(ids) == 53 and ids[-3:] == ["feedback-0", "feedback-1", "feedback-2"]
    assert sum(i.startswith("replay-m") for i in ids) == 10
    assert stage1 == stage1_before  # replayed as copies: stage1_train keeps its own phase
    assert sum(mixed.stats["phases"].values()) == 53
    assert mixed.stats["phases"]["phase2_feedback"] == 3
