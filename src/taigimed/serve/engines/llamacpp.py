"""The llama.cpp engine: the served model's GGUF in a supervised ``llama_cpp.server`` process.

CPU serving at llama.cpp's speed with nothing re-implemented: this engine starts
llama-cpp-python's OpenAI-compatible server on a free loopback port, waits for it
to list the model, and then talks to it exactly as the upstream engine talks to
any OpenAI-compatible server (it *is* an ``UpstreamEngine``). The child runs in
its own process, so its threads never contend with the gateway's event loop for
the GIL. If it dies, the next request (or health probe) restarts it; shutdown
stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from taigimed.localproc import free_port
from taigimed.serve.engines.base import EngineError
from taigimed.serve.engines.upstream import UpstreamEngine

log = logging.getLogger("taigimed.serve")


def server_command(
    gguf: Path, port: int, *, model_id: str, n_ctx: int, threads: int, host: str = "127.0.0.1"
) -> list[str]:
    """The ``llama_cpp.server`` command line; also what benchmarks run as "llama.cpp direct"."""
    return [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(gguf),
        "--model_alias",
        model_id,
        "--host",
        host,
        "--port",
        str(port),
        "--n_ctx",
        str(n_ctx),
        "--n_threads",
        str(threads),
        "--n_threads_batch",
        str(threads),
        "--n_gpu_layers",
        "0",
        # By default a new request interrupts the one streaming: concurrent users would
        # cut each other off. Requests queue instead.
        "--interrupt_requests",
        "False",
    ]


class LlamaCppEngine(UpstreamEngine):
    def __init__(
        self,
        gguf_path: str | Path,
        *,
        tokenizer_dir: str | None,
        model_id: str,
        model_version: str,
        source: str,
        max_context: int,
        threads: int | None = None,
        start_timeout_s: float = 120.0,
        gguf_sha256: str | None = None,
    ):
        from taigimed.models.llamacpp import default_threads

        self.gguf_path = Path(gguf_path)
        if not self.gguf_path.exists():
            raise EngineError(f"GGUF file {self.gguf_path} does not exist")
        self.threads = default_threads(threads)
        self.port = free_port()
        self.start_timeout_s = start_timeout_s
        self._proc: subprocess.Popen | None = None
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - kept for the child's life
        self._start_lock = asyncio.Lock()
        self.restarts = 0
        super().__init__(
            f"http://127.0.0.1:{self.port}",
            model=model_id,
            max_context=max_context,
            model_version=model_version,
            source=source,
            tokenizer_dir=tokenizer_dir,
        )
        self.info.name = "llamacpp"
        self.info.detail = {
            "gguf": str(self.gguf_path),
            "gguf_sha256": gguf_sha256,
            "threads": self.threads,
        }

    # -- the child process ---------------------------------------------------------------
    def _spawn(self) -> None:
        cmd = server_command(
            self.gguf_path,
            self.port,
            model_id=self.model or "model",
            n_ctx=self.info.max_context,
            threads=self.threads,
        )
        env = dict(os.environ)
        env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        self._log.seek(0)
        self._log.truncate()
        self._proc = subprocess.Popen(
            cmd, stdout=self._log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        log.info("started llama.cpp server pid %s on port %s", self._proc.pid, self.port)

    def _log_tail(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-1500:]

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    async def _wait_listening(self) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if not self.alive():
                raise EngineError(
                    f"llama.cpp server exited with {self._proc.returncode}: {self._log_tail()}"
                )
            with contextlib.suppress(httpx.HTTPError):
                resp = await self._client.get("/v1/models", timeout=2)
                if resp.status_code == 200:
                    return
            await asyncio.sleep(0.2)
        raise EngineError(f"llama.cpp server did not start in {self.start_timeout_s:.0f} s")

    async def _ensure_running(self) -> None:
        if self.alive():
            return
        async with self._start_lock:
            if self.alive():
                return
            if self._proc is not None:
                self.restarts += 1
                log.warning(
                    "llama.cpp server exited with %s; restarting (restart %d)",
                    self._proc.returncode,
                    self.restarts,
                )
            self._spawn()
            await self._wait_listening()

    # -- the engine interface ---------------------------------------------------------------
    async def warmup(self) -> None:
        await self._ensure_running()
        await super().warmup()

    async def health(self) -> bool:
        if not self.alive():
            with contextlib.suppress(EngineError):
                await self._ensure_running()
            return False
        return await super().health()

    async def generate_stream(self, prompt_messages, params):
        await self._ensure_running()
        async for event in super().generate_stream(prompt_messages, params):
            yield event

    async def close(self) -> None:
        await super().close()
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                await asyncio.to_thread(proc.wait, 10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                await asyncio.to_thread(proc.wait)
        self._log.close()
