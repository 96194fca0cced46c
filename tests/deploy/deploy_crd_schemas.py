"""JSON schemas for the custom resources in deploy/k8s that kubernetes-validate has no schema for.

Only the fields deploy/ uses, with ``additionalProperties: false`` so a misspelled key fails.
Shapes follow Traefik's CRDs (traefik.io/v1alpha1, Traefik v2.10+ and v3, k3s's ingress).
"""

from __future__ import annotations

_META = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "namespace": {"type": "string"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "additionalProperties": False,
}


def _resource(kind: str, spec: dict) -> dict:
    return {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": "traefik.io/v1alpha1"},
            "kind": {"const": kind},
            "metadata": _META,
            "spec": spec,
        },
        "additionalProperties": False,
    }


_SERVICE_REF = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "kind": {"enum": ["Service", "TraefikService"]},
        "port": {"type": ["integer", "string"]},
        "weight": {"type": "integer", "minimum": 0},
        "namespace": {"type": "string"},
    },
    "additionalProperties": False,
}

CRD_SCHEMAS = {
    ("traefik.io/v1alpha1", "IngressRoute"): _resource(
        "IngressRoute",
        {
            "type": "object",
            "required": ["routes"],
            "properties": {
                "entryPoints": {"type": "array", "items": {"type": "string"}},
                "routes": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["match", "kind", "services"],
                        "properties": {
                            "match": {"type": "string"},
                            "kind": {"const": "Rule"},
                            "priority": {"type": "integer"},
                            "services": {"type": "array", "items": _SERVICE_REF, "minItems": 1},
                        },
                        "additionalProperties": False,
                    },
                },
            },
            "additionalProperties": False,
        },
    ),
    ("traefik.io/v1alpha1", "TraefikService"): _resource(
        "TraefikService",
        {
            "type": "object",
            "required": ["weighted"],
            "properties": {
                "weighted": {
                    "type": "object",
                    "required": ["services"],
                    "properties": {
                        "services": {"type": "array", "items": _SERVICE_REF, "minItems": 1}
                    },
                    "additionalProperties": False,
                }
            },
            "additionalProperties": False,
        },
    ),
}
