"""``scripts/playground DIR``: serve a snapshot as a Kubernetes API and a Hubble Relay.

Prints ``KUBECONFIG=<path>`` and ``HUBBLE_SERVER=127.0.0.1:<port>`` as the first lines on
stdout (so scripts can ``eval`` or parse them), then the commands to try, and serves until
SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import yaml

from kubectl_meshdoctor.playground.kubeapi import TOKEN, ApiConfig, KubeApiServer
from kubectl_meshdoctor.playground.relay import RelayConfig, RelayServer, RelayTLS
from kubectl_meshdoctor.raw import RawSnapshot


def kubeconfig_dict(url: str, namespace: str | None = "default") -> dict[str, Any]:
    """``namespace`` None: the context names none (kubectl and meshdoctor then use "default")."""
    return contexts_dict({"playground": url}, namespace)


def contexts_dict(urls: dict[str, str], namespace: str | None = "default") -> dict[str, Any]:
    """One cluster and one context per name of ``urls`` (N playgrounds: ``--context a,b``), the first current."""
    ns = {"namespace": namespace} if namespace else {}
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": url}} for name, url in urls.items()],
        "users": [{"name": "playground", "user": {"token": TOKEN}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": "playground"} | ns} for name in urls],
        "current-context": next(iter(urls)),
    }


def write_kubeconfig(path: Path, url: str, namespace: str | None = "default") -> Path:
    return write_contexts(path, {"playground": url}, namespace)


def write_contexts(path: Path, urls: dict[str, str], namespace: str | None = "default") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(contexts_dict(urls, namespace), sort_keys=False), encoding="utf-8")
    path.chmod(0o600)
    return path


SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease", "istio-system", "cilium"})


def home_namespace(snap: RawSnapshot) -> str | None:
    """The namespace the playground's kubeconfig names, so that `matrix` and `check` without -n work
    as on a real cluster: the application namespace with the most pods (ties: by name); None (the
    context names none) when the snapshot has no application pod."""
    counts: dict[str, int] = {}
    for obj in snap.objects:
        meta = obj.doc.get("metadata") or {}
        ns = meta.get("namespace") if isinstance(meta, dict) else None
        if obj.doc.get("kind") == "Pod" and isinstance(ns, str) and ns not in SYSTEM_NAMESPACES:
            counts[ns] = counts.get(ns, 0) + 1
    return min(counts, key=lambda ns: (-counts[ns], ns)) if counts else None


def load(source: str) -> RawSnapshot:
    """A snapshot directory / .tar.gz, or the name of a bundled demo."""
    if not Path(source).exists():
        from kubectl_meshdoctor.sources.demo import list_demos, read_demo

        if source in {d.name for d in list_demos()}:
            return read_demo(source)
    from kubectl_meshdoctor.sources.snapshot import read_snapshot

    return read_snapshot(source)


@dataclass(slots=True)
class Playground:
    relay: RelayServer
    api: KubeApiServer | None

    def stop(self) -> None:
        self.relay.stop()
        if self.api is not None:
            self.api.stop()


RELAY_LABELS = {"k8s-app": "hubble-relay"}


def relay_objects() -> list[dict[str, Any]]:
    """Service kube-system/hubble-relay and its pod, as a Cilium install has them (port 80 -> 4245)."""
    meta = {"namespace": "kube-system", "labels": RELAY_LABELS}
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "hubble-relay", **meta},
        "spec": {"selector": RELAY_LABELS, "ports": [{"name": "grpc", "port": 80, "targetPort": "grpc"}]},
    }
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "hubble-relay-5f8d9c7b6-pg000", **meta},
        "spec": {"containers": [{"name": "hubble-relay", "ports": [{"name": "grpc", "containerPort": 4245}]}]},
        "status": {"phase": "Running"},
    }
    return [service, pod]  # fmt: skip


def shift_to_now(flows: list[Any], now_ns: int | None = None) -> list[Any]:
    """Copies of ``flows`` moved in time so that the newest is now; their spacing is kept."""
    import time

    stamped = [f.time.seconds * 1_000_000_000 + f.time.nanos for f in flows if f.HasField("time")]
    if not stamped:
        return list(flows)
    offset = (now_ns if now_ns is not None else time.time_ns()) - max(stamped)
    out = []
    for flow in flows:
        copy = type(flow)()
        copy.CopyFrom(flow)
        if flow.HasField("time"):
            moved = flow.time.seconds * 1_000_000_000 + flow.time.nanos + offset
            copy.time.seconds, copy.time.nanos = divmod(moved, 1_000_000_000)
        out.append(copy)
    return out


def start(
    snap: RawSnapshot,
    relay_only: bool = False,
    api_config: ApiConfig | None = None,
    relay_config: RelayConfig | None = None,
    tls: RelayTLS | None = None,
    with_relay_service: bool = False,
    shift_flows: bool = False,
) -> Playground:
    """``with_relay_service``: also serve Service kube-system/hubble-relay, port-forwarded to the Relay.
    ``shift_flows``: serve the recorded flows as if the newest happened now (``--since 10m`` finds them)."""
    relay = RelayServer(shift_to_now(snap.flows) if shift_flows else snap.flows, relay_config, tls).start()
    if relay_only:
        return Playground(relay, None)
    docs = [o.doc for o in snap.objects]
    config = api_config or ApiConfig()
    if with_relay_service:
        docs += relay_objects()
        config.forward["kube-system/hubble-relay-5f8d9c7b6-pg000"] = ("127.0.0.1", relay.port)
    api = KubeApiServer(docs, config).start()
    return Playground(relay, api)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/playground", description=__doc__.splitlines()[0])
    parser.add_argument("dir", help="a snapshot directory or .tar.gz (contract §3), or a bundled demo name")
    parser.add_argument("--kubeconfig-out", help="where to write the kubeconfig (default: a temporary file)")
    parser.add_argument("--relay-only", action="store_true", help="serve only the Hubble Relay")
    parser.add_argument(
        "--forbid",
        action="append",
        default=[],
        metavar="RESOURCE",
        help="answer 403 for this resource, e.g. authorizationpolicies.security.istio.io",
    )
    parser.add_argument(
        "--recorded-times",
        action="store_true",
        help="serve the flows at their recorded times (default: moved so the newest is now)",
    )
    parser.add_argument(
        "--latency", type=float, default=0.0, metavar="SECONDS", help="delay every API answer (a slow cluster)"
    )
    args = parser.parse_args(argv)
    from kubectl_meshdoctor.errors import MeshdoctorError

    try:
        snap = load(args.dir)
    except MeshdoctorError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    config = ApiConfig(forbidden=set(args.forbid), latency=args.latency)
    pg = start(snap, args.relay_only, config, with_relay_service=True, shift_flows=not args.recorded_times)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        lines = []
        if pg.api is not None:
            out = (
                Path(args.kubeconfig_out)
                if args.kubeconfig_out
                else Path(tempfile.mkdtemp(prefix="meshdoctor-playground-")) / "kubeconfig"
            )
            home = home_namespace(snap)
            write_kubeconfig(out, pg.api.url, home)
            lines.append(f"KUBECONFIG={out}")
        lines.append(f"HUBBLE_SERVER={pg.relay.address}")
        lines += ["", "# try:"]
        env = f"{lines[0]} " if pg.api is not None else ""
        hubble = f"--hubble-server {pg.relay.address}"
        if pg.api is not None:
            for command in ("explain", "flows"):
                lines.append(f"{env}kubectl meshdoctor {command} red/netshoot blue/httpbin {hubble}")
            if home:  # the kubeconfig's namespace: -n is not needed
                lines.append(f"{env}kubectl meshdoctor matrix {hubble}   # namespace {home}")
        lines.append(f"hubble observe --server {pg.relay.address} --last 20")
        lines.append("# Ctrl-C stops the playground")
        print("\n".join(lines), flush=True)
        stop.wait()
    finally:
        pg.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
