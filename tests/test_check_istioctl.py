"""`check` on Istio's own analyzer fixtures (../shared/data/istio-analyzers): for every message
`istioctl analyze` expects whose problem we cover (a catalog code lists it as `related`), check
reports that code on the same object; findings of covered codes that istioctl does not expect are
listed in ALLOWED_EXTRA with the reason. Prints the recall figure."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kubectl_meshdoctor import app
from kubectl_meshdoctor.findings import catalog
from kubectl_meshdoctor.sources.snapshot import read_snapshot

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "istio-analyzers"
NAME_OF = {code: name for name, code in catalog.ISTIOCTL_CODES.items()}
# findings of ours with an istioctl counterpart that istioctl does not expect on these files, and why
# (case, code) -> why our finding is right although that istioctl case does not expect it: Istio's grid runs
# ONE analyzer per file, so problems another analyzer (or none) would report are simply not listed
ALLOWED_EXTRA: dict[tuple[str, str], str] = {
    ("virtualServiceDestinationHosts", "istio-subset-not-found"): "routes name subsets and the file has no "
    "DestinationRule (the case ran only DestinationHostAnalyzer; Envoy answers 503 NC)",
    # Istio's fixtures are partial objects; what the Kubernetes API server would reject is evaluated as absent
    # (contract §7, reported as invalid-object), which istioctl's file mode does not do
    ("virtualServiceDestinationHosts", "istio-destination-host-unknown"): "Service default/reviews-2port declares "
    "protocol HTTP/HTTPS, which the API server rejects (only TCP, UDP, SCTP): the host has no Service",
    ("sidecarDefaultSelector", "policy-selects-nothing"): "Pod ns1/random-pod has a container without a name, "
    "which the API server rejects: no pod carries app=foo",
    ("authorizationpolicies", "istio-injection-mismatch"): "namespace labelled for injection with pods lacking "
    "istio-proxy (IST0103 PodMissingProxy's problem; the case ran only the authz analyzer)",
    ("host defined in virtualservice not found in the gateway with ns", "istio-destination-host-unknown"): "routes "
    "to hosts that no Service or ServiceEntry in the file defines (the case ran only GatewayAnalyzer)",
    (
        "host defined in virtualservice not found in the gateway with ns(beta version)",
        "istio-destination-host-unknown",
    ): ("same as the case above"),
}


def covered_messages() -> dict[str, set[str]]:
    """istioctl message name -> our codes that cover it."""
    out: dict[str, set[str]] = {}
    for spec in catalog.CAUSES.values():
        for rel in spec.related:
            out.setdefault(NAME_OF.get(rel, rel), set()).add(spec.code)
    return out


def _obj(kind: str, namespace: str | None, name: str) -> str:
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def _same(expected: str, kind: str, namespace: str | None, name: str, group: str) -> bool:
    e_kind, _, rest = expected.partition(" ")
    if e_kind != kind:
        return False
    if group == "mtls-2020":  # "name.ns"
        e_name, _, e_ns = rest.partition(".")
    else:
        e_ns, _, e_name = rest.rpartition("/")
    return e_name == name and (not e_ns or e_ns == (namespace or "default"))


def _cases() -> list[dict]:
    if not DATA.is_dir():
        return []
    return json.loads((DATA / "expected.json").read_text())["cases"]


def run_case(case: dict, tmp: Path) -> list[tuple[str, str | None, str, str]]:
    for rel in case["inputs"]:
        shutil.copy(DATA / rel, tmp / Path(rel).name)
    shutil.copy(DATA / "istioctl-file-mode-defaults.yaml", tmp / "istioctl-file-mode-defaults.yaml")
    model = app.build_model(read_snapshot(str(tmp)))
    out = []
    for f in app.check(model, None).findings:
        ref = f.cause.objects[0] if f.cause.objects else None
        if ref is not None:
            out.append((f.cause.code, ref.namespace, ref.name, ref.kind))
    return out


@pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data/istio-analyzers not present")
def test_recall_on_istioctl_fixtures(tmp_path: Path) -> None:
    covered = covered_messages()
    scored = hit = 0
    misses: list[str] = []
    extras: list[str] = []
    for i, case in enumerate(_cases()):
        tmp = tmp_path / str(i)
        tmp.mkdir()
        found = run_case(case, tmp)
        advisory = case["group"] == "mtls-2020"
        for exp in case["expected"]:
            codes = covered.get(exp["msg"])
            if not codes or advisory:
                continue
            scored += 1
            if any(code in codes and _same(exp["object"], k, ns, n, case["group"]) for code, ns, n, k in found):
                hit += 1
            else:
                misses.append(f"{case['name']}: {exp['msg']} on {exp['object']}")
        for code, ns, name, kind in found:
            related = catalog.CAUSES[code].related
            if not related or advisory:
                continue
            names = {NAME_OF.get(r, r) for r in related}
            expected = any(
                e["msg"] in names and _same(e["object"], kind, ns, name, case["group"]) for e in case["expected"]
            )
            if not expected and (case["name"], code) not in ALLOWED_EXTRA:
                extras.append(f"{case['name']}: {code} on {_obj(kind, ns, name)}")
    print(f"\nistioctl recall: {hit}/{scored} expected messages we cover ({100 * hit / max(scored, 1):.0f}%)")
    for m in misses:
        print("  missed:", m)
    for e in extras:
        print("  extra: ", e)
    assert scored and hit / scored >= 0.5
    assert not extras, extras
