"""Structured JSON logs with request ids; privacy mode keeps prompt text out of INFO logs."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "taigimed_request_id", default=None
)
_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if rid := request_id_var.get():
            out["request_id"] = rid
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def setup_logging(json_lines: bool = True, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if json_lines else logging.Formatter("%(levelname)s %(name)s %(message)s")
    )
    root = logging.getLogger("taigimed")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def text_for_log(text: str, privacy_mode: bool, logger: logging.Logger) -> str:
    """The text itself only when privacy mode is off or DEBUG is on; else its length."""
    if privacy_mode and not logger.isEnabledFor(logging.DEBUG):
        return f"<{len(text)} chars>"
    return text


def error_facts(exc: BaseException) -> dict[str, str | None]:
    """What a log line may say about a failure without personal data. Exception messages
    may quote it: SQLAlchemy's carry the statement's parameters (a patient's message), and
    PostgreSQL's DETAIL quotes the failing row; even primary messages can quote a value.
    So: the exception's type and where it was raised, and for a database error the driver's
    error class with its code and the constraint, table and column it names."""
    facts: dict[str, str | None] = {"error": type(exc).__name__}
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is not None:
        facts["at"] = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}"
    orig = getattr(exc, "orig", None)  # sqlalchemy.exc.DBAPIError wraps the driver's error
    if orig is not None:
        facts["db_error"] = type(orig).__name__
        if (diag := getattr(orig, "diag", None)) is not None:  # psycopg
            facts["sqlstate"] = getattr(orig, "sqlstate", None)
            for name in ("constraint_name", "table_name", "column_name"):
                if value := getattr(diag, name, None):
                    facts[name.removesuffix("_name")] = value
        elif name := getattr(orig, "sqlite_errorname", None):  # sqlite3
            facts["sqlstate"] = name
    return facts
