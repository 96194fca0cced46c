"""Local server processes: a free loopback port, waiting until one answers, stopping it.

The llama.cpp engine picks its child's port here; benchmarks and tests start
`taigimed serve`, `llama_cpp.server` and `mlflow server` with the same three calls.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx


class NotReadyError(RuntimeError):
    """The process exited, or its URL did not answer 200 in time; the message has its log tail."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (the OS picks it)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, timeout: float, log: Path | None = None) -> None:
    """Poll ``url`` until it answers 200; fail with ``log``'s tail if ``proc`` exits first."""

    def tail() -> str:
        return f":\n{log.read_text(errors='replace')[-3000:]}" if log and log.exists() else ""

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise NotReadyError(f"{url}: process exited {proc.returncode}{tail()}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise NotReadyError(f"{url} not ready after {timeout} s{tail()}")


def stop(proc: subprocess.Popen, timeout: float = 20) -> int:
    """SIGTERM ``proc`` (its whole process group when it leads one), then SIGKILL if it hangs."""
    if proc.poll() is None:
        group = os.getpgid(proc.pid) == proc.pid
        send = (lambda sig: os.killpg(proc.pid, sig)) if group else proc.send_signal
        send(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            send(signal.SIGKILL)
            proc.wait()
    return proc.returncode
