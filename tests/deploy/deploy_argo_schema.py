"""Validate Argo manifests offline with hera's models (generated from Argo's API spec), plus
the one thing those models do not do: reject keys they do not know (a misspelled
``retryStratgy`` would otherwise be dropped silently and the step would never retry)."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError


def _models():
    from hera.workflows import models as m

    return {
        "WorkflowTemplate": m.WorkflowTemplate,
        "CronWorkflow": m.CronWorkflow,
        "Workflow": m.Workflow,
    }


def _unwrap(annotation: Any) -> list[Any]:
    """The concrete types inside Optional/Union/Annotated."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [t for a in typing.get_args(annotation) for t in _unwrap(a)]
    return [annotation]


def _unknown_keys(value: Any, annotation: Any, path: str) -> list[str]:
    problems: list[str] = []
    for t in _unwrap(annotation):
        origin = typing.get_origin(t)
        if origin in (list, tuple) and isinstance(value, list):
            (item,) = typing.get_args(t)[:1]
            for i, v in enumerate(value):
                problems += _unknown_keys(v, item, f"{path}[{i}]")
            return problems
        if origin is dict and isinstance(value, dict):
            item = typing.get_args(t)[1]
            for k, v in value.items():
                problems += _unknown_keys(v, item, f"{path}.{k}")
            return problems
        if isinstance(t, type) and issubclass(t, BaseModel):
            fields = t.model_fields
            if set(fields) == {"root"}:
                return _unknown_keys(value, fields["root"].annotation, path)
            if not isinstance(value, dict):
                continue
            by_key = {(f.alias or name): f for name, f in fields.items()}
            for k, v in value.items():
                if k not in by_key:
                    near = difflib.get_close_matches(k, list(by_key), n=1)
                    hint = f" (did you mean {near[0]!r}?)" if near else ""
                    problems.append(f"{path}.{k}: unknown field{hint}")
                else:
                    problems += _unknown_keys(v, by_key[k].annotation, f"{path}.{k}")
            return problems
    return problems


def validate_argo(doc: dict[str, Any]) -> list[str]:
    """Problems with one Argo manifest: hera's type checks plus unknown keys."""
    model = _models().get(doc.get("kind"))
    if model is None:
        return [f"unsupported Argo kind {doc.get('kind')!r}"]
    problems = []
    try:
        model.model_validate(doc)
    except ValidationError as exc:
        for err in exc.errors():
            problems.append(f"{'.'.join(map(str, err['loc']))}: {err['msg']}")
    problems += _unknown_keys(doc, model, doc.get("kind", "?"))
    return problems
