"""Istio HTTP route pieces shared by VirtualService and Gateway API HTTPRoute: matches,
destinations, faults, timeouts. Rule paths follow the YAML (``http[1].fault.abort``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class StringMatch:
    kind: str  # exact | prefix | regex
    value: str
    ignore_case: bool = False

    def matches(self, text: str) -> bool:
        a, b = (text.lower(), self.value.lower()) if self.ignore_case else (text, self.value)
        if self.kind == "exact":
            return a == b
        if self.kind == "prefix":
            return a.startswith(b)
        try:  # Envoy uses RE2 full-match semantics
            return re.fullmatch(self.value, text, re.IGNORECASE if self.ignore_case else 0) is not None
        except re.error:
            return False

    def show(self) -> str:
        return f"{self.kind}: {self.value}"


@dataclass(frozen=True, slots=True)
class RouteMatch:
    path: str  # "http[1].match[0]"
    uri: StringMatch | None = None
    method: StringMatch | None = None
    headers: Mapping[str, StringMatch | None] = field(default_factory=dict)  # None = present (any value)
    without_headers: tuple[str, ...] = ()
    port: int | None = None
    source_labels: Mapping[str, str] | None = None
    source_namespace: str | None = None
    gateways: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RouteDestination:
    host: str
    subset: str | None
    port: int | None
    weight: int
    path: str  # "http[0].route[1].destination"


@dataclass(frozen=True, slots=True)
class Fault:
    abort_status: int | None
    abort_percent: float  # 0-100
    delay_seconds: float | None
    delay_percent: float
    path: str  # "http[1].fault"


@dataclass(frozen=True, slots=True)
class HttpRoute:
    index: int
    name: str | None
    matches: tuple[RouteMatch, ...]  # empty = match everything
    destinations: tuple[RouteDestination, ...]
    fault: Fault | None = None
    timeout_seconds: float | None = None
    retries: int | None = None
    mirror: str | None = None
    rewrite: str | None = None
    redirect: bool = False
    direct_status: int | None = None
    delegate: str | None = None
    mirrors: tuple[RouteDestination, ...] = ()  # mirror and mirrors[]: shadow copies, responses dropped

    @property
    def path(self) -> str:
        return f"http[{self.index}]"


def as_dict(raw: Any) -> dict[str, Any]:
    return raw if isinstance(raw, dict) else {}


def as_list(raw: Any) -> list[Any]:
    return raw if isinstance(raw, list) else []


def strs(raw: Any, default: tuple[str, ...] = ()) -> tuple[str, ...]:
    return tuple(str(x) for x in raw) if isinstance(raw, list) else default


def labels_of(raw: Any) -> dict[str, str] | None:
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) and raw else None


def seconds(text: Any) -> float | None:
    """Protobuf duration ("1.5s", "500ms", "2m") -> seconds."""
    m = re.fullmatch(r"\s*([0-9.]+)\s*(ms|s|m|h)?\s*", str(text)) if text is not None else None
    if not m:
        return None
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}[m.group(2) or "s"]
    return float(m.group(1)) * scale


def string_match(raw: Any) -> StringMatch | None:
    raw = as_dict(raw)
    for kind in ("exact", "prefix", "regex"):
        if kind in raw:
            return StringMatch(kind, str(raw[kind]))
    return None


def _percent(raw: dict[str, Any]) -> float:
    """VirtualService fault percentage: ``percentage.value`` (or legacy ``percent``); absent = 100."""
    if isinstance(raw.get("percentage"), dict) and "value" in raw["percentage"]:
        return float(raw["percentage"]["value"])
    return float(raw["percent"]) if "percent" in raw else 100.0


def _fault(raw: Any, path: str) -> Fault | None:
    raw = as_dict(raw)
    if not raw:
        return None
    abort, delay = as_dict(raw.get("abort")), as_dict(raw.get("delay"))
    status = abort.get("httpStatus")
    delay_s = seconds(delay.get("fixedDelay") or delay.get("exponentialDelay"))
    return Fault(
        int(status) if status is not None else None,
        _percent(abort) if abort else 0.0,
        delay_s,
        _percent(delay) if delay else 0.0,
        path,
    )


def destinations(raw: Any, base: str) -> tuple[RouteDestination, ...]:
    out = []
    items = as_list(raw)
    for j, item in enumerate(items):
        dest = as_dict(as_dict(item).get("destination"))
        port = as_dict(dest.get("port")).get("number")
        weight = as_dict(item).get("weight")
        out.append(
            RouteDestination(
                str(dest.get("host") or ""),
                str(dest["subset"]) if dest.get("subset") else None,
                int(port) if port is not None else None,
                int(weight) if weight is not None else (100 if len(items) == 1 else 0),
                f"{base}.route[{j}].destination",
            )
        )
    if out and all(d.weight == 0 for d in out):  # no weights: Istio splits evenly
        out = [RouteDestination(d.host, d.subset, d.port, 100 // len(out), d.path) for d in out]
    return tuple(out)


def _mirror_destination(dest: dict[str, Any], path: str) -> RouteDestination | None:
    if not dest.get("host"):
        return None
    port = as_dict(dest.get("port")).get("number")
    subset = str(dest["subset"]) if dest.get("subset") else None
    return RouteDestination(str(dest["host"]), subset, int(port) if port is not None else None, 100, path)


def mirror_destinations(raw: dict[str, Any], base: str) -> tuple[RouteDestination, ...]:
    """``mirror`` (host, subset, port) and every ``mirrors[].destination``."""
    found = [_mirror_destination(as_dict(raw.get("mirror")), f"{base}.mirror")]
    for k, item in enumerate(as_list(raw.get("mirrors"))):
        found.append(_mirror_destination(as_dict(as_dict(item).get("destination")), f"{base}.mirrors[{k}].destination"))
    return tuple(d for d in found if d is not None)


def route_match(raw: dict[str, Any], path: str) -> RouteMatch:
    uri = string_match(raw.get("uri"))
    if uri is not None and raw.get("ignoreUriCase"):
        uri = StringMatch(uri.kind, uri.value, True)
    headers = {str(k).lower(): string_match(v) for k, v in as_dict(raw.get("headers")).items()}
    port = raw.get("port")
    return RouteMatch(
        path,
        uri,
        string_match(raw.get("method")),
        headers,
        tuple(str(k).lower() for k in as_dict(raw.get("withoutHeaders"))),
        int(port) if port is not None else None,
        labels_of(raw.get("sourceLabels")),
        str(raw["sourceNamespace"]) if raw.get("sourceNamespace") else None,
        strs(raw.get("gateways")),
    )


def http_route(raw: Any, i: int) -> HttpRoute:
    raw = as_dict(raw)
    base = f"http[{i}]"
    retries = as_dict(raw.get("retries"))
    mirror = as_dict(raw.get("mirror"))
    direct = as_dict(raw.get("directResponse"))
    return HttpRoute(
        i,
        str(raw["name"]) if raw.get("name") else None,
        tuple(route_match(as_dict(m), f"{base}.match[{k}]") for k, m in enumerate(as_list(raw.get("match")))),
        destinations(raw.get("route"), base),
        _fault(raw.get("fault"), f"{base}.fault"),
        seconds(raw.get("timeout")),
        int(retries["attempts"]) if "attempts" in retries else None,
        str(mirror["host"]) if mirror.get("host") else None,
        str(as_dict(raw.get("rewrite")).get("uri")) if as_dict(raw.get("rewrite")).get("uri") else None,
        bool(raw.get("redirect")),
        int(direct["status"]) if direct.get("status") is not None else None,
        str(as_dict(raw.get("delegate")).get("name")) if raw.get("delegate") else None,
        mirror_destinations(raw, base),
    )


def route_target_namespaces(docs: Iterable[Mapping[str, Any]], namespaces: Iterable[str]) -> set[str]:
    """Namespaces that VirtualServices of ``namespaces`` (or naming a host there) route or mirror into
    by a qualified host (``name.ns``, ``name.ns.svc.cluster.local``): a question scoped to its pair
    reads those too, so each weighted destination is judged on what is there, not on absence."""
    wanted = set(namespaces)
    out: set[str] = set()
    for doc in docs:
        meta, spec = doc.get("metadata"), doc.get("spec")
        if doc.get("kind") != "VirtualService" or not isinstance(meta, dict) or not isinstance(spec, dict):
            continue
        hosts = [str(h) for h in as_list(spec.get("hosts"))]
        own = str(meta.get("namespace") or "default")
        if own not in wanted and not any(_host_namespace(h) in wanted for h in hosts):
            continue
        for section in ("http", "tcp", "tls"):
            for route in as_list(spec.get(section)):
                items = [as_dict(d).get("destination") for d in as_list(as_dict(route).get("route"))]
                items += [as_dict(route).get("mirror")]
                items += [as_dict(m).get("destination") for m in as_list(as_dict(route).get("mirrors"))]
                for dest in items:
                    ns = _host_namespace(str(as_dict(dest).get("host") or ""))
                    if ns and ns not in wanted:
                        out.add(ns)
    return out


def _host_namespace(host: str) -> str | None:
    """``name.ns`` / ``name.ns.svc`` / ``name.ns.svc.cluster.local`` → ns; a short or outside name → None."""
    labels = host.rstrip(".").lower().split(".")
    if len(labels) == 2 or (len(labels) >= 3 and labels[2] == "svc"):
        return labels[1]
    return None
