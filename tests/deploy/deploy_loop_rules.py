"""Rules that keep the first real run of the cloud loop working (issue 22): each takes the
deploy folder and returns problems; tests/deploy/test_deploy.py runs each on the real tree and
on broken copies."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import hcl2
import yaml
from deploy_checks import (
    PROJECT_IMAGES,
    REPO,
    THIRD_PARTY_IMAGES,
    _params,
    _templates,
    load_yaml_docs,
    pod_specs,
    render_all,
)

GPU = "nvidia.com/gpu"
DOCS = REPO / "docs" / "deploy.md"


def _argo_docs(deploy: Path) -> dict[str, dict]:
    docs = {}
    for path in sorted((deploy / "argo").glob("*.yaml")):
        for doc in load_yaml_docs(path):
            if doc.get("apiVersion", "").startswith("argoproj.io"):
                docs[doc["metadata"]["name"]] = doc
    return docs


def _spec(doc: dict) -> dict:
    return doc["spec"].get("workflowSpec", doc["spec"])


def _image_of(t: dict, params: dict[str, str]) -> str | None:
    body = t.get("container") or t.get("script")
    if not body:
        return None
    image = body["image"]
    m = re.fullmatch(r"\{\{workflow\.parameters\.([\w-]+)\}\}", image)
    return params.get(m.group(1), image) if m else image


def _gpu_request(t: dict) -> Any:
    body = t.get("container") or t.get("script") or {}
    return body.get("resources", {}).get("limits", {}).get(GPU)


def _mirrors(deploy: Path) -> set[str]:
    path = deploy / "release" / "mirrors.txt"
    if not path.exists():
        return set()
    lines = [ln.split() for ln in path.read_text(encoding="utf-8").splitlines()]
    return {f"ghcr.io/taigimed/mirror/{ln[1]}" for ln in lines if len(ln) == 2 and ln[0][0] != "#"}


def _allowed_image(deploy: Path, image: str, mirrors: set[str]) -> str | None:
    m = re.fullmatch(r"ghcr\.io/taigimed/(taigimed-[a-z]+):[\w.\-]+", image)
    if m:
        flavour = PROJECT_IMAGES.get(m.group(1))
        if flavour is None or not (deploy / "docker" / f"{flavour}.Dockerfile").exists():
            return f"{image}: a project image without deploy/docker/<flavour>.Dockerfile"
        return None
    if THIRD_PARTY_IMAGES.match(image) and image in mirrors:
        return None
    return (
        f"{image}: not from the project's registry; build it (deploy/docker) or mirror it "
        "(deploy/release/mirrors.txt, mirror-images.sh)"
    )


def check_images_controlled(deploy: Path) -> list[str]:
    """Every image the cluster runs (rendered overlays, Argo steps, the cloud-init manifests)
    is built by the project or a pinned mirror listed in deploy/release/mirrors.txt."""
    problems, mirrors = [], _mirrors(deploy)
    for line in (deploy / "release" / "mirrors.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#") and re.search(r":latest\b", line):
            problems.append(f"mirrors.txt: {line.split()[0]} is not pinned to a version")
    for overlay, objects in render_all(deploy).items():
        for obj in objects:
            for pod in pod_specs(obj):
                for c in pod.get("containers", []) + pod.get("initContainers", []):
                    if error := _allowed_image(deploy, c["image"], mirrors):
                        problems.append(f"{overlay}: {obj['metadata']['name']}: {error}")
    for name, doc in _argo_docs(deploy).items():
        params = _params(doc)
        for t in _templates(doc):
            image = _image_of(t, params)
            if image and (error := _allowed_image(deploy, image, mirrors)):
                problems.append(f"{name}/{t['name']}: {error}")
    for tpl in sorted((deploy / "terraform" / "cloud-init").glob("*-device-plugin.yaml.tftpl")):
        for image in re.findall(r"image:\s*(\S+)", tpl.read_text(encoding="utf-8")):
            image = image.replace("${image_registry}", "ghcr.io/taigimed")
            if error := _allowed_image(deploy, image, mirrors):
                problems.append(f"{tpl.name}: {error}")
    return problems


def check_gpu_pods(deploy: Path) -> list[str]:
    """Pods that request a GPU run with the nvidia RuntimeClass (k3s does not make it the
    default), and GPU Deployments roll with surge (a new pod before the old one stops)."""
    problems = []
    for overlay, objects in render_all(deploy).items():
        for obj in objects:
            for pod in pod_specs(obj):
                gpu = any(
                    GPU in c.get("resources", {}).get("limits", {}) for c in pod["containers"]
                )
                if not gpu:
                    continue
                where = f"{overlay}: {obj['kind']} {obj['metadata']['name']}"
                if pod.get("runtimeClassName") != "nvidia":
                    problems.append(f"{where}: requests a GPU without runtimeClassName: nvidia")
                strategy = obj["spec"].get("strategy", {})
                rolling = strategy.get("rollingUpdate", {})
                if obj["kind"] == "Deployment" and (
                    strategy.get("type", "RollingUpdate") != "RollingUpdate"
                    or rolling.get("maxUnavailable") not in (0, "0", "0%")
                    or rolling.get("maxSurge") in (None, 0, "0", "0%")
                ):
                    problems.append(
                        f"{where}: a GPU Deployment must roll with maxSurge >= 1 and "
                        f"maxUnavailable 0 (a promotion must not be an outage), got {strategy}"
                    )
    for name, doc in _argo_docs(deploy).items():
        for t in _templates(doc):
            if _gpu_request(t) is None:
                continue
            patch = yaml.safe_load(t.get("podSpecPatch", "{}") or "{}")
            if patch.get("runtimeClassName") != "nvidia":
                problems.append(f"{name}/{t['name']}: GPU step without runtimeClassName nvidia")
    plugin = deploy / "terraform" / "cloud-init" / "nvidia-device-plugin.yaml.tftpl"
    if "runtimeClassName: nvidia" not in plugin.read_text(encoding="utf-8"):
        problems.append(f"{plugin.name}: the device plugin needs runtimeClassName: nvidia")
    return problems


def check_workflow_safety(deploy: Path) -> list[str]:
    """Every workflow has a deadline; the promotion and the loop have an exit handler that
    puts the canary back; GPU steps' retries have no maxDuration (it counts from the first
    attempt, so a step of hours would never be retried)."""
    problems = []
    docs = _argo_docs(deploy)
    for name, doc in docs.items():
        if doc["kind"] not in ("WorkflowTemplate", "CronWorkflow"):
            continue
        spec = _spec(doc)
        if not isinstance(spec.get("activeDeadlineSeconds"), int):
            problems.append(f"{name}: no activeDeadlineSeconds (a Pending GPU pod blocks Forbid)")
        for t in _templates(doc):
            backoff = t.get("retryStrategy", {}).get("backoff", {})
            if _gpu_request(t) is not None and "maxDuration" in backoff:
                problems.append(f"{name}/{t['name']}: GPU step retries with maxDuration")
    deadlines = {n: _spec(d).get("activeDeadlineSeconds", 0) for n, d in docs.items()}
    loop = deadlines.get("taigimed-continuous-training", 0)
    if loop < deadlines.get("taigimed-training", 0) + deadlines.get("taigimed-promotion", 0):
        problems.append("the loop's deadline must cover training and release deadlines")
    promotion = {t["name"]: t for t in _templates(docs.get("taigimed-promotion", {"spec": {}}))}
    for name in ("taigimed-promotion", "taigimed-continuous-training"):
        doc = docs.get(name)
        handler = _spec(doc).get("onExit") if doc else None
        own = {t["name"]: t for t in _templates(doc)} if doc else {}
        if handler not in own:
            problems.append(f"{name}: no onExit handler (a failed release leaves the canary)")
            continue
        text = yaml.safe_dump(own[handler])
        if name != "taigimed-promotion":
            ref = re.search(r"template: (\S+)\n", text)
            text = yaml.safe_dump(promotion.get(ref.group(1) if ref else "", {}))
        steps = [s for g in yaml.safe_load(text).get("steps", []) for s in g]
        bodies = " ".join(yaml.safe_dump(promotion.get(s.get("template"), {})) for s in steps)
        if "model promote --to canary" not in bodies or "rollout restart" not in bodies:
            problems.append(
                f"{name}: the exit handler must move canary back (model promote --to canary) "
                "and restart the canary pods"
            )
    return problems


def check_multi_gpu(deploy: Path) -> list[str]:
    """Training runs one process per requested GPU: `accelerate launch --num_processes` (or
    `pipeline run --set train.num_processes=`) equals the pod's GPU request; the device
    plugin refuses multi-GPU requests only while GPUs are time-sliced."""
    problems = []
    training = _argo_docs(deploy).get("taigimed-training")
    for t in _templates(training or {"spec": {}}):
        gpus = _gpu_request(t)
        c = t.get("container")
        if gpus is None or not c:
            continue
        argv = c.get("args", [])
        ours = argv[argv.index("taigimed.cli") + 1 :] if "taigimed.cli" in argv else argv
        if not ours or ours[0] not in ("train", "pipeline"):
            continue
        if ours[0] == "train":
            n = argv[argv.index("--num_processes") + 1] if "--num_processes" in argv else None
            if c.get("command") != ["accelerate"] or n != gpus:
                problems.append(
                    f"taigimed-training/{t['name']}: train must run under accelerate launch "
                    f"--num_processes {gpus} (the GPUs it requests), got {n}"
                )
        elif f"train.num_processes={gpus}" not in argv:
            problems.append(
                f"taigimed-training/{t['name']}: pipeline run must --set "
                f"train.num_processes={gpus} (the GPUs it requests)"
            )
    plugin = (deploy / "terraform" / "cloud-init" / "nvidia-device-plugin.yaml.tftpl").read_text()
    if "failRequestsGreaterThanOne: ${gpu_time_slices > 1}" not in plugin:
        problems.append(
            "nvidia-device-plugin: failRequestsGreaterThanOne must follow gpu_time_slices "
            "(true while sliced, false for whole GPUs)"
        )
    return problems


def check_rollout_waits(deploy: Path) -> list[str]:
    """Every restart waits for its rollout and checks that the new pods serve the version
    the alias names; staging's restart goes through that template with alias staging."""
    problems = []
    docs = _argo_docs(deploy)
    for name, doc in docs.items():
        for t in _templates(doc):
            src = (t.get("script") or {}).get("source", "")
            if "rollout restart" not in src:
                continue
            for needed, why in (
                ("rollout status", "wait for the rollout"),
                ("get_model_version_by_alias", "read the alias's version"),
                (" logs ", "read the version the new pods loaded"),
            ):
                if needed not in src:
                    problems.append(f"{name}/{t['name']}: a restart must {why} ({needed!r})")
    staging = {t["name"]: t for t in _templates(docs.get("taigimed-training", {"spec": {}}))}
    step = (staging.get("restart-staging", {}).get("steps") or [[{}]])[0][0]
    args = {p["name"]: p["value"] for p in step.get("arguments", {}).get("parameters", [])}
    if step.get("templateRef", {}).get("template") != "restart" or args.get("alias") != "staging":
        problems.append(
            "taigimed-training: restart-staging must use the restart template (alias staging)"
        )
    return problems


def _documented_secrets() -> dict[str, set[str]]:
    text = DOCS.read_text(encoding="utf-8").replace("\\\n", " ")
    found: dict[str, set[str]] = {}
    for m in re.finditer(r"create secret generic ([\w-]+)([^\n]*)", text):
        found.setdefault(m.group(1), set()).update(
            re.findall(r"--from-literal=([\w-]+)=", m.group(2))
        )
    return found


def check_secrets_documented(deploy: Path) -> list[str]:
    """Every Secret key a pod or step reads is created in docs/deploy.md; the smoke test's
    key is not optional (gpu-7b requires API keys)."""
    problems, documented = [], _documented_secrets()
    refs: list[tuple[str, dict]] = []
    for overlay, objects in render_all(deploy).items():
        for obj in objects:
            for pod in pod_specs(obj):
                for c in pod.get("containers", []) + pod.get("initContainers", []):
                    for e in c.get("env", []):
                        if ref := e.get("valueFrom", {}).get("secretKeyRef"):
                            refs.append((f"{overlay}: {obj['metadata']['name']}", ref))
    for name, doc in _argo_docs(deploy).items():
        for t in _templates(doc):
            body = t.get("container") or t.get("script") or {}
            for e in body.get("env", []):
                if ref := e.get("valueFrom", {}).get("secretKeyRef"):
                    refs.append((f"{name}/{t['name']}", ref))
                    if ref["name"] == "taigimed-smoke" and ref.get("optional"):
                        problems.append(f"{name}/{t['name']}: the smoke key must not be optional")
    for where, ref in refs:
        if ref["key"] not in documented.get(ref["name"], set()):
            problems.append(
                f"{where}: secret {ref['name']}/{ref['key']} is never created in docs/deploy.md"
            )
    return problems


def _tf(deploy: Path, name: str) -> dict:
    from deploy_terraform_check import _unquote

    return _unquote(hcl2.loads((deploy / "terraform" / name).read_text(encoding="utf-8")))


def check_cloud_boot(deploy: Path) -> list[str]:
    """The data volume is attached at boot (before cloud-init formats /dev/vdb); WireGuard
    is open between the nodes' floating IPs; the loop's bucket is Terraform's; the lease has
    a renewal script."""
    problems = []
    compute = _tf(deploy, "compute.tf")
    servers = [
        r["openstack_compute_instance_v2"]["server"]
        for r in compute.get("resource", [])
        if "server" in r.get("openstack_compute_instance_v2", {})
    ]
    devices = servers[0].get("block_device", []) if servers else []
    if not any("openstack_blockstorage_volume_v3.data.id" in str(d.get("uuid")) for d in devices):
        problems.append("the server must get the data volume as a block_device at boot")
    if "openstack_compute_volume_attach_v2" in (deploy / "terraform" / "storage.tf").read_text():
        problems.append("storage.tf: a volume attach runs after cloud-init; attach at boot")
    network = _tf(deploy, "network.tf")
    rules = [
        body
        for r in network.get("resource", [])
        for name, body in r.get("openstack_networking_secgroup_rule_v2", {}).items()
    ]
    wg = [
        r
        for r in rules
        if r.get("protocol") == "udp"
        and r.get("port_range_min") == 51820
        and "kvm_node_ips" in str(r.get("remote_ip_prefix"))
    ]
    if not wg:
        problems.append("network.tf: udp/51820 must be open between the nodes' floating IPs")
    variables = {k: v for d in _tf(deploy, "variables.tf")["variable"] for k, v in d.items()}
    bucket = f"artifacts-{variables['project_suffix']['default']}"
    cron = _argo_docs(deploy).get("taigimed-continuous-training")
    if cron and _params(cron).get("store-bucket") != bucket:
        problems.append(f"CronWorkflow: store-bucket must default to Terraform's {bucket}")
    lease = deploy / "terraform" / "lease.sh"
    if not lease.exists() or "--prolong-for" not in lease.read_text(encoding="utf-8"):
        problems.append("terraform/lease.sh must renew the GPU lease (--prolong-for)")
    return problems


def _gi(quantity: str) -> float:
    m = re.fullmatch(r"(\d+)(Gi|Mi)", str(quantity))
    return int(m.group(1)) / (1024 if m and m.group(2) == "Mi" else 1) if m else 0.0


def check_sizes(deploy: Path) -> list[str]:
    """Volumes that hold a 7B model (~14 GB in bf16) can: staging's work directory holds the
    base and a registered version, vLLM's model folder one version; staging serves the base
    until a version is registered."""
    problems = []
    rendered = render_all(deploy)
    need = {("staging", "taigimed", "workdir"): 30, ("production", "vllm", "models"): 20}
    for (overlay, name, volume), gi in need.items():
        obj = next(
            o
            for o in rendered[overlay]
            if o["metadata"]["name"] == name and o["kind"] == "Deployment"
        )
        vol = next(v for v in obj["spec"]["template"]["spec"]["volumes"] if v["name"] == volume)
        size = vol.get("emptyDir", {}).get("sizeLimit", "0Gi")
        if _gi(size) < gi:
            problems.append(f"{overlay}: {name} volume {volume} {size} < {gi}Gi (a 7B model)")
    config = yaml.safe_load((deploy / "k8s" / "overlays" / "staging" / "config.yaml").read_text())
    if not config.get("serve", {}).get("base_until_registered"):
        problems.append(
            "staging: serve.base_until_registered must be true (it crash-loops on an empty "
            "registry otherwise)"
        )
    return problems


LOOP_CHECKS = {
    "images_controlled": check_images_controlled,
    "gpu_pods": check_gpu_pods,
    "workflow_safety": check_workflow_safety,
    "multi_gpu": check_multi_gpu,
    "rollout_waits": check_rollout_waits,
    "secrets_documented": check_secrets_documented,
    "cloud_boot": check_cloud_boot,
    "sizes": check_sizes,
}
