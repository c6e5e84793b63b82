"""Gateway API objects from their raw documents (the typed values are in gateway_api.py; issue 20)."""

from __future__ import annotations

from typing import Any

from kubectl_meshdoctor.findings.types import ObjectRef
from kubectl_meshdoctor.model.gateway_api import (
    GROUP,
    KINDS,
    ROUTE_KINDS,
    ApiGateway,
    ApiListener,
    ApiRoute,
    ApiRule,
    BackendRef,
    Condition,
    Filter,
    GatewayApiObjects,
    GrantFrom,
    ParentRef,
    ReferenceGrant,
    RouteStatus,
    RuleMatch,
    ValueMatch,
)
from kubectl_meshdoctor.model.istio_routes import as_dict, as_list, strs
from kubectl_meshdoctor.model.selectors import parse_selector


def _conditions(raw: Any) -> tuple[Condition, ...]:
    return tuple(
        Condition(
            str(as_dict(c).get("type") or ""), str(as_dict(c).get("status") or ""), str(as_dict(c).get("reason") or "")
        )
        for c in as_list(raw)
    )


def _listener(raw: Any, i: int) -> ApiListener:
    x = as_dict(raw)
    allowed = as_dict(x.get("allowedRoutes"))
    namespaces = as_dict(allowed.get("namespaces"))
    kinds = tuple(
        (str(as_dict(k).get("group", GROUP) or ""), str(as_dict(k).get("kind") or ""))
        for k in as_list(allowed.get("kinds"))
    )
    tls = as_dict(x.get("tls"))
    protocol = str(x.get("protocol") or "")
    mode = str(tls.get("mode") or "Terminate") if protocol in ("HTTPS", "TLS") else None
    selector = parse_selector(namespaces.get("selector")) if namespaces.get("from") == "Selector" else None
    return ApiListener(
        str(x.get("name") or ""),
        int(x.get("port") or 0),
        protocol,
        str(x["hostname"]) if x.get("hostname") else None,
        mode,
        str(namespaces.get("from") or "Same"),
        selector,
        kinds,
        f"spec.listeners[{i}]",
    )


def _parent(raw: Any, i: int, ns: str) -> ParentRef:
    p = as_dict(raw)
    return ParentRef(
        str(p.get("group", GROUP) if p.get("group") is not None else GROUP),
        str(p.get("kind") or "Gateway"),
        str(p.get("namespace") or ns),
        str(p.get("name") or ""),
        str(p["sectionName"]) if p.get("sectionName") else None,
        int(p["port"]) if p.get("port") is not None else None,
        f"spec.parentRefs[{i}]",
    )


def _values(raw: Any) -> tuple[ValueMatch, ...]:
    return tuple(
        ValueMatch(
            str(as_dict(h).get("type") or "Exact"),
            str(as_dict(h).get("name") or ""),
            str(as_dict(h).get("value") or ""),
        )
        for h in as_list(raw)
    )


def _match(raw: Any, where: str) -> RuleMatch:
    m = as_dict(raw)
    p = as_dict(m.get("path"))
    path = ValueMatch(str(p.get("type") or "PathPrefix"), "", str(p.get("value") or "/"))
    if isinstance(m.get("method"), dict):  # GRPCRoute: {type, service, method} over the path /service/method
        g = as_dict(m["method"])
        grpc = (str(g.get("type") or "Exact"), str(g.get("service") or ""), str(g.get("method") or ""))
        return RuleMatch(path, _values(m.get("headers")), (), None, where, grpc)
    method = str(m["method"]).upper() if m.get("method") else None
    return RuleMatch(path, _values(m.get("headers")), _values(m.get("queryParams")), method, where)


_FILTER_FIELDS = {"URLRewrite": "urlRewrite", "CORS": "cors"}  # the field holding each filter type's block


def _filters(raw: Any, base: str) -> tuple[Filter, ...]:
    out = []
    for i, f in enumerate(as_list(raw)):
        f = as_dict(f)
        kind = str(f.get("type") or "")
        block = as_dict(f.get(_FILTER_FIELDS.get(kind, kind[:1].lower() + kind[1:])))
        out.append(Filter(kind, block, f"{base}.filters[{i}]"))
    return tuple(out)


def _backend(raw: Any, where: str, ns: str) -> BackendRef:
    b = as_dict(raw)
    weight = b.get("weight", 1)
    return BackendRef(
        str(b.get("group") or ""),
        str(b.get("kind") or "Service"),
        str(b.get("namespace") or ns),
        str(b.get("name") or ""),
        int(b["port"]) if b.get("port") is not None else None,
        int(weight) if str(weight).isdigit() else 1,
        _filters(b.get("filters"), where),
        where,
    )


def _rule(raw: Any, i: int, ns: str) -> ApiRule:
    r = as_dict(raw)
    where = f"spec.rules[{i}]"
    matches = tuple(_match(m, f"{where}.matches[{k}]") for k, m in enumerate(as_list(r.get("matches"))))
    if not matches:  # no matches = PathPrefix "/" (G3.1)
        matches = (RuleMatch(ValueMatch("PathPrefix", "", "/"), (), (), None, where),)
    timeouts = as_dict(r.get("timeouts"))
    return ApiRule(
        i,
        str(r["name"]) if r.get("name") else None,
        matches,
        _filters(r.get("filters"), where),
        tuple(_backend(b, f"{where}.backendRefs[{j}]", ns) for j, b in enumerate(as_list(r.get("backendRefs")))),
        str(timeouts["request"]) if timeouts.get("request") else None,
        str(timeouts["backendRequest"]) if timeouts.get("backendRequest") else None,
        where,
    )


def _route_status(raw: Any) -> tuple[RouteStatus, ...]:
    out = []
    for p in as_list(as_dict(raw).get("parents")):
        p = as_dict(p)
        ref = as_dict(p.get("parentRef"))
        key = f"{ref.get('namespace') or ''}/{ref.get('name') or ''}"
        if ref.get("sectionName"):
            key += f"/{ref['sectionName']}"
        out.append(RouteStatus(key, str(p.get("controllerName") or ""), _conditions(p.get("conditions"))))
    return tuple(out)


def read(objs: GatewayApiObjects, doc: dict[str, Any], ref: ObjectRef) -> bool:
    """Parse one Gateway API object into ``objs``; False when it is not one we read."""
    kind = str(doc.get("kind"))
    if (
        str(doc.get("apiVersion") or "").split("/")[0] not in (GROUP, "gateway.networking.x-k8s.io")
        or kind not in KINDS
    ):
        return False
    spec = as_dict(doc.get("spec"))
    meta = as_dict(doc.get("metadata"))
    ns = ref.namespace or "default"
    if kind == "GatewayClass":
        objs.classes[ref.name] = str(spec.get("controllerName") or "")
        objs.class_refs[ref.name] = ref
    elif kind == "Gateway":
        listeners = tuple(_listener(x, i) for i, x in enumerate(as_list(spec.get("listeners"))))
        addresses = tuple(
            str(as_dict(a).get("value") or "") for a in as_list(as_dict(doc.get("status")).get("addresses"))
        )
        status = as_dict(doc.get("status"))
        per_listener = tuple(
            (str(as_dict(x).get("name") or ""), _conditions(as_dict(x).get("conditions")))
            for x in as_list(status.get("listeners"))
        )
        objs.gateways.append(
            ApiGateway(
                ref,
                str(spec.get("gatewayClassName") or ""),
                listeners,
                addresses,
                _conditions(status.get("conditions")),
                per_listener,
            )
        )
    elif kind in ROUTE_KINDS:
        objs.routes.append(
            ApiRoute(
                ref,
                tuple(_parent(p, i, ns) for i, p in enumerate(as_list(spec.get("parentRefs")))),
                strs(spec.get("hostnames")),
                tuple(_rule(r, i, ns) for i, r in enumerate(as_list(spec.get("rules")))),
                str(meta.get("creationTimestamp") or ""),
                _route_status(doc.get("status")),
            )
        )
    elif kind == "ReferenceGrant":
        sources = tuple(
            GrantFrom(
                str(as_dict(f).get("group") or ""),
                str(as_dict(f).get("kind") or ""),
                str(as_dict(f).get("namespace") or ""),
            )
            for f in as_list(spec.get("from"))
        )
        targets = tuple(
            (str(as_dict(t).get("group") or ""), str(as_dict(t).get("kind") or ""), as_dict(t).get("name") or None)
            for t in as_list(spec.get("to"))
        )
        objs.grants.append(ReferenceGrant(ref, sources, targets))
    else:
        objs.unmodelled.append(ref)
    return True
