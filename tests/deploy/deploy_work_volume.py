"""The work volume outlives the GPU lease: the Argo steps' PVC is ReadWriteMany and bound by
name to a static NFS PersistentVolume (Retain) on the k3s server's block volume; the server
exports exactly that path to the cluster's pod range only, every agent has the NFS client,
and no security-group rule opens NFS (it travels inside the WireGuard tunnel)."""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path
from typing import Any

import yaml

NFS_PORTS = (111, 2049)  # rpcbind, nfsd
WORK_CLAIM = "taigimed-work"


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def _claims_used(argo_docs: list[dict]) -> set[str]:
    names = set()
    for doc in argo_docs:
        spec = doc["spec"].get("workflowSpec", doc["spec"])
        for v in spec.get("volumes", []):
            if "persistentVolumeClaim" in v:
                names.add(v["persistentVolumeClaim"]["claimName"])
    return names


def _terraform_default(deploy: Path, name: str) -> str | None:
    import hcl2

    parsed = hcl2.loads((deploy / "terraform" / "variables.tf").read_text(encoding="utf-8"))
    for block in parsed.get("variable", []):
        for key, body in block.items():
            if key.strip('"') == name:
                return str(body.get("default", "")).strip('"') or None
    return None


def _cloud_init_packages(text: str) -> set[str]:
    m = re.search(r"(?m)^packages:\s*\[([^\]]*)\]", text)
    return {p.strip() for p in m.group(1).split(",")} if m else set()


def check_work_volume(deploy: Path) -> list[str]:
    from deploy_checks import _k8s_schema_error

    problems: list[str] = []
    argo, plain = [], []
    for path in sorted((deploy / "argo").glob("*.yaml")):
        for doc in _docs(path):
            (argo if doc.get("apiVersion", "").startswith("argoproj.io/") else plain).append(doc)
    claims = {d["metadata"]["name"]: d for d in plain if d["kind"] == "PersistentVolumeClaim"}
    volumes = {d["metadata"]["name"]: d for d in plain if d["kind"] == "PersistentVolume"}
    used = _claims_used(argo)
    if WORK_CLAIM not in used:
        problems.append(f"no Argo workflow mounts PVC {WORK_CLAIM}")
    for name in sorted(used - set(claims)):
        problems.append(f"Argo mounts PVC {name}, which no file in deploy/argo defines")
    for obj in [*claims.values(), *volumes.values()]:
        if error := _k8s_schema_error(json.dumps(obj, sort_keys=True)):
            problems.append(f"{obj['kind']}/{obj['metadata']['name']}: {error}")

    cidr = _terraform_default(deploy, "cluster_cidr")
    server_tpl = (deploy / "terraform" / "cloud-init" / "k3s-server.yaml.tftpl").read_text()
    agent_tpl = (deploy / "terraform" / "cloud-init" / "k3s-agent.yaml.tftpl").read_text()
    exports = dict(
        re.findall(r"(?m)^\s*(/srv/taigimed/\S+)\s+(.+)$", server_tpl.split("runcmd:")[0])
    )
    for name in sorted(used & set(claims)):
        pvc = claims[name]
        spec = pvc["spec"]
        where = f"PVC {name}"
        if spec.get("accessModes") != ["ReadWriteMany"]:
            problems.append(
                f"{where}: accessModes {spec.get('accessModes')}; steps on different nodes "
                "share it, so it must be ReadWriteMany"
            )
        if spec.get("storageClassName") != "":
            problems.append(
                f'{where}: storageClassName must be "" (a provisioner such as local-path would '
                "create it on the first node that mounts it, the GPU node)"
            )
        pv = volumes.get(spec.get("volumeName", ""))
        if pv is None:
            problems.append(
                f"{where}: volumeName {spec.get('volumeName')!r} names no PersistentVolume in "
                "deploy/argo: it must be bound to the static NFS volume"
            )
            continue
        pvs = pv["spec"]
        where = f"PV {pv['metadata']['name']}"
        ref = pvs.get("claimRef", {})
        if (ref.get("name"), ref.get("namespace")) != (name, pvc["metadata"]["namespace"]):
            problems.append(f"{where}: claimRef {ref} must name PVC {name} in its namespace")
        if "ReadWriteMany" not in pvs.get("accessModes", []):
            problems.append(f"{where}: must offer ReadWriteMany")
        if pvs.get("persistentVolumeReclaimPolicy") != "Retain":
            problems.append(f"{where}: reclaim policy must be Retain (training data)")
        if pvs.get("storageClassName") != "":
            problems.append(f'{where}: storageClassName must be "" to match the claim')
        nfs = pvs.get("nfs")
        if not nfs:
            problems.append(f"{where}: must be the k3s server's NFS export (spec.nfs)")
            continue
        if cidr is None:
            problems.append("terraform: variable cluster_cidr (with a default) is missing")
        else:
            want = str(ipaddress.ip_network(cidr)[0])
            if nfs.get("server") != want:
                problems.append(
                    f"{where}: nfs.server {nfs.get('server')} must be the k3s server's flannel-wg "
                    f"address {want} (first address of cluster_cidr {cidr})"
                )
        path = nfs.get("path")
        if path not in exports:
            problems.append(
                f"{where}: nfs.path {path} is not exported by the k3s server's cloud-init "
                f"(exports: {sorted(exports) or 'none'})"
            )
        else:
            clients = re.findall(r"(\S+?)\(", exports[path])
            if clients != ["${cluster_cidr}"]:
                problems.append(
                    f"server export of {path}: clients {clients}; only ${{cluster_cidr}} "
                    "(the cluster's pod range, reached through WireGuard) may mount it"
                )
            if "root_squash" not in exports[path] or "no_root_squash" in exports[path]:
                problems.append(f"server export of {path}: must use root_squash")
    if "nfs-kernel-server" not in _cloud_init_packages(server_tpl):
        problems.append("k3s server cloud-init: nfs-kernel-server is not installed")
    if "nfs-common" not in _cloud_init_packages(agent_tpl):
        problems.append("k3s agent cloud-init: nfs-common (the kubelet's NFS client) is missing")
    problems += _nfs_not_exposed(deploy)
    return problems


def _nfs_not_exposed(deploy: Path) -> list[str]:
    """No security-group rule opens an NFS port: NFS rides inside WireGuard."""
    import hcl2

    problems = []
    for tf in sorted((deploy / "terraform").glob("*.tf")):
        for block in hcl2.loads(tf.read_text(encoding="utf-8")).get("resource", []):
            for rule_name, body in block.get('"openstack_networking_secgroup_rule_v2"', {}).items():
                lo, hi = body.get("port_range_min"), body.get("port_range_max")
                if not isinstance(lo, int) or not isinstance(hi, int):
                    continue
                for port in NFS_PORTS:
                    if lo <= port <= hi:
                        problems.append(
                            f"{tf.name}: security-group rule {rule_name.strip(chr(34))} opens "
                            f"port {port} (NFS): the work volume travels inside WireGuard"
                        )
    return problems
