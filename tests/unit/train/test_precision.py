"""train.precision=auto: bf16 autocast where bf16 is native, fp32 where it would be emulated."""

import pytest

from taigimed.config import load_config
from taigimed.train.model import autocast_dtype
from taigimed.train.precision import cpu_flags, cpu_has_native_bf16, resolve_precision

# Flag sets as /proc/cpuinfo reports them on the two kinds of machine this project meets.
AVX2_ONLY = {"fpu", "sse4_2", "avx", "avx2", "fma", "f16c"}
SAPPHIRE_RAPIDS = AVX2_ONLY | {"avx512f", "avx512bw", "avx512_bf16", "amx_bf16", "amx_tile"}


def test_auto_picks_bf16_on_a_cpu_with_native_bf16():
    choice = resolve_precision("auto", "cpu", flags=SAPPHIRE_RAPIDS)
    assert choice.precision == "bf16-autocast"
    assert "avx512_bf16" in choice.reason and "amx_bf16" in choice.reason
    assert choice.as_record() == {
        "requested": "auto",
        "used": "bf16-autocast",
        "reason": choice.reason,
    }
    only_avx512_bf16 = resolve_precision("auto", "cpu", flags=AVX2_ONLY | {"avx512_bf16"})
    assert only_avx512_bf16.precision == "bf16-autocast"


def test_auto_keeps_fp32_on_an_avx2_only_cpu():
    choice = resolve_precision("auto", "cpu", flags=AVX2_ONLY)
    assert choice.precision == "fp32" and "emulated" in choice.reason
    # AVX-512 without its bf16 extension still emulates bf16
    assert resolve_precision("auto", "cpu", flags=AVX2_ONLY | {"avx512f"}).precision == "fp32"
    assert resolve_precision("auto", "cpu", flags=set()).precision == "fp32"


def test_auto_on_gpu_follows_bf16_support():
    assert resolve_precision("auto", "cuda", cuda_bf16=True).precision == "bf16-autocast"
    # no loss scaling in the loop, so not fp16
    assert resolve_precision("auto", "cuda", cuda_bf16=False).precision == "fp32"


def test_explicit_precision_is_kept_whatever_the_machine():
    assert resolve_precision("fp32", "cpu", flags=SAPPHIRE_RAPIDS).precision == "fp32"
    kept = resolve_precision("bf16-autocast", "cpu", flags=AVX2_ONLY)
    assert kept.precision == "bf16-autocast" and kept.reason == "set in the recipe"


def test_cpu_flags_reads_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: X\nflags\t\t: fpu avx2 amx_bf16\n\n")
    assert cpu_flags(info) == {"fpu", "avx2", "amx_bf16"}
    assert cpu_has_native_bf16(cpu_flags(info))
    info.write_text("processor\t: 0\n")
    assert cpu_flags(info) == frozenset()
    assert cpu_flags(tmp_path / "missing") == frozenset()
    assert not cpu_has_native_bf16(cpu_flags(tmp_path / "missing"))


def test_default_recipe_is_auto_and_unresolved_auto_is_refused():
    cfg = load_config("default")
    assert cfg.train.precision == "auto"
    with pytest.raises(ValueError, match="must be resolved"):
        autocast_dtype(cfg.train)
    resolved = cfg.train.model_copy(update={"precision": "fp32"})
    assert autocast_dtype(resolved) is None
