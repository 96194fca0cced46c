"""Which model to serve, and why: the registry's answer turned into an engine."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from taigimed.config import Config
from taigimed.serve.engines.base import Engine
from taigimed.workdir import Workdir

log = logging.getLogger("taigimed.serve")
ENV_UPSTREAM_KEY = "TAIGIMED_UPSTREAM_API_KEY"


def describe(resolved, spec: str | None) -> tuple[str, str, str]:
    """(model id, version, why) for a ``taigimed.registry.ResolvedModel``."""
    path = Path(resolved.path)
    if resolved.source == "registry":
        version = f"{resolved.name}/v{resolved.version}"
        if spec is None and resolved.alias == "production":
            why = "the 'production' alias"
        elif spec is None:
            why = f"the newest aliased version (alias {resolved.alias!r}); no 'production' alias"
        else:
            why = f"asked for {spec!r}"
        return f"{resolved.name}-v{resolved.version}", version, why
    if resolved.source == "base":
        why = f"the base model {path.name}; no registered model"
        if resolved.alias:
            why = f"the base model {path.name}; no version holds {resolved.alias!r} yet"
        return path.name, f"base:{path.name}", why
    return path.name, f"dir:{path}", f"the model directory {path}"


def choose_engine(cfg: Config, model_dir: Path) -> tuple[str, str]:
    """("llamacpp" or "builtin", why) for ``serve.engine`` and the model to serve."""
    import importlib.util
    import json

    s = cfg.serve
    if s.engine in ("llamacpp", "builtin"):
        return s.engine, f"serve.engine={s.engine}"
    if s.device == "cuda":
        return "builtin", "serve.device=cuda (vLLM: serve.engine=upstream)"
    if s.device == "auto":
        import torch

        if torch.cuda.is_available():
            return "builtin", "a GPU is present (vLLM: serve.engine=upstream)"
    if importlib.util.find_spec("llama_cpp") is None:
        return "builtin", "llama-cpp-python is not installed (scripts/setup.sh)"
    try:
        model_type = json.loads((model_dir / "config.json").read_text())["model_type"]
    except (OSError, ValueError, KeyError):
        return "builtin", f"{model_dir} has no readable config.json"
    if model_type != "llama":
        return "builtin", f"model_type {model_type!r} has no GGUF export here"
    return "llamacpp", "CPU, llama-cpp-python installed, a Llama model: its GGUF via llama.cpp"


def build_engine(cfg: Config, workdir: Workdir) -> Engine:
    """The engine ``serve.engine`` names, for the model ``serve.model`` names."""
    s = cfg.serve
    if s.engine == "upstream":
        from taigimed.serve.engines.upstream import UpstreamEngine

        if not s.upstream_url:
            raise ValueError("serve.engine=upstream needs serve.upstream_url (or --upstream-url)")
        tokenizer_dir = s.model if s.model and (Path(s.model) / "config.json").exists() else None
        return UpstreamEngine(
            s.upstream_url,
            model=s.upstream_model,
            api_key=s.upstream_api_key or os.environ.get(ENV_UPSTREAM_KEY),
            max_context=cfg.model.max_context,
            source=f"the upstream server at {s.upstream_url}",
            tokenizer_dir=tokenizer_dir,
            connect_timeout_s=s.upstream_connect_timeout_s,
        )
    from taigimed.registry import resolve_model
    from taigimed.serve.engines.builtin import BuiltinEngine

    resolved = resolve_model(workdir, cfg, s.model, base_until_registered=s.base_until_registered)
    model_id, version, why = describe(resolved, s.model)
    log.info("serving %s (%s), chosen because: %s", model_id, version, why)
    engine, reason = choose_engine(cfg, Path(resolved.path))
    log.info("engine %s: %s", engine, reason)
    if engine == "llamacpp":
        from taigimed.models.gguf_export import ensure_gguf, template_for
        from taigimed.serve.engines.llamacpp import LlamaCppEngine

        gguf_type = s.gguf_type or cfg.eval.gguf_type
        exported = ensure_gguf(resolved.path, gguf_type, template_for(cfg.model.base, workdir))
        return LlamaCppEngine(
            exported.path,
            tokenizer_dir=str(resolved.path),
            model_id=model_id,
            model_version=version,
            source=why,
            max_context=cfg.model.max_context,
            threads=s.llama_threads,
            gguf_sha256=exported.sha256,
        )
    return BuiltinEngine(
        resolved.path,
        model_id=model_id,
        model_version=version,
        source=why,
        max_context=cfg.model.max_context,
        dtype=cfg.model.dtype,
        device=s.device,
        max_batch_size=s.max_batch_size,
        batch_wait_ms=s.batch_wait_ms,
        torch_threads=s.torch_threads,
        omp_wait_policy=s.omp_wait_policy,
        trust_remote_code=cfg.model.trust_remote_code,
    )
