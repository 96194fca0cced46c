"""Local server processes: readiness fails with the log when the process dies; stop stops it."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from taigimed.localproc import NotReadyError, free_port, stop, wait_http


def test_free_port_can_be_bound():
    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_a_process_that_exits_is_not_ready_and_its_log_is_shown(tmp_path):
    log = tmp_path / "server.log"
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-c", "print('bad flag --nope'); raise SystemExit(3)"], stdout=fh
        )
    with pytest.raises(NotReadyError, match=r"exited 3:\nbad flag --nope"):
        wait_http(f"http://127.0.0.1:{free_port()}/readyz", proc, 30, log)


def test_a_silent_port_times_out(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with pytest.raises(NotReadyError, match=r"not ready after 0\.5 s"):
            wait_http(f"http://127.0.0.1:{free_port()}/readyz", proc, 0.5)
    finally:
        assert stop(proc) != 0  # terminated by the signal, not finished
    assert proc.poll() is not None
