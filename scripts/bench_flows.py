"""The playground Relay's data for scripts/bench: ``total`` flows, of which ``pair`` are the
explained pair's (ns-0000/client -> ns-0001/server, spread evenly in time) and the rest are
noise between other pods of the L cluster (ns-0002.. with their deployments' pod names).

Flows are stored serialized (``relay.FlowStore.add_serialized``): a million messages would
cost gigabytes as Python objects.
"""

from __future__ import annotations

import random
from typing import Any

from bench_cluster import APPS, pair_flow
from google.protobuf import json_format

from kubectl_meshdoctor._proto import flow_pb2, observer_pb2
from kubectl_meshdoctor.playground.relay import FlowStore

BASE_NS = 1_795_000_000 * 1_000_000_000  # 2026-11-18, before the snapshot's flows
CLIENT = ("10.0.0.2", "client-5d9f8c7b6-00000")
SERVER = ("10.0.1.2", "server-5d9f8c7b6-00000")


def _flow(doc: dict[str, Any]) -> Any:
    return json_format.ParseDict(doc["flow"], flow_pb2.Flow(), ignore_unknown_fields=True)


def _templates(count: int, namespaces: int, seed: int = 11) -> list[Any]:
    rnd = random.Random(seed)
    out = []
    for i in range(count):
        a, b = rnd.randrange(2, namespaces), rnd.randrange(2, namespaces)
        app_a, app_b = APPS[rnd.randrange(len(APPS))], APPS[rnd.randrange(len(APPS))]
        pod_a, pod_b = f"{app_a}-5d9f8c7b6-{rnd.randrange(5):05d}", f"{app_b}-5d9f8c7b6-{rnd.randrange(5):05d}"
        flow = _flow(pair_flow(i, f"10.{a // 250}.{a % 250}.7", f"10.{b // 250}.{b % 250}.9", pod_a, pod_b))
        flow.source.namespace, flow.destination.namespace = f"ns-{a:04d}", f"ns-{b:04d}"
        flow.source.labels[:] = [f"k8s:app={app_a}"]
        flow.destination.labels[:] = [f"k8s:app={app_b}"]
        out.append(flow)
    return out


def relay_store(total: int, pair: int, namespaces: int = 2_000) -> FlowStore:
    store = FlowStore()
    pair_every = max(1, total // max(pair, 1))
    templates = _templates(min(2_000, total), namespaces)
    pair_sent = 0
    for i in range(total):
        if pair_sent < pair and i % pair_every == pair_every - 1:
            flow = _flow(pair_flow(pair_sent, CLIENT[0], SERVER[0], CLIENT[1], SERVER[1]))
            pair_sent += 1
        else:
            flow = templates[i % len(templates)]
        t = BASE_NS + i * 1_000_000  # one flow per millisecond
        flow.time.seconds, flow.time.nanos = divmod(t, 1_000_000_000)
        blob = observer_pb2.GetFlowsResponse(flow=flow, node_name=flow.node_name, time=flow.time).SerializeToString()
        ends = (
            f"{flow.source.namespace}/{flow.source.pod_name}",
            f"{flow.destination.namespace}/{flow.destination.pod_name}",
        )
        store.add_serialized(blob, t, flow.node_name, ends)
    store.freeze()
    return store
