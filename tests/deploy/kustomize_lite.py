"""A small kustomize for the subset deploy/k8s uses, so CI renders overlays without kubectl.

Supported ``kustomization.yaml`` keys are listed in ``SUPPORTED``; any other key is an error
rather than silently ignored. ``tests/deploy/test_k8s.py`` checks that the output equals
``kubectl kustomize`` wherever a kubectl is installed.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

SUPPORTED = {
    "apiVersion",
    "kind",
    "namespace",
    "nameSuffix",
    "labels",
    "resources",
    "configMapGenerator",
    "generatorOptions",
    "patches",
    "replicas",
}
CLUSTER_KINDS = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}
SELECTOR_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "PodDisruptionBudget"}
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}
# List items merged by this key in strategic merge patches (containers, env, ports, volumes...).
MERGE_KEYS = ("name", "containerPort", "mountPath")


class KustomizeError(ValueError):
    """A kustomization this renderer cannot or will not render; the message names the file."""


def load_documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def build(folder: Path) -> list[dict[str, Any]]:
    """Render ``folder/kustomization.yaml`` like ``kubectl kustomize folder``."""
    kfile = folder / "kustomization.yaml"
    if not kfile.exists():
        raise KustomizeError(f"{folder}: no kustomization.yaml")
    spec = yaml.safe_load(kfile.read_text(encoding="utf-8")) or {}
    unknown = set(spec) - SUPPORTED
    if unknown:
        raise KustomizeError(f"{kfile}: unsupported or misspelled keys {sorted(unknown)}")
    objects: list[dict[str, Any]] = []
    for ref in spec.get("resources", []):
        path = (folder / ref).resolve()
        if path.is_dir():
            objects.extend(build(path))
        elif path.is_file():
            objects.extend(load_documents(path))
        else:
            raise KustomizeError(f"{kfile}: resource {ref!r} does not exist")
    objects.extend(_generate(folder, spec, kfile))
    for patch in spec.get("patches", []):
        _apply_patch(folder, patch, objects, kfile)
    renames: dict[tuple[str, str], str] = {}
    if suffix := spec.get("nameSuffix"):
        for obj in objects:
            if obj["kind"] in {"Namespace"}:
                continue
            old = obj["metadata"]["name"]
            renames[(obj["kind"], old)] = old + suffix
            obj["metadata"]["name"] = old + suffix
        for obj in objects:
            _rewrite_references(obj, renames)
    for entry in spec.get("labels", []):
        for obj in objects:
            _add_labels(obj, entry["pairs"], entry.get("includeSelectors", False))
    if ns := spec.get("namespace"):
        for obj in objects:
            if obj["kind"] not in CLUSTER_KINDS:
                obj["metadata"]["namespace"] = ns
            if obj["kind"] == "ClusterRoleBinding":
                for subject in obj.get("subjects", []):
                    if subject.get("kind") == "ServiceAccount":
                        subject["namespace"] = ns
    for rep in spec.get("replicas", []):
        name = renames.get(("Deployment", rep["name"]), rep["name"])
        hits = [o for o in objects if o["kind"] in WORKLOAD_KINDS and o["metadata"]["name"] == name]
        if not hits:
            raise KustomizeError(f"{kfile}: replicas for unknown workload {rep['name']!r}")
        for obj in hits:
            obj["spec"]["replicas"] = rep["count"]
    return objects


def _generate(folder: Path, spec: dict, kfile: Path) -> list[dict[str, Any]]:
    generated = []
    options = spec.get("generatorOptions", {})
    for gen in spec.get("configMapGenerator", []):
        if not options.get("disableNameSuffixHash"):
            raise KustomizeError(
                f"{kfile}: only generatorOptions.disableNameSuffixHash is supported"
            )
        data: dict[str, str] = {}
        for item in gen.get("files", []):
            key, _, rel = item.rpartition("=") if "=" in item else ("", "", item)
            path = folder / rel
            if not path.is_file():
                raise KustomizeError(f"{kfile}: configMapGenerator file {rel!r} does not exist")
            data[key or Path(rel).name] = path.read_text(encoding="utf-8")
        for literal in gen.get("literals", []):
            key, _, value = literal.partition("=")
            data[key] = value
        generated.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": gen["name"]},
                "data": data,
            }
        )
    return generated


def _apply_patch(folder: Path, patch: dict, objects: list[dict], kfile: Path) -> None:
    if set(patch) - {"path"}:
        raise KustomizeError(f"{kfile}: only file patches ('path') are supported")
    for doc in load_documents(folder / patch["path"]):
        kind, name = doc["kind"], doc["metadata"]["name"]
        hits = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
        if not hits:
            raise KustomizeError(f"{kfile}: patch {patch['path']} targets unknown {kind}/{name}")
        for obj in hits:
            _merge(obj, doc)


def _merge(target: dict, patch: dict) -> None:
    """Strategic merge for the shapes used here: maps merge, named lists merge by key."""
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        elif isinstance(value, list) and isinstance(target.get(key), list):
            target[key] = _merge_list(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def _merge_list(current: list, patch: list) -> list:
    merge_key = next(
        (k for k in MERGE_KEYS if patch and all(isinstance(i, dict) and k in i for i in patch)),
        None,
    )
    if merge_key is None:
        return copy.deepcopy(patch)
    # As kubectl's strategic merge (no $setElementOrder): the patch's items first, in its
    # order (merged into their originals), then the originals the patch does not name.
    result = copy.deepcopy(current)
    merged = []
    for item in patch:
        match = next((r for r in result if r.get(merge_key) == item[merge_key]), None)
        if match is None:
            merged.append(copy.deepcopy(item))
        else:
            _merge(match, item)
            merged.append(match)
    named = {item[merge_key] for item in patch}
    return merged + [r for r in result if r.get(merge_key) not in named]


def _rewrite_references(obj: dict, renames: dict[tuple[str, str], str]) -> None:
    def renamed(kind: str, name: str) -> str:
        return renames.get((kind, name), name)

    spec = obj.get("spec", {})
    if target := spec.get("scaleTargetRef"):
        target["name"] = renamed(target["kind"], target["name"])
    if obj["kind"] == "StatefulSet" and "serviceName" in spec:
        spec["serviceName"] = renamed("Service", spec["serviceName"])
    pod = spec.get("template", {}).get("spec")
    if not pod:
        return
    if "serviceAccountName" in pod:
        pod["serviceAccountName"] = renamed("ServiceAccount", pod["serviceAccountName"])
    for volume in pod.get("volumes", []):
        if "configMap" in volume:
            volume["configMap"]["name"] = renamed("ConfigMap", volume["configMap"]["name"])
        if "persistentVolumeClaim" in volume:
            claim = volume["persistentVolumeClaim"]
            claim["claimName"] = renamed("PersistentVolumeClaim", claim["claimName"])
    for container in pod.get("containers", []) + pod.get("initContainers", []):
        for source in container.get("envFrom", []):
            if "configMapRef" in source:
                source["configMapRef"]["name"] = renamed(
                    "ConfigMap", source["configMapRef"]["name"]
                )
        for env in container.get("env", []):
            ref = env.get("valueFrom", {}).get("configMapKeyRef")
            if ref:
                ref["name"] = renamed("ConfigMap", ref["name"])


def _add_labels(obj: dict, pairs: dict[str, str], selectors: bool) -> None:
    obj["metadata"].setdefault("labels", {}).update(pairs)
    if not selectors:
        return
    spec = obj.get("spec", {})
    kind = obj["kind"]
    if kind in SELECTOR_KINDS:
        spec.setdefault("selector", {}).setdefault("matchLabels", {}).update(pairs)
    if kind == "Service":
        spec.setdefault("selector", {}).update(pairs)
    if kind in WORKLOAD_KINDS:
        tmeta = spec.setdefault("template", {}).setdefault("metadata", {})
        tmeta.setdefault("labels", {}).update(pairs)
    if kind == "StatefulSet":
        for claim in spec.get("volumeClaimTemplates", []):
            claim.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)
