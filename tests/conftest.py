"""Session fixtures: real local servers on 127.0.0.1 (architecture: tests use real servers).

``playground(demo, ...)`` starts (once per distinct configuration, for the whole session) the
same Kubernetes-API and Hubble-Relay servers ``scripts/playground`` runs, over a bundled
demo, and writes a kubeconfig for them. Everything is stopped at the end of the session.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kubectl_meshdoctor.playground.kubeapi import ApiConfig, KubeApiServer
from kubectl_meshdoctor.playground.main import start, write_kubeconfig
from kubectl_meshdoctor.playground.relay import RelayConfig, RelayServer, RelayTLS
from kubectl_meshdoctor.sources.demo import read_demo

DEMOS_DIR = Path(__file__).resolve().parent.parent / "kubectl_meshdoctor" / "demos"


@dataclass(slots=True)
class Served:
    demo: str
    api: KubeApiServer
    relay: RelayServer
    kubeconfig: Path

    @property
    def demo_dir(self) -> Path:
        return DEMOS_DIR / self.demo

    def env(self) -> dict[str, str]:
        return {"KUBECONFIG": str(self.kubeconfig), "HUBBLE_SERVER": ""}

    def clear(self) -> None:
        self.api.clear()
        self.relay.clear()


PlaygroundFactory = Callable[..., Served]


@pytest.fixture(scope="session", autouse=True)
def _children_can_be_interrupted() -> None:
    """A shell that starts pytest in the background sets SIGINT to ignored, and children inherit
    that: the tests that stop `--follow`/`--watch` with Ctrl-C would then wait forever. Catching it
    here means each child starts with the default action again (exec resets caught signals)."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def playground(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlaygroundFactory]:
    started: dict[tuple[object, ...], Served] = {}
    stoppers: list[Callable[[], None]] = []

    def get(
        demo: str,
        forbidden: frozenset[str] = frozenset(),
        missing_groups: frozenset[str] = frozenset(),
        missing_versions: frozenset[str] = frozenset(),
        unavailable_nodes: tuple[str, ...] = (),
        lost_events: int = 0,
        tls: RelayTLS | None = None,
        relay_service: bool = False,
        slow: tuple[tuple[str, float], ...] = (),
        flow_interval: float = 0.0,
        forward_resets: tuple[int, ...] = (),
    ) -> Served:
        key = (demo, forbidden, missing_groups, missing_versions, unavailable_nodes, lost_events, tls, relay_service,
               slow, flow_interval, forward_resets)  # fmt: skip
        if key not in started:
            pg = start(
                read_demo(demo),
                api_config=ApiConfig(
                    set(forbidden),
                    set(missing_groups),
                    set(missing_versions),
                    slow=dict(slow),
                    forward_resets=forward_resets,
                ),
                relay_config=RelayConfig(list(unavailable_nodes), lost_events, flow_interval),
                tls=tls,
                with_relay_service=relay_service,
            )
            stoppers.append(pg.stop)
            assert pg.api is not None
            kubeconfig = write_kubeconfig(tmp_path_factory.mktemp("kubeconfig") / "config", pg.api.url)
            started[key] = Served(demo, pg.api, pg.relay, kubeconfig)
        served = started[key]
        served.clear()
        return served

    yield get
    for stop in stoppers:
        stop()


@dataclass(frozen=True, slots=True)
class Certs:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path

    def relay_tls(self) -> RelayTLS:
        return RelayTLS(self.server_cert.read_bytes(), self.server_key.read_bytes(), self.ca.read_bytes())


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _ca(d: Path, name: str) -> None:
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
             "-keyout", f"{name}.key", "-out", f"{name}.crt", cwd=d)  # fmt: skip


def _leaf(d: Path, name: str, ca: str, ext: str) -> None:
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout", f"{name}.key",
             "-out", f"{name}.csr", cwd=d)  # fmt: skip
    (d / f"{name}.ext").write_text(ext)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key", "-CAcreateserial",
             "-days", "2", "-out", f"{name}.crt", "-extfile", f"{name}.ext", cwd=d)  # fmt: skip


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    """A CA, a Relay server certificate for *.hubble-relay.cilium.io, a client certificate, another CA."""
    d = tmp_path_factory.mktemp("certs")
    _ca(d, "ca")
    _ca(d, "other-ca")
    _leaf(d, "server", "ca", "subjectAltName=DNS:*.hubble-relay.cilium.io\nextendedKeyUsage=serverAuth\n")
    _leaf(d, "client", "ca", "extendedKeyUsage=clientAuth\n")
    return Certs(d / "ca.crt", d / "server.crt", d / "server.key", d / "client.crt", d / "client.key",
                 d / "other-ca.crt")  # fmt: skip
