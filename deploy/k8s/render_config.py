"""Render each overlay's ``config.yaml`` (ConfigMap taigimed-config) from the typed config.

    .venv/bin/python deploy/k8s/render_config.py           # rewrite the three files
    .venv/bin/python deploy/k8s/render_config.py --check   # exit 1 when one is stale (CI)

Each file is a recipe plus overrides, loaded and validated by ``taigimed.config.load_config``
and written back with only the non-default values, so a misspelled or removed field fails here
and in tests/deploy, never in a pod at start-up.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from taigimed.config import load_config

K8S = Path(__file__).resolve().parent

# Traefik reaches the servers from k3s's pod network (the only other caller allowed in by
# network/app-namespace.yaml is taigimed-platform): its X-Forwarded-For names the client, so
# per-address limits and lockouts apply to users, not to the ingress (docs/security.md).
INGRESS = 'serve.trusted_proxies=["10.42.0.0/16"]'

# overlay folder -> (recipe, overrides). The alias is not here: it is the TAIGIMED_MODEL_ALIAS
# environment variable of each overlay, so one config serves any alias.
OVERLAYS: dict[str, tuple[str, list[str]]] = {
    # Staging serves the same registered model as production (the recipe names it) with the
    # built-in engine on a CPU node: a functional smoke test, not a speed one.
    "overlays/staging": (
        "gpu-7b",
        # before the first training run no version holds `staging`: serve the base meanwhile
        ["serve.engine=builtin", "serve.device=cpu", "serve.base_until_registered=true", INGRESS],
    ),
    "overlays/production": (
        "gpu-7b",
        [
            "serve.engine=upstream",
            "serve.upstream_url=http://vllm:8000",
            "serve.upstream_model=taigimed",
            INGRESS,
        ],
    ),
    "overlays/canary/app": (
        "gpu-7b",
        [
            "serve.engine=upstream",
            "serve.upstream_url=http://vllm-canary:8000",
            "serve.upstream_model=taigimed",
            INGRESS,
        ],
    ),
}

# A server pod reads only these sections; training and data settings stay out of its
# ConfigMap, so changing a training recipe does not restart servers.
SERVING_SECTIONS = ("name", "seed", "model", "serve", "tracking", "monitor")

HEADER = (
    "# Rendered by deploy/k8s/render_config.py from recipe {recipe!r} (the sections a server\n"
    "# reads); do not edit by hand.\n"
)


class _Indented(yaml.SafeDumper):
    """Lists indented under their key, as yamllint's configuration here wants them."""

    def increase_indent(self, flow: bool = False, indentless: bool = False):
        return super().increase_indent(flow, False)


def render(recipe: str, overrides: list[str]) -> str:
    cfg = load_config(recipe, overrides)
    dumped = cfg.model_dump(mode="json", exclude_defaults=True)
    tree = {k: v for k, v in dumped.items() if k in SERVING_SECTIONS}
    tree["name"] = cfg.name  # always say which recipe this came from
    body = yaml.dump(tree, Dumper=_Indented, sort_keys=True, allow_unicode=True)
    return HEADER.format(recipe=recipe) + body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="Only report stale files.")
    args = parser.parse_args(argv)
    stale = []
    for folder, (recipe, overrides) in OVERLAYS.items():
        path = K8S / folder / "config.yaml"
        text = render(recipe, overrides)
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        if args.check:
            stale.append(str(path))
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print("stale: " + ", ".join(stale) + "; run deploy/k8s/render_config.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
