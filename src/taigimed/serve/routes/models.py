"""GET /v1/models: which model is served and why (without where it lies)."""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Request

from taigimed.serve.protocol import ErrorResponse, ModelCard, ModelList
from taigimed.serve.routes.deps import caller
from taigimed.serve.state import app_state

router = APIRouter(tags=["openai"])
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://\S+")
_FOLDERS = re.compile(r"(?:[A-Za-z]:)?[/\\]\S*[/\\]")


def public(text: str) -> str:
    """``text`` without filesystem folders or URLs (a model directory, the upstream server):
    they tell a caller where to look on the server or its network. The logs keep them."""
    return _FOLDERS.sub("", _URL.sub("<upstream>", text))


@router.get(
    "/v1/models",
    response_model=ModelList,
    dependencies=[Depends(caller)],
    responses={c: {"model": ErrorResponse} for c in (401, 429)},
)
async def list_models(request: Request) -> ModelList:
    info = app_state(request).engine.info
    card = ModelCard(
        id=public(info.model_id),
        taigimed={
            "version": public(info.model_version),
            "source": public(info.source),
            "engine": info.name,
            "max_context": info.max_context,
            **{k: v for k, v in info.detail.items() if k in ("device",)},
        },
    )
    return ModelList(data=[card])
