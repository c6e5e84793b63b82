"""Istio's own task pages as acceptance tests (issue 22): each step of the page replayed offline from
the sample manifests it applies (``../shared/data/istio-samples``), asserting the outcome the page
shows, with the page's URL beside each assertion. Where the page's outcome rests on application
behaviour no object shows (productpage's own timeout and retry), the test asserts what the objects
allow us to say and that the answer names the limit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.istio_tasks import (
    GATEWAY,
    GATEWAY_ADDRESS,
    NET,
    REVIEWS_TIMEOUT,
    SAMPLES,
    Cluster,
    bookinfo,
    codes,
    explain,
    first_break,
    hop,
    policy,
    request_timeouts,
    sample,
    tcp_echo,
    tcp_policy,
    with_versions,
)

pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/data/istio-samples not beside the repo")

BOOKINFO_PAGE = "https://istio.io/latest/docs/examples/bookinfo/"
ROUTING_PAGE = "https://istio.io/latest/docs/tasks/traffic-management/request-routing/"
FAULT_PAGE = "https://istio.io/latest/docs/tasks/traffic-management/fault-injection/"
SHIFT_PAGE = "https://istio.io/latest/docs/tasks/traffic-management/traffic-shifting/"
TIMEOUT_PAGE = "https://istio.io/latest/docs/tasks/traffic-management/request-timeouts/"
AUTHZ_HTTP_PAGE = "https://istio.io/latest/docs/tasks/security/authorization/authz-http/"
AUTHZ_TCP_PAGE = "https://istio.io/latest/docs/tasks/security/authorization/authz-tcp/"
MTLS_PAGE = "https://istio.io/latest/docs/tasks/security/authentication/mtls-migration/"
DENY_PAGE = "https://istio.io/latest/docs/tasks/security/authorization/authz-deny/"

BROWSER = ("--host", GATEWAY_ADDRESS)
JASON = ("-H", "end-user: jason")


def _verdict(doc: dict[str, object]) -> tuple[object, object]:
    return doc["verdict"], doc["symptom"]


def _routed_to(doc: dict[str, object]) -> set[str]:
    """The workloads the server hops were evaluated for (the route's destination pods)."""
    pods = doc["destination"]["pods"]  # type: ignore[index]
    return {p.rsplit("-", 2)[0] for p in pods}


# --- Bookinfo -------------------------------------------------------------------------------


def test_bookinfo_browser_through_the_ingress_gateway(tmp_path: Path) -> None:
    root = bookinfo().write(tmp_path)
    # BOOKINFO_PAGE "Confirm the app is accessible from outside the cluster": <title>Simple Bookstore App</title>
    code, doc = explain(root, GATEWAY, "default/productpage", *BROWSER, "--path", "/productpage")
    assert (code, *_verdict(doc)) == (0, "allowed", "ok"), doc["hops"]
    assert not any("not to" in g for g in doc["gaps"]), doc["gaps"]  # short host productpage = the Service
    route = hop(doc, "client-route")
    assert "VirtualService default/bookinfo" in route["detail"]
    # near miss: a path the VirtualService bookinfo does not route
    code, doc = explain(root, GATEWAY, "default/productpage", *BROWSER, "--path", "/admin")
    assert (code, *_verdict(doc), codes(doc)) == (1, "broken", "http-404", {"istio-route-no-match"})


@pytest.mark.parametrize("path", ["/static/bootstrap.css", "/login", "/logout", "/api/v1/products"])
def test_bookinfo_gateway_routes_every_listed_path(tmp_path: Path, path: str) -> None:
    root = bookinfo().write(tmp_path)
    code, doc = explain(root, GATEWAY, "default/productpage", *BROWSER, "--path", path)  # BOOKINFO_PAGE
    assert (code, *_verdict(doc)) == (0, "allowed", "ok")


def test_bookinfo_inside_the_mesh(tmp_path: Path) -> None:
    root = bookinfo().write(tmp_path)
    # BOOKINFO_PAGE "Verify everything is working correctly": from ratings, curl productpage:9080/productpage
    code, doc = explain(root, "default/ratings-v1", "default/svc/productpage", "--path", "/productpage")
    assert (code, *_verdict(doc)) == (0, "allowed", "ok")
    assert doc["source"]["mesh"] == doc["destination"]["mesh"] == "sidecar"


def test_bookinfo_with_the_destination_rules(tmp_path: Path) -> None:
    root = with_versions().write(tmp_path)
    # BOOKINFO_PAGE "Define the service versions": the app keeps working
    code, doc = explain(root, GATEWAY, "default/productpage", *BROWSER, "--path", "/productpage")
    assert (code, *_verdict(doc)) == (0, "allowed", "ok")
    code, doc = explain(root, "default/productpage-v1", "default/svc/reviews", "--path", "/reviews/0")
    assert (code, *_verdict(doc)) == (0, "allowed", "ok")


# --- Request routing --------------------------------------------------------------------------


def test_request_routing_all_v1(tmp_path: Path) -> None:
    root = with_versions().apply(sample(f"{NET}/virtual-service-all-v1.yaml")).write(tmp_path)
    # ROUTING_PAGE "Apply a virtual service": reviews without stars (v1), whatever the user
    for extra in ((), JASON):
        code, doc = explain(root, "default/productpage-v1", "default/svc/reviews", "--path", "/reviews/0", *extra)
        assert (code, *_verdict(doc)) == (0, "allowed", "ok")
        assert _routed_to(doc) == {"reviews-v1"}, doc["destination"]
    # the browser through the gateway still works
    code, doc = explain(root, GATEWAY, "default/productpage", *BROWSER, "--path", "/productpage")
    assert (code, *_verdict(doc)) == (0, "allowed", "ok")


def test_request_routing_jason_to_v2(tmp_path: Path) -> None:
    cluster = with_versions().apply(sample(f"{NET}/virtual-service-all-v1.yaml"))
    root = cluster.apply(sample(f"{NET}/virtual-service-reviews-test-v2.yaml")).write(tmp_path)
    # ROUTING_PAGE "Route based on user identity": jason sees black stars (v2)
    code, doc = explain(root, "default/productpage-v1", "default/svc/reviews", "--path", "/reviews/0", *JASON)
    assert (code, *_verdict(doc)) == (0, "allowed", "ok")
    assert _routed_to(doc) == {"reviews-v2"}
    # ROUTING_PAGE: another user sees no stars (v1)
    code, doc = explain(root, "default/productpage-v1", "default/svc/reviews", "--path", "/reviews/0")
    assert (code, *_verdict(doc)) == (0, "allowed", "ok")
    assert _routed_to(doc) == {"reviews-v1"}


# --- Fault injection --------------------------------------------------------------------------


def _fault_base() -> Cluster:
    """FAULT_PAGE "Before you begin": all-v1 and reviews-test-v2."""
    return (
        with_versions()
        .apply(sample(f"{NET}/virtual-service-all-v1.yaml"))
        .apply(sample(f"{NET}/virtual-service-reviews-test-v2.yaml"))
    )


def test_fault_injection_delay_for_jason(tmp_path: Path) -> None:
    root = _fault_base().apply(sample(f"{NET}/virtual-service-ratings-test-delay.yaml")).write(tmp_path)
    # FAULT_PAGE "Injecting an HTTP delay fault": reviews-v2 -> ratings is delayed 7s for jason
    code, doc = explain(root, "default/reviews-v2", "default/svc/ratings", "--path", "/ratings/0", *JASON)
    assert (code, *_verdict(doc)) == (0, "allowed", "ok")  # a delay alone refuses nothing
    fault = [c for c in doc["causes"] if c["code"] == "istio-fault-injection"]
    assert fault and "7s" in fault[0]["summary"]
    # FAULT_PAGE: "Sorry, product reviews are currently unavailable" comes from productpage's own 3s
    # timeout (+1 retry) in its code, which no object shows: the objects allow the call and the answer
    # names the 7s delay on the server's own outbound call as the condition
    code, doc = explain(root, "default/productpage-v1", "default/svc/reviews", "--path", "/reviews/0", *JASON)
    assert (code, *_verdict(doc)) == (0, "allowed", "ok")
    assert _routed_to(doc) == {"reviews-v2"}
    chain = [c for c in doc["causes"] if c["code"] == "istio-fault-injection"]
    assert chain and "7s" in chain[0]["summary"] and "ratings" in chain[0]["summary"]
    assert "timeout" in chain[0]["summary"]
    # near miss: another user is not delayed
    code, doc = explain(root, "default/reviews-v2", "default/svc/ratings", "--path", "/ratings/0")
    assert (code, *_verdict(doc)) == (0, "allowed", "ok")
    assert "istio-fault-injection" not in {c["code"] for c in doc["causes"]}


def test_fault_injection_abort_for_jason(tmp_path: Path) -> None:
    root = _fault_base().apply(sample(f"{NET}/virtual-service-ratings-test-abort.yaml")).write(tmp_path)
    # FAULT_PAGE "Injecting an HTTP abort fault": jason sees "Ratings service is currently unavailable"
    code, doc = explain(root, "default/reviews-v2", "default/svc/ratings", "--path", "/ratings/0", *JASON)
    assert (code, *_verdict(doc)) == (1, "broken", "http-500")
    assert codes(doc) == {"istio-fault-injection"}
    assert first_break(doc)["name"] == "client-route"  # type: ignore[index]
    # FAULT_PAGE: other users are not aborted
    code, doc = explain(root, "default/reviews-v2", "default/svc/ratings", "--path", "/ratings/0")
    assert (code, *_verdict(doc)) == (0, "allowed", "ok")


# --- Traffic shifting -------------------------------------------------------------------------


def test_traffic_shifting_steps(tmp_path: Path) -> None:
    cluster = with_versions().apply(sample(f"{NET}/virtual-service-all-v1.yaml"))
    ask = ("default/productpage-v1", "default/svc/reviews", "--path", "/reviews/0")
    # SHIFT_PAGE "Apply weight-based routing": all traffic to v1 first
    code, doc = explain(cluster.write(tmp_path / "v1"), *ask)
    assert (code, *_verdict(doc)) == (0, "allowed", "ok") and _routed_to(doc) == {"reviews-v1"}
    # SHIFT_PAGE: 50% to v1, 50% to v3 (red stars about half the time): both shares are evaluated
    cluster.apply(sample(f"{NET}/virtual-service-reviews-50-v3.yaml"))
    code, doc = explain(cluster.write(tmp_path / "50"), *ask)
    assert (code, *_verdict(doc)) == (0, "allowed", "ok"), doc["gaps"]
    detail = hop(doc, "client-route")["detail"]
    assert "50% of requests → reviews.default.svc.cluster.local subset v1" in detail
    assert "50% of requests → reviews.default.svc.cluster.local subset v3" in detail
    # SHIFT_PAGE: 100% to v3
    cluster.apply(sample(f"{NET}/virtual-service-reviews-v3.yaml"))
    code, doc = explain(cluster.write(tmp_path / "v3"), *ask)
    assert (code, *_verdict(doc)) == (0, "allowed", "ok") and _routed_to(doc) == {"reviews-v3"}


# --- Request timeouts -------------------------------------------------------------------------


def test_request_timeouts(tmp_path: Path) -> None:
    cluster = request_timeouts(timeout=False)
    ask = ("default/productpage-v1", "default/svc/reviews", "--path", "/reviews/0")
    # TIMEOUT_PAGE "Request timeouts": with the 2s delay on ratings the page works, 2s slower
    code, doc = explain(cluster.write(tmp_path / "delay"), *ask)
    assert (code, *_verdict(doc)) == (0, "allowed", "ok")
    assert _routed_to(doc) == {"reviews-v2"}
    note = [c for c in doc["causes"] if c["code"] == "istio-fault-injection"]
    assert note and "2s" in note[0]["summary"]
    # TIMEOUT_PAGE: a 0.5s timeout on the reviews route fires ("reviews are unavailable")
    cluster.apply(policy(REVIEWS_TIMEOUT))
    code, doc = explain(cluster.write(tmp_path / "timeout"), *ask)
    assert (code, *_verdict(doc)) == (1, "broken", "http-504")
    assert "istio-timeout" in codes(doc)
    cause = next(c for c in doc["causes"] if c["code"] == "istio-timeout")
    assert "ratings" in cause["summary"] and "2s" in cause["summary"], cause["summary"]
    assert first_break(doc)["name"] == "client-route"  # type: ignore[index]


# --- Authorization for HTTP traffic -------------------------------------------------------------

ALLOW_NOTHING = """
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-nothing, namespace: default}
spec: {}
"""
PRODUCTPAGE_VIEWER = """
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: productpage-viewer, namespace: default}
spec:
  selector: {matchLabels: {app: productpage}}
  action: ALLOW
  rules:
  - to: [{operation: {methods: ["GET"]}}]
"""


def _viewer(app: str, principal: str) -> str:
    return f"""
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {{name: {app}-viewer, namespace: default}}
spec:
  selector: {{matchLabels: {{app: {app}}}}}
  action: ALLOW
  rules:
  - from: [{{source: {{principals: ["cluster.local/ns/default/sa/{principal}"]}}}}]
    to: [{{operation: {{methods: ["GET"]}}}}]
"""


def test_authorization_for_http_traffic(tmp_path: Path) -> None:
    cluster = bookinfo()
    browser = (GATEWAY, "default/productpage", *BROWSER, "--path", "/productpage")
    details = ("default/productpage-v1", "default/svc/details", "--path", "/details/0")
    reviews = ("default/productpage-v1", "default/svc/reviews", "--path", "/reviews/0")
    ratings = ("default/reviews-v2", "default/svc/ratings", "--path", "/ratings/0")

    # AUTHZ_HTTP_PAGE "Configure access control": allow-nothing -> "RBAC: access denied"
    cluster.apply(policy(ALLOW_NOTHING))
    code, doc = explain(cluster.write(tmp_path / "1"), *browser)
    assert (code, *_verdict(doc)) == (1, "denied", "http-403")
    assert codes(doc) == {"istio-authz-denied"} and first_break(doc)["name"] == "server-proxy"  # type: ignore[index]

    # AUTHZ_HTTP_PAGE: productpage-viewer -> the page loads, "Error fetching product details/reviews"
    cluster.apply(policy(PRODUCTPAGE_VIEWER))
    root = cluster.write(tmp_path / "2")
    assert explain(root, *browser)[0] == 0
    for call in (details, reviews):
        code, doc = explain(root, *call)
        assert (code, *_verdict(doc)) == (1, "denied", "http-403"), call
    # near miss: a POST to productpage matches no ALLOW rule
    code, doc = explain(root, GATEWAY, "default/productpage", *BROWSER, "--path", "/login", "--method", "POST")
    assert (code, *_verdict(doc)) == (1, "denied", "http-403")

    # AUTHZ_HTTP_PAGE: details-viewer -> details shown, reviews still failing
    cluster.apply(policy(_viewer("details", "bookinfo-productpage")))
    root = cluster.write(tmp_path / "3")
    assert _verdict(explain(root, *details)[1]) == ("allowed", "ok")
    assert _verdict(explain(root, *reviews)[1]) == ("denied", "http-403")
    # near miss: details admits productpage's identity only
    code, doc = explain(root, "default/reviews-v1", "default/svc/details", "--path", "/details/0")
    assert (code, *_verdict(doc)) == (1, "denied", "http-403")

    # AUTHZ_HTTP_PAGE: reviews-viewer -> reviews shown, "Ratings service currently unavailable"
    cluster.apply(policy(_viewer("reviews", "bookinfo-productpage")))
    root = cluster.write(tmp_path / "4")
    assert _verdict(explain(root, *reviews)[1]) == ("allowed", "ok")
    assert _verdict(explain(root, *ratings)[1]) == ("denied", "http-403")

    # AUTHZ_HTTP_PAGE: ratings-viewer -> the whole page works, with stars
    cluster.apply(policy(_viewer("ratings", "bookinfo-reviews")))
    root = cluster.write(tmp_path / "5")
    for call in (browser, details, reviews, ratings):
        code, doc = explain(root, *call)
        assert (code, *_verdict(doc)) == (0, "allowed", "ok"), call


# --- Authorization for TCP traffic --------------------------------------------------------------


def test_authorization_for_tcp_traffic(tmp_path: Path) -> None:
    cluster = tcp_echo()
    echo_ip = cluster.pod_ip("foo", "tcp-echo")
    port = {9000: ("foo/svc/tcp-echo", "--port", "9000"), 9001: ("foo/svc/tcp-echo", "--port", "9001")}
    port[9002] = (echo_ip, "--port", "9002")  # the page calls the pod IP: the Service omits 9002

    def outcome(step: str) -> dict[int, tuple[object, object]]:
        root = cluster.write(tmp_path / step)
        out = {}
        for p, ask in port.items():
            code, doc = explain(root, "foo/curl", *ask)
            assert doc["request"]["appProtocol"] == "tcp", doc["request"]  # nc sends raw TCP
            assert code == (0 if doc["verdict"] == "allowed" else 1), (p, doc["verdict"])
            if doc["verdict"] == "denied":  # the page's mechanism: the sidecar's authorization policy
                assert codes(doc) == {"istio-authz-denied"} and first_break(doc)["name"] == "server-proxy"  # type: ignore[index]
            out[p] = _verdict(doc)
        return out

    ok, rejected = ("allowed", "ok"), ("denied", "reset")
    # AUTHZ_TCP_PAGE "Before you begin": 9000, 9001 and 9002 (undeclared container port) all answer
    assert outcome("0") == {9000: ok, 9001: ok, 9002: ok}
    # AUTHZ_TCP_PAGE "Configure ALLOW authorization policy for a TCP workload": ports 9000, 9001
    cluster.apply(policy(tcp_policy("ALLOW", '{ports: ["9000", "9001"]}')))
    assert outcome("1") == {9000: ok, 9001: ok, 9002: rejected}
    # AUTHZ_TCP_PAGE: an ALLOW rule with the HTTP-only field methods never matches TCP: every port refused
    cluster.apply(policy(tcp_policy("ALLOW", '{methods: ["GET"], ports: ["9000"]}')))
    assert outcome("2") == {9000: rejected, 9001: rejected, 9002: rejected}
    # AUTHZ_TCP_PAGE "Configure DENY authorization policy": methods dropped, ports still narrow it
    cluster.apply(policy(tcp_policy("DENY", '{methods: ["GET"], ports: ["9000"]}')))
    assert outcome("3") == {9000: rejected, 9001: ok, 9002: ok}


# --- Mutual TLS migration -----------------------------------------------------------------------


def _mtls_cluster() -> Cluster:
    """MTLS_PAGE "Set up the cluster": httpbin and curl in foo and bar (sidecars), curl in legacy (none)."""
    cluster = Cluster().namespace("foo").namespace("bar").namespace("legacy", injection=False)
    for ns in ("foo", "bar"):
        cluster.apply(sample("httpbin/httpbin.yaml"), ns).apply(sample("curl/curl.yaml"), ns)
    return cluster.apply(sample("curl/curl.yaml"), "legacy")


def _strict(namespace: str) -> str:
    return f"""
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {{name: default, namespace: {namespace}}}
spec:
  mtls: {{mode: STRICT}}
"""


def test_mutual_tls_migration(tmp_path: Path) -> None:
    cluster = _mtls_cluster()
    clients = ("foo", "bar", "legacy")

    def table(step: str) -> dict[tuple[str, str], tuple[object, object]]:
        root = cluster.write(tmp_path / step)
        out = {}
        for src in clients:
            for dst in ("foo", "bar"):
                code, doc = explain(root, f"{src}/curl", f"{dst}/svc/httpbin", "--path", "/ip")
                assert code == (0 if doc["verdict"] == "allowed" else 1)
                out[(src, dst)] = _verdict(doc)
        return out

    ok = ("allowed", "ok")
    # MTLS_PAGE "Set up the cluster": every client gets 200 (PERMISSIVE accepts plaintext from legacy)
    assert set(table("0").values()) == {ok}
    # MTLS_PAGE "Lock down to mutual TLS by namespace": legacy -> foo fails (000, exit code 56: reset)
    cluster.apply(policy(_strict("foo")))
    got = table("1")
    assert got[("legacy", "foo")] == ("denied", "reset")
    assert {k: v for k, v in got.items() if k != ("legacy", "foo")} == dict.fromkeys(set(got) - {("legacy", "foo")}, ok)
    # MTLS_PAGE "Lock down mutual TLS for the entire mesh": legacy -> bar fails too
    cluster.apply(policy(_strict("istio-system")))
    got = table("2")
    assert got[("legacy", "foo")] == got[("legacy", "bar")] == ("denied", "reset")
    assert all(v == ok for (src, _), v in got.items() if src != "legacy")


def test_mtls_strict_names_the_peer_authentication(tmp_path: Path) -> None:
    root = _mtls_cluster().apply(policy(_strict("foo"))).write(tmp_path)
    code, doc = explain(root, "legacy/curl", "foo/svc/httpbin", "--path", "/ip")  # MTLS_PAGE
    assert code == 1 and "istio-mtls-strict-plaintext" in codes(doc)
    assert any(r["kind"] == "PeerAuthentication" for r in first_break(doc)["by"])  # type: ignore[index]


# --- Explicit deny ------------------------------------------------------------------------------

DENY_GET = """
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-method-get, namespace: foo}
spec:
  selector: {matchLabels: {app: httpbin, version: v1}}
  action: DENY
  rules:
  - to: [{operation: {methods: ["GET"]}}]
"""
DENY_GET_UNLESS_ADMIN = (
    DENY_GET
    + """    when:
    - key: request.headers[x-token]
      notValues: ["admin"]
"""
)
ALLOW_PATH_IP = """
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-path-ip, namespace: foo}
spec:
  selector: {matchLabels: {app: httpbin, version: v1}}
  action: ALLOW
  rules:
  - to: [{operation: {paths: ["/ip"]}}]
"""


def test_explicit_deny(tmp_path: Path) -> None:
    cluster = Cluster().namespace("foo").apply(sample("httpbin/httpbin.yaml"), "foo")
    cluster.apply(sample("curl/curl.yaml"), "foo")

    def ask(step: str, method: str, path: str, token: str | None = None) -> tuple[int, object, object]:
        extra = ("-H", f"x-token: {token}") if token else ()
        code, doc = explain(tmp_path / step, "foo/curl", "foo/svc/httpbin", "--method", method, "--path", path, *extra)
        assert codes(doc) == ({"istio-authz-denied"} if code else set()), doc["causes"]
        return (code, *_verdict(doc))

    ok, forbidden = (0, "allowed", "ok"), (1, "denied", "http-403")
    # DENY_PAGE "Explicitly deny a request": GET denied (403), POST allowed (200)
    cluster.apply(policy(DENY_GET)).write(tmp_path / "1")
    assert ask("1", "GET", "/get") == forbidden
    assert ask("1", "POST", "/post") == ok
    # DENY_PAGE: GET denied unless x-token: admin
    cluster.apply(policy(DENY_GET_UNLESS_ADMIN)).write(tmp_path / "2")
    assert ask("2", "GET", "/get", "admin") == ok
    assert ask("2", "GET", "/get", "guest") == forbidden
    # DENY_PAGE: allow-path-ip: /ip for admin allowed; /get for admin matches no ALLOW rule
    cluster.apply(policy(ALLOW_PATH_IP)).write(tmp_path / "3")
    assert ask("3", "GET", "/ip", "admin") == ok
    assert ask("3", "GET", "/get", "admin") == forbidden
    assert ask("3", "GET", "/ip", "guest") == forbidden  # DENY still wins for a guest


# --- the browser steps: every page loads /productpage through the ingress gateway -----------------


def _all_v1() -> Cluster:
    return with_versions().apply(sample(f"{NET}/virtual-service-all-v1.yaml"))


BROWSER_STEPS = {
    # ROUTING_PAGE: "Apply a virtual service", then "Route based on user identity" (logged in as jason)
    "routing-all-v1": (_all_v1, ()),
    "routing-jason": (lambda: _all_v1().apply(sample(f"{NET}/virtual-service-reviews-test-v2.yaml")), JASON),
    # FAULT_PAGE: the page loads for jason (its reviews or ratings part shows the error message)
    "fault-delay": (lambda: _fault_base().apply(sample(f"{NET}/virtual-service-ratings-test-delay.yaml")), JASON),
    "fault-abort": (lambda: _fault_base().apply(sample(f"{NET}/virtual-service-ratings-test-abort.yaml")), JASON),
    # SHIFT_PAGE: 50/50 and 100% v3
    "shift-50": (lambda: _all_v1().apply(sample(f"{NET}/virtual-service-reviews-50-v3.yaml")), ()),
    "shift-v3": (lambda: _all_v1().apply(sample(f"{NET}/virtual-service-reviews-v3.yaml")), ()),
    # TIMEOUT_PAGE: with the delay, then with the timeout (the page loads, reviews unavailable)
    "timeouts-delay": (lambda: request_timeouts(timeout=False), ()),
    "timeouts-timeout": (lambda: request_timeouts(timeout=True), ()),
}


@pytest.mark.parametrize("step", sorted(BROWSER_STEPS))
def test_browser_loads_the_product_page(tmp_path: Path, step: str) -> None:
    build, extra = BROWSER_STEPS[step]
    root = build().write(tmp_path)
    code, doc = explain(root, GATEWAY, "default/productpage", *BROWSER, "--path", "/productpage", *extra)
    assert (code, *_verdict(doc)) == (0, "allowed", "ok"), doc["hops"]
    assert not doc["gaps"], doc["gaps"]


# --- README "Istio's tasks, explained" ------------------------------------------------------------

README = Path(__file__).resolve().parents[1] / "README.md"


def _readme_runs() -> list[tuple[str, str]]:
    """(command, output) pairs of the section's console blocks."""
    text = README.read_text("utf-8")
    section = text.split("## Istio's tasks, explained", 1)[1].split("\n## ", 1)[0]
    runs: list[tuple[str, str]] = []
    for block in section.split("```console\n")[1:]:
        body = block.split("\n```", 1)[0]
        for chunk in body.split("$ ")[1:]:
            command, _, output = chunk.partition("\n")
            runs.append((command, output))
    return runs


def test_readme_section_shows_what_the_steps_print(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from tests.istio_tasks import write_steps

    write_steps(tmp_path / "istio-tasks")
    runs = _readme_runs()
    assert len(runs) == 3
    binary = Path(sys.executable).parent / "kubectl-meshdoctor"
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100"}
    for command, output in runs:
        assert command.startswith("kubectl meshdoctor explain "), command
        args = command.removeprefix("kubectl meshdoctor ").split()
        done = subprocess.run([str(binary), *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode in (0, 1), done.stderr
        got = [line.rstrip() for line in done.stdout.rstrip("\n").splitlines()]
        assert got == [line.rstrip() for line in output.rstrip("\n").splitlines()], command
