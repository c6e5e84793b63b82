"""TLS to Relay: CA + client certificate works; a wrong CA fails with one clear line."""

from __future__ import annotations

import pytest

from kubectl_meshdoctor.sources.hubble import HubbleClient, RelayError, TLSOptions
from tests.test_live_explain import explain_json, run

SERVER_NAME = "hubble.hubble-relay.cilium.io"  # the name the hubble docs use behind a port-forward


def test_mtls_with_ca_and_client_certificate(playground, certs) -> None:
    pg = playground("sidecar-s2-l7-policy", tls=certs.relay_tls())
    args = ["red/netshoot", "blue/httpbin", "--path", "/ip", "--hubble-server", pg.relay.address,
            "--hubble-tls-ca", str(certs.ca), "--hubble-tls-cert", str(certs.client_cert),
            "--hubble-tls-key", str(certs.client_key), "--hubble-tls-server-name", SERVER_NAME]  # fmt: skip
    code, doc = explain_json(args, pg.env())
    assert code == 1 and doc["evidence"]["source"] == "hubble" and doc["evidence"]["flows"] > 0
    assert len(pg.relay.requests) == 1


def test_wrong_ca_fails_with_one_clear_line(playground, certs) -> None:
    pg = playground("sidecar-s2-l7-policy", tls=certs.relay_tls())
    args = ["explain", "red/netshoot", "blue/httpbin", "--hubble-server", pg.relay.address,
            "--hubble-tls-ca", str(certs.other_ca), "--hubble-tls-cert", str(certs.client_cert),
            "--hubble-tls-key", str(certs.client_key), "--hubble-tls-server-name", SERVER_NAME,
            "--require-flows"]  # fmt: skip
    code, out, err = run(args, pg.env())
    assert code == 3 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "TLS handshake failed" in lines[0] and pg.relay.address in lines[0]
    assert not pg.relay.requests


def test_missing_client_certificate_is_refused(playground, certs) -> None:
    pg = playground("sidecar-s2-l7-policy", tls=certs.relay_tls())
    client = HubbleClient(pg.relay.address, TLSOptions(True, str(certs.ca), server_name=SERVER_NAME), timeout=5)
    with pytest.raises(RelayError):
        client.server_status()
    client.close()


def test_cert_without_key_is_a_usage_error(playground, certs) -> None:
    pg = playground("sidecar-s2-l7-policy", tls=certs.relay_tls())
    code, _, err = run(["explain", "red/netshoot", "blue/httpbin", "--hubble-server", pg.relay.address,
                        "--hubble-tls-cert", str(certs.client_cert)], pg.env())  # fmt: skip
    assert code == 2 and "must be given together" in err
