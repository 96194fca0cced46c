"""Dependencies shared by routes: who is calling, within their rate limit."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.security import HTTPBearer

from taigimed.serve.security import Caller, bearer
from taigimed.serve.state import app_state

# Declares 'Authorization: Bearer' in the OpenAPI schema; the check itself is ours (below), so
# a missing key is our 401 in the OpenAI error shape, and no key is needed when keys are off.
api_key_scheme = HTTPBearer(
    scheme_name="ApiKey", auto_error=False, description="A key from 'taigimed keys create'."
)


async def caller(request: Request, _declared=Depends(api_key_scheme)) -> Caller:
    """The authenticated caller (when keys are required), counted against the rate limit."""
    st = app_state(request)
    address = request.client.host if request.client else "unknown"
    who = await st.auth.check(bearer(request.headers.get("authorization")), address)
    st.limiter.check(who)
    return who


def generation_params(
    request: Request,
    max_tokens: int | None,
    temperature: float | None,
    top_p: float | None,
    stop: str | list[str] | None = None,
    seed: int | None = None,
):
    """Engine parameters within the configured limits, or a 400 naming the limit."""
    from taigimed.serve.engines.base import GREEDY_BELOW, GenerationParams
    from taigimed.serve.errors import APIError

    s = app_state(request).cfg.serve
    n = max_tokens or s.default_max_tokens
    if n > s.max_tokens_limit:
        raise APIError(
            400,
            f"max_tokens={n} is above this server's limit of {s.max_tokens_limit}",
            param="max_tokens",
            code="invalid_value",
        )
    return GenerationParams(
        max_tokens=n,
        # Below 1e-5 every engine decodes greedily (a float32 temperature that small divides
        # the logits into infinities): said once here, for all of them.
        temperature=0.0 if temperature is None or temperature < GREEDY_BELOW else temperature,
        top_p=1.0 if top_p is None else top_p,
        stop=[stop] if isinstance(stop, str) else list(stop or []),
        seed=seed,
    )


def check_messages(request: Request, messages: list[dict[str, str]]) -> None:
    from taigimed.serve.errors import APIError

    s = app_state(request).cfg.serve
    if len(messages) > s.max_messages:
        raise APIError(
            400,
            f"{len(messages)} messages is more than this server's limit of {s.max_messages}",
            param="messages",
            code="invalid_value",
        )
    for i, m in enumerate(messages):
        if len(m["content"]) > s.max_message_chars:
            raise APIError(
                400,
                f"message {i} has {len(m['content'])} characters; the limit is "
                f"{s.max_message_chars}",
                param=f"messages.{i}.content",
                code="message_too_long",
            )
