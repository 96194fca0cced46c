"""Serving settings. Owned by serving (issue 5)."""

from typing import Literal

from pydantic import Field

from taigimed.configbase import StrictModel


class ServeConfig(StrictModel):
    host: str = Field("127.0.0.1", description="Interface to bind.")
    port: int = Field(8000, ge=0, le=65535, description="Port to bind; 0 picks a free one.")
    engine: Literal["builtin", "upstream"] = Field("builtin", description="Model engine.")
    model: str | None = Field(
        None, description="Registry alias or model directory; None: production, newest, base."
    )
