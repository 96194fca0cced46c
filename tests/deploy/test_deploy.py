"""Offline validation of deploy/: every check passes on the real tree and fails on a
deliberately broken copy (so no check is one that cannot fail).

    .venv/bin/python -m pytest tests/deploy -q
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from deploy_checks import ALL_CHECKS, REPO, tool
from kustomize_lite import build

DEPLOY = REPO / "deploy"


@pytest.mark.parametrize("name", sorted(ALL_CHECKS))
def test_check_passes_on_the_real_tree(name):
    assert ALL_CHECKS[name](DEPLOY) == []


def _edit(rel: str, old: str, new: str, count: int = 1) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = root / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, f"breakage no longer applies: {old!r} not in {rel}"
        path.write_text(text.replace(old, new, count), encoding="utf-8")

    return apply


def _append(rel: str, extra: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        with (root / rel).open("a", encoding="utf-8") as f:
            f.write(extra)

    return apply


def _dashboard_query(root: Path) -> None:
    path = root / "monitoring" / "grafana" / "taigimed-dashboard.json"
    dash = json.loads(path.read_text())
    dash["panels"][0]["targets"][0]["expr"] = "rate(taigimed:requests_total[5m])"
    path.write_text(json.dumps(dash))


# (check, breakage, a fragment of the expected problem)
BREAKAGES = {
    "k8s_render-missing-resource": (
        "k8s_render",
        _edit("k8s/base/kustomization.yaml", "  - pdb.yaml", "  - pdbs.yaml"),
        "pdbs.yaml",
    ),
    "k8s_render-misspelled-key": (
        "k8s_render",
        _edit("k8s/overlays/staging/kustomization.yaml", "replicas:", "replica:"),
        "replica",
    ),
    "k8s_schemas-unknown-field": (
        "k8s_schemas",
        _edit("k8s/base/deployment.yaml", "readinessProbe:", "readynessProbe:"),
        "readynessProbe",
    ),
    "k8s_schemas-wrong-type": (
        "k8s_schemas",
        _edit("k8s/base/hpa.yaml", "maxReplicas: 3", "maxReplicas: three"),
        "three",
    ),
    "k8s_schemas-crd": (
        "k8s_schemas",
        _edit("k8s/overlays/canary/split.yaml", "weight: 10", "wieght: 10"),
        "wieght",
    ),
    "overlays_differ-alias": (
        "overlays_differ",
        _edit("k8s/overlays/canary/app/patch-server.yaml", "value: canary", "value: production"),
        "alias",
    ),
    "overlays_differ-replicas": (
        "overlays_differ",
        _edit("k8s/overlays/production/kustomization.yaml", "count: 3", "count: 1"),
        "replicas",
    ),
    "overlays_differ-weight": (
        "overlays_differ",
        _edit("k8s/overlays/canary/split.yaml", "weight: 10", "weight: 0"),
        "weight",
    ),
    "k8s_matches_code-subcommand": (
        "k8s_matches_code",
        _edit("k8s/base/deployment.yaml", "            - serve\n", "            - serv\n"),
        "no such command",
    ),
    "k8s_matches_code-flag": (
        "k8s_matches_code",
        _edit("k8s/gpu/vllm.yaml", "            - --out\n", "            - --output\n"),
        "--output",
    ),
    "k8s_matches_code-probe": (
        "k8s_matches_code",
        _edit("k8s/base/deployment.yaml", "path: /readyz", "path: /ready"),
        "/ready",
    ),
    "k8s_matches_code-env": (
        "k8s_matches_code",
        _edit("k8s/base/deployment.yaml", "name: TAIGIMED_DATABASE_URL", "name: TAIGIMED_DB_URL"),
        "TAIGIMED_DB_URL",
    ),
    "k8s_matches_code-image": (
        "k8s_matches_code",
        _edit("k8s/base/deployment.yaml", "taigimed-cpu:0.1.0", "taigimed-gpu:0.1.0"),
        "image",
    ),
    "k8s_matches_code-mlflow-flag": (
        "k8s_matches_code",
        _edit("k8s/platform/mlflow.yaml", "--serve-artifacts", "--serve-artefacts"),
        "mlflow",
    ),
    "k8s_config-bad-field": (
        "k8s_config",
        _append("k8s/overlays/staging/config.yaml", "  max_batch_sise: 4\n"),
        "max_batch_sise",
    ),
    "secrets-in-git": (
        "secrets",
        _append(
            "k8s/base/service.yaml", "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: x\n"
        ),
        "Secret",
    ),
    "hardening-read-only-root": (
        "hardening",
        _edit("k8s/gpu/vllm.yaml", "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false"),
        "fetch-model: readOnlyRootFilesystem must be true",
    ),
    "hardening-cpu-limit": (
        "hardening",
        _edit("k8s/gpu/vllm.yaml", '              cpu: "8"\n', ""),
        "vllm: no cpu limit",
    ),
    "hardening-token": (
        "hardening",
        _edit("k8s/gpu/vllm.yaml", "      automountServiceAccountToken: false\n", ""),
        "Deployment/vllm: service-account token mounted but unused",
    ),
    "hardening-capabilities": (
        "hardening",
        _edit("k8s/platform/postgres.yaml", 'drop: ["ALL"]', 'drop: ["NET_RAW"]'),
        "postgres: capabilities must drop ALL",
    ),
    "hardening-literal-secret": (
        "hardening",
        _edit(
            "k8s/base/deployment.yaml",
            "            - name: TAIGIMED_API_KEY_PEPPER\n"
            "              valueFrom:\n"
            "                secretKeyRef:\n"
            "                  name: taigimed-secrets\n"
            "                  key: api-key-pepper\n",
            "            - name: TAIGIMED_API_KEY_PEPPER\n              value: hunter2\n",
        ),
        "TAIGIMED_API_KEY_PEPPER is a literal",
    ),
    "hardening-default-deny": (
        "hardening",
        _edit(
            "k8s/network/app-namespace.yaml",
            "  podSelector: {}\n  policyTypes: [Ingress, Egress]\n",
            "  podSelector: {}\n  policyTypes: [Ingress]\n",
        ),
        "namespace taigimed-prod: no default-deny NetworkPolicy",
    ),
    "yamllint-duplicate-key": (
        "yamllint",
        _edit(
            "k8s/base/service.yaml", "  type: ClusterIP\n", "  type: ClusterIP\n  type: NodePort\n"
        ),
        "duplication",
    ),
    "hadolint-latest-tag": (
        "hadolint",
        _edit(
            "docker/server.Dockerfile",
            "ARG PYTHON_IMAGE=python:3.11-slim-bookworm\n",
            "ARG PYTHON_IMAGE=python:3.11-slim-bookworm\nFROM debian AS extra\nRUN cd /tmp\n",
        ),
        "DL",
    ),
    "shellcheck-unquoted": (
        "shellcheck",
        _edit(
            "argo/promotion-workflowtemplate.yaml",
            "set -euo pipefail",
            "set -euo pipefail\n          cd $work_dir",
        ),
        "SC2086",
    ),
    "shellcheck-release-script": (
        "shellcheck",
        _edit("release/pin-digests.sh", '"$root"/argo/*.yaml', "$root/argo/*.yaml"),
        "SC2086",
    ),
    "dockerfiles-root": (
        "dockerfiles",
        _edit("docker/cpu.Dockerfile", "USER 10001:10001", "USER root"),
        "non-root",
    ),
    "dockerfiles-healthcheck": (
        "dockerfiles",
        _edit("docker/cuda.Dockerfile", "/healthz", "/health", count=-1),
        "HEALTHCHECK",
    ),
    "dockerfiles-cmd": (
        "dockerfiles",
        _edit("docker/server.Dockerfile", 'CMD ["serve",', 'CMD ["server",'),
        "no such command",
    ),
    "argo-misspelled-key": (
        "argo",
        _edit(
            "argo/training-workflowtemplate.yaml", "retryStrategy: *retry", "retryStratgy: *retry"
        ),
        "did you mean 'retryStrategy'",
    ),
    "argo-wrong-type": (
        "argo",
        _edit(
            "argo/continuous-training-cronworkflow.yaml",
            "startingDeadlineSeconds: 3600",
            "startingDeadlineSeconds: soon",
        ),
        "startingDeadlineSeconds",
    ),
    "argo-removed-flag": (
        "argo",
        _edit("argo/training-workflowtemplate.yaml", '--stage, "1"', '--stages, "1"'),
        "--stages",
    ),
    "argo-dag-order": (
        "argo",
        _edit(
            "argo/training-workflowtemplate.yaml",
            "dependencies: [stage1]",
            "dependencies: [prepare]",
        ),
        "stage2 must depend on stage1",
    ),
    "argo-no-gpu": (
        "argo",
        _edit(
            "argo/training-workflowtemplate.yaml",
            "resources: &gpu\n"
            '          requests: {cpu: "8", memory: 64Gi, nvidia.com/gpu: "{{workflow.parameters.gpus}}"}\n'  # noqa: E501
            '          limits: {memory: 96Gi, nvidia.com/gpu: "{{workflow.parameters.gpus}}"}',
            "resources: &gpu\n          limits: {memory: 96Gi}",
        ),
        "GPU",
    ),
    # Argo's own validation rules (deploy_argo_rules.py). The first is the training template
    # as it was: a container template's output read with valueFrom.expression.
    "argo-rules-container-output-expression": (
        "argo",
        _edit(
            "argo/training-workflowtemplate.yaml",
            "              path: /var/lib/taigimed/runs/stage2/latest.json\n",
            "              path: /var/lib/taigimed/runs/stage2/latest.json\n"
            "          - name: run-dir\n"
            "            valueFrom:\n"
            "              expression: \"jsonpath(outputs.parameters.latest, '$.run_dir')\"\n",
        ),
        "run-dir.path must be specified for Container templates",
    ),
    "argo-rules-unresolved-input": (
        "argo",
        _edit(
            "argo/training-workflowtemplate.yaml",
            '"{{inputs.parameters.stage2-run}}/model"',
            '"{{inputs.parameters.stage2_run}}/model"',
        ),
        "failed to resolve {{inputs.parameters.stage2_run}}",
    ),
    "argo-rules-unresolved-task-output": (
        "argo",
        _edit(
            "argo/training-workflowtemplate.yaml",
            "tasks.stage2.outputs.parameters.latest",
            "tasks.stage2.outputs.parameters.last",
        ),
        "failed to resolve {{tasks.stage2.outputs.parameters.last}}",
    ),
    "argo-rules-unresolved-workflow-parameter": (
        "argo",
        _edit(
            "argo/promotion-workflowtemplate.yaml",
            '--window, "{{workflow.parameters.window}}"',
            '--window, "{{workflow.parameters.windows}}"',
        ),
        "failed to resolve {{workflow.parameters.windows}}",
    ),
    "argo-rules-referenced-template-needs-caller-parameter": (
        "argo",
        _edit(
            "argo/continuous-training-cronworkflow.yaml",
            "        - name: window\n          value: 30m\n",
            "",
        ),
        "taigimed-promotion: templates.bake failed to resolve {{workflow.parameters.window}}",
    ),
    "argo-rules-missing-dependency": (
        "argo",
        _edit(
            "argo/training-workflowtemplate.yaml",
            "            template: evaluate\n            dependencies: [stage2]",
            "            template: evaluate\n            dependencies: [stage1]",
        ),
        "missing dependency 'stage2'",
    ),
    "argo-rules-undefined-dependency": (
        "argo",
        _edit(
            "argo/training-workflowtemplate.yaml", "dependencies: [gate]", "dependencies: [gates]"
        ),
        "dependency 'gates' not defined",
    ),
    "argo-rules-cycle": (
        "argo",
        _edit(
            "argo/training-workflowtemplate.yaml",
            "            template: data-prepare\n",
            "            template: data-prepare\n            dependencies: [register]\n",
        ),
        "dependency cycle",
    ),
    "argo-rules-template-undefined": (
        "argo",
        _edit(
            "argo/promotion-workflowtemplate.yaml",
            "            template: smoke\n",
            "            template: smoke-test\n",
        ),
        "template name 'smoke-test' undefined",
    ),
    "argo-rules-templateref-target": (
        "argo",
        _edit(
            "argo/continuous-training-cronworkflow.yaml",
            "template: train-and-stage",
            "template: train-and-deploy",
        ),
        "template reference taigimed-training.train-and-deploy not found",
    ),
    "argo-rules-required-input": (
        "argo",
        _edit(
            "argo/promotion-workflowtemplate.yaml",
            '                - {name: url, value: "http://taigimed.taigimed-staging.svc.cluster.local"}\n',
            "",
        ),
        "inputs.parameters.url was not supplied",
    ),
    "argo-rules-artifact-repository": (
        "argo",
        _edit(
            "argo/continuous-training-cronworkflow.yaml",
            "                 --out, /var/lib/taigimed/reports/drift]\n",
            "                 --out, /var/lib/taigimed/reports/drift]\n"
            "        outputs:\n          artifacts:\n"
            "            - {name: drift, path: /var/lib/taigimed/reports/drift}\n",
        ),
        "artifactRepositoryRef",
    ),
    "argo-rules-cron-timezone": (
        "argo",
        _edit(
            "argo/continuous-training-cronworkflow.yaml",
            "timezone: Asia/Taipei",
            "timezone: Asia/Taipie",
        ),
        "invalid timezone",
    ),
    "argo-loop-fetch": (
        "argo",
        _edit(
            "argo/continuous-training-cronworkflow.yaml",
            "args: [data, fetch,",
            "args: [data, prepare,",
        ),
        "must fetch new data",
    ),
    "argo-loop-release": (
        "argo",
        _edit(
            "argo/continuous-training-cronworkflow.yaml",
            "            - name: release\n              dependencies: [retrain]",
            "            - name: release\n              dependencies: [drift-report]",
        ),
        "release must wait for retrain",
    ),
    "argo-loop-smoke-first": (
        "argo",
        _edit(
            "argo/promotion-workflowtemplate.yaml",
            "args: [deploy, smoke,",
            "args: [deploy, analyze,",
        ),
        "must start with `deploy smoke`",
    ),
    "work_volume-rwo": (
        "work_volume",
        _edit(
            "argo/work-volume.yaml",
            'accessModes: ["ReadWriteMany"]\n  storageClassName: ""\n  volumeName',
            'accessModes: ["ReadWriteOnce"]\n  storageClassName: ""\n  volumeName',
        ),
        "must be ReadWriteMany",
    ),
    "work_volume-provisioned": (
        "work_volume",
        _edit("argo/work-volume.yaml", "  volumeName: taigimed-work-nfs\n", ""),
        "names no PersistentVolume",
    ),
    "work_volume-delete": (
        "work_volume",
        _edit("argo/work-volume.yaml", "ReclaimPolicy: Retain", "ReclaimPolicy: Delete"),
        "must be Retain",
    ),
    "work_volume-wrong-server": (
        "work_volume",
        _edit("argo/work-volume.yaml", "server: 10.42.0.0", "server: 10.42.1.0"),
        "flannel-wg address 10.42.0.0",
    ),
    "work_volume-export-everyone": (
        "work_volume",
        _edit(
            "terraform/cloud-init/k3s-server.yaml.tftpl",
            "/srv/taigimed/work ${cluster_cidr}(",
            "/srv/taigimed/work *(",
        ),
        "only ${cluster_cidr}",
    ),
    "work_volume-no-client": (
        "work_volume",
        _edit(
            "terraform/cloud-init/k3s-agent.yaml.tftpl",
            "[curl, wireguard, nfs-common]",
            "[curl, wireguard]",
        ),
        "nfs-common",
    ),
    "work_volume-nfs-port-open": (
        "work_volume",
        _append(
            "terraform/network.tf",
            '\nresource "openstack_networking_secgroup_rule_v2" "nfs" {\n'
            '  direction = "ingress"\n  protocol = "tcp"\n  port_range_min = 2049\n'
            '  port_range_max = 2049\n  remote_ip_prefix = "0.0.0.0/0"\n'
            "  security_group_id = openstack_networking_secgroup_v2.cluster.id\n}\n",
        ),
        "opens port 2049",
    ),
    "argo-first-release": (
        "argo",
        _edit(
            "argo/promotion-workflowtemplate.yaml",
            "        - - name: first-release\n            template: first-release\n",
            "",
        ),
        "must run `model first-release`",
    ),
    "argo-first-release-path": (
        "argo",
        _edit(
            "argo/promotion-workflowtemplate.yaml",
            '            when: "{{steps.first-release.outputs.parameters.path}} == canary"\n',
            "",
        ),
        "must run only on one release path",
    ),
    "terraform-undeclared-var": (
        "terraform",
        _edit("terraform/storage.tf", "var.data_volume_gb", "var.data_volume_size"),
        "data_volume_size",
    ),
    "terraform-node-external-ip": (
        "terraform",
        _edit(
            "terraform/compute.tf",
            "    external_ip = openstack_networking_floatingip_v2.gpu[0].address\n",
            "",
        ),
        "template uses",
    ),
    "terraform-syntax": ("terraform", _append("terraform/outputs.tf", 'output "x" {\n'), "parse"),
    "terraform-credentials": (
        "terraform",
        _edit(
            "terraform/versions.tf",
            "  cloud = var.kvm_cloud\n",
            '  cloud = var.kvm_cloud\n  password = "hunter2"\n',
        ),
        "credentials",
    ),
    "terraform-template-var": (
        "terraform",
        _edit("terraform/cloud-init/k3s-agent.yaml.tftpl", "${node_labels}", "${node_label}"),
        "templatefile",
    ),
    "promtool-config": (
        "promtool",
        _edit("monitoring/prometheus.yml", "scrape_interval: 15s", "scrape_interval: 15"),
        "prometheus.yml",
    ),
    "promtool-rule-threshold": (
        "promtool",
        _edit("monitoring/rules/taigimed-alerts.yml", "> 0.05\n", "> 0.5\n"),
        "TaigiMedHighErrorRate",
    ),
    "metric_names-dashboard": ("metric_names", _dashboard_query, "taigimed:requests_total"),
    "metric_names-rule": (
        "metric_names",
        _edit(
            "monitoring/rules/taigimed-alerts.yml",
            "taigimed:feedback_total{kind",
            "taigimed:feedbacks_total{kind",
        ),
        "taigimed:feedbacks_total",
    ),
    # ---- the loop's first real run (deploy_loop_rules.py)
    "images_controlled-bitnami-kubectl": (
        "images_controlled",
        _edit(
            "argo/promotion-workflowtemplate.yaml",
            '      script:\n        image: "{{workflow.parameters.cpu-image}}"\n        command: [bash]\n'  # noqa: E501
            '        source: |\n          echo "canary analysis decided',
            "      script:\n        image: docker.io/bitnami/kubectl:1.32.4\n        command: [bash]\n"  # noqa: E501
            '        source: |\n          echo "canary analysis decided',
        ),
        "docker.io/bitnami/kubectl:1.32.4: not from the project's registry",
    ),
    "images_controlled-unlisted-mirror": (
        "images_controlled",
        _edit(
            "release/mirrors.txt", "grafana:11.3.1 grafana:11.3.1", "grafana:11.3.1 grafana:11.3.2"
        ),
        "ghcr.io/taigimed/mirror/grafana:11.3.1",
    ),
    "images_controlled-device-plugin-upstream": (
        "images_controlled",
        _edit(
            "terraform/cloud-init/nvidia-device-plugin.yaml.tftpl",
            "${image_registry}/mirror/k8s-device-plugin:v0.17.0",
            "nvcr.io/nvidia/k8s-device-plugin:v0.17.0",
        ),
        "nvcr.io/nvidia/k8s-device-plugin",
    ),
    "gpu_pods-no-runtime-class": (
        "gpu_pods",
        _edit("k8s/gpu/vllm.yaml", "      runtimeClassName: nvidia\n", ""),
        "without runtimeClassName: nvidia",
    ),
    "gpu_pods-recreate": (
        "gpu_pods",
        _edit(
            "k8s/gpu/vllm.yaml",
            "    type: RollingUpdate\n    rollingUpdate:\n      maxSurge: 1\n      maxUnavailable: 0\n",  # noqa: E501
            "    type: Recreate\n",
        ),
        "maxSurge",
    ),
    "gpu_pods-argo-runtime": (
        "gpu_pods",
        _edit(
            "argo/training-workflowtemplate.yaml",
            "      podSpecPatch: *gpu-runtime\n",
            "",
        ),
        "GPU step without runtimeClassName",
    ),
    "gpu_pods-device-plugin": (
        "gpu_pods",
        _edit(
            "terraform/cloud-init/nvidia-device-plugin.yaml.tftpl",
            "      runtimeClassName: nvidia\n",
            "",
        ),
        "device plugin needs runtimeClassName",
    ),
    "workflow_safety-no-deadline": (
        "workflow_safety",
        _edit("argo/promotion-workflowtemplate.yaml", "  activeDeadlineSeconds: 21600\n", ""),
        "taigimed-promotion: no activeDeadlineSeconds",
    ),
    "workflow_safety-no-exit-handler": (
        "workflow_safety",
        _edit(
            "argo/continuous-training-cronworkflow.yaml", "    onExit: canary-back-on-failure\n", ""
        ),
        "no onExit handler",
    ),
    "workflow_safety-handler-moves-nothing": (
        "workflow_safety",
        _edit(
            "argo/promotion-workflowtemplate.yaml",
            'taigimed model promote --to canary --version "$prod"',
            'echo "$prod"',
        ),
        "model promote --to canary",
    ),
    "workflow_safety-gpu-max-duration": (
        "workflow_safety",
        _edit(
            "argo/training-workflowtemplate.yaml",
            "        backoff: &gpu-backoff\n          duration: 5m\n",
            "        backoff: &gpu-backoff\n          maxDuration: 1h\n          duration: 5m\n",
        ),
        "GPU step retries with maxDuration",
    ),
    "multi_gpu-hard-coded-processes": (
        "multi_gpu",
        _edit(
            "argo/training-workflowtemplate.yaml",
            '--num_processes, "{{workflow.parameters.gpus}}"',
            '--num_processes, "8"',
        ),
        "--num_processes {{workflow.parameters.gpus}}",
    ),
    "multi_gpu-pipeline-one-process": (
        "multi_gpu",
        _edit(
            "argo/training-workflowtemplate.yaml",
            '               --set, "train.num_processes={{workflow.parameters.gpus}}"]',
            "              ]",
        ),
        "train.num_processes",
    ),
    "multi_gpu-plugin-refuses-always": (
        "multi_gpu",
        _edit(
            "terraform/cloud-init/nvidia-device-plugin.yaml.tftpl",
            "failRequestsGreaterThanOne: ${gpu_time_slices > 1}",
            "failRequestsGreaterThanOne: true",
        ),
        "failRequestsGreaterThanOne",
    ),
    "rollout_waits-no-status": (
        "rollout_waits",
        _edit(
            "argo/promotion-workflowtemplate.yaml",
            '            kubectl -n "$ns" rollout status "$d" --timeout=30m\n',
            '            echo "$d"\n',
        ),
        "wait for the rollout",
    ),
    "rollout_waits-no-version-check": (
        "rollout_waits",
        _edit(
            "argo/promotion-workflowtemplate.yaml",
            "get_model_version_by_alias(name, sys.argv[2])",
            "get_latest_versions(name)",
        ),
        "read the alias's version",
    ),
    "secrets_documented-undocumented": (
        "secrets_documented",
        _edit("argo/training-workflowtemplate.yaml", "name: huggingface\n", "name: hf-secret\n"),
        "hf-secret/token is never created",
    ),
    "secrets_documented-optional-smoke": (
        "secrets_documented",
        _edit(
            "argo/promotion-workflowtemplate.yaml",
            "                name: taigimed-smoke\n                key: api-key\n",
            "                name: taigimed-smoke\n                key: api-key\n                optional: true\n",  # noqa: E501
        ),
        "must not be optional",
    ),
    "cloud_boot-attach-after-boot": (
        "cloud_boot",
        _append(
            "terraform/storage.tf",
            'resource "openstack_compute_volume_attach_v2" "data" {\n  provider = openstack.kvm\n'
            "  instance_id = openstack_compute_instance_v2.server.id\n"
            "  volume_id = openstack_blockstorage_volume_v3.data.id\n}\n",
        ),
        "attach at boot",
    ),
    "cloud_boot-no-wireguard": (
        "cloud_boot",
        _edit(
            "terraform/network.tf",
            '  port_range_min    = 51820\n  port_range_max    = 51820\n  remote_ip_prefix  = "${local',  # noqa: E501
            '  port_range_min    = 51821\n  port_range_max    = 51821\n  remote_ip_prefix  = "${local',  # noqa: E501
        ),
        "udp/51820",
    ),
    "cloud_boot-bucket": (
        "cloud_boot",
        _edit(
            "argo/continuous-training-cronworkflow.yaml",
            "value: artifacts-taigimed",
            "value: taigimed-corpus",
        ),
        "store-bucket must default to Terraform's artifacts-taigimed",
    ),
    "sizes-staging-work": (
        "sizes",
        _edit("k8s/overlays/staging/patch-server.yaml", "sizeLimit: 40Gi", "sizeLimit: 10Gi"),
        "workdir 10Gi < 30Gi",
    ),
    "sizes-staging-crash-loop": (
        "sizes",
        _edit(
            "k8s/overlays/staging/config.yaml",
            "base_until_registered: true",
            "base_until_registered: false",
        ),
        "base_until_registered",
    ),
    "overlays_differ-second-split": (
        "overlays_differ",
        _append(
            "k8s/overlays/production/route.yaml",
            "---\napiVersion: traefik.io/v1alpha1\nkind: TraefikService\nmetadata:\n  name: taigimed-split\n"  # noqa: E501
            "spec:\n  weighted:\n    services:\n      - name: taigimed\n        port: 80\n        weight: 100\n",  # noqa: E501
        ),
        "only the canary overlay may define the split",
    ),
}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("deploy") / "deploy"
    shutil.copytree(DEPLOY, copy)
    return copy


@pytest.mark.parametrize("case", sorted(BREAKAGES))
def test_check_fails_on_a_broken_copy(case, pristine, tmp_path):
    name, breakage, expected = BREAKAGES[case]
    root = tmp_path / "deploy"
    shutil.copytree(pristine, root)
    breakage(root)
    problems = ALL_CHECKS[name](root)
    assert problems, f"{name} did not notice {case}"
    assert any(expected in p for p in problems), problems


def test_every_check_has_a_breakage():
    assert {name for name, _, _ in BREAKAGES.values()} == set(ALL_CHECKS)


def test_kustomize_lite_matches_kubectl():
    """Where a kubectl with built-in kustomize exists, both renderers agree object for object."""
    kubectl = tool("kubectl")
    if kubectl is None:
        pytest.skip("no kubectl here; the Python renderer alone is used")
    for folder in ("overlays/staging", "overlays/canary", "overlays/production", "platform"):
        r = subprocess.run(
            [kubectl, "kustomize", str(DEPLOY / "k8s" / folder)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if r.returncode != 0 and "connection" in r.stderr.lower():
            pytest.skip(f"kubectl kustomize unusable here: {r.stderr.strip()[:200]}")
        assert r.returncode == 0, r.stderr
        theirs = {(d["kind"], d["metadata"]["name"]): d for d in yaml.safe_load_all(r.stdout) if d}
        mine = {(d["kind"], d["metadata"]["name"]): d for d in build(DEPLOY / "k8s" / folder)}
        assert mine == theirs, folder


def test_docs_say_what_ci_does_with_images():
    text = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")
    assert re.search(r"CI (lints|builds)", text), "docs/deploy.md must say whether CI builds images"


def test_gpu_vendor_amd_switches_every_gpu_manifest(pristine, tmp_path):
    """deploy/release/gpu-vendor.sh amd (Terraform gpu_vendor = "amd", MI100): the switched tree
    renders, validates, pulls only controlled images and names no NVIDIA resource."""
    root = tmp_path / "deploy"
    shutil.copytree(pristine, root)
    r = subprocess.run(
        ["bash", str(root / "release" / "gpu-vendor.sh"), "amd"], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    for name in ("k8s_render", "k8s_schemas", "images_controlled", "yamllint", "hardening"):
        assert ALL_CHECKS[name](root) == [], name
    for path in [root / "k8s" / "gpu" / "vllm.yaml", *sorted((root / "argo").glob("*.yaml"))]:
        code = [ln for ln in path.read_text().splitlines() if not ln.lstrip().startswith("#")]
        assert not [ln for ln in code if "nvidia" in ln], path.name
    text = (root / "k8s" / "gpu" / "vllm.yaml").read_text()
    assert "amd.com/gpu: 1" in text and "mirror/vllm-rocm:" in text
    assert "taigimed-rocm:" in (root / "argo" / "training-workflowtemplate.yaml").read_text()
    again = subprocess.run(
        ["bash", str(root / "release" / "gpu-vendor.sh"), "nvidia"], capture_output=True, text=True
    )
    assert again.returncode == 2 and "git checkout" in again.stderr


def docs_problems(text: str) -> list[str]:
    """What docs/deploy.md must tell an operator between `terraform apply` and a first
    production model (each was missing or wrong once)."""
    needed = {
        "cloud-init status --wait": "waiting for cloud-init",
        "runtimeclass nvidia": "the nvidia RuntimeClass",
        "submit --from cronwf/taigimed-continuous-training": "starting the loop",
        "deploy/release/retarget.sh": "retargeting images to the operator's registry",
        "deploy/release/mirror-images.sh": "mirroring third-party images",
        "create secret generic huggingface": "the HF token",
        "create secret generic taigimed-smoke": "the smoke key",
        "lease.sh renew": "the lease renewal",
        "| recipe | need (GB) |": "the memory table",
    }
    problems = [
        f"docs/deploy.md says nothing on {why} ({s!r})"
        for s, why in needed.items()
        if s not in text
    ]
    for wrong in (
        "argo cron trigger",
        "cron trigger taigimed",
        "taigimed-corpus",
        "bitnami/kubectl:",
    ):
        if wrong in text:
            problems.append(f"docs/deploy.md still says {wrong!r}")
    return problems


def test_docs_walk_an_operator_to_a_first_production_model():
    text = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")
    assert docs_problems(text) == []
    broken = text.replace("submit --from cronwf/", "cron trigger ").replace(
        "create secret generic huggingface", "create secret generic hf"
    )
    problems = docs_problems(broken)
    assert any("starting the loop" in p for p in problems)
    assert any("the HF token" in p for p in problems)
