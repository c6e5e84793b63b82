"""The objects the playground API server serves, by resource; changeable while serving."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from kubectl_meshdoctor.playground.resources import BY_KIND, Resource, group_of


class ObjectStore:
    """Objects by (resource, namespace), in the order given; Endpoints derived when absent."""

    def __init__(self, docs: list[dict[str, Any]]) -> None:
        self.by_resource: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._by_ns: dict[str, dict[str | None, list[dict[str, Any]]]] = {}  # resource -> namespace -> docs
        for doc in docs:
            res = BY_KIND.get((group_of(str(doc.get("apiVersion", ""))), str(doc.get("kind"))))
            if res is not None:
                self.by_resource[res.qualified].append(doc)
        if not self.by_resource.get("endpoints"):
            self.by_resource["endpoints"] = [_endpoints_of(s) for s in self.by_resource.get("endpointslices", [])]

    def apply(self, doc: dict[str, Any]) -> None:
        """Create or replace (by namespace and name), as ``kubectl apply`` would."""
        res = BY_KIND.get((group_of(str(doc.get("apiVersion", ""))), str(doc.get("kind"))))
        if res is None:
            raise ValueError(f"the playground does not serve {doc.get('apiVersion')} {doc.get('kind')}")
        key = _key(doc)
        docs = self.by_resource[res.qualified]
        self.by_resource[res.qualified] = [d for d in docs if _key(d) != key] + [doc]
        self._by_ns.pop(res.qualified, None)

    def delete(self, api_version: str, kind: str, namespace: str | None, name: str) -> bool:
        res = BY_KIND.get((group_of(api_version), kind))
        docs = self.by_resource.get(res.qualified, []) if res else []
        kept = [d for d in docs if _key(d) != (namespace, name)]
        if res is not None:
            self.by_resource[res.qualified] = kept
            self._by_ns.pop(res.qualified, None)
        return len(kept) != len(docs)

    def items(self, res: Resource, namespace: str | None) -> list[dict[str, Any]]:
        docs = self.by_resource.get(res.qualified, [])
        if namespace is None:
            return docs
        index = self._by_ns.get(res.qualified)
        if index is None:  # built on the first namespaced list, dropped on a change (a list per namespace at L)
            index = {}
            for d in docs:
                index.setdefault((d.get("metadata") or {}).get("namespace"), []).append(d)
            self._by_ns[res.qualified] = index
        return index.get(namespace, [])


def _key(doc: dict[str, Any]) -> tuple[str | None, str | None]:
    meta = doc.get("metadata") or {}
    return meta.get("namespace"), meta.get("name")


def _endpoints_of(slice_doc: dict[str, Any]) -> dict[str, Any]:
    """The Endpoints object a cluster mirrors next to an EndpointSlice (for the fallback path)."""
    meta = slice_doc.get("metadata") or {}
    name = (meta.get("labels") or {}).get("kubernetes.io/service-name", meta.get("name"))
    addresses = []
    for ep in slice_doc.get("endpoints") or []:
        if ((ep or {}).get("conditions") or {}).get("ready", True):
            for ip in ep.get("addresses") or []:
                addresses.append({"ip": ip, "targetRef": ep.get("targetRef")})
    ports = [
        {"name": p.get("name"), "port": p.get("port"), "protocol": p.get("protocol", "TCP")}
        for p in slice_doc.get("ports") or []
    ]
    return {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": name, "namespace": meta.get("namespace")},
        "subsets": [{"addresses": addresses, "ports": ports}] if addresses else [],
    }
