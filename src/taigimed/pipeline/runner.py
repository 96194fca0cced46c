"""Running one cached step, and the work-directory lock: the pipeline's machinery."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from taigimed.pipeline.isolate import PEAK_RSS_KEY
from taigimed.pipeline.results import StepResult
from taigimed.pipeline.state import PipelineState

Say = Callable[[str], None]
R = TypeVar("R", bound=StepResult)


@dataclass
class StepRow:
    step: str
    attempt: int | None
    status: str  # ran | cached | resumed | failed
    seconds: float
    detail: str = ""
    peak_rss_mb: float | None = None  # of the step's own process; None if it ran in ours


class PipelineLocked(RuntimeError):
    """Another pipeline run holds this work directory."""


class WorkdirLock:
    """One pipeline per work directory: two would race on the state file and the aliases."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self) -> WorkdirLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                try:
                    pid = int(self.path.read_text().strip() or 0)
                    os.kill(pid, 0)
                except (ValueError, ProcessLookupError):
                    self.path.unlink(missing_ok=True)  # left by a run that died
                    continue
                except PermissionError:
                    pass
                raise PipelineLocked(
                    f"another `taigimed pipeline run` (pid {pid}) is using this work directory; "
                    f"wait for it or remove {self.path} if it is gone"
                ) from None
            with os.fdopen(fd, "w") as f:
                f.write(str(os.getpid()))
            return self
        raise PipelineLocked(f"could not take {self.path}")

    def __exit__(self, *exc) -> None:
        self.path.unlink(missing_ok=True)


class Runner:
    def __init__(self, state: PipelineState, say: Say):
        self.state = state
        self.say = say
        self.rows: list[StepRow] = []

    def step(
        self,
        name: str,
        fp: str,
        fn: Callable[[bool], dict[str, Any]],
        attempt: int | None = None,
        valid: Callable[[dict[str, Any]], bool] = lambda _: True,
        detail: Callable[[dict[str, Any]], str] = lambda _: "",
    ) -> dict[str, Any]:
        label = name if attempt is None else f"{name} (attempt {attempt})"
        done = self.state.finished(name, fp)
        if done is not None and valid(done["outputs"]):
            self.rows.append(StepRow(name, attempt, "cached", 0.0, detail(done["outputs"])))
            self.say(f"[dim]✓ {label}: cached[/dim]")
            return done["outputs"]
        resume = self.state.was_interrupted(name, fp)
        self.say(f"[bold]▶ {label}[/bold]" + (" (resuming)" if resume else ""))
        self.state.start(name, fp)
        t0 = time.perf_counter()
        try:
            outputs = fn(resume)
        except BaseException:
            self.rows.append(StepRow(name, attempt, "failed", time.perf_counter() - t0))
            raise
        seconds = time.perf_counter() - t0
        self.state.finish(name, fp, outputs, seconds)
        status = "resumed" if resume else "ran"
        peak = outputs.get(PEAK_RSS_KEY) if isinstance(outputs, dict) else None
        self.rows.append(StepRow(name, attempt, status, seconds, detail(outputs), peak))
        self.say(f"[green]✓ {label}[/green] ({seconds:.1f} s)")
        return outputs

    def run(
        self,
        name: str,
        fp: str,
        fn: Callable[[bool], R],
        result: type[R],
        attempt: int | None = None,
        valid: Callable[[R], bool] | None = None,
    ) -> R:
        """``step`` for a typed result: stored as its outputs, read back as ``result``.

        A cached record is used when it still reads as ``result`` and ``valid`` (default:
        ``exists``) holds; otherwise the step runs again.
        """

        def usable(outputs: dict[str, Any]) -> bool:
            try:
                found = result.from_outputs(outputs)
            except (TypeError, KeyError, AttributeError):  # a record of another shape
                return False
            return (valid or result.exists)(found)

        outputs = self.step(
            name,
            fp,
            lambda resume: fn(resume).to_outputs(),
            attempt=attempt,
            valid=usable,
            detail=lambda o: result.from_outputs(o).summary(),
        )
        return result.from_outputs(outputs)
