"""Workload references resolved from flow endpoints, for input without Kubernetes objects (issue 13).

After an incident people often have only a flow capture. Every flow names its endpoints
(namespace, pod name, labels, and on newer Hubble the owning ``workloads``), so references can
resolve from them with the meaning contract §1 gives them on objects:

* ``NS/pod/NAME``: the pod named NAME (exactly);
* ``NS/NAME``, ``NS/deploy/NAME``, ``NS/svc/NAME``, ``NAME`` (with -n), a DNS name ``NAME.NS``:
  the pods of NS whose name is NAME or starts with ``NAME-`` (the pod-name prefix rule), whose
  ``workloads`` field names NAME, or whose ``app``, ``app.kubernetes.io/name`` or ``k8s-app``
  label is NAME (how Services usually select); a Service also matches a flow's
  ``destination_service``;
* an IP or CIDR: endpoints with that address.

Only what flows show is known: no Service ports, no policies, no mesh settings. That is why an
explain on such input is evidence only (diagnosis/flows_only.py), never a static verdict.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubectl_meshdoctor.errors import UsageError
from kubectl_meshdoctor.model.objects import SA_KEY, Pod

__all__ = ["FlowEndpoints", "FlowRef", "Resolved", "parse_ref", "resolve"]

_NAME_LABELS = ("app", "app.kubernetes.io/name", "k8s-app")
_SERVICE_KINDS = ("svc", "service", "services")
_POD_KINDS = ("pod", "po", "pods")
_WORKLOAD_KINDS = ("deploy", "deployment", "deployments", "sts", "statefulset", "statefulsets", "ds",
                   "daemonset", "daemonsets")  # fmt: skip
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class FlowRef:
    """What one reference means against flow endpoints."""

    text: str
    namespace: str = ""
    name: str = ""
    exact_pod: bool = False
    service: bool = False
    network: _Network | None = None

    def needles(self) -> tuple[str, ...]:
        """Strings every matching flow line contains (the byte prefilter, sources/flowscan.py)."""
        if self.network is not None:
            if self.network.num_addresses == 1:
                return (str(self.network.network_address),)
            return ()  # a CIDR has no common text
        return (self.name,)

    def matches(self, ep: Any, ip: str, service: Any = None) -> bool:
        """``ep`` is a flow endpoint (namespace, pod_name, labels, workloads); ``ip`` its address;
        ``service`` the flow's destination_service when ``ep`` is the destination."""
        if self.network is not None:
            return _in_network(ip, self.network)
        if ep.namespace != self.namespace:
            return self.service and service is not None and self._service(service)
        pod = ep.pod_name
        if self.exact_pod:
            return bool(pod) and pod == self.name
        if pod and (pod == self.name or pod.startswith(self.name + "-")):
            return True
        if any(w.name == self.name for w in ep.workloads):
            return True
        if any(_label_value(label) == self.name for label in ep.labels):
            return True
        return self.service and service is not None and self._service(service)

    def _service(self, svc: Any) -> bool:
        return bool(svc.name) and svc.name == self.name and svc.namespace == self.namespace


def _label_value(label: str) -> str | None:
    """``k8s:app=NAME`` -> NAME for the labels that name an app; else None."""
    _, _, rest = label.partition(":")
    key, sep, value = rest.partition("=")
    return value if sep and key in _NAME_LABELS else None


def _in_network(ip: str, net: _Network) -> bool:
    if not ip:
        return False
    try:
        return ipaddress.ip_address(ip) in net
    except ValueError:
        return False


def parse_ref(text: str, default_ns: str, allow_external: bool) -> FlowRef:
    text = text.strip()
    if not text:
        raise UsageError("empty workload reference")
    try:
        return FlowRef(text, network=ipaddress.ip_network(text, strict=False))
    except ValueError:
        pass
    parts = text.split("/")
    if len(parts) > 3 or not all(parts):
        raise UsageError(f"bad reference {text!r}: use NS/NAME, NS/KIND/NAME or NAME")
    if len(parts) == 3:
        namespace, kind, name = parts
        kind = kind.lower()
        if kind not in (*_POD_KINDS, *_SERVICE_KINDS, *_WORKLOAD_KINDS):
            raise UsageError(f"unknown kind {parts[1]!r} in {text!r}; use pod, deploy, sts, ds or svc")
        return FlowRef(text, namespace, name, exact_pod=kind in _POD_KINDS, service=kind in _SERVICE_KINDS)
    if len(parts) == 2:
        return FlowRef(text, parts[0], parts[1])
    labels = text.rstrip(".").split(".")
    if len(labels) >= 2 and (len(labels) == 2 or labels[2] == "svc"):
        return FlowRef(text, labels[1], labels[0], service=True)  # name.ns[.svc.cluster.local]
    return FlowRef(text, default_ns, text)


@dataclass(slots=True)
class _Seen:
    namespace: str
    pod: str
    ip: str
    labels: tuple[str, ...]
    workloads: tuple[tuple[str, str], ...]  # (kind, name)


@dataclass(slots=True)
class FlowEndpoints:
    """Endpoints of the flows read for one question, per reference side (bounded by the pair's
    traffic), plus names seen elsewhere for "did you mean"."""

    sides: dict[str, dict[str, _Seen]] = field(default_factory=dict)  # ref text -> "ns/pod" -> seen
    names: set[str] = field(default_factory=set)
    read_all: bool = True  # False when the names come from part of the input only

    def note(self, ref: FlowRef, flow: Any) -> None:
        """Record the endpoints of ``flow`` that ``ref`` matches."""
        side = self.sides.setdefault(ref.text, {})
        for ep, ip, svc in ((flow.source, flow.IP.source, None), (flow.destination, flow.IP.destination,
                                                                 flow.destination_service)):  # fmt: skip
            if ref.matches(ep, ip, svc):
                key = f"{ep.namespace}/{ep.pod_name}" if ep.pod_name else ip
                if key and key not in side:
                    side[key] = _Seen(
                        ep.namespace,
                        ep.pod_name,
                        ip,
                        tuple(ep.labels),
                        tuple((w.kind, w.name) for w in ep.workloads),
                    )

    def note_names(self, flows: Iterable[Any]) -> None:
        for flow in flows:
            for ep in (flow.source, flow.destination):
                if ep.pod_name:
                    self.names.add(f"{ep.namespace}/{_workload_name(ep.pod_name, ep.workloads)}")


def _workload_name(pod: str, workloads: Sequence[Any]) -> str:
    if workloads:
        return str(workloads[0].name)
    parts = pod.split("-")
    return "-".join(parts[:-2]) if len(parts) > 2 else pod  # deploy-<rs hash>-<suffix>


@dataclass(frozen=True, slots=True)
class Resolved:
    namespace: str
    name: str
    kind: str  # Deployment/StatefulSet/DaemonSet (from the workloads field), Pod, Workload or External
    pods: list[Pod]
    external_ip: str | None = None


def _pod(seen: _Seen, kind: str, workload: str) -> Pod:
    labels: dict[str, str] = {}
    for label in seen.labels:
        source, _, rest = label.partition(":")
        key, _, value = rest.partition("=")
        if source == "k8s" and key:
            labels[key] = value
    return Pod(
        seen.namespace, seen.pod, labels, {}, labels.get(SA_KEY, ""), seen.ip or None, None, (), (), (), (),
        False, True, None, None, origin="flows", workload_kind=kind, workload_name=workload,
    )  # fmt: skip


def resolve(endpoints: FlowEndpoints, text: str, default_ns: str, allow_external: bool) -> Resolved:
    """The Target data for ``text`` from the endpoints seen; UsageError when no flow names it."""
    ref = parse_ref(text, default_ns, allow_external)
    seen = sorted(endpoints.sides.get(ref.text, {}).values(), key=lambda s: (s.namespace, s.pod))
    pods = [s for s in seen if s.pod]
    if ref.network is not None and not pods:
        if not allow_external:
            raise UsageError(f"unknown reference {text!r}: no pod with this address in the flows")
        return Resolved("", text, "External", [], str(ref.network.network_address))
    if not pods:
        where = "in the flows read" if endpoints.read_all else "in the part of the input searched"
        pool = sorted(endpoints.names)
        import difflib  # only for a name that matches nothing (a "did you mean")

        hint = difflib.get_close_matches(f"{ref.namespace}/{ref.name}", pool, n=3, cutoff=0.5)
        more = f"; did you mean {', '.join(hint)}?" if hint else ""
        raise UsageError(
            f"unknown reference {text!r}: the input has no Kubernetes objects and no flow endpoint {where} "
            f"matches {ref.namespace}/{ref.name}{more}"
        )
    kinds = {w for s in pods for w in s.workloads}
    if ref.exact_pod or (len(pods) == 1 and pods[0].pod == ref.name):
        kind, name = "Pod", pods[0].pod
    elif len(kinds) == 1:
        kind, name = next(iter(kinds))
    else:
        kind, name = "Workload", ref.name
    workload_kind, workload = (kind, name) if kind != "Pod" else ("Pod", pods[0].pod)
    return Resolved(pods[0].namespace, name, kind, [_pod(s, workload_kind, workload) for s in pods])
