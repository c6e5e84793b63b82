"""``flows`` filters as in ``hubble observe`` (issue 13), and Hubble exporter files as input.

Expected flows are picked with a plain ``json.loads`` walk of the real samples; the same flags
are checked live (what Relay receives, and live == offline on a demo).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from kubectl_meshdoctor._proto import flow_pb2
from tests.test_flows_offline import SAMPLE_FILES, SAMPLES, _ends, _lines, run
from tests.test_live_explain import run as run_env

needs_samples = pytest.mark.skipif(not SAMPLE_FILES, reason=f"Hubble sample flows not found at {SAMPLES}")

TCP = SAMPLES / "basic-sample-400-tcp-flows.json"
HTTP = SAMPLES / "basic-sample-348-http-flows.json"
PP, REVIEWS = ("bookinfo", "productpage-v1-6b746f74dc-9rcxx"), ("bookinfo", "reviews-v2-7bf8c9648f-r7bs2")
RATINGS, PP_GKE = ("bookinfo", "ratings-v1-b6994bb9-4dt5c"), ("bookinfo", "productpage-v1-6b746f74dc-ffh56")


def _pair(path: Path, a: tuple[str, str], b: tuple[str, str]) -> list[str]:
    return [ln for ln in _lines(path) if {*_ends(ln)} == {a, b} and None not in _ends(ln)]


def _flow(line: str) -> dict[str, Any]:
    flow: dict[str, Any] = json.loads(line)["flow"]
    return flow


def _flows(path: Path | str, a: tuple[str, str], b: tuple[str, str], *flags: str) -> list[str]:
    code, out, err = run(["flows", f"{a[0]}/pod/{a[1]}", f"{b[0]}/pod/{b[1]}", "--from", str(path), "-o", "jsonpb",
                          *flags])  # fmt: skip
    assert code == 0, err
    return out.splitlines()


def _ports(flow: dict[str, Any]) -> set[int]:
    l4 = flow.get("l4", {}).get("TCP") or flow.get("l4", {}).get("UDP") or {}
    return {l4.get("source_port", 0), l4.get("destination_port", 0)}


def _when(line: str) -> datetime:
    return datetime.fromisoformat(_flow(line)["time"][:26].rstrip("Z") + "+00:00")


FILTERS: list[tuple[Path, tuple[str, str], tuple[str, str], list[str], Callable[[dict[str, Any]], bool]]] = [
    (TCP, PP, REVIEWS, ["--verdict", "REDIRECTED"], lambda f: f.get("verdict") == "REDIRECTED"),
    (TCP, PP, REVIEWS, ["--verdict", "forwarded"], lambda f: f.get("verdict") == "FORWARDED"),
    (TCP, PP, REVIEWS, ["--type", "policy-verdict"], lambda f: f["event_type"]["type"] == 5),
    (TCP, PP, REVIEWS, ["--type", "trace:to-proxy"],
     lambda f: f["event_type"]["type"] == 4 and f["event_type"].get("sub_type", 0) == 1),
    (TCP, PP, REVIEWS, ["--type", "l7", "--type", "policy-verdict"], lambda f: f["event_type"]["type"] in (5, 129)),
    (TCP, PP, REVIEWS, ["--port", "35346", "--port", "35326"], lambda f: bool({35346, 35326} & _ports(f))),
    (TCP, PP, REVIEWS, ["--port", "35346", "--verdict", "FORWARDED"],
     lambda f: 35346 in _ports(f) and f.get("verdict") == "FORWARDED"),
    (HTTP, RATINGS, PP_GKE, ["--http-status", "503"], lambda f: f.get("l7", {}).get("http", {}).get("code") == 503),
    (HTTP, RATINGS, PP_GKE, ["--http-status", "2+"],
     lambda f: 200 <= f.get("l7", {}).get("http", {}).get("code", 0) < 300),
]  # fmt: skip


@needs_samples
@pytest.mark.parametrize(("path", "a", "b", "flags", "keep"), FILTERS, ids=[" ".join(f[3]) for f in FILTERS])
def test_filters_select_what_hubble_would(path: Path, a: Any, b: Any, flags: list[str], keep: Any) -> None:
    expected = [ln for ln in _pair(path, a, b) if keep(_flow(ln))]
    assert expected, "the sample has no such flow: the filter would be untested"
    assert len(expected) < len(_pair(path, a, b)), "the filter must drop something to be tested"
    assert _flows(path, a, b, *flags) == expected


@needs_samples
def test_first_last_since_until() -> None:
    pair = _pair(TCP, PP, REVIEWS)
    assert len(pair) > 10
    assert _flows(TCP, PP, REVIEWS, "--first", "3") == pair[:3]
    assert _flows(TCP, PP, REVIEWS, "--last", "4") == pair[-4:]
    middle = pair[len(pair) // 3 : 2 * len(pair) // 3]
    since, until = _flow(middle[0])["time"], _flow(middle[-1])["time"]
    inside = [ln for ln in pair if _when(middle[0]) <= _when(ln) <= _when(middle[-1])]
    assert _flows(TCP, PP, REVIEWS, "--since", since, "--until", until) == inside
    # a duration offline counts back from the newest flow of the input (any pair's), to the second
    newest = max(_when(ln) for ln in _lines(TCP))
    recent = [ln for ln in pair if (newest - _when(ln)).total_seconds() <= 2]
    assert 0 < len(recent) < len(pair)
    assert _flows(TCP, PP, REVIEWS, "--since", "2s") == recent
    assert _flows(TCP, PP, REVIEWS, "--since", "2s", "--last", "1") == recent[-1:]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--verdict", "MAYBE"], "unknown verdict 'MAYBE'"),
        (["--type", "nonsense"], "unknown event type"),
        (["--http-status", "abc"], "bad http status"),
        (["--since", "yesterday-ish"], "--since yesterday-ish: bad duration"),
        (["--until", "2026-13-01T00:00"], "--until 2026-13-01T00:00: not a time"),
        (["--first", "2", "--last", "2"], "cannot be combined"),
        (["--last", "0"], "--last 0: must be 1 or more"),
        (["--port", "70000"], "--port 70000: a port is 1-65535"),
    ],
)
def test_bad_filter_values_are_usage_errors(flags: list[str], message: str) -> None:
    code, out, err = run(["flows", "a/b", "c/d", "--demo", "sidecar-s0-baseline", *flags])
    assert code == 2 and message in err and "Traceback" not in err and not out


def _export_line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"))


@needs_samples
def test_hubble_exporter_files_rotated_and_gzipped(tmp_path: Path) -> None:
    """``hubble-export-file-path`` output: ExportEvent lines, lumberjack backups oldest first."""
    lines = _lines(TCP)
    third = len(lines) // 3
    pod = PP[1]
    agent = _export_line({"agent_event": {"type": "ENDPOINT_CREATED", "endpoint_regenerate": {"labels": [pod]}},
                          "node_name": "kind-control-plane", "time": "2021-11-10T10:40:56Z"})  # fmt: skip
    lost = _export_line({"lost_events": {"source": "HUBBLE_RING_BUFFER", "num_events_lost": "7"},
                         "node_name": "kind-control-plane", "time": "2021-11-10T10:40:57Z"})  # fmt: skip
    export = tmp_path / "hubble"
    export.mkdir()
    (export / "events-2021-11-10T10-40-00.000.log.gz").write_bytes(
        gzip.compress("\n".join([agent, *lines[:third]]).encode() + b"\n")
    )
    (export / "events-2021-11-10T10-41-00.000.log").write_text("\n".join([*lines[third : 2 * third], lost]) + "\n")
    (export / "events.log").write_text("\n".join(lines[2 * third :]) + "\n")
    code, out, err = run(["flows", f"bookinfo/pod/{PP[1]}", f"bookinfo/pod/{REVIEWS[1]}", "--from", str(export),
                          "-o", "jsonpb"])  # fmt: skip
    assert code == 0, err
    assert out.splitlines() == _pair(TCP, PP, REVIEWS)
    assert "Hubble reported 7 lost events" in err  # missing events are said, even from a rotated file
    assert "line skipped" not in err  # agent events are not flows, and not errors either


@needs_samples
def test_compact_output_escapes_and_annotates_without_objects() -> None:
    code, out, err = run(["flows", "bookinfo/productpage", "bookinfo/reviews", "--from", str(TCP), "--last", "3"])
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 3 and all("bookinfo/productpage-v1-" in ln for ln in lines)
    assert all(ln.rstrip().endswith("]") for ln in lines)  # the hop annotation, with no objects behind it


def test_live_filters_are_sent_to_relay_and_equal_offline(playground) -> None:
    pg = playground("sidecar-s1-l4-policy")
    args = ["flows", "green/netshoot", "blue/httpbin", "-o", "jsonpb", "--verdict", "DROPPED", "--last", "50"]
    code, live, err = run_env([*args, "--hubble-server", pg.relay.address], pg.env())
    assert code == 0, err
    [request] = pg.relay.requests
    assert request.whitelist and all(list(f.verdict) == [flow_pb2.DROPPED] for f in request.whitelist)
    assert all(f.source_pod and f.destination_pod for f in request.whitelist)
    _, offline, _ = run([*args, "--demo", "sidecar-s1-l4-policy"])
    assert live and live == offline
    assert all(json.loads(ln)["flow"]["verdict"] == "DROPPED" for ln in live.splitlines())


def test_live_time_window_and_first_are_sent_as_hubble_sends_them(playground) -> None:
    pg = playground("sidecar-s0-baseline")
    args = ["flows", "red/netshoot", "blue/httpbin", "-o", "jsonpb", "--hubble-server", pg.relay.address]
    code, out, err = run_env([*args, "--since", "2000-01-01T00:00:00.5Z", "--first", "2", "--port", "80"], pg.env())
    assert code == 0, err
    [request] = pg.relay.requests
    assert request.first and request.number == 2
    assert (request.since.seconds, request.since.nanos) == (946_684_800, 500_000_000)
    assert len(request.whitelist) == 4  # two directions x (source port 80 | destination port 80)
    assert {tuple(f.source_port) or tuple(f.destination_port) for f in request.whitelist} == {("80",)}
    assert 0 < len(out.splitlines()) <= 2
