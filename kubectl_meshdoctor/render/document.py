"""Diagnosis -> the contract §4 dict; json and yaml print the same document."""

from __future__ import annotations

import json
from typing import Any

from kubectl_meshdoctor.findings import catalog
from kubectl_meshdoctor.findings.gateway_types import BackendAnswer, GatewayAnswer, MeshRouteAnswer
from kubectl_meshdoctor.findings.types import Cause, Diagnosis, ObjectRef
from kubectl_meshdoctor.render.proof import proof_dict


def ref_dict(ref: ObjectRef, with_rule: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": ref.kind, "namespace": ref.namespace, "name": ref.name}
    if with_rule and ref.rule:
        out["rule"] = ref.rule
    if ref.origin:
        out["origin"] = ref.origin
    return out


def cause_dict(cause: Cause) -> dict[str, Any]:
    return {
        "code": cause.code,
        "severity": catalog.severity(cause).value,
        "summary": catalog.summary(cause),
        "objects": [ref_dict(r) for r in cause.objects],
        "fix": catalog.fix(cause),
        **({"detail": cause.params["detail"]} if cause.params.get("detail") else {}),
        **({"fixYaml": cause.params["fix_yaml"]} if cause.params.get("fix_yaml") else {}),
    }


def fix_yaml_documents(d: Diagnosis) -> list[str]:
    """The ready-to-apply manifests: the proposed fix when its proof was computed (issue 17), else
    those of every cause, deduplicated, in cause order."""
    proposed = next((p for p in d.fixes if p.chosen), None)
    if proposed is not None:
        return list(proposed.manifests)
    return list(dict.fromkeys(c.params["fix_yaml"].strip() for c in d.causes if c.params.get("fix_yaml")))


def what_if_dict(after: Diagnosis, before: Diagnosis, applied: list[str]) -> dict[str, Any]:
    doc = diagnosis_dict(after)
    doc["whatIf"] = {
        "applied": applied,
        "before": {
            "verdict": before.verdict.value,
            "symptom": before.symptom.value,
            "causes": [c.code for c in before.causes],
        },
    }
    return doc


def diagnosis_dict(d: Diagnosis) -> dict[str, Any]:
    src, dst = d.source, d.destination
    source: dict[str, Any] = {
        "namespace": src.namespace,
        "workload": src.workload,
        "kind": src.kind,
        "pods": list(src.pods),
        "mesh": src.mesh.value,
        "identity": src.identity,
    }
    destination: dict[str, Any] = {
        "namespace": dst.namespace,
        "workload": dst.workload,
        "kind": dst.kind,
        "pods": list(dst.pods),
        "service": dst.service,
        "port": dst.port,
        "targetPort": dst.target_port,
        "mesh": dst.mesh.value,
        "identity": dst.identity,
    }
    if dst.external:
        destination["external"] = dst.external
    if src.cluster is not None:  # multi-cluster input only (issue 21): fields added, none renamed
        source["cluster"] = src.cluster
    if dst.cluster is not None:
        destination["cluster"] = dst.cluster
    ev = d.evidence
    doc = {
        "apiVersion": "meshdoctor/v1",
        "source": source,
        "destination": destination,
        "request": {
            "protocol": d.request.protocol,
            "method": d.request.method,
            "path": d.request.path,
            "host": d.request.host,
            "appProtocol": d.request.app_protocol,
            "appProtocolSource": d.request.app_protocol_why,
        },
        "verdict": d.verdict.value,
        "symptom": d.symptom.value,
        **({"share": _number(d.share)} if d.share is not None else {}),
        "hops": [
            {
                "name": h.hop.value,
                "decision": h.decision.value,
                "by": [ref_dict(r) for r in h.by],
                "detail": h.detail,
                **({"gaps": list(h.gaps)} if h.gaps else {}),
                **({"leg": h.leg} if h.leg else {}),
                **({"cluster": h.cluster} if h.cluster else {}),
            }
            for h in d.hops
        ],
        "causes": [cause_dict(c) for c in d.causes],
        "evidence": {
            "source": ev.source,
            "flows": ev.flows,
            "verdicts": ev.verdicts,
            "dropReasons": ev.drop_reasons,
            "httpStatus": ev.http_status,
            "agrees": ev.agrees,
            "observed": ev.observed,
            "summary": ev.summary,
        },
        "fixes": [proof_dict(p) for p in d.fixes],
        "gaps": list(d.gaps),
        "warnings": list(d.warnings),
    }
    if d.gateway is not None:
        doc["gateway"] = gateway_dict(d.gateway)
    if d.mesh_route is not None:
        doc["meshRoute"] = mesh_route_dict(d.mesh_route)
    return doc


def _backend(b: BackendAnswer) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": b.kind, "namespace": b.namespace, "name": b.name, "port": b.port}
    out.update({"weight": b.weight, "share": round(b.share, 4), "problem": b.problem})
    return out


def mesh_route_dict(m: MeshRouteAnswer) -> dict[str, Any]:
    """Issue 20 §3: the GAMMA route of a mesh call, with the route/rule/backend fields of ``gateway``
    plus the parent Service, whether a proxy applies it and which (``appliedBy``), and why not."""
    return {
        "parent": m.parent,
        "applied": m.applied,
        "appliedBy": m.applied_by,
        "reason": m.reason,
        "route": m.route,
        "rule": m.rule,
        "ruleName": m.rule_name,
        "match": m.match,
        "status": m.status,
        "location": m.location,
        "backends": [_backend(b) for b in m.backends],
        "answering": [_backend(b) for b in m.answering],
        "filters": list(m.filters),
        "timeouts": dict(m.timeouts),
        "forwardedPath": m.forwarded_path,
        "forwardedHost": m.forwarded_host,
    }


def gateway_dict(g: GatewayAnswer) -> dict[str, Any]:
    """Issue 20: the gateway's listener, the route and rule that matched, what it answered itself,
    and the backends that answer with their share (``answering``: valid, weight above 0)."""
    backend = _backend
    return {
        "kind": g.kind,
        "namespace": g.namespace,
        "name": g.name,
        "gatewayClass": g.gateway_class,
        "controller": g.controller,
        "implementation": g.implementation,
        "listener": {"name": g.listener, "port": g.port, "protocol": g.protocol, "hostname": g.hostname, "tls": g.tls},
        "route": g.route,
        "rule": g.rule,
        "ruleName": g.rule_name,
        "match": g.match,
        "status": g.status,
        "location": g.location,
        "backends": [backend(b) for b in g.backends],
        "answering": [backend(b) for b in g.answering],
        "filters": list(g.filters),
        "timeouts": dict(g.timeouts),
        "forwardedPath": g.forwarded_path,
        "forwardedHost": g.forwarded_host,
    }


def dump(doc: Any, output: str) -> str:
    if output == "yaml":
        return yaml_dump(doc)
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def yaml_dump(doc: Any) -> str:
    """YAML with multi-line strings (fix, fixYaml) as literal blocks (``|``), so a fix reads and
    pastes as it prints; one-line strings stay plain unless a YAML reader would take them for
    another type. Same data as the JSON document."""
    from kubectl_meshdoctor.model import yamlcore

    return yamlcore.dump(doc)


def _number(value: float) -> float | int:
    """30.0 → 30 (a percent written as people write it); 33.33 stays."""
    rounded = round(value, 2)
    return int(rounded) if rounded == int(rounded) else rounded
