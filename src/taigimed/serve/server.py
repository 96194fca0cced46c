"""Run the app under uvicorn with graceful shutdown and JSON logs."""

from __future__ import annotations

import logging

from taigimed.config import Config
from taigimed.workdir import Workdir

log = logging.getLogger("taigimed.serve")


def run_server(cfg: Config, workdir: Workdir) -> None:
    """Blocks until SIGINT/SIGTERM; in-flight answers get ``serve.shutdown_grace_s`` to finish."""
    import uvicorn

    from taigimed.registry import RegistryError
    from taigimed.serve.app import create_app
    from taigimed.serve.logs import setup_logging

    s = cfg.serve
    setup_logging(json_lines=s.log_json)
    try:
        app = create_app(cfg, workdir)
    except (ValueError, OSError, RegistryError) as exc:  # bad --model, no upstream URL
        raise SystemExit(f"error: {exc}") from exc
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=s.host,
            port=s.port,
            log_config=None,  # our JSON handler; uvicorn's own loggers keep their default
            access_log=False,  # request lines carry paths only; our logs carry request ids
            timeout_graceful_shutdown=s.shutdown_grace_s or None,
            ws="websockets-sansio",
            # A frame over the limit closes the socket (1009) from its header, before its
            # payload is buffered or parsed.
            ws_max_size=s.ws_max_frame_bytes,
            # X-Forwarded-For is believed only from the configured ingress: uvicorn's
            # default trusts loopback, where any local client could name any address.
            proxy_headers=bool(s.trusted_proxies),
            forwarded_allow_ips=",".join(s.trusted_proxies) or "",
        )
    )
    server.run()
    if not server.started:  # start-up refused (e.g. review on without a reviewer credential)
        raise SystemExit(3)
