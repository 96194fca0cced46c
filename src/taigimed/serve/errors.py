"""Errors in the OpenAI shape ``{"error": {"message", "type", "param", "code"}}``.

Bad input is always a 4xx naming what to fix; only our own faults are 5xx.
"""

from __future__ import annotations

import logging
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from taigimed.serve.logs import error_facts

log = logging.getLogger("taigimed.serve")


class APIError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        type_: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = (
            status,
            message,
            type_,
            param,
            code,
        )
        self.headers = headers

    def body(self) -> dict:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def validation_error(exc: RequestValidationError) -> APIError:
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request", "type": ""}
    loc = [str(p) for p in first.get("loc", ()) if p != "body"]
    param = ".".join(loc) or None
    if first.get("type") == "json_invalid":
        return APIError(
            400, f"the request body is not valid JSON: {first.get('msg')}", code="json_invalid"
        )
    msg = first.get("msg", "invalid value")
    where = f"{param}: " if param else ""
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return APIError(400, f"{where}{msg}{more}", param=param, code="invalid_value")


_STATUS_TYPES = {401: "authentication_error", 404: "not_found_error", 405: "invalid_request_error"}


def _allowed(request: Request, given: str | None) -> str:
    """Every method the schema documents at this request's path, and Starlette's own."""
    methods = {m.strip() for m in (given or "").split(",") if m.strip()}
    matches = []  # (parameters in the template, methods): the most literal one answers,
    for template, ops in request.app.openapi().get("paths", {}).items():  # as routing does
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, request.url.path):
            matches.append((template.count("{"), {m.upper() for m in ops}))
    if matches:
        fewest = min(n for n, _ in matches)
        methods = set().union(*(m for n, m in matches if n == fewest))
    return ", ".join(sorted(methods))


def install_handlers(app: FastAPI, metrics_error) -> None:
    @app.exception_handler(APIError)
    async def _api_error(request: Request, exc: APIError):
        if exc.status < 500:  # server-side failures are counted where they happen
            metrics_error(exc.code or exc.type)
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        metrics_error("invalid_request")
        return validation_error(exc).response()

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            # Starlette lists the methods of the first route matching the path only; GET and
            # POST /v1/review/{id} are two routes.
            given = (headers or {}).get("Allow")
            headers = {**(headers or {}), "Allow": _allowed(request, given)}
        return APIError(
            exc.status_code,
            f"{detail}: {request.method} {request.url.path}",
            _STATUS_TYPES.get(exc.status_code, "invalid_request_error"),
            headers=headers,
        ).response()

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        # The exception's text may quote the request (a database error quotes its parameters).
        log.error("unhandled error", extra=error_facts(exc))
        metrics_error("internal")
        return APIError(500, "internal error; see the server log", "server_error").response()
