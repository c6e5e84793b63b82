"""The live source: Kubernetes objects first, then (once the call is resolved) the pair's flows.

It produces the same RawSnapshot as the offline sources (objects as ``kubectl get -o json``
items, flows as ``flow_pb2.Flow``), so the model and the diagnosis never know where their
input came from (architecture habit 8).
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubectl_meshdoctor.raw import RawSnapshot
from kubectl_meshdoctor.sources.base import RELAY_DOWN
from kubectl_meshdoctor.sources.deadline import Deadline
from kubectl_meshdoctor.sources.hubble import FlowBatch, HubbleClient, RelayError, TLSOptions

# Namespaces every question needs: the Cilium config and the Istio root namespace (mesh
# config, mesh-wide PeerAuthentication/AuthorizationPolicy, ztunnel/istio-cni DaemonSets).
SYSTEM_NAMESPACES = ("kube-system", "istio-system")


@dataclass(frozen=True, slots=True)
class LiveOptions:
    kubeconfig: str | None = None
    context: str | None = None
    request_timeout: float = 15.0  # each API request, connect and read; 0: none
    hubble_server: str | None = None
    tls: TLSOptions = field(default_factory=TLSOptions)
    progress: bool = True
    timeout: float = 60.0  # the whole run: objects, port-forward and flows; 0: none


def ref_namespace(ref: str, default_ns: str) -> str | None:
    """The namespace a reference names; None when it cannot tell (an IP/CIDR: any pod)."""
    text = ref.strip()
    if "/" in text:
        try:
            ipaddress.ip_network(text, strict=False)
            return None
        except ValueError:
            return text.split("/", 1)[0] or default_ns
    try:
        ipaddress.ip_address(text)
        return None
    except ValueError:
        pass
    parts = text.rstrip(".").split(".")
    if len(parts) >= 2 and (len(parts) == 2 or parts[2] == "svc"):
        return parts[1]  # a Service DNS name: name.ns[.svc...]
    return default_ns if len(parts) == 1 else None


def namespaces_for(refs: Sequence[str], default_ns: str) -> list[str] | None:
    """The namespaces a question needs, or None for all (a reference without a namespace)."""
    wanted: list[str] = []
    for ref in refs:
        ns = ref_namespace(ref, default_ns)
        if ns is None:
            return None
        wanted.append(ns)
    return list(dict.fromkeys([*wanted, *SYSTEM_NAMESPACES]))


class LiveSource:
    """Use as a context manager: it may hold a port-forward and a gRPC channel.

    ``opts.timeout`` starts the command's deadline here: every API request, the port-forward's
    look-ups and every Relay call wait at most until then (a ``follow`` stream excepted: it runs
    until the caller stops), and what was not read by then is a gap, not a hang.
    """

    def __init__(self, opts: LiveOptions) -> None:
        from kubectl_meshdoctor.sources.kube import KubeClient

        self.opts = opts
        self.deadline = Deadline.after(opts.timeout)
        self._closers: list[Callable[[], None]] = []
        self.progress: Callable[[str], None] = lambda _m: None
        if opts.progress:
            from kubectl_meshdoctor.sources.progress import StatusLine

            status = StatusLine()
            self.progress = status
            self._closers.append(status.close)
        self.progress("connecting to the Kubernetes API")
        self.kube = KubeClient(opts.kubeconfig, opts.context, opts.request_timeout, self.deadline)
        self._closers.append(self.kube.close)
        self._hubble: HubbleClient | None = None

    def __enter__(self) -> LiveSource:
        return self

    def __exit__(self, *exc: object) -> None:
        for close in reversed(self._closers):
            with contextlib.suppress(Exception):
                close()

    def renew_deadline(self) -> None:
        """A command that runs until Ctrl-C (``triage -f``) gives each later read the whole --timeout."""
        self.deadline = Deadline.after(self.opts.timeout)
        self.kube.deadline = self.deadline

    def objects(self, namespaces: Sequence[str] | None, kinds: frozenset[str] | None = None,
                wide: bool = False) -> RawSnapshot:  # fmt: skip
        from kubectl_meshdoctor.sources.kube import KubeReader

        return KubeReader(self.kube, self.progress).read(namespaces, kinds, wide)

    def hubble(self) -> HubbleClient:
        """Connect once: ``--hubble-server``, else a port-forward to kube-system/hubble-relay."""
        if self._hubble is not None:
            return self._hubble
        if self.deadline.expired():
            raise RelayError(f"{self.deadline.describe()} expired before Relay was asked")
        address = self.opts.hubble_server
        if not address:
            from kubectl_meshdoctor.sources.portforward import PortForward, relay_target

            self.progress("port-forward: finding Service kube-system/hubble-relay")
            target = relay_target(self.kube)
            self.progress(f"port-forward: opening {target.namespace}/{target.pod}:{target.port}")
            forward = PortForward(self.kube, target).start()
            self._closers.append(forward.close)
            address = forward.address
        self.progress(f"connecting to Hubble Relay at {address}")
        client = HubbleClient(address, self.opts.tls, deadline=self.deadline)
        self._closers.append(client.close)
        client.server_status()  # fail fast, with one clear line, if Relay is not there
        self._hubble = client
        return client

    def flows(self, request: Any, keep: Callable[[Any], object] | None = None, hold: bool = True) -> FlowBatch:
        """The flows of ``request`` (bounded), re-checked client side (by ``keep`` when given, see
        HubbleClient.stream); RelayError when unreachable. ``hold=False``: ``keep`` holds what it
        needs of them (the batch has the warnings and the count only)."""
        client = self.hubble()
        self.progress(f"streaming flows from Hubble Relay at {client.address}")
        batch = FlowBatch()

        def cut(reason: str) -> None:
            batch.cut_short = reason

        for count, flow in enumerate(client.stream(request, batch.warnings.append, cut, keep), 1):
            if hold:
                batch.flows.append(flow)
            batch.count = count
            if count % 256 == 0:
                self.progress(f"streaming flows from Hubble Relay: {count} received")
        batch.warnings[:] = list(dict.fromkeys(batch.warnings))
        return batch

    def follow(self, request: Any, on_warning: Callable[[str], None]) -> Iterator[Any]:
        """Stream ``request``; a bounded one cut short by the deadline ends with a warning."""
        return self.hubble().stream(request, on_warning, on_warning)


def relay_down_warning(err: RelayError, context: str = "") -> str:
    """``context``: across clusters, the kubeconfig context whose Relay could not be read."""
    return f"{RELAY_DOWN}: context {context}: {err}" if context else f"{RELAY_DOWN}: {err}"


def add_flows(raw: RawSnapshot, batch: FlowBatch) -> None:
    """Put what Relay returned into ``raw``; a stream cut short by a deadline is a gap too."""
    raw.flows, raw.flow_source = batch.flows, "hubble"
    raw.warnings.extend(batch.warnings)
    if batch.cut_short:
        raw.gaps.append(batch.cut_short)


def namespace_filters(namespaces: Sequence[str] | None) -> list[Any]:
    """Whitelist for ``snapshot -n``: flows from or to any pod in these namespaces (empty: all flows)."""
    from kubectl_meshdoctor._proto import flow_pb2

    if not namespaces:
        return []
    prefixes = [f"{ns}/" for ns in namespaces]
    return [flow_pb2.FlowFilter(source_pod=prefixes), flow_pb2.FlowFilter(destination_pod=prefixes)]


def capture(
    opts: LiveOptions,
    namespaces: Sequence[str] | None,
    since_seconds: float | None,
    last: int | None,
    with_flows: bool = True,
) -> RawSnapshot:
    """What ``snapshot`` writes: the objects of these namespaces (None: all) and their flows."""
    from kubectl_meshdoctor.sources.hubble import flows_request

    with LiveSource(opts) as live:
        wanted = list(dict.fromkeys([*namespaces, *SYSTEM_NAMESPACES])) if namespaces else None
        raw = live.objects(wanted)
        if not with_flows:
            return raw
        try:
            batch = live.flows(flows_request(namespace_filters(namespaces), since_seconds, last))
        except RelayError as err:
            raw.warnings.append(relay_down_warning(err))
            return raw
        add_flows(raw, batch)
        return raw
