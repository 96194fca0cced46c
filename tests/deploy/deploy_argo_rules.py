"""Argo's own template validation (workflow/validate/validate.go), the rules our manifests meet.

hera's models check types only, so a manifest the Argo server rejects at submit time (a
container template whose output parameter has no ``valueFrom.path``) passed them. This
module re-implements, in Python, the parts of Argo's validator that matter for deploy/argo:

- exactly one template type per template;
- output parameters: ``value`` or ``valueFrom``, and for container/script templates
  ``valueFrom.path`` (DAG/steps: ``parameter`` or ``expression``);
- every ``{{inputs.*}}``, ``{{tasks.*}}``, ``{{steps.*}}``, ``{{workflow.*}}``, ``{{pod.*}}``
  reference resolves in the template's scope (Argo's ``resolveAllVariables``);
- DAG: dependency names exist, no cycle, a task reading ``tasks.X`` depends on X;
- ``template`` / ``templateRef`` targets exist, and the templates they name are validated too
  (with the calling workflow's parameters, as Argo does) and get their required inputs;
- artifacts need a repository: ``artifactRepositoryRef`` naming a ConfigMap key in deploy/;
- CronWorkflow: schedules, timezone, concurrencyPolicy.

One place is stricter than Argo: a WorkflowTemplate's ``{{workflow.parameters.x}}`` must be
one of its own arguments (Argo lets any name pass when validating a template alone), because
ours are also submitted on their own with ``argo submit --from workflowtemplate/...``.
"""

from __future__ import annotations

import json
import re
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

TEMPLATE_TYPES = (
    "container",
    "containerSet",
    "steps",
    "script",
    "resource",
    "dag",
    "suspend",
    "data",
    "http",
    "plugin",
)
POD_TYPES = {"container", "containerSet", "script", "resource", "data"}
LEAF_TYPES = POD_TYPES | {"suspend", "http", "plugin"}
TYPE_NAMES = {"container": "Container", "containerSet": "ContainerSet", "script": "Script"}
# common.GlobalVarValidWorkflowVariablePrefix: tags outside these are not Argo's to resolve.
VARIABLE_PREFIXES = ("item.", "steps.", "inputs.", "outputs.", "pod.", "workflow.", "tasks.")
WORKFLOW_VARIABLES = {
    "workflow.name",
    "workflow.namespace",
    "workflow.uid",
    "workflow.serviceAccountName",
    "workflow.mainEntrypoint",
    "workflow.status",
    "workflow.failures",
    "workflow.priority",
    "workflow.parameters",
}
# Tags Argo lets through for run-time resolution (resolveAllVariables' switch).
RUNTIME_PREFIXES = (
    "outputs.",
    "workflow.creationTimestamp",
    "workflow.scheduledTime",
    "workflow.duration",
    "workflow.labels.",
    "workflow.annotations.",
    "tasks.name",
    "steps.name",
    "node.name",
)
CONCURRENCY = {"Allow", "Forbid", "Replace", ""}
RETRY_POLICIES = {"Always", "OnError", "OnFailure", "OnTransientError", ""}
TAG = re.compile(r"\{\{(.*?)\}\}")
CRON_FIELD = re.compile(
    r"^(\*|\?|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(/\d+)?(,(\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(/\d+)?)*$"
)


@dataclass
class Context:
    """What a template is validated against: its siblings, other WorkflowTemplates, globals."""

    templates: dict[str, dict]
    library: dict[str, dict]  # WorkflowTemplate name → spec
    globals: set[str]
    where: str
    problems: list[str] = field(default_factory=list)
    seen: set[tuple[str, str]] = field(default_factory=set)

    def err(self, msg: str) -> None:
        self.problems.append(f"{self.where}: {msg}")


def _type(tmpl: dict) -> str | None:
    types = [t for t in TEMPLATE_TYPES if tmpl.get(t) is not None]
    return types[0] if len(types) == 1 else None


def _tags(obj: Any) -> list[str]:
    return [t.strip() for t in TAG.findall(json.dumps(obj, ensure_ascii=False))]


def _references(tag: str) -> list[str]:
    """The variables a tag reads: itself, or the dotted names inside an ``{{=expression}}``.

    Argo leaves expressions to run time; a wrong name in one fails the step there, so
    their plain dotted names are checked here too."""
    if not tag.startswith("="):
        return [tag]
    return re.findall(r"\b(?:inputs|tasks|steps|workflow|pod)\.[\w.\-]*\w", tag)


def _resolve(ctx: Context, scope: set[str], obj: Any, where: str) -> None:
    for tag in [r for t in _tags(obj) for r in _references(t)]:
        if not tag.startswith(VARIABLE_PREFIXES):
            continue
        if tag in scope or tag in ctx.globals or tag.startswith(RUNTIME_PREFIXES):
            continue
        ctx.err(f"{where} failed to resolve {{{{{tag}}}}}")


def _has_output(tmpl: dict) -> bool:
    return any(tmpl.get(k) is not None for k in ("container", "script", "data", "http", "plugin"))


def _outputs_scope(prefix: str, tmpl: dict | None) -> set[str]:
    """addOutputsToScope: what ``tasks.NAME.*`` / ``steps.NAME.*`` a finished node offers."""
    scope = {f"{prefix}.{k}" for k in ("id", "startedAt", "finishedAt", "hostNodeName")}
    if tmpl is None:
        return scope
    if _has_output(tmpl):
        scope |= {f"{prefix}.outputs.result", f"{prefix}.exitCode"}
    outputs = tmpl.get("outputs") or {}
    scope |= {f"{prefix}.outputs.parameters.{p['name']}" for p in outputs.get("parameters", [])}
    scope |= {f"{prefix}.outputs.artifacts.{a['name']}" for a in outputs.get("artifacts", [])}
    return scope


def _target(ctx: Context, holder: dict, where: str) -> tuple[dict | None, Context | None]:
    """validateTemplateHolder: the template a step/task names, and the context it lives in."""
    ref, name = holder.get("templateRef"), holder.get("template")
    if ref is not None:
        if name:
            ctx.err(f"{where} template name cannot be specified with templateRef")
            return None, None
        if not ref.get("name") or not ref.get("template"):
            ctx.err(f"{where} templateRef needs both name and template")
            return None, None
        spec = ctx.library.get(ref["name"])
        target = None
        if spec is not None:
            target = next(
                (t for t in spec.get("templates", []) if t["name"] == ref["template"]), None
            )
        if target is None:
            ctx.err(f"{where} template reference {ref['name']}.{ref['template']} not found")
            return None, None
        other = Context(
            templates={t["name"]: t for t in spec.get("templates", [])},
            library=ctx.library,
            globals=ctx.globals,  # the calling workflow's parameters, as at run time
            where=f"{ctx.where} → {ref['name']}",
            problems=ctx.problems,
            seen=ctx.seen,
        )
        return target, other
    if not name:
        ctx.err(f"{where} names no template")
        return None, None
    if name not in ctx.templates:
        ctx.err(f"{where} template name '{name}' undefined")
        return None, None
    return ctx.templates[name], ctx


def _check_call(ctx: Context, holder: dict, where: str) -> dict | None:
    """Resolve a step/task's template, check it gets every required input, validate it."""
    target, tctx = _target(ctx, holder, where)
    if target is None or tctx is None:
        return None
    given = {p["name"] for p in (holder.get("arguments") or {}).get("parameters") or []}
    for p in (target.get("inputs") or {}).get("parameters") or []:
        if (
            "value" not in p
            and "default" not in p
            and "valueFrom" not in p
            and p["name"] not in given
        ):
            ctx.err(f"{where}: inputs.parameters.{p['name']} was not supplied")
    for p in (holder.get("arguments") or {}).get("parameters") or []:
        if "value" not in p and "valueFrom" not in p:
            ctx.err(f"{where}.arguments.{p['name']}.value or valueFrom is required")
    key = (tctx.where, target["name"])
    if key not in tctx.seen:
        tctx.seen.add(key)
        validate_template(tctx, target)
    return target


def _check_outputs(ctx: Context, tmpl: dict, kind: str) -> None:
    for p in (tmpl.get("outputs") or {}).get("parameters") or []:
        ref = f"templates.{tmpl['name']}.outputs.parameters.{p.get('name')}"
        vf = p.get("valueFrom")
        if vf is not None and "value" in p:
            ctx.err(f"{ref} has both valueFrom and value specified, choose one")
        if "value" in p:
            continue
        if vf is None:
            ctx.err(f"{ref} does not have valueFrom or value specified")
            continue
        sources = [
            k for k in ("path", "jqFilter", "jsonPath", "parameter", "expression") if vf.get(k)
        ]
        if len(sources) > 1 and not (kind in {"dag", "steps"} and "default" in vf):
            ctx.err(
                f"{ref}.valueFrom must have exactly one of "
                "path, jqFilter, jsonPath, parameter, expression"
            )
        if kind in TYPE_NAMES and not vf.get("path"):
            ctx.err(f"{ref}.path must be specified for {TYPE_NAMES[kind]} templates")
        elif kind == "resource" and not (vf.get("jqFilter") or vf.get("jsonPath")):
            ctx.err(f"{ref} .jqFilter or jsonPath must be specified for Resource templates")
        elif kind in {"dag", "steps"} and not (vf.get("parameter") or vf.get("expression")):
            ctx.err(f"{ref}.parameter or expression must be specified for {kind} templates")
    for a in (tmpl.get("outputs") or {}).get("artifacts") or []:
        if a.get("path") and kind not in LEAF_TYPES:
            ctx.err(
                f"templates.{tmpl['name']}.outputs.artifacts.{a['name']}.path "
                "only valid in container/script templates"
            )


def validate_template(ctx: Context, tmpl: dict) -> None:
    name = tmpl.get("name", "?")
    kind = _type(tmpl)
    if kind is None:
        present = [t for t in TEMPLATE_TYPES if tmpl.get(t) is not None]
        what = "multiple template types specified" if present else "template type unspecified"
        ctx.err(f"templates.{name} {what}")
        return
    retry = tmpl.get("retryStrategy")
    if retry is not None and retry.get("retryPolicy", "") not in RETRY_POLICIES:
        ctx.err(f"templates.{name}: {retry['retryPolicy']} is not a valid RetryPolicy")
    inputs = tmpl.get("inputs") or {}
    scope = {f"inputs.parameters.{p['name']}" for p in inputs.get("parameters", [])}
    scope |= {f"inputs.artifacts.{a['name']}" for a in inputs.get("artifacts", [])}
    scope |= {f"inputs.artifacts.{a['name']}.path" for a in inputs.get("artifacts", [])}
    if kind in POD_TYPES:
        scope.add("pod.name")
    if retry is not None:
        scope |= {
            f"retries{s}"
            for s in ("", ".lastExitCode", ".lastStatus", ".lastDuration", ".lastMessage")
        }
    _check_outputs(ctx, tmpl, kind)
    if kind in LEAF_TYPES:
        body = {k: v for k, v in tmpl.items() if k not in {"outputs", "name"}}
        _resolve(ctx, scope, body, f"templates.{name}")
        for a in (tmpl.get("outputs") or {}).get("artifacts") or []:
            if not any(
                a.get(k) for k in ("s3", "gcs", "azure", "oss", "hdfs", "http", "git", "raw")
            ):
                ctx.needs_repository = True  # type: ignore[attr-defined]
    elif kind == "dag":
        _validate_dag(ctx, tmpl, scope)
    elif kind == "steps":
        _validate_steps(ctx, tmpl, scope)


def _dependencies(task: dict) -> list[str]:
    if task.get("depends"):
        # `a && (b.Succeeded || c.Failed)`: the task names, without the result suffix.
        words = re.findall(r"[A-Za-z0-9][\w-]*(?:\.\w+)?", task["depends"])
        return [w.split(".")[0] for w in words]
    return list(task.get("dependencies") or [])


def _validate_dag(ctx: Context, tmpl: dict, scope: set[str]) -> None:
    name = tmpl["name"]
    tasks = {t["name"]: t for t in (tmpl["dag"].get("tasks") or [])}
    if not tasks:
        ctx.err(f"templates.{name} must have at least one task")
        return
    if any(t.get("depends") for t in tasks.values()) and any(
        t.get("dependencies") for t in tasks.values()
    ):
        ctx.err(
            f"templates.{name} cannot use both 'depends' and 'dependencies' "
            "in the same DAG template"
        )
    deps = {}
    for tname, task in tasks.items():
        deps[tname] = _dependencies(task)
        for d in deps[tname]:
            if d not in tasks:
                ctx.err(f"templates.{name}.tasks.{tname} dependency '{d}' not defined")
    # verifyNoCycles
    state: dict[str, int] = {}

    def visit(n: str, path: list[str]) -> None:
        if state.get(n) == 2:
            return
        if state.get(n) == 1:
            ctx.err(f"templates.{name} dependency cycle detected: {' -> '.join([*path, n])}")
            return
        state[n] = 1
        for d in deps.get(n, []):
            if d in tasks:
                visit(d, [*path, n])
        state[n] = 2

    for n in tasks:
        visit(n, [])

    def ancestry(n: str, seen: set[str] | None = None) -> set[str]:
        seen = set() if seen is None else seen
        for d in deps.get(n, []):
            if d in tasks and d not in seen:
                seen.add(d)
                ancestry(d, seen)
        return seen

    resolved = {
        tname: _check_call(ctx, task, f"templates.{name}.tasks.{tname}")
        for tname, task in tasks.items()
    }
    for tname, task in tasks.items():
        mine = ancestry(tname)
        task_scope = set(scope)
        for a in mine:
            task_scope |= _outputs_scope(f"tasks.{a}", resolved[a]) | {f"tasks.{a}.status"}
        for tag in [r for t in _tags(task) for r in _references(t)]:
            m = re.match(r"tasks\.([\w-]+)\.", tag)
            if m and m.group(1) in tasks and m.group(1) not in mine:
                ctx.err(
                    f"templates.{name}.tasks.{tname} missing dependency "
                    f"'{m.group(1)}' for {{{{{tag}}}}}"
                )
        _resolve(
            ctx,
            task_scope,
            {k: v for k, v in task.items() if k != "name"},
            f"templates.{name}.tasks.{tname}",
        )
    _resolve_outputs(
        ctx, tmpl, scope | {s for t, r in resolved.items() for s in _outputs_scope(f"tasks.{t}", r)}
    )


def _validate_steps(ctx: Context, tmpl: dict, scope: set[str]) -> None:
    name = tmpl["name"]
    scope = set(scope)
    seen: set[str] = set()
    for i, group in enumerate(tmpl["steps"]):
        for step in group:
            sname = step.get("name")
            if not sname:
                ctx.err(f"templates.{name}.steps[{i}].name is required")
                continue
            if sname in seen:
                ctx.err(f"templates.{name}.steps[{i}].name '{sname}' is not unique")
            seen.add(sname)
            scope.add(f"steps.{sname}.status")
            target = _check_call(ctx, step, f"templates.{name}.steps[{i}].{sname}")
            _resolve(
                ctx,
                scope,
                {k: v for k, v in step.items() if k != "name"},
                f"templates.{name}.steps[{i}].{sname}",
            )
            scope |= _outputs_scope(f"steps.{sname}", target)
    _resolve_outputs(ctx, tmpl, scope)


def _resolve_outputs(ctx: Context, tmpl: dict, scope: set[str]) -> None:
    if tmpl.get("outputs"):
        _resolve(ctx, scope, tmpl["outputs"], f"templates.{tmpl['name']}.outputs")


def _globals(spec: dict) -> set[str]:
    params = (spec.get("arguments") or {}).get("parameters", [])
    return WORKFLOW_VARIABLES | {f"workflow.parameters.{p['name']}" for p in params}


def validate_spec(
    spec: dict, library: dict[str, dict], where: str, configmaps: dict[str, set[str]]
) -> list[str]:
    """Problems with one workflow spec (a Workflow's, WorkflowTemplate's or CronWorkflow's)."""
    templates = {}
    ctx = Context({}, library, _globals(spec), where)
    for t in spec.get("templates") or []:
        if t.get("name") in templates:
            ctx.err(f"spec.templates name '{t.get('name')}' is not unique")
        templates[t.get("name")] = t
    ctx.templates = templates
    ctx.needs_repository = False  # type: ignore[attr-defined]
    for p in (spec.get("arguments") or {}).get("parameters", []):
        if "value" not in p and "valueFrom" not in p:
            ctx.err(f"spec.arguments.{p['name']}.value or valueFrom is required")
    entry = spec.get("entrypoint")
    if entry is not None and entry not in templates:
        ctx.err(f"spec.entrypoint template '{entry}' undefined")
    on_exit = spec.get("onExit")
    if on_exit is not None and on_exit not in templates:
        ctx.err(f"spec.onExit template '{on_exit}' undefined")
    # Every template is validated (a WorkflowTemplate's unused ones too), each once.
    for t in templates.values():
        key = (where, t.get("name"))
        if key not in ctx.seen:
            ctx.seen.add(key)
            validate_template(ctx, t)
    ref = spec.get("artifactRepositoryRef")
    if ref is not None:
        cm, key = ref.get("configMap", "artifact-repositories"), ref.get("key")
        if cm not in configmaps:
            ctx.err(f"spec.artifactRepositoryRef: ConfigMap {cm!r} is not defined in deploy/")
        elif key is not None and key not in configmaps[cm]:
            ctx.err(f"spec.artifactRepositoryRef: ConfigMap {cm!r} has no key {key!r}")
    elif getattr(ctx, "needs_repository", False):
        ctx.err(
            "templates write output artifacts but spec.artifactRepositoryRef names no repository"
        )
    return ctx.problems


def validate_cron(doc: dict) -> list[str]:
    spec, name = doc["spec"], doc["metadata"]["name"]
    problems = []
    if len(name) > 52:
        problems.append(f"cron workflow name {name!r} must not be more than 52 characters long")
    schedules = spec.get("schedules") or ([spec["schedule"]] if spec.get("schedule") else [])
    if not schedules:
        problems.append("cron workflow must have at least one schedule")
    for s in schedules:
        fields = s.split()
        if not (
            s.startswith("@") or (len(fields) == 5 and all(CRON_FIELD.match(f) for f in fields))
        ):
            problems.append(f"cron schedule {s} is malformed")
    tz = spec.get("timezone")
    if tz:
        try:
            zoneinfo.ZoneInfo(tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            problems.append(f"invalid timezone {tz!r}")
    if spec.get("concurrencyPolicy", "") not in CONCURRENCY:
        problems.append(f"'{spec['concurrencyPolicy']}' is not a valid concurrencyPolicy")
    if isinstance(spec.get("startingDeadlineSeconds"), int) and spec["startingDeadlineSeconds"] < 0:
        problems.append("startingDeadlineSeconds must be positive")
    return problems


def validate_argo_docs(docs: list[dict], configmaps: dict[str, set[str]]) -> list[str]:
    """Argo's validation of every Workflow, WorkflowTemplate and CronWorkflow in ``docs``."""
    library = {
        d["metadata"]["name"]: d["spec"] for d in docs if d.get("kind") == "WorkflowTemplate"
    }
    problems = []
    for d in docs:
        name = f"{d.get('kind')}/{d['metadata']['name']}"
        if d.get("kind") == "CronWorkflow":
            problems += [f"{name}: {p}" for p in validate_cron(d)]
            problems += validate_spec(d["spec"].get("workflowSpec", {}), library, name, configmaps)
        elif d.get("kind") in {"WorkflowTemplate", "Workflow"}:
            problems += validate_spec(d["spec"], library, name, configmaps)
    return problems
