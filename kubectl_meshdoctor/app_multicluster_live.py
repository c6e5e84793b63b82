"""Live input of N clusters (issue 21): ``--context east,west`` reads each kubeconfig context with its
own API reader, deadlines and Relay (port-forwarded in that cluster), into the same per-cluster raw
input the offline layout gives (sources/multicluster.py), so live and offline answer alike.

A context that cannot be read does not stop the others: it is kept as a cluster with nothing read and
a gap naming it, so a question about it says which cluster is missing (exit 3), never a guess.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Literal

from kubectl_meshdoctor import app
from kubectl_meshdoctor.diagnosis.call import Query
from kubectl_meshdoctor.errors import MeshdoctorError, UsageError
from kubectl_meshdoctor.findings.types import Gap
from kubectl_meshdoctor.raw import RawSnapshot
from kubectl_meshdoctor.sources.multicluster import MeshRaw

if TYPE_CHECKING:
    from kubectl_meshdoctor.sources.hubble import FlowBatch, RelayError
    from kubectl_meshdoctor.sources.live import LiveSource

FlowScope = list[str] | None | Literal["pair"]


def contexts(opts: app.SourceOptions) -> list[str] | None:
    """The contexts of a live multi-cluster question (``--context a,b``), or None."""
    if not app.is_live(opts) or not opts.context or "," not in opts.context:
        return None
    names = [c.strip() for c in opts.context.split(",") if c.strip()]
    if len(names) != len(set(names)):
        raise UsageError(f"--context {opts.context!r} names a context twice")
    if opts.hubble_server:
        raise UsageError("--hubble-server names one Relay; with several --context each cluster's Relay is used")
    return names


def _one(opts: app.SourceOptions, context: str, query: Query, scope: list[str] | None, flows: FlowScope) -> RawSnapshot:
    from concurrent.futures import ThreadPoolExecutor

    from kubectl_meshdoctor.sources.hubble import RelayError, flows_request
    from kubectl_meshdoctor.sources.live import (
        LiveSource,
        add_flows,
        namespace_filters,
        namespaces_for,
        relay_down_warning,
    )

    with LiveSource(app.live_options(dataclasses.replace(opts, context=context))) as live:
        if query.no_flows:
            return _objects(live, scope)
        refs = [r.rpartition("@")[0] or r for r in (query.source, query.destination)]
        wanted = namespaces_for(refs, query.namespace) if flows == "pair" else flows
        request = flows_request(namespace_filters(wanted), query.since_seconds, query.last)
        # which flows to ask for does not depend on the objects: the Relay's port-forward, connection and
        # stream go on while the lists run (their round trips overlap); the result is put in as before
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"relay-{context}") as pool:
            pending = pool.submit(_flows, live, request)
            raw = _objects(live, scope)
            batch = pending.result()
        if isinstance(batch, RelayError):
            raw.warnings.append(relay_down_warning(batch, context))
        else:
            add_flows(raw, batch)
        return raw


def _objects(live: LiveSource, scope: list[str] | None) -> RawSnapshot:
    raw = live.objects(scope)  # namespaced list calls for a scope (kube-system, istio-system included)
    more = app.alias_namespaces(raw, scope)
    if more and scope is not None:
        raw = live.objects([*scope, *more])
    return raw


def _flows(live: LiveSource, request: Any) -> FlowBatch | RelayError:
    from kubectl_meshdoctor.sources.hubble import RelayError

    try:
        return live.flows(request)
    except RelayError as err:
        return err


def read_live(
    opts: app.SourceOptions, names: list[str], query: Query, scope: list[str] | None = None, flows: FlowScope = "pair"
) -> MeshRaw:
    """Every context, side by side; ``scope``: only those namespaces' objects (None: every namespace). Flows:
    those of the question's pair's namespaces ("pair"), else (matrix) of these namespaces (None: all)."""
    from concurrent.futures import ThreadPoolExecutor

    def read(name: str) -> tuple[RawSnapshot, str]:
        try:
            return _one(opts, name, query, scope, flows), ""
        except MeshdoctorError as err:
            first = str(err).splitlines()[0] if str(err) else type(err).__name__
            return RawSnapshot(gaps=[Gap(f"context {name} could not be read: {first}", {"*"})]), first

    mesh = MeshRaw(f"--context {','.join(names)}")
    # the clusters are read side by side: a cluster that does not answer costs its --request-timeout once,
    # not on top of the others' reading time
    with ThreadPoolExecutor(max_workers=len(names), thread_name_prefix="context") as pool:
        for name, (raw, why) in zip(names, pool.map(read, names), strict=True):
            mesh.clusters[name] = raw
            if why:
                mesh.unreadable[name] = why
    return mesh
