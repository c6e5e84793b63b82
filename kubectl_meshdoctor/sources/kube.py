"""Read the objects a question needs through the official ``kubernetes`` client (contract §2).

* The user's kubeconfig: ``--kubeconfig`` (or ``$KUBECONFIG``, several files joined with
  ``:``), ``--context``, exec/OIDC auth plugins — all handled by the client's loader.
* Read-only: GET only (list and get; the port-forward lives in ``portforward.py``); never
  Secrets. ``deploy/rbac.yaml`` lists exactly the resources in ``KINDS`` and ``CONFIGMAPS``.
* One discovery request (``/apis``) picks the version each CRD is served at (cilium.io/v2;
  security.istio.io v1, v1beta1; networking.istio.io v1, v1beta1, v1alpha3), and whether
  EndpointSlice v1 exists (else Endpoints, for old servers).
* Lists are paginated (``limit``/``continue``) and run in parallel, per namespace when the
  question names its namespaces. Items come back as ``kubectl get -o json`` prints them,
  with apiVersion and kind filled in (the list API omits them on items).
* 403 and 404 become gaps (architecture habit 6), never exceptions; an unreachable API or
  a kubeconfig that cannot be loaded is a DataError (exit 3).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from kubectl_meshdoctor.errors import DataError
from kubectl_meshdoctor.findings.types import Gap
from kubectl_meshdoctor.raw import RawObject, RawSnapshot
from kubectl_meshdoctor.sources.deadline import Deadline, TimedOut, within
from kubectl_meshdoctor.sources.kube_wide import WIDE_FROM, wide_list

PAGE_SIZE = 500
WORKERS = 8


@dataclass(frozen=True, slots=True)
class Kind:
    kind: str
    group: str  # "" = core
    versions: tuple[str, ...]  # ours, in order of preference
    plural: str
    namespaced: bool = True
    fallback: str | None = None  # a kind to read instead when this one is not served

    @property
    def qualified(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


KINDS: tuple[Kind, ...] = (
    Kind("Namespace", "", ("v1",), "namespaces", namespaced=False),
    Kind("Pod", "", ("v1",), "pods"),
    Kind("Service", "", ("v1",), "services"),
    Kind("EndpointSlice", "discovery.k8s.io", ("v1",), "endpointslices", fallback="Endpoints"),
    Kind("Deployment", "apps", ("v1",), "deployments"),
    Kind("StatefulSet", "apps", ("v1",), "statefulsets"),
    Kind("DaemonSet", "apps", ("v1",), "daemonsets"),
    Kind("ReplicaSet", "apps", ("v1",), "replicasets"),
    Kind("NetworkPolicy", "networking.k8s.io", ("v1",), "networkpolicies"),
    Kind("CiliumNetworkPolicy", "cilium.io", ("v2",), "ciliumnetworkpolicies"),
    Kind("CiliumClusterwideNetworkPolicy", "cilium.io", ("v2",), "ciliumclusterwidenetworkpolicies", namespaced=False),
    Kind("PeerAuthentication", "security.istio.io", ("v1", "v1beta1"), "peerauthentications"),
    Kind("AuthorizationPolicy", "security.istio.io", ("v1", "v1beta1"), "authorizationpolicies"),
    Kind("DestinationRule", "networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "destinationrules"),
    Kind("VirtualService", "networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "virtualservices"),
    Kind("Sidecar", "networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "sidecars"),
    Kind("ServiceEntry", "networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "serviceentries"),
    Kind("Gateway", "networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "gateways"),
    Kind("Gateway", "gateway.networking.k8s.io", ("v1",), "gateways"),
    Kind("HTTPRoute", "gateway.networking.k8s.io", ("v1",), "httproutes"),
    # issue 20: who implements a Gateway, and which cross-namespace backendRefs are granted
    Kind("GatewayClass", "gateway.networking.k8s.io", ("v1",), "gatewayclasses", namespaced=False),
    Kind("ReferenceGrant", "gateway.networking.k8s.io", ("v1", "v1beta1"), "referencegrants"),
    # issue 20: Kubernetes Ingress and who serves it; Cilium's Envoy configs redirecting Services
    Kind("Ingress", "networking.k8s.io", ("v1",), "ingresses"),
    Kind("IngressClass", "networking.k8s.io", ("v1",), "ingressclasses", namespaced=False),
    Kind("CiliumEnvoyConfig", "cilium.io", ("v2",), "ciliumenvoyconfigs"),
    Kind("CiliumClusterwideEnvoyConfig", "cilium.io", ("v2",), "ciliumclusterwideenvoyconfigs", namespaced=False),
    # issue 20 §5: which pods leave through a Cilium egress gateway, and the nodes that can be one
    Kind("CiliumEgressGatewayPolicy", "cilium.io", ("v2",), "ciliumegressgatewaypolicies", namespaced=False),
    Kind("Node", "", ("v1",), "nodes", namespaced=False),
)
ENDPOINTS = Kind("Endpoints", "", ("v1",), "endpoints")
# Kinds that act on a call from any namespace: a VirtualService or ServiceEntry exported to "*" (the
# default) applies to every client's proxy wherever it lives, and a Gateway may sit in any namespace.
# A question scoped to its namespaces still lists these everywhere, or the routing hop would decide on
# a partial view (contract §7).
MESH_WIDE = frozenset(
    {"VirtualService", "ServiceEntry", "CiliumEnvoyConfig"}
)  # a CEC may name another namespace's Service
CONFIGMAPS: tuple[tuple[str, str], ...] = (("kube-system", "cilium-config"), ("istio-system", "istio"))
_CORE_GROUPS = ("", "apps")  # always served; no discovery needed


class ApiStatus(Exception):
    """A non-2xx answer from the API server."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def kubeconfig_path(explicit: str | None) -> str:
    """``--kubeconfig``, else ``$KUBECONFIG`` (``:``-joined files are merged), else ~/.kube/config."""
    return explicit or os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")


class KubeClient:
    """GET JSON from the API server with the kubeconfig's credentials; nothing else.

    Each request is bounded as kubectl's ``--request-timeout`` bounds it: connecting, waiting for
    the answer and reading the whole body (a server that trickles bytes does not extend it), and
    never beyond the command's ``deadline``. No retries: a retried timeout only doubles the wait.
    """

    def __init__(
        self, kubeconfig: str | None, context: str | None, timeout: float, deadline: Deadline | None = None
    ) -> None:
        from kubernetes.config import ConfigException, new_client_from_config

        path = kubeconfig_path(kubeconfig)
        if not any(os.path.isfile(p) for p in path.split(os.pathsep) if p):
            # kubectl's wording (clientcmd ErrEmptyConfig), on one line
            raise DataError(
                f"missing or incomplete configuration info: no kubeconfig at {path}; point to an existing, "
                "complete config file with --kubeconfig or $KUBECONFIG (or use --from PATH / --demo NAME offline)"
            )
        self.timeout = timeout
        self.deadline = deadline or Deadline()
        new_client: Any = new_client_from_config
        where = "the kubeconfig" if kubeconfig else f"kubeconfig {path}"
        try:  # an exec/OIDC auth plugin runs here and may hang: the deadline bounds it
            self._api: Any = within(
                self.deadline,
                lambda: new_client(config_file=path, context=context, persist_config=False),
                f"loading {where} (and its auth plugin)",
            )
        except (ConfigException, OSError, TypeError, ValueError) as err:
            raise DataError(f"cannot load {where}: {err} (or use --from PATH / --demo NAME offline)") from None
        self.host = str(self._api.configuration.host)

    def get(self, path: str, query: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
        """The JSON document at ``path``; ApiStatus for a non-2xx answer, TimedOut, DataError."""
        import urllib3

        method, url, headers, _body, _post = self._api.param_serialize(
            "GET",
            path,
            query_params=list(query),
            header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"],
        )
        budget = self.deadline.cap(self.timeout)
        overall = budget is not None and (not self.timeout or budget < self.timeout)
        if budget is not None and budget <= 0:
            why = f"{self.deadline.describe()} expired"
            raise TimedOut(f"{path}: not requested, {why}", True, why)
        window = Deadline.after(budget)
        try:
            response = self._api.rest_client.pool_manager.request(
                method,
                url,
                headers=headers,
                timeout=urllib3.Timeout(connect=budget, read=budget),
                retries=False,
                preload_content=False,
            )
            try:
                body = _read_body(response, window)
            finally:
                response.release_conn()
        except urllib3.exceptions.NewConnectionError as err:  # refused, no route: a ConnectTimeoutError by class
            raise DataError(f"cannot reach the Kubernetes API at {self.host}: {_first_line(err)}") from None
        except (urllib3.exceptions.TimeoutError, TimeoutError):
            why = (
                f"{self.deadline.describe()} expired"
                if overall
                else f"no answer within {budget:g}s (--request-timeout)"
            )
            raise TimedOut(f"the Kubernetes API at {self.host}, {path}: {why}", overall, why) from None
        except Exception as err:  # urllib3 connection/TLS errors, exec-plugin failures
            raise DataError(f"cannot reach the Kubernetes API at {self.host}: {_first_line(err)}") from None
        if not 200 <= int(response.status) <= 299:
            raise ApiStatus(int(response.status), _status_message(body) or str(response.reason))
        try:
            doc = json.loads(body)
        except ValueError:
            raise ApiStatus(500, f"unexpected answer from {path} (not JSON)") from None
        if not isinstance(doc, dict):
            raise ApiStatus(500, f"unexpected answer from {path}")
        return doc

    def close(self) -> None:
        self._api.close()


def _read_body(response: Any, window: Deadline) -> bytes:
    """The whole body, each read waiting at most for what is left of ``window``: a trickling
    server cannot stretch the request beyond it (a socket timeout alone restarts on every byte)."""
    chunks: list[bytes] = []
    while True:
        left = window.remaining()
        if left is not None:
            if left <= 0:
                response.close()
                raise TimeoutError("body not read in time")
            sock = getattr(getattr(response, "connection", None), "sock", None)
            if sock is not None:
                sock.settimeout(left)
        try:
            data = response.read1(65536)
        except BaseException:
            response.close()  # a half-read connection must not go back to the pool
            raise
        if not data:
            return b"".join(chunks)
        chunks.append(data)


def _first_line(err: Exception) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0][:300]


def _status_message(body: bytes) -> str:
    try:
        doc = json.loads(body)
    except ValueError:
        return ""
    return str(doc.get("message", "")) if isinstance(doc, dict) else ""


def _base(group: str, version: str) -> str:
    return f"/api/{version}" if not group else f"/apis/{group}/{version}"


def _api_version(kind: Kind, version: str) -> str:
    return f"{kind.group}/{version}" if kind.group else version


class KubeReader:
    """``read(namespaces)`` -> RawSnapshot; ``namespaces=None`` reads every namespace; ``kinds``
    limits the lists to those kinds (the ConfigMaps are always read)."""

    def __init__(self, client: KubeClient, progress: Callable[[str], None] | None = None) -> None:
        self.client = client
        self.progress = progress or (lambda _msg: None)

    def served_versions(self) -> dict[str, list[str]]:
        doc = self.client.get("/apis")
        out: dict[str, list[str]] = {}
        for group in doc.get("groups") or []:
            out[str(group.get("name"))] = [str(v.get("version")) for v in group.get("versions") or []]
        return out

    def plan(
        self, served: dict[str, list[str]], kinds: frozenset[str] | None = None
    ) -> tuple[list[tuple[Kind, str]], list[str]]:
        """Which (kind, version) to read, and gaps for kinds the server does not serve."""
        plan: list[tuple[Kind, str]] = []
        gaps: list[str] = []
        for kind in KINDS if kinds is None else [k for k in KINDS if k.kind in kinds]:
            if kind.group in _CORE_GROUPS:
                plan.append((kind, kind.versions[0]))
                continue
            have = served.get(kind.group, [])
            version = next((v for v in kind.versions if v in have), None)
            if version is not None:
                plan.append((kind, version))
            elif kind.fallback == ENDPOINTS.kind:
                plan.append((ENDPOINTS, "v1"))
            elif have:
                gaps.append(
                    Gap(
                        f"{kind.qualified}: none of the versions {', '.join(kind.versions)} is served "
                        f"(server has {', '.join(have)}); not checked",
                        {kind.kind},
                    )
                )
            else:
                # no such API: no object of this kind can exist, so nothing is missing (informational)
                gaps.append(f"{kind.qualified} not installed (no {kind.group} API on the server)")
        return plan, gaps

    def read(self, namespaces: Sequence[str] | None, kinds: frozenset[str] | None = None,
             wide: bool = False) -> RawSnapshot:  # fmt: skip
        """``wide``: with many namespaces, try one cluster-wide page per namespaced kind first (kube_wide.py);
        a kind that must be listed per namespace is, as soon as its first page says so, beside the others."""
        self.progress(f"discovering the API groups of {self.client.host}")
        plan, gaps = self.plan(self.served_versions(), kinds)

        def per_namespace(kind: Kind) -> bool:
            return kind.namespaced and namespaces is not None and kind.kind not in MESH_WIDE

        def tasks_of(kind: Kind, version: str) -> list[tuple[Kind, str, str | None]]:
            return [(kind, version, ns) for ns in namespaces or ()] if per_namespace(kind) else [(kind, version, None)]

        try_wide = wide and namespaces is not None and len(namespaces) >= WIDE_FROM
        wide_at = [i for i, (kind, _) in enumerate(plan) if try_wide and per_namespace(kind)]
        asked: list[int] = [0]
        done: list[str] = []

        def list_one(task: tuple[Kind, str, str | None]) -> tuple[list[RawObject], Gap | None]:
            result = self._list(*task)
            done.append(task[0].kind)  # list.append is atomic: a count for the status line
            self.progress(f"listing kinds: {len(done)}/{asked[0]} lists ({task[0].kind})")
            return result

        listed: dict[int, list[Future[tuple[list[RawObject], Gap | None]]]] = {}
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:

            def submit(i: int) -> None:
                tasks = tasks_of(*plan[i])
                asked[0] += len(tasks)
                listed[i] = [pool.submit(list_one, t) for t in tasks]

            # the ConfigMaps first: a slow list must not keep the mesh and Cilium config from being read
            pending = [pool.submit(self._get_configmap, *nc) for nc in CONFIGMAPS]
            if wide_at:
                self.progress(f"listing {len(wide_at)} kinds cluster-wide first")
            tried = {
                pool.submit(wide_list, self.client.get, _base(plan[i][0].group, plan[i][1]) + f"/{plan[i][0].plural}",
                            _api_version(*plan[i]), plan[i][0].kind, namespaces or (), PAGE_SIZE,
                            (ApiStatus, TimedOut)): i
                for i in wide_at
            }  # fmt: skip
            for i in range(len(plan)):
                if i not in wide_at:
                    submit(i)
            for future in as_completed(tried):
                if future.result() is None:  # too long, or refused, cluster-wide: per namespace, right away
                    submit(tried[future])
            wide_got = {i: future.result() for future, i in tried.items()}
            results = [f.result() for i in sorted(listed) for f in listed[i]]
            maps = [f.result() for f in pending]
        snap = RawSnapshot(flow_source="none", gaps=gaps)
        snap.objects.extend(o for i in sorted(wide_got) for o in wide_got[i] or ())
        for objects, gap in [*results, *maps]:
            snap.objects.extend(objects)
            if gap:
                snap.gaps.append(gap)
        self.progress(f"read {len(snap.objects)} objects in {asked[0] + len(maps)} requests")
        return snap

    def _list(self, kind: Kind, version: str, namespace: str | None) -> tuple[list[RawObject], Gap | None]:
        path = _base(kind.group, version) + (f"/namespaces/{namespace}" if namespace else "") + f"/{kind.plural}"
        api_version = f"{kind.group}/{version}" if kind.group else version
        out: list[RawObject] = []
        token = ""
        while True:
            query = [("limit", str(PAGE_SIZE))] + ([("continue", token)] if token else [])
            try:
                doc = self.client.get(path, query)
            except ApiStatus as err:
                return out, _gap(err, kind.qualified, namespace, kind.kind)
            except TimedOut as err:
                return out, _timeout_gap(err, kind.qualified, namespace, kind.kind, bool(out))
            for item in doc.get("items") or []:
                if isinstance(item, dict):
                    out.append(RawObject({"apiVersion": api_version, "kind": kind.kind, **item}))
            token = str((doc.get("metadata") or {}).get("continue") or "")
            if not token:
                return out, None

    def _get_configmap(self, namespace: str, name: str) -> tuple[list[RawObject], Gap | None]:
        try:
            doc = self.client.get(f"/api/v1/namespaces/{namespace}/configmaps/{name}")
        except TimedOut as err:
            kind = _CONFIGMAP_KINDS.get(name, "ConfigMap")
            return [], _timeout_gap(err, f"configmap {namespace}/{name}", None, kind, False)
        except ApiStatus as err:
            if err.code == 404:
                return [], None  # absent is an answer; build_model notes a missing cilium-config
            return [], _gap(err, f"configmap {namespace}/{name}", None, _CONFIGMAP_KINDS.get(name, "ConfigMap"))
        return [RawObject({**doc, "apiVersion": "v1", "kind": "ConfigMap"})], None


# the model reads these ConfigMaps as configuration "kinds" that hops declare as inputs
_CONFIGMAP_KINDS = {"cilium-config": "CiliumConfig", "istio": "MeshConfig"}


def _gap_kinds(kind: str) -> set[str]:
    """The kinds a failed list hides: EndpointSlices stand for Endpoints too (the fallback reader)."""
    return {kind, "Endpoints"} if kind == "EndpointSlice" else {kind}


def _gap(err: ApiStatus, what: str, namespace: str | None, kind: str) -> Gap:
    """A list or get that failed: a gap naming the kind, so the hops that read it become unknown."""
    where = f" in namespace {namespace}" if namespace else ""
    kinds = _gap_kinds(kind)
    if err.code == 403:
        return Gap(f"no read access to {what}{where} (403 Forbidden); not checked", kinds, namespace)
    if err.code == 404:
        return Gap(f"{what}{where} not found on the server (404); not checked", kinds, namespace)
    if err.code == 401:
        raise DataError(f"the Kubernetes API refused the credentials (401): {err}")
    return Gap(f"could not read {what}{where} (HTTP {err.code}: {err}); not checked", kinds, namespace)


def _timeout_gap(err: TimedOut, what: str, namespace: str | None, kind: str, partial: bool) -> Gap:
    """A list or get cut short by --request-timeout or --timeout: the kind is incomplete there."""
    where = f" in namespace {namespace}" if namespace else ""
    read = "only partly read" if partial else "not read"
    kinds = _gap_kinds(kind)
    return Gap(f"{what}{where} {read}: {err.reason}; not checked", kinds, namespace)
