"""Flow lines for ``flows``: compact text like ``hubble observe``, JSON with the annotation, jsonpb.

Each flow is annotated with the hop of the call path that explains it and the objects that
decided that hop (from the same diagnosis ``explain`` prints). Pod names, paths and
summaries come from the network, so control characters are escaped before printing
(architecture habit 11, as hubble's terminal escaper does).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kubectl_meshdoctor.findings.types import Diagnosis, Hop, ObjectRef

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_EVENT_TYPES = {1: "drop", 5: "policy-verdict", 129: "l7", 130: "agent", 131: "capture"}


@dataclass(frozen=True, slots=True)
class Annotation:
    hop: str
    by: tuple[ObjectRef, ...]


def escape(text: str) -> str:
    """Control characters as ``^[``-style caret notation, so flows cannot drive the terminal."""
    return _CONTROL.sub(lambda m: "^" + chr(ord(m.group()) ^ 0x40), text)


def _name(enum: Any, value: int) -> str:
    try:
        return str(enum.Name(value))
    except ValueError:
        return str(value)


def annotate(flow: Any, diagnosis: Diagnosis | None) -> Annotation:
    """Which hop explains this flow: L7 records and proxy redirects -> Cilium L7; egress-side
    verdicts -> client egress; other L3/L4 verdicts -> Cilium ingress. Without a diagnosis (flows
    only, no objects) only the policies Hubble itself names are shown."""
    from kubectl_meshdoctor._proto import flow_pb2

    hops = diagnosis.hops if diagnosis is not None else []
    by_hop: Mapping[Hop, tuple[ObjectRef, ...]] = {h.hop: tuple(h.by) for h in hops}
    if flow.HasField("l7") or flow.trace_observation_point == flow_pb2.TO_PROXY or flow.verdict == flow_pb2.REDIRECTED:
        hop = Hop.CILIUM_L7
    elif flow.traffic_direction == flow_pb2.EGRESS:
        hop = Hop.CLIENT_EGRESS
    else:
        hop = Hop.CILIUM_INGRESS
    denied = [
        ObjectRef(p.kind or "Policy", p.namespace or None, p.name)
        for p in [*flow.ingress_denied_by, *flow.egress_denied_by]
    ]
    return Annotation(hop.value, tuple(denied) or by_hop.get(hop, ()))


def _endpoint(ep: Any, ip: str, port: int | None) -> str:
    who = f"{ep.namespace}/{ep.pod_name}" if ep.pod_name else (ip or "?")
    return escape(f"{who}:{port}" if port else who)


def _ports(flow: Any) -> tuple[int | None, int | None]:
    kind = flow.l4.WhichOneof("protocol")
    if kind in ("TCP", "UDP", "SCTP"):
        l4 = getattr(flow.l4, kind)
        return int(l4.source_port), int(l4.destination_port)
    return None, None


def compact_line(flow: Any, note: Annotation) -> str:
    """``Nov 20 10:01:21.123: red/netshoot-x:41144 -> blue/httpbin-y:80 to-endpoint FORWARDED (TCP Flags: SYN)``."""
    from kubectl_meshdoctor._proto import flow_pb2

    when = datetime.fromtimestamp(flow.time.seconds + flow.time.nanos / 1e9, UTC).strftime("%b %d %H:%M:%S.%f")[:-3]
    sport, dport = _ports(flow)
    arrow = "<-" if flow.HasField("is_reply") and flow.is_reply.value else "->"
    src = _endpoint(flow.source, flow.IP.source, sport)
    dst = _endpoint(flow.destination, flow.IP.destination, dport)
    point = _name(flow_pb2.TraceObservationPoint, flow.trace_observation_point).lower().replace("_", "-")
    if not flow.trace_observation_point:
        point = _EVENT_TYPES.get(flow.event_type.type, "event")
    verdict = _name(flow_pb2.Verdict, flow.verdict)
    reason = f" {_name(flow_pb2.DropReason, flow.drop_reason_desc)}" if flow.drop_reason_desc else ""
    summary = f" ({escape(flow.Summary)})" if flow.Summary else ""
    by = ", ".join(r.key() if hasattr(r, "key") else r.name for r in note.by)
    via = f"  [{note.hop}{': ' + escape(by) if by else ''}]"
    return f"{when}: {src} {arrow} {dst} {point} {verdict}{reason}{summary}{via}"


def _ref(ref: ObjectRef) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": ref.kind, "namespace": ref.namespace, "name": ref.name}
    if ref.rule:
        out["rule"] = ref.rule
    return out


def json_line(flow: Any, note: Annotation) -> str:
    """Contract §1: ``{"flow": <jsonpb flow>, "hop": ..., "by": [...]}``."""
    from kubectl_meshdoctor.sources.flowjson import flow_to_jsonpb

    envelope = json.loads(flow_to_jsonpb(flow))
    doc = {"flow": envelope["flow"], "hop": note.hop, "by": [_ref(r) for r in note.by]}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def jsonpb_line(flow: Any) -> str:
    from kubectl_meshdoctor.sources.flowjson import flow_to_jsonpb

    return flow_to_jsonpb(flow)


def render(flow: Any, diagnosis: Diagnosis | None, output: str) -> str:
    if output == "jsonpb":
        return jsonpb_line(flow)
    note = annotate(flow, diagnosis)
    return json_line(flow, note) if output == "json" else compact_line(flow, note)


def render_all(flows: Sequence[Any], diagnosis: Diagnosis | None, output: str) -> list[str]:
    return [render(f, diagnosis, output) for f in flows]
