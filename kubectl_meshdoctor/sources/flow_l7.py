"""The L7 parts of Hubble's ``FlowFilter`` (HTTP status, method, path and URL; DNS query; FQDNs),
evaluated on our own flow messages as Relay evaluates them (hubble-api.md §2.2)."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from kubectl_meshdoctor._proto import flow_pb2

_Pred = Callable[[flow_pb2.Flow], bool]


def _http(flow: flow_pb2.Flow) -> flow_pb2.HTTP | None:
    return flow.l7.http if flow.l7.WhichOneof("record") == "http" else None


_STATUS_RE = re.compile(r"^(\d{3}|\d{1,2}\+)$")


def status_filter_check(specs: Sequence[str]) -> None:
    """ValueError for a status code filter Hubble would reject (``403``, ``5+``)."""
    status_pred(specs)


def status_pred(specs: Sequence[str]) -> _Pred:
    exact: set[str] = set()
    prefixes: list[str] = []
    for spec in specs:
        if not _STATUS_RE.match(spec):
            raise ValueError(f"bad http status code filter {spec!r}; use e.g. 403 or 5+")
        if spec.endswith("+"):
            prefixes.append(spec[:-1])
        else:
            exact.add(spec)

    def pred(flow: flow_pb2.Flow) -> bool:
        http = _http(flow)
        if http is None or http.code == 0:  # only responses carry a code (§4.6)
            return False
        code = str(http.code)
        return code in exact or any(code.startswith(p) for p in prefixes)

    return pred


def http_pred(specs: Sequence[str], part: Callable[[flow_pb2.HTTP], str], regex: bool) -> _Pred:
    if regex:
        # Go's regexp MatchString is unanchored: search, not fullmatch.
        patterns = [re.compile(s) for s in specs]

        def pred_re(flow: flow_pb2.Flow) -> bool:
            http = _http(flow)
            return http is not None and any(p.search(part(http)) for p in patterns)

        return pred_re
    wanted = {s.lower() for s in specs}

    def pred(flow: flow_pb2.Flow) -> bool:
        http = _http(flow)
        return http is not None and part(http).lower() in wanted

    return pred


def url_path(http: flow_pb2.HTTP) -> str:
    try:
        return urlsplit(http.url).path
    except ValueError:
        return ""


def dns_pred(specs: Sequence[str]) -> _Pred:
    patterns = [re.compile(s) for s in specs]

    def pred(flow: flow_pb2.Flow) -> bool:
        if flow.l7.WhichOneof("record") != "dns":
            return False
        return any(p.search(flow.l7.dns.query) for p in patterns)

    return pred


def fqdn_pred(specs: Sequence[str], attr: str) -> _Pred:
    # Names are compared case-insensitively and without the trailing dot; `*` is a wildcard.
    patterns = [s.lower().rstrip(".") for s in specs]

    def pred(flow: flow_pb2.Flow) -> bool:
        names = [n.lower().rstrip(".") for n in getattr(flow, attr)]
        return any(fnmatch.fnmatchcase(n, p) for n in names for p in patterns)

    return pred
