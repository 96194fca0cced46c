"""Offline checks of deploy/: each takes the deploy folder and returns a list of problems.

tests/deploy/test_deploy.py runs every check on the real tree (no problems allowed) and on
deliberately broken copies (each check must report its breakage), so a check that cannot
fail is caught too.
"""

from __future__ import annotations

import importlib
import itertools
import json
import pkgutil
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from deploy_cli_parse import parse_cli_args
from kustomize_lite import KustomizeError, build

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
OVERLAYS = ("staging", "canary", "production")
K8S_VERSION = "1.32.0"
PROJECT_IMAGES = {
    "taigimed-cpu": "cpu",
    "taigimed-cuda": "cuda",
    "taigimed-rocm": "rocm",
    "taigimed-server": "server",
}
# Images of other projects, copied into the project's registry by
# deploy/release/mirror-images.sh (deploy/release/mirrors.txt) and pinned to a version tag:
# nothing the cluster runs depends on a registry the project does not control.
THIRD_PARTY_IMAGES = re.compile(
    r"^ghcr\.io/taigimed/mirror/[a-z0-9][\w.\-]*:(?!latest$)\w[\w.\-]*$"
)
# Environment variables read by libraries inside the project image rather than by our code.
EXTERNAL_ENV = {
    "MLFLOW_TRACKING_URI",
    "MLFLOW_BACKEND_STORE_URI",
    "OMP_WAIT_POLICY",
    "HF_HUB_OFFLINE",
    "HF_TOKEN",  # huggingface_hub: the gated base model
}
SERVER_PORT = 8000


def tool(name: str) -> str | None:
    """A command-line tool from the venv or PATH."""
    candidate = VENV_BIN / name
    if candidate.exists():
        return str(candidate)
    return shutil.which(name)


def load_yaml_docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def render_all(deploy: Path) -> dict[str, list[dict[str, Any]]]:
    rendered = {name: build(deploy / "k8s" / "overlays" / name) for name in OVERLAYS}
    rendered["platform"] = build(deploy / "k8s" / "platform")
    return rendered


def pod_specs(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = obj.get("spec", {})
    if obj["kind"] in {"Deployment", "StatefulSet", "DaemonSet", "Job"}:
        return [spec["template"]["spec"]]
    return []


# ---------------------------------------------------------------- Kubernetes


def check_k8s_render(deploy: Path) -> list[str]:
    try:
        render_all(deploy)
    except (KustomizeError, yaml.YAMLError, KeyError) as exc:
        return [f"render: {exc}"]
    return []


def check_k8s_schemas(deploy: Path) -> list[str]:
    """Built-in kinds against the Kubernetes JSON schemas (strict: unknown fields are errors);
    Traefik's CRD kinds against the small schemas in crd_schemas.py."""
    import jsonschema
    from deploy_crd_schemas import CRD_SCHEMAS

    problems = []
    try:
        rendered = render_all(deploy)
    except (KustomizeError, yaml.YAMLError, KeyError) as exc:
        return [f"render: {exc}"]
    for overlay, objects in rendered.items():
        for obj in objects:
            where = f"{overlay}: {obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
            key = (obj.get("apiVersion"), obj.get("kind"))
            if key in CRD_SCHEMAS:
                try:
                    jsonschema.validate(obj, CRD_SCHEMAS[key])
                except jsonschema.ValidationError as exc:
                    problems.append(f"{where}: {exc.message} at {list(exc.absolute_path)}")
                continue
            if error := _k8s_schema_error(json.dumps(obj, sort_keys=True)):
                problems.append(f"{where}: {error}")
    return problems


@cache
def _k8s_schema_error(obj_json: str) -> str | None:
    """kubernetes-validate on one object; cached, as broken copies repeat most objects."""
    import kubernetes_validate

    obj = json.loads(obj_json)
    try:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return f"{exc.message} at {list(exc.path)}"
    except kubernetes_validate.SchemaNotFoundError:
        return f"no schema for {obj.get('apiVersion')} {obj.get('kind')}; add one to crd_schemas.py"
    return None


def _server(objects: list[dict]) -> dict:
    deps = [
        o
        for o in objects
        if o["kind"] == "Deployment" and o["metadata"]["name"].startswith("taigimed")
    ]
    return deps[0]


def _env(container: dict) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def check_overlays_differ(deploy: Path) -> list[str]:
    """Replicas, alias and traffic weight are what make staging, canary and production."""
    want = {
        "staging": {"replicas": 1, "alias": "staging"},
        "canary": {"replicas": 1, "alias": "canary"},
        "production": {"replicas": 3, "alias": "production"},
    }
    problems = []
    try:
        rendered = render_all(deploy)
    except (KustomizeError, yaml.YAMLError, KeyError) as exc:
        return [f"render: {exc}"]
    for name, expected in want.items():
        dep = _server(rendered[name])
        container = dep["spec"]["template"]["spec"]["containers"][0]
        alias = _env(container).get("TAIGIMED_MODEL_ALIAS")
        if dep["spec"].get("replicas") != expected["replicas"]:
            problems.append(
                f"{name}: replicas {dep['spec'].get('replicas')} != {expected['replicas']}"
            )
        if alias != expected["alias"]:
            problems.append(f"{name}: serves alias {alias!r}, expected {expected['alias']!r}")
        for vllm in (o for o in rendered[name] if o["metadata"]["name"].startswith("vllm")):
            if vllm["kind"] != "Deployment":
                continue
            init = vllm["spec"]["template"]["spec"]["initContainers"][0]
            if _env(init).get("TAIGIMED_MODEL_ALIAS") != expected["alias"]:
                problems.append(
                    f"{name}: vLLM fetches alias {_env(init).get('TAIGIMED_MODEL_ALIAS')!r}"
                )
    # One definition of the split, in the canary overlay: a second one (production's) would
    # reset the weights whenever that overlay is re-applied.
    weights = {}
    for name in ("canary", "production", "staging"):
        split = [o for o in rendered[name] if o["kind"] == "TraefikService"]
        if name != "canary" and split:
            problems.append(
                f"{name}: defines TraefikService {split[0]['metadata']['name']}; only the canary "
                "overlay may define the split"
            )
        elif name == "canary" and len(split) != 1:
            problems.append(f"canary: expected one TraefikService, found {len(split)}")
        elif split:
            weights[name] = {
                s["name"]: s["weight"] for s in split[0]["spec"]["weighted"]["services"]
            }
    routes = [o for o in rendered["production"] if o["kind"] == "IngressRoute"]
    targets = [s.get("name") for r in routes for rt in r["spec"]["routes"] for s in rt["services"]]
    if targets != ["taigimed-split"]:
        problems.append(f"production: the IngressRoute must send to taigimed-split, got {targets}")
    canary = weights.get("canary", {})
    if canary.get("taigimed-canary", 0) <= 0 or canary.get("taigimed-canary", 0) >= canary.get(
        "taigimed", 0
    ):
        problems.append(f"canary: weight {canary} must send a small positive share to the canary")
    ns = {
        n: {o["metadata"].get("namespace") for o in rendered[n] if o["kind"] != "Namespace"}
        for n in OVERLAYS
    }
    if ns["canary"] != ns["production"] or ns["staging"] == ns["production"]:
        problems.append(f"namespaces: canary beside production, staging apart; got {ns}")
    if {"taigimed", "taigimed-canary"} - {
        o["metadata"]["name"]
        for n in ("canary", "production")
        for o in rendered[n]
        if o["kind"] == "Service"
    }:
        problems.append("services taigimed and taigimed-canary must both exist for the split")
    return problems


@cache
def server_routes() -> frozenset[str]:
    import taigimed.serve.routes as routes_pkg

    paths = set()
    for info in pkgutil.iter_modules(routes_pkg.__path__):
        module = importlib.import_module(f"taigimed.serve.routes.{info.name}")
        router = getattr(module, "router", None)
        if router is not None:
            paths.update(r.path for r in router.routes)
    return frozenset(paths)


@cache
def source_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "src").rglob("*.py"))


def _project_image(image: str) -> str | None:
    m = re.match(r"^ghcr\.io/taigimed/(taigimed-[a-z]+):[\w.\-]+$", image)
    return PROJECT_IMAGES.get(m.group(1)) if m else None


def check_k8s_matches_code(deploy: Path) -> list[str]:
    """Images, ports, probe paths, env vars and CLI arguments all exist in the project."""
    problems = []
    try:
        rendered = render_all(deploy)
    except (KustomizeError, yaml.YAMLError, KeyError) as exc:
        return [f"render: {exc}"]
    routes = server_routes()
    for overlay, objects in rendered.items():
        for obj in objects:
            for pod in pod_specs(obj):
                for c in pod.get("containers", []) + pod.get("initContainers", []):
                    where = f"{overlay}: {obj['metadata']['name']}/{c['name']}"
                    problems += _check_container(deploy, where, c, routes)
    return problems


def _check_container(deploy: Path, where: str, c: dict, routes: frozenset[str]) -> list[str]:
    problems = []
    image = c["image"]
    flavour = _project_image(image)
    if flavour is None:
        if not THIRD_PARTY_IMAGES.match(image):
            problems.append(
                f"{where}: image {image!r} is neither a project image nor a pinned known one"
            )
        return problems
    if not (deploy / "docker" / f"{flavour}.Dockerfile").exists():
        problems.append(f"{where}: image {image} has no deploy/docker/{flavour}.Dockerfile")
    env_names = {e["name"] for e in c.get("env", [])}
    args = c.get("args", [])
    for name in env_names:
        used_in_args = f"$({name})" in " ".join(args)
        if name not in EXTERNAL_ENV and not used_in_args and f'"{name}"' not in source_text():
            problems.append(f"{where}: env {name} is read nowhere in src/ (nor in args)")
    # Kubernetes expands $(VAR) from the container's env before the CLI sees it.
    values = {e["name"]: e.get("value", "x") for e in c.get("env", [])}
    argv = [re.sub(r"\$\((\w+)\)", lambda m: values.get(m.group(1), "x"), a) for a in args]
    command = c.get("command")
    if command in (None, ["taigimed"]):
        if error := parse_cli_args("taigimed", argv):
            problems.append(f"{where}: taigimed {' '.join(argv)}: {error}")
    elif command == ["mlflow"]:
        if error := parse_cli_args("mlflow", argv):
            problems.append(f"{where}: mlflow {' '.join(argv)}: {error}")
    else:
        problems.append(f"{where}: unexpected command {command} in a project image")
    ports = {p["containerPort"] for p in c.get("ports", [])}
    if argv[:1] == ["serve"]:
        port = argv[argv.index("--port") + 1] if "--port" in argv else None
        if port is None or int(port) not in ports or int(port) != SERVER_PORT:
            problems.append(f"{where}: serve --port {port} vs containerPort {ports}")
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            path = c.get(probe, {}).get("httpGet", {}).get("path")
            if path is not None and path not in routes:
                problems.append(f"{where}: {probe} path {path} is not a route of the server")
        if c.get("readinessProbe", {}).get("httpGet", {}).get("path") != "/readyz":
            problems.append(f"{where}: readiness must probe /readyz")
        if c.get("livenessProbe", {}).get("httpGet", {}).get("path") != "/healthz":
            problems.append(f"{where}: liveness must probe /healthz")
        if not c.get("resources", {}).get("requests") or not c.get("resources", {}).get("limits"):
            problems.append(f"{where}: resources requests and limits are required")
    return problems


def check_k8s_config(deploy: Path) -> list[str]:
    """Each overlay's config.yaml loads with the typed config and equals a fresh rendering."""
    import importlib.util

    from taigimed.config import ConfigError, load_config

    spec = importlib.util.spec_from_file_location(
        "render_config", deploy / "k8s" / "render_config.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    problems = []
    for folder, (recipe, overrides) in module.OVERLAYS.items():
        path = deploy / "k8s" / folder / "config.yaml"
        try:
            load_config(path)
        except ConfigError as exc:
            problems.append(f"{path}: {exc}")
            continue
        if path.read_text(encoding="utf-8") != module.render(recipe, overrides):
            problems.append(f"{path} is stale; run .venv/bin/python deploy/k8s/render_config.py")
    return problems


def check_secrets_not_in_git(deploy: Path) -> list[str]:
    problems = []
    for path in (deploy / "k8s").rglob("*.yaml"):
        for doc in load_yaml_docs(path):
            if doc.get("kind") == "Secret":
                problems.append(f"{path}: a Secret object in Git; reference it instead")
            text = json.dumps(doc)
            if re.search(r"postgres(ql)?(\+psycopg)?://[^:\"]+:[^@\"]+@", text):
                problems.append(f"{path}: a database URL with a password")
    return problems


# ---------------------------------------------------------------- hardening

# Service accounts whose pods talk to the Kubernetes API (none of ours do; Argo's workflow
# pods get theirs from deploy/argo, outside the rendered overlays).
API_CLIENTS: set[str] = set()
SECRET_NAMES = re.compile(r"(PASSWORD|SECRET|TOKEN|PEPPER|API_KEY|ACCESS_KEY)", re.IGNORECASE)


def _hardening_problems(where: str, spec: dict, accounts: dict[str, dict]) -> list[str]:
    problems = []
    pod_sc = spec.get("securityContext", {})
    sa = spec.get("serviceAccountName", "default")
    mounted = spec.get(
        "automountServiceAccountToken",
        accounts.get(sa, {}).get("automountServiceAccountToken", True),
    )
    if mounted and sa not in API_CLIENTS:
        problems.append(f"{where}: service-account token mounted but unused")
    for c in spec.get("initContainers", []) + spec.get("containers", []):
        at = f"{where}/{c['name']}"
        sc = c.get("securityContext", {})
        if not (sc.get("runAsNonRoot") or pod_sc.get("runAsNonRoot")):
            problems.append(f"{at}: runAsNonRoot is not set")
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{at}: allowPrivilegeEscalation must be false")
        if sc.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{at}: readOnlyRootFilesystem must be true (mount what it writes)")
        if "ALL" not in sc.get("capabilities", {}).get("drop", []):
            problems.append(f"{at}: capabilities must drop ALL")
        res = c.get("resources", {})
        for kind in ("requests", "limits"):
            for r in ("cpu", "memory"):
                if r not in res.get(kind, {}):
                    problems.append(f"{at}: no {r} {kind[:-1]}")
        for e in c.get("env", []):
            if SECRET_NAMES.search(e["name"]) and "value" in e:
                problems.append(f"{at}: {e['name']} is a literal; use a secretKeyRef")
    return problems


def check_hardening(deploy: Path) -> list[str]:
    """Every pod non-root, read-only root, no capabilities, bounded, no unused API token;
    every namespace behind a default-deny NetworkPolicy."""
    try:
        rendered = render_all(deploy)
    except (KustomizeError, yaml.YAMLError, KeyError) as exc:
        return [f"render: {exc}"]
    problems = []
    namespaces: dict[str, set[str]] = {}
    for overlay, objects in rendered.items():
        accounts = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ServiceAccount"}
        for obj in objects:
            ns = obj["metadata"].get("namespace") or (
                obj["metadata"]["name"] if obj["kind"] == "Namespace" else None
            )
            if ns:
                namespaces.setdefault(ns, set())
            if obj["kind"] == "NetworkPolicy":
                spec = obj["spec"]
                if (
                    spec.get("podSelector") == {}
                    and not spec.get("ingress")
                    and not spec.get("egress")
                    and set(spec.get("policyTypes", [])) == {"Ingress", "Egress"}
                ):
                    namespaces.setdefault(ns, set()).add("default-deny")
                else:
                    namespaces.setdefault(ns, set()).add("allow")
            for spec in pod_specs(obj):
                where = f"{overlay}: {obj['kind']}/{obj['metadata']['name']}"
                problems += _hardening_problems(where, spec, accounts)
    for ns, policies in sorted(namespaces.items()):
        if "default-deny" not in policies:
            problems.append(f"namespace {ns}: no default-deny NetworkPolicy")
    return problems


# ---------------------------------------------------------------- lint tools


def _run(cmd: list[str], cwd: Path | None = None) -> list[str]:
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=120)
    if r.returncode != 0:
        return [f"{' '.join(cmd[:2])}: {(r.stdout + r.stderr).strip()[-1500:]}"]
    return []


def check_yamllint(deploy: Path) -> list[str]:
    return _run([tool("yamllint"), "-c", str(deploy / ".yamllint.yaml"), "-s", str(deploy)])


def check_hadolint(deploy: Path) -> list[str]:
    files = sorted(str(p) for p in (deploy / "docker").glob("*.Dockerfile"))
    return _run([tool("hadolint"), "--config", str(deploy / "docker" / ".hadolint.yaml"), *files])


def check_shellcheck(deploy: Path) -> list[str]:
    """Shell scripts embedded in Argo templates, and the release scripts."""
    problems = []
    for path in sorted((deploy / "argo").glob("*.yaml")):
        for doc in load_yaml_docs(path):
            for t in _templates(doc):
                script = t.get("script")
                if script and script.get("command") in (["bash"], ["sh"]):
                    src = re.sub(r"\{\{[^}]+\}\}", "a b", script["source"])
                    r = subprocess.run(
                        [tool("shellcheck"), "-s", "bash", "-"],
                        input=src,
                        capture_output=True,
                        text=True,
                    )
                    if r.returncode:
                        problems.append(f"{path.name}:{t['name']}: {r.stdout.strip()[-800:]}")
    for path in sorted(deploy.rglob("*.sh")):  # release scripts
        r = subprocess.run([tool("shellcheck"), str(path)], capture_output=True, text=True)
        if r.returncode:
            problems.append(f"{path.name}: {r.stdout.strip()[-800:]}")
    return problems


# ---------------------------------------------------------------- Docker


def check_dockerfiles(deploy: Path) -> list[str]:
    """Non-root, healthcheck on /healthz, OCI labels from build args, constraints, the README's
    install (scripts/setup.sh), multi-stage, and ENTRYPOINT/CMD that the CLI accepts."""
    problems = []
    files = sorted((deploy / "docker").glob("*.Dockerfile"))
    if {f.name for f in files} != {f"{v}.Dockerfile" for v in PROJECT_IMAGES.values()}:
        problems.append(
            f"expected cpu, cuda, rocm and server Dockerfiles, found {[f.name for f in files]}"
        )
    for f in files:
        text = f.read_text(encoding="utf-8")
        lines = [
            ln.strip()
            for ln in re.sub(r"\\\n", " ", text).splitlines()
            if ln.strip() and not ln.startswith("#")
        ]
        users = [ln.split()[1] for ln in lines if ln.startswith("USER ")]
        if not users or users[-1].split(":")[0] in ("0", "root"):
            problems.append(
                f"{f.name}: the final USER must be non-root, got {users[-1:] or 'none'}"
            )
        if sum(ln.startswith("FROM ") for ln in lines) < 2:
            problems.append(f"{f.name}: not multi-stage")
        health = [ln for ln in lines if ln.startswith("HEALTHCHECK")]
        if not health or "/healthz" not in health[-1] or "/healthz" not in server_routes():
            problems.append(f"{f.name}: HEALTHCHECK must call /healthz")
        for label, arg in (("version", "VERSION"), ("revision", "GIT_COMMIT")):
            if (
                f'org.opencontainers.image.{label}="${{{arg}}}"' not in text
                or f"ARG {arg}" not in text
            ):
                problems.append(f"{f.name}: OCI label {label} must come from build arg {arg}")
        if "requirements/constraints.txt" not in text or "bash scripts/setup.sh" not in text:
            problems.append(
                f"{f.name}: must install with scripts/setup.sh and requirements/constraints.txt"
            )
        entry = [json.loads(ln.split(None, 1)[1]) for ln in lines if ln.startswith("ENTRYPOINT")]
        cmd = [json.loads(ln.split(None, 1)[1]) for ln in lines if ln.startswith("CMD")]
        if entry[-1:] != [["taigimed"]] or not cmd:
            problems.append(f'{f.name}: ENTRYPOINT must be ["taigimed"] with a CMD')
        elif error := parse_cli_args("taigimed", cmd[-1]):
            problems.append(f"{f.name}: CMD {cmd[-1]}: {error}")
        expose = [ln.split()[1] for ln in lines if ln.startswith("EXPOSE")]
        if expose != [str(SERVER_PORT)]:
            problems.append(f"{f.name}: EXPOSE {expose} != [{SERVER_PORT}]")
    return problems


# ---------------------------------------------------------------- Argo


def _templates(doc: dict) -> list[dict]:
    spec = doc.get("spec", {})
    spec = spec.get("workflowSpec", spec)
    return spec.get("templates", [])


def _configmaps(deploy: Path) -> dict[str, set[str]]:
    """ConfigMaps defined anywhere in deploy/, with their keys (for artifactRepositoryRef)."""
    found: dict[str, set[str]] = {}
    for path in sorted(deploy.rglob("*.yaml")):
        try:
            docs = load_yaml_docs(path)
        except yaml.YAMLError:
            continue
        for doc in docs:
            if isinstance(doc, dict) and doc.get("kind") == "ConfigMap":
                found[doc["metadata"]["name"]] = set(doc.get("data") or {})
    return found


def check_argo(deploy: Path) -> list[str]:
    from deploy_argo_rules import validate_argo_docs
    from deploy_argo_schema import validate_argo

    problems = []
    docs: dict[str, dict] = {}
    for path in sorted((deploy / "argo").glob("*.yaml")):
        for doc in load_yaml_docs(path):
            if doc.get("apiVersion", "").startswith("argoproj.io/"):
                problems += [f"{path.name}: {p}" for p in validate_argo(doc)]
                docs[doc["metadata"]["name"]] = doc
    problems += validate_argo_docs(list(docs.values()), _configmaps(deploy))
    problems += _check_argo_steps(docs)
    problems += _check_argo_shape(docs)
    return problems


def _params(doc: dict) -> dict[str, str]:
    spec = doc["spec"].get("workflowSpec", doc["spec"])
    return {p["name"]: p.get("value", "x") for p in spec.get("arguments", {}).get("parameters", [])}


def _fill(arg: str, params: dict[str, str]) -> str:
    """Workflow parameters by their defaults; any other {{...}} by a plausible word."""
    arg = re.sub(
        r"\{\{workflow\.parameters\.([\w-]+)\}\}", lambda m: params.get(m.group(1), "x"), arg
    )
    return re.sub(r"\{\{[^}]+\}\}", "canary", arg)


def _check_argo_steps(docs: dict[str, dict]) -> list[str]:
    """Every container step's argv parses with the real CLI (parameters filled in)."""
    problems = []
    for name, doc in docs.items():
        params = _params(doc)
        for t in _templates(doc):
            c = t.get("container")
            if (
                not c
                or _project_image(
                    params.get(c["image"][len("{{workflow.parameters.") : -2], c["image"])
                )
                is None
            ):
                continue

            argv = [_fill(a, params) for a in c.get("args", [])]
            ours, error = taigimed_argv(c.get("command"), argv)
            if ours is not None and not error:
                error = parse_cli_args("taigimed", ours)
            if error:
                problems.append(f"{name}/{t['name']}: {' '.join(argv)}: {error}")
    return problems


def taigimed_argv(command: list[str] | None, argv: list[str]) -> tuple[list[str] | None, str]:
    """(the taigimed CLI arguments of a container, a problem): its args, or under
    `accelerate launch ... -m taigimed.cli ARGS` the ARGS, with the launcher's own options
    parsed by accelerate's parser."""
    if command in (None, ["taigimed"]):
        return argv, ""
    if command != ["accelerate"]:
        return None, f"unexpected command {command}"
    if argv[:1] != ["launch"] or "taigimed.cli" not in argv:
        return None, "accelerate must `launch ... -m taigimed.cli`"
    i = argv.index("taigimed.cli")
    if argv[i - 1] != "-m":
        return None, "accelerate launch must run the module: -m taigimed.cli"
    from accelerate.commands.launch import launch_command_parser

    try:
        launch_command_parser().parse_args([*argv[1 : i - 1], "-m", "taigimed.cli"])
    except SystemExit:
        return None, f"accelerate launch rejects {argv[1 : i - 1]}"
    return argv[i + 1 :], ""


def _check_argo_shape(docs: dict[str, dict]) -> list[str]:
    problems = []
    training = docs.get("taigimed-training")
    if training is None:
        return ["WorkflowTemplate taigimed-training is missing"]
    templates = {t["name"]: t for t in _templates(training)}
    dag = {t["name"]: t for t in templates.get("pipeline", {}).get("dag", {}).get("tasks", [])}
    order = ["prepare", "stage1", "stage2", "evaluate", "gate", "register"]
    for before, after in itertools.pairwise(order):
        if before not in dag.get(after, {}).get("dependencies", []):
            problems.append(f"training DAG: {after} must depend on {before}")
    spec = training["spec"]
    for task in ("stage1", "stage2"):
        t = templates.get(dag.get(task, {}).get("template"), {})
        limits = t.get("container", {}).get("resources", {}).get("limits", {})
        if "nvidia.com/gpu" not in limits:
            problems.append(f"training DAG: {task} must request a GPU")
        if not (t.get("nodeSelector") or spec.get("nodeSelector")) or not (
            t.get("tolerations") or spec.get("tolerations")
        ):
            problems.append(f"training DAG: {task} needs a GPU nodeSelector and tolerations")
        backoff = t.get("retryStrategy", {}).get("backoff", {})
        if not backoff.get("duration"):
            problems.append(f"training DAG: {task} needs retries with backoff")
    cron = docs.get("taigimed-continuous-training")
    if cron is None:
        problems.append("CronWorkflow taigimed-continuous-training is missing")
    else:
        tasks = {t["name"]: t for t in _templates(cron)[0].get("dag", {}).get("tasks", [])}
        retrain = tasks.get("retrain", {})
        if retrain.get("templateRef", {}).get("name") != "taigimed-training":
            problems.append("CronWorkflow: retrain must use the taigimed-training template")
        if "drift-report" not in retrain.get("dependencies", []):
            problems.append("CronWorkflow: retraining must wait for the drift report")
        steps = " ".join(" ".join(t.get("container", {}).get("args", [])) for t in _templates(cron))
        if "data export-feedback" not in steps or "deploy drift" not in steps:
            problems.append("CronWorkflow: must run data export-feedback and deploy drift")
        if "data fetch" not in steps:
            problems.append("CronWorkflow: must fetch new data (taigimed data fetch)")
        # The loop: retraining with the gate's retry policy, then the release chained after it.
        looped = templates.get(retrain.get("templateRef", {}).get("template"), {})
        looped_args = [
            " ".join(templates.get(s["template"], {}).get("container", {}).get("args", []))
            for group in looped.get("steps", [])
            for s in group
        ]
        if not any(a.startswith("pipeline run") for a in looped_args):
            problems.append(
                "CronWorkflow: retrain must run `pipeline run` (the gate's retry policy)"
            )
        release = tasks.get("release", {})
        if release.get("templateRef") != {"name": "taigimed-promotion", "template": "promote"}:
            problems.append("CronWorkflow: release must run taigimed-promotion's promote")
        if "retrain" not in release.get("dependencies", []):
            problems.append("CronWorkflow: release must wait for retrain")
    promotion = docs.get("taigimed-promotion")
    if promotion is None:
        problems.append("WorkflowTemplate taigimed-promotion is missing")
    else:
        names = {t["name"] for t in _templates(promotion)}
        steps = " ".join(
            " ".join(t.get("container", {}).get("args", [])) for t in _templates(promotion)
        )
        for needed in ("deploy analyze", "model promote", "model rollback"):
            if needed not in steps:
                problems.append(f"promotion: no step runs '{needed}'")
        if "rollback-production" not in names:
            problems.append("promotion: a rollback-production entrypoint is required")
        by_name = {t["name"]: t for t in _templates(promotion)}
        first = (by_name.get("promote", {}).get("steps") or [[{}]])[0][0]
        first_args = by_name.get(first.get("template"), {}).get("container", {}).get("args", [])
        if first_args[:2] != ["deploy", "smoke"]:
            problems.append("promotion: promote must start with `deploy smoke` against staging")
        problems += _check_first_release(by_name)
    return problems


def check_work_volume(deploy: Path) -> list[str]:
    from deploy_work_volume import check_work_volume as check

    return check(deploy)


def _check_first_release(by_name: dict[str, dict]) -> list[str]:
    """A first model (no production yet) is released after its smoke test instead of
    waiting for a canary analysis that has no baseline; every later step takes one path."""
    groups = by_name.get("promote", {}).get("steps") or []
    second = groups[1][0] if len(groups) > 1 else {}
    args = by_name.get(second.get("template"), {}).get("container", {}).get("args", [])
    if args[:2] != ["model", "first-release"]:
        return [
            "promotion: after the smoke test, promote must run `model first-release` (a first "
            "model has no production version for a canary analysis)"
        ]
    problems = []
    ref = f"{{{{steps.{second['name']}.outputs.parameters.path}}}}"
    for group in groups[2:]:
        for step in group:
            if ref not in step.get("when", ""):
                problems.append(
                    f"promotion: step {step.get('name')} must run only on one release path "
                    f"(when: {ref} == first|canary)"
                )
    return problems


# ---------------------------------------------------------------- Terraform


def check_terraform(deploy: Path) -> list[str]:
    from deploy_terraform_check import check_terraform_dir

    return check_terraform_dir(deploy / "terraform")


# ---------------------------------------------------------------- monitoring


def check_promtool(deploy: Path) -> list[str]:
    promtool = tool("promtool")
    if promtool is None:
        return ["promtool not installed (Debian package prometheus)"]
    mon = deploy / "monitoring"
    return (
        _run([promtool, "check", "config", "--syntax-only", str(mon / "prometheus.yml")])
        + _run([promtool, "check", "rules", str(mon / "rules" / "taigimed-alerts.yml")])
        + _run([promtool, "test", "rules", "taigimed-alerts.test.yml"], cwd=mon / "rules")
    )


METRIC_RE = re.compile(r"\b(taigimed:[a-z0-9_]+(?::[a-z0-9_]+)*)")


def exported_sample_names(exposition: str) -> set[str]:
    """Sample names a /metrics text can carry, from its TYPE lines (even before any sample)."""
    names = set()
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_sum", "_count", "_created"),
        "gauge": ("",),
        "summary": ("", "_sum", "_count", "_created"),
    }
    for line in exposition.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(None, 3)
            if kind.strip() == "counter":  # newer clients already put _total in TYPE
                name = name.removesuffix("_total")
            names.update(name + s for s in suffixes.get(kind.strip(), ("",)))
    return names


def metric_names_used(deploy: Path) -> dict[str, set[str]]:
    """Metric names in the dashboard and in the alerting rules (recording rules excluded)."""
    mon = deploy / "monitoring"
    dash = json.loads((mon / "grafana" / "taigimed-dashboard.json").read_text(encoding="utf-8"))
    exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    exprs += [v["query"]["query"] for v in dash.get("templating", {}).get("list", [])]
    rules = yaml.safe_load((mon / "rules" / "taigimed-alerts.yml").read_text(encoding="utf-8"))
    recorded = {r["record"] for g in rules["groups"] for r in g["rules"] if "record" in r}
    rule_exprs = [r["expr"] for g in rules["groups"] for r in g["rules"]]
    return {
        "dashboard": {m for e in exprs for m in METRIC_RE.findall(e)},
        "rules": {m for e in rule_exprs for m in METRIC_RE.findall(e)} - recorded,
    }


def check_metric_names(deploy: Path, exposition: str | None = None) -> list[str]:
    """Every metric a panel or alert queries is one the server exports."""
    if exposition is None:
        from prometheus_client import generate_latest

        from taigimed.serve.metrics import Metrics

        exposition = generate_latest(Metrics("check", "builtin").registry).decode()
    exported = exported_sample_names(exposition)
    problems = []
    # taigimed:model_ready is optional (alert also uses `up`); anything else must exist.
    for where, names in metric_names_used(deploy).items():
        for name in sorted(names - exported - {"taigimed:model_ready"}):
            problems.append(f"{where}: queries {name}, which the server does not export")
    dash = json.loads((deploy / "monitoring" / "grafana" / "taigimed-dashboard.json").read_text())
    if not dash.get("panels"):
        problems.append("dashboard has no panels")
    return problems


ALL_CHECKS = {
    "k8s_render": check_k8s_render,
    "k8s_schemas": check_k8s_schemas,
    "overlays_differ": check_overlays_differ,
    "k8s_matches_code": check_k8s_matches_code,
    "k8s_config": check_k8s_config,
    "secrets": check_secrets_not_in_git,
    "hardening": check_hardening,
    "yamllint": check_yamllint,
    "hadolint": check_hadolint,
    "shellcheck": check_shellcheck,
    "dockerfiles": check_dockerfiles,
    "argo": check_argo,
    "work_volume": check_work_volume,
    "terraform": check_terraform,
    "promtool": check_promtool,
    "metric_names": check_metric_names,
}

# The rules that keep the first real run of the loop working (deploy_loop_rules.py imports
# this module's helpers, so it is added once they all exist).
from deploy_loop_rules import LOOP_CHECKS  # noqa: E402

ALL_CHECKS.update(LOOP_CHECKS)
