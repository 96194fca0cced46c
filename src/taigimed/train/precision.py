"""Which precision to train in on this machine, decided when the run starts.

Machines of one class differ: some CPUs have bf16 dot-product units (AVX512-BF16,
AMX), where bf16 autocast is faster than fp32; others only have AVX2, where
PyTorch emulates bf16 at ~6x the cost of fp32 (docs/benchmarks.md). So a recipe
says ``train.precision: auto`` and the choice is made here, from the CPU flags
the kernel reports (or ``torch.cuda.is_bf16_supported()`` on a GPU), and
recorded in the run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# Either flag means the CPU multiplies bf16 natively (oneDNN then uses it for
# bf16 matmuls); avx512_bf16 alone is Cooper Lake / Zen 4, amx_bf16 Sapphire Rapids on.
NATIVE_BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The feature flags of the first CPU in ``/proc/cpuinfo``; empty where there is none."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):  # x86 / arm64 spelling
            return frozenset(value.split())
    return frozenset()


def cpu_has_native_bf16(flags: Iterable[str]) -> bool:
    flags = set(flags)
    return any(f in flags for f in NATIVE_BF16_CPU_FLAGS)


@dataclass(frozen=True)
class PrecisionChoice:
    requested: str  # what the recipe said
    precision: str  # what the run uses: fp32 | bf16-autocast | fp16-autocast | bf16
    reason: str

    def as_record(self) -> dict[str, str]:
        return {"requested": self.requested, "used": self.precision, "reason": self.reason}


def resolve_precision(
    requested: str,
    device: str,
    flags: Iterable[str] | None = None,
    cuda_bf16: bool | None = None,
) -> PrecisionChoice:
    """``requested`` as is unless it is ``auto``; then bf16 autocast where bf16 is native.

    ``flags`` and ``cuda_bf16`` default to this machine's; tests pass their own.
    """
    if requested != "auto":
        return PrecisionChoice(requested, requested, "set in the recipe")
    if device == "cuda":
        if cuda_bf16 is None:
            import torch

            cuda_bf16 = torch.cuda.is_bf16_supported()
        if cuda_bf16:
            return PrecisionChoice(requested, "bf16-autocast", "GPU supports bf16")
        # fp16 autocast would need loss scaling, which the loop does not do
        return PrecisionChoice(requested, "fp32", "GPU without bf16")
    flags = cpu_flags() if flags is None else frozenset(flags)
    native = [f for f in NATIVE_BF16_CPU_FLAGS if f in flags]
    if native:
        return PrecisionChoice(requested, "bf16-autocast", f"CPU has {'+'.join(native)}")
    return PrecisionChoice(
        requested, "fp32", "CPU lacks avx512_bf16/amx_bf16: bf16 would be emulated"
    )
