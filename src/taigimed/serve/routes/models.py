"""GET /v1/models: which model is served and why."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from taigimed.serve.protocol import ModelCard, ModelList
from taigimed.serve.routes.deps import caller
from taigimed.serve.state import app_state

router = APIRouter(tags=["openai"])


@router.get("/v1/models", response_model=ModelList, dependencies=[Depends(caller)])
async def list_models(request: Request) -> ModelList:
    info = app_state(request).engine.info
    card = ModelCard(
        id=info.model_id,
        taigimed={
            "version": info.model_version,
            "source": info.source,
            "engine": info.name,
            "max_context": info.max_context,
            **{k: v for k, v in info.detail.items() if k in ("path", "device", "upstream_url")},
        },
    )
    return ModelList(data=[card])
