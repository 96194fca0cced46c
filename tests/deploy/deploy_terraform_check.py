"""Offline Terraform checks (``terraform validate`` needs the provider registry, unreachable
here): every file parses (python-hcl2), every variable is declared, described, typed and
used, every ``var.X`` is declared, every resource or data source referenced is defined,
every output is described, templatefile() gets exactly the variables its template uses, and
providers take credentials only from clouds.yaml (``cloud = ...``)."""

from __future__ import annotations

import re
from pathlib import Path

CREDENTIAL_KEYS = {"password", "token", "user_name", "application_credential_secret", "auth_url"}
MUST_VALIDATE = {"admin_cidr", "gpu_reservation_id", "project_suffix"}
REF_RE = re.compile(r"(?<![\w.])(data\.)?((?:openstack|random)_[a-z0-9_]+)\.([a-z0-9_]+)")
TEMPLATEFILE_RE = re.compile(r'templatefile\("\$\{path\.module\}/([^"]+)",\s*\{(.*?)\}\)', re.S)


def _strip_comments(text: str) -> str:
    return re.sub(r"(?m)^\s*#.*$|(?<=\s)#.*$", "", text)


def _unquote(tree):
    """python-hcl2 keeps the quotes of block labels and strings ('"name"'): drop them."""
    if isinstance(tree, dict):
        return {_unquote(k): _unquote(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_unquote(v) for v in tree]
    if isinstance(tree, str) and len(tree) >= 2 and tree[0] == tree[-1] == '"':
        return tree[1:-1]
    return tree


def _blocks(parsed: list[dict], kind: str) -> list[dict]:
    return [b for doc in parsed for b in doc.get(kind, [])]


def check_terraform_dir(folder: Path) -> list[str]:
    import hcl2

    problems: list[str] = []
    files = sorted(folder.glob("*.tf"))
    if not files:
        return [f"{folder}: no .tf files"]
    parsed, texts = [], {}
    for f in files:
        text = f.read_text(encoding="utf-8")
        texts[f.name] = _strip_comments(text)
        try:
            parsed.append(_unquote(hcl2.loads(text)))
        except Exception as exc:  # python-hcl2 raises lark errors of several kinds
            problems.append(f"{f.name}: does not parse: {str(exc).splitlines()[0]}")
    if problems:
        return problems
    code = "\n".join(texts.values())

    declared = {}
    for block in _blocks(parsed, "variable"):
        for name, body in block.items():
            declared[name] = body
            if not body.get("description"):
                problems.append(f"variable {name}: no description")
            if "type" not in body:
                problems.append(f"variable {name}: no type")
    used = set(re.findall(r"\bvar\.([a-z0-9_]+)", code))
    problems += [f"var.{n} is used but not declared" for n in sorted(used - set(declared))]
    problems += [f"variable {n} is declared but never used" for n in sorted(set(declared) - used)]
    for name in sorted(MUST_VALIDATE & set(declared)):
        if not declared[name].get("validation"):
            problems.append(f"variable {name}: needs a validation block")

    defined = set()
    for kind, prefix in (("resource", ""), ("data", "data.")):
        for block in _blocks(parsed, kind):
            for rtype, instances in block.items():
                for rname in instances:
                    defined.add(f"{prefix}{rtype}.{rname}")
    for m in REF_RE.finditer(code):
        ref = f"{m.group(1) or ''}{m.group(2)}.{m.group(3)}"
        if ref not in defined:
            problems.append(f"reference {ref} is not defined")

    outputs = _blocks(parsed, "output")
    if not outputs:
        problems.append("no outputs")
    for block in outputs:
        for name, body in block.items():
            if not body.get("description") or "value" not in body:
                problems.append(f"output {name}: needs a description and a value")

    for block in _blocks(parsed, "provider"):
        for pname, body in block.items():
            bodies = body if isinstance(body, list) else [body]
            for b in bodies:
                if CREDENTIAL_KEYS & set(b):
                    problems.append(
                        f"provider {pname}: credentials {sorted(CREDENTIAL_KEYS & set(b))} in code"
                    )
                if pname == "openstack" and "cloud" not in b:
                    problems.append(
                        "provider openstack: must name a clouds.yaml entry (cloud = var...)"
                    )
    if not any(
        "openstack" in rp
        for b in _blocks(parsed, "terraform")
        for rp in [p for req in b.get("required_providers", []) for p in req]
    ):
        problems.append("terraform block must require the openstack provider")

    for m in TEMPLATEFILE_RE.finditer(code):
        template = folder / m.group(1)
        if not template.exists():
            problems.append(f"templatefile {m.group(1)} does not exist")
            continue
        passed = set(re.findall(r"(?m)^\s*([a-z_]+)\s*=", m.group(2)))
        body = template.read_text(encoding="utf-8")
        # Names inside ${...}, function calls' arguments included (${indent(6, x)} uses x).
        wanted = {
            name
            for expr in re.findall(r"\$\{([^}]*)\}", body)
            for name in re.findall(r"\b([a-z_]+)\b(?!\s*\()", expr)
        } | set(re.findall(r"%\{\s*if\s+([a-z_]+)", body))
        if passed != wanted:
            problems.append(
                f"templatefile {m.group(1)}: passes {sorted(passed)}, "
                f"template uses {sorted(wanted)}"
            )
    return problems
