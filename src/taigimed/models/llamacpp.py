"""Open a GGUF file with llama.cpp (llama-cpp-python), sized to the CPU this process may use.

One owner for how the project runs llama.cpp: the GGUF scorer (``LlamaRuntime``) and
the CPU serving engine (its thread count) both come here. Threads default to the physical cores
this process may run on (affinity mask and cgroup quota honoured): llama.cpp's
matrix kernels gain nothing from SMT siblings and lose a lot to oversubscription
on shared machines. Nothing here is tuned to one machine.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
from pathlib import Path

import numpy as np


def _cgroup_cpus() -> float | None:
    """CPUs the cgroup (v2 ``cpu.max`` or v1 quota) allows, None when unlimited."""
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            return int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read_text())
        period = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text())
        if quota > 0:
            return quota / period
    except (OSError, ValueError):
        pass
    return None


def physical_cores() -> int:
    """Distinct physical cores among the CPUs this process may use (at least 1)."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = list(range(os.cpu_count() or 1))
    cores = set()
    for cpu in cpus:
        topo = Path(f"/sys/devices/system/cpu/cpu{cpu}/topology")
        try:
            cores.add(
                (topo / "physical_package_id").read_text().strip()
                + ":"
                + (topo / "core_id").read_text().strip()
            )
        except OSError:
            cores.add(str(cpu))  # no topology exposed: count logical CPUs
    n = len(cores) or 1
    quota = _cgroup_cpus()
    if quota is not None:
        n = min(n, max(1, math.floor(quota)))
    return n


def default_threads(requested: int | None = None) -> int:
    """``requested`` if given, else TAIGIMED_LLAMA_THREADS, else the physical cores.

    Not reduced by the load average: on the shared 2-core machine one thread under load
    8 scored 35 prompt tokens/s where two threads under load 10 scored 77.
    """
    if requested:
        return int(requested)
    if env := os.environ.get("TAIGIMED_LLAMA_THREADS"):
        return int(env)
    return physical_cores()


class LlamaCppMissing(ImportError):
    """llama-cpp-python is not installed; the message says how to install it."""


class LlamaRuntime:
    """llama.cpp's C API through llama-cpp-python, for several sequences sharing one cache.

    ``Llama`` (the high-level class) keeps one sequence; scoring wants a prompt
    decoded once and its cache shared by every option (``seq_cp`` with a unified KV
    buffer costs no copy), and logits only where they are read. Positions and
    sequence ids are the caller's.
    """

    def __init__(
        self,
        path: str | Path,
        n_ctx: int,
        *,
        n_seq_max: int = 1,
        n_batch: int = 512,
        n_threads: int | None = None,
    ):
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(
                f"GGUF file {path} does not exist; export it with `taigimed base-model export-gguf`"
            )
        try:
            import llama_cpp as lc
        except ImportError as exc:
            raise LlamaCppMissing(
                "llama-cpp-python is not installed: run `bash scripts/install-services.sh`"
            ) from exc
        self._lc = lc
        # llama-cpp-python's log callback prints at or above this logger's level: loading
        # chatter stays out of reports and progress bars, errors still show.
        logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)
        lc.llama_backend_init()
        mparams = lc.llama_model_default_params()
        mparams.n_gpu_layers = 0
        self._model = lc.llama_model_load_from_file(str(path).encode(), mparams)
        if not self._model:
            raise RuntimeError(f"llama.cpp could not load {path}")
        threads = default_threads(n_threads)
        cparams = lc.llama_context_default_params()
        cparams.n_ctx = n_ctx  # unified: shared by all sequences
        cparams.n_batch = n_batch
        cparams.n_ubatch = n_batch
        cparams.n_seq_max = n_seq_max
        cparams.kv_unified = True
        cparams.n_threads = threads
        cparams.n_threads_batch = threads
        self._ctx = lc.llama_init_from_model(self._model, cparams)
        if not self._ctx:
            raise RuntimeError(f"llama.cpp could not create a context for {path}")
        self._mem = lc.llama_get_memory(self._ctx)
        self.n_vocab = lc.llama_vocab_n_tokens(lc.llama_model_get_vocab(self._model))
        self.n_batch = n_batch
        self.threads = threads
        self._batch = lc.llama_batch_init(n_batch, 0, n_seq_max)

    def decode(self, entries) -> np.ndarray:
        """Decode ``(token, pos, seq_id, want_logits)`` entries (at most ``n_batch``);
        returns the logits of the wanted entries, in order, as a float32 array."""
        b = self._batch
        n_out = 0
        for i, (tok, pos, seq, want) in enumerate(entries):
            b.token[i] = tok
            b.pos[i] = pos
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = seq
            b.logits[i] = bool(want)
            n_out += bool(want)
        b.n_tokens = len(entries)
        rc = self._lc.llama_decode(self._ctx, b)
        if rc != 0:
            raise RuntimeError(f"llama_decode failed with {rc} (context full?)")
        if not n_out:
            return np.empty((0, self.n_vocab), dtype=np.float32)
        ptr = self._lc.llama_get_logits(self._ctx)
        return np.ctypeslib.as_array(ptr, shape=(n_out * self.n_vocab,)).reshape(n_out, -1).copy()

    def seq_cp(self, src: int, dst: int, p0: int = -1, p1: int = -1) -> None:
        self._lc.llama_memory_seq_cp(self._mem, src, dst, p0, p1)

    def seq_rm(self, seq: int, p0: int = -1, p1: int = -1) -> None:
        self._lc.llama_memory_seq_rm(self._mem, seq, p0, p1)

    def clear(self) -> None:
        self._lc.llama_memory_clear(self._mem, True)

    def close(self) -> None:
        if getattr(self, "_batch", None) is not None:
            self._lc.llama_batch_free(self._batch)
            self._batch = None
        if getattr(self, "_ctx", None):
            self._lc.llama_free(self._ctx)
            self._ctx = None
        if getattr(self, "_model", None):
            self._lc.llama_model_free(self._model)
            self._model = None

    def __del__(self):
        with contextlib.suppress(Exception):  # interpreter shutdown: the library may be gone
            self.close()
