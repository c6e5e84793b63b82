"""Issue 20 §5/§7 demo `egress-registry-only-missing-se`: an Istio egress gateway under a REGISTRY_ONLY
Sidecar, the ServiceEntry missing. explain says 502 at red's sidecar and that Hubble shows nothing (the
sidecar answers itself); with the ServiceEntry present (the fix it proposes) the same call is walked
through the gateway and allowed; check reports the missing ServiceEntry mesh-wide."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli

DEMO = "egress-registry-only-missing-se"
ASK = ["explain", "red/netshoot", "api.example.com", "--method", "GET", "--demo", DEMO]


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout


def _json(*args: str) -> tuple[int, dict[str, Any]]:
    code, out = _run(*args, "-o", "json")
    return code, json.loads(out)


def _service_entry(fix: str) -> str:
    """The manifest inside the fix's `kubectl apply -f - <<'EOF' … EOF`."""
    match = re.search(r"<<'EOF'\n(.*?)\nEOF", fix, re.S)
    assert match, fix
    return match.group(1)


def test_missing_service_entry_is_a_502_at_the_sidecar_with_no_flow() -> None:
    code, doc = _json(*ASK)
    assert (code, doc["verdict"], doc["symptom"]) == (1, "broken", "http-502")
    (cause,) = doc["causes"]
    assert cause["code"] == "istio-egress-registry-only"
    assert [f"{o['kind']} {o['namespace']}/{o['name']}" for o in cause["objects"]] == ["Sidecar red/default"]
    route = next(h for h in doc["hops"] if h["decision"] == "break")
    assert route["name"] == "client-route" and "Hubble shows no flow" in route["detail"]
    legs = [h["leg"] for h in doc["hops"] if h.get("leg")]
    assert "red/netshoot → egress gateway istio-system/istio-egressgateway" in legs  # the path it would take
    assert (doc["evidence"]["flows"], doc["evidence"]["agrees"]) == (0, None)


def test_with_the_service_entry_the_call_goes_through_the_gateway(tmp_path: Path) -> None:
    _, doc = _json(*ASK)
    entry = tmp_path / "se.yaml"
    entry.write_text(_service_entry(doc["causes"][0]["fix"]))
    assert "number: 443" in entry.read_text()  # the gateway's leg leaves on 443 (TLS origination)
    code, after = _json(*ASK, "--what-if", str(entry))
    assert (code, after["verdict"]) == (0, "allowed"), [(h["name"], h["detail"]) for h in after["hops"]]
    gateway = next(h for h in after["hops"] if h["name"] == "gateway")
    assert "originates TLS to api.example.com:443" in gateway["detail"]
    out = next(h for h in after["hops"] if h["name"] == "cilium-egress" and h["leg"].endswith("→ api.example.com"))
    assert out["decision"] == "allow"


def test_a_service_entry_for_port_80_only_leaves_the_gateway_without_a_cluster(tmp_path: Path) -> None:
    entry = tmp_path / "se.yaml"
    entry.write_text(
        "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: api, namespace: red}\n"
        "spec: {hosts: [api.example.com], ports: [{number: 80, name: http, protocol: HTTP}], resolution: DNS}\n"
    )
    code, doc = _json(*ASK, "--what-if", str(entry))
    assert (code, doc["symptom"]) == (1, "http-503")
    assert [c["code"] for c in doc["causes"]] == ["istio-egress-gateway-misrouted"]


def test_check_reports_the_missing_service_entry() -> None:
    code, doc = _json("check", "-A", "--demo", DEMO)
    assert code == 1
    codes = {f["code"] for f in doc["findings"]}
    assert {"istio-egress-registry-only", "istio-egress-gateway-misrouted"} <= codes
