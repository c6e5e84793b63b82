"""A synthetic Hubble export for scripts/bench-flows (issue 13): ``flows.jsonl`` of a given size in
``hubble observe -o jsonpb`` form, lines shaped like the real recordings (~1.4 KB, Cilium
labels, identities, trace and policy-verdict events), plus the S cluster's objects beside it.

The explained pair is the bench pair (ns-0000/client -> ns-0001/server, 2,000 flows spread
evenly); every other line is traffic between the other pods of 200 namespaces. Lines are
written from templates with the times spliced in, so 1 GB takes seconds to write.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from bench_cluster import APPS, SIZES, pair_flow, write_snapshot

BASE_S = 1_795_000_000  # 2026-11-18
PAIR_FLOWS = 2_000


def _labels(ns: str, app: str, sa: str) -> list[str]:
    return [
        f"k8s:app={app}",
        f"k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name={ns}",
        f"k8s:io.cilium.k8s.namespace.labels.team=team-{hash(ns) % 50}",
        "k8s:io.cilium.k8s.policy.cluster=bench",
        f"k8s:io.cilium.k8s.policy.serviceaccount={sa}",
        f"k8s:io.kubernetes.pod.namespace={ns}",
        "k8s:version=v1",
    ]


def _noise(rnd: random.Random, i: int) -> dict[str, Any]:
    a, b = rnd.randrange(2, 200), rnd.randrange(2, 200)
    app_a, app_b = APPS[rnd.randrange(len(APPS))], APPS[rnd.randrange(len(APPS))]
    ns_a, ns_b = f"ns-{a:04d}", f"ns-{b:04d}"
    pod_a, pod_b = f"{app_a}-7c9d8f6b5-{rnd.randrange(99999):05d}", f"{app_b}-7c9d8f6b5-{rnd.randrange(99999):05d}"
    reply = i % 2 == 1
    doc = pair_flow(i, f"10.{a // 250}.{a % 250}.7", f"10.{b // 250}.{b % 250}.9", pod_a, pod_b)
    flow = doc["flow"]
    flow["ethernet"] = {"source": "d2:d9:76:de:f4:90", "destination": "6e:3c:ce:d3:9e:a6"}
    flow["source"].update({"ID": 800 + a, "namespace": ns_a, "labels": _labels(ns_a, app_a, f"{app_a}-sa")})
    flow["destination"].update({"ID": 900 + b, "namespace": ns_b, "labels": _labels(ns_b, app_b, f"{app_b}-sa")})
    flow["destination_service"] = {"name": app_b, "namespace": ns_b}
    flow["l4"]["TCP"]["flags"] = {"ACK": True, "PSH": True} if reply else {"SYN": True}
    flow["is_reply"] = reply
    flow["trace_observation_point"] = "TO_ENDPOINT"
    flow["uuid"] = f"5b0e{i:08x}-3c1d-4c6a-9a1e-0b7f6c2d9e{i % 100:02d}"
    flow["Summary"] = "TCP Flags: ACK, PSH" if reply else "TCP Flags: SYN"
    return doc


def _template(doc: dict[str, Any]) -> tuple[str, str, str]:
    """The line split around its two times (flow.time and the envelope's)."""
    doc["flow"]["time"] = doc["time"] = "@T@"
    text = json.dumps(doc, separators=(",", ":"))
    first, middle, last = text.split("@T@")
    return first, middle, last


def write_export(root: Path, megabytes: int, seed: int = 13) -> tuple[Path, Path, int, int]:
    """(objects dir, flows file, flow count, pair flow count): a file of about ``megabytes`` MB with
    the pair's 2,000 flows (fewer in a small file: one line in 20 at most)."""
    objects = write_snapshot(SIZES["S"], root / "objects", pair_flows=0, noise_flows=0)
    (objects / "flows.jsonl").unlink()
    pods = {}
    for name in ("pods.json",):
        for item in json.loads((objects / name).read_text())["items"]:
            pods.setdefault(item["metadata"]["namespace"], item)
    client, server = pods["ns-0000"], pods["ns-0001"]
    rnd = random.Random(seed)
    noise = [_template(_noise(rnd, i)) for i in range(4_000)]
    pair = [
        _template(
            pair_flow(
                i,
                client["status"]["podIP"],
                server["status"]["podIP"],
                client["metadata"]["name"],
                server["metadata"]["name"],
            )
        )
        for i in range(PAIR_FLOWS)
    ]
    size = megabytes * 1_000_000
    per_line = sum(len("".join(t)) + 62 for t in noise[:100]) / 100
    total = max(int(size / per_line), 700 * megabytes, 100)  # >= 700,000 flows per GB
    pair_count = min(PAIR_FLOWS, total // 20)
    every = total // pair_count
    path = root / "export" / "flows.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    sent = 0
    with path.open("w", encoding="utf-8") as fh:
        chunk: list[str] = []
        for i in range(total):
            seconds, ms = divmod(i, 1000)
            t = f"2026-11-18T{(seconds // 3600) % 24:02d}:{(seconds // 60) % 60:02d}:{seconds % 60:02d}.{ms:03d}123456Z"
            if i % every == every - 1 and sent < pair_count:
                first, middle, last = pair[sent]
                sent += 1
            else:
                first, middle, last = noise[i % len(noise)]
            chunk.append(f"{first}{t}{middle}{t}{last}\n")
            if len(chunk) >= 10_000:
                fh.write("".join(chunk))
                chunk.clear()
        fh.write("".join(chunk))
    return objects, path, total, pair_count
