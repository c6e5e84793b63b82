"""Part of scripts/bench: N synthetic clusters of one size (issue 21: three of size M), one explain
across two of them, offline (``--from DIR`` with ``clusters/<name>/``) and live (one playground API
server and Relay per cluster, ``--context c1,c2,c3``), plus the cost of a cluster that does not answer.

Figures (``NxSIZE.`` prefix), wall seconds and CPU seconds (user+sys, the figure to compare under load):
    explain_offline_s / _cpu_s   `explain ns-0000/client@c1 ns-0001/server@c2 --from DIR`
    explain_live_s / _cpu_s      the same through the playgrounds
    offline_target_ratio, live_target_ratio   wall / the issue's target (1.5 s, 2 s); <= 1 meets it
    unanswered_s                 live, with a fourth context whose API server accepts and never answers
    unanswered_over_timeout_s    unanswered_s - explain_live_s: at most --request-timeout
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TARGETS = {"offline": 1.5, "live": 2.0}
QUERY = ["ns-0000/client@c1", "ns-0001/server@c2", "--path", "/api/x"]
REQUEST_TIMEOUT = 2.0


def write_mesh(size_name: str, clusters: int, root: Path) -> Path:
    """``root/clusters/c1..cN``, each scripts/bench_cluster.py's snapshot of that size with its own
    cilium-config name and ID and its own pod CIDR (first octet 10+k), so pod IPs do not overlap."""
    from bench_cluster import SIZES, write_snapshot

    for k in range(1, clusters + 1):
        name = f"c{k}"
        folder = write_snapshot(SIZES[size_name], root / "clusters" / name)
        pods = json.loads((folder / "pods.json").read_text())
        for pod in pods["items"]:
            pod["status"]["podIP"] = _shift(pod["status"]["podIP"], k)
            pod["status"]["podIPs"] = [{"ip": pod["status"]["podIP"]}]
        (folder / "pods.json").write_text(json.dumps(pods))
        maps = json.loads((folder / "configmaps.json").read_text())
        for cm in maps["items"]:
            if cm["metadata"]["name"] == "cilium-config":
                cm["data"].update({"cluster-name": name, "cluster-id": str(k), "policy-default-local-cluster": "false"})
        (folder / "configmaps.json").write_text(json.dumps(maps))
        flows = (folder / "flows.jsonl").read_text().replace('"10.', f'"{10 + k}.')
        (folder / "flows.jsonl").write_text(flows)
    return root


def _shift(ip: str, k: int) -> str:
    return f"{10 + k}.{ip.split('.', 1)[1]}" if ip.startswith("10.") else ip


def _run(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user+sys) and exit code of the command alone (scripts/bench_rss.py)."""
    with tempfile.TemporaryDirectory() as tmp:
        stats = Path(tmp) / "stats.json"
        wrapped = [sys.executable, str(HERE / "bench_rss.py"), str(stats), *cmd]
        subprocess.run(wrapped, capture_output=True, env={**os.environ, **(env or {})}, check=False)
        got = json.loads(stats.read_text())
    if got["code"] not in (0, 1, 3):
        raise SystemExit(f"failed ({got['code']}): {' '.join(cmd)}")
    return float(got["seconds"]), float(got["cpu_s"]), int(got["code"])


def measure(spec: str, work: Path, runs: int, add: Callable[[str, float, str], None], exe: str) -> None:
    """``spec`` = NxSIZE, e.g. 3xM."""
    from kubectl_meshdoctor.playground.main import start, write_contexts
    from kubectl_meshdoctor.playground.silent import SilentServer
    from kubectl_meshdoctor.sources.multicluster import read_mesh

    count, _, size = spec.lower().partition("x")
    root = write_mesh(size.upper(), int(count), work / f"mesh-{spec}")
    offline = [_run([exe, "explain", *QUERY, "--from", str(root)]) for _ in range(runs)]
    _figures(spec, "offline", offline, add)
    mesh = read_mesh(str(root))
    served: dict[str, Any] = {n: start(raw, with_relay_service=True) for n, raw in mesh.clusters.items()}
    silent = SilentServer()
    url = f"https://{silent.address}"
    try:
        urls = {n: pg.api.url for n, pg in served.items()}
        env = {"NO_COLOR": "1", "HUBBLE_SERVER": ""}
        config = write_contexts(work / f"{spec}.kubeconfig", {**urls, "gone": url}, "ns-0000")
        live_args = [exe, "explain", *QUERY, "--kubeconfig", str(config), "--request-timeout", f"{REQUEST_TIMEOUT}s"]
        live = [_run([*live_args, "--context", ",".join(urls)], env) for _ in range(runs)]
        _figures(spec, "live", live, add)
        gone = [_run([*live_args, "--context", ",".join([*urls, "gone"])], env) for _ in range(runs)]
    finally:
        silent.close()
        for pg in served.values():
            pg.stop()
    wall = statistics.median(w for w, _, _ in gone)
    add(f"{spec}.unanswered_s", wall, "s")
    add(f"{spec}.unanswered_over_timeout_s", wall - statistics.median(w for w, _, _ in live), "s")
    add(f"{spec}.request_timeout_s", REQUEST_TIMEOUT, "s")


def _figures(spec: str, mode: str, got: list[tuple[float, float, int]], add: Callable[[str, float, str], None]) -> None:
    wall = statistics.median(w for w, _, _ in got)
    add(f"{spec}.explain_{mode}_s", wall, "s")
    add(f"{spec}.explain_{mode}_cpu_s", statistics.median(c for _, c, _ in got), "s")
    add(f"{spec}.{mode}_target_ratio", wall / TARGETS[mode], "x")
