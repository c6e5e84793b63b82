"""``triage -f``: follow Relay and re-rank as failures arrive, until Ctrl-C (issue 19 §6).

One follow request (the window's failures, then new ones as they happen) is read on a thread; the
main thread takes what arrived, loads the objects of namespaces it has not read yet, explains again
and prints when the ranking changed: redrawn on a terminal, one JSON document per line when piped
(``-o yaml``: one document per change, ``---`` separated). Ctrl-C exits with the last answer's code.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
import time
from typing import Any

import click

from kubectl_meshdoctor.app import SourceOptions
from kubectl_meshdoctor.diagnosis.triage import TriageResult

_QUIET = 0.3  # seconds without a new flow before the ranking is drawn again


def _fingerprint(result: TriageResult) -> str:
    rows: list[Any] = [
        [f.kind, f.cause.code if f.cause else None, [(c.group.key, c.group.flows) for c in f.calls]]
        for f in result.findings
    ]
    return json.dumps([*rows, result.gaps], default=str)


def _show(result: TriageResult, output: str, top: int, meta: dict[str, Any]) -> None:
    from kubectl_meshdoctor.cli.triage import emit

    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    if output == "json":
        from kubectl_meshdoctor.render.triage import triage_dict

        doc = {"time": stamp, **triage_dict(result, top, meta)}
        click.echo(json.dumps(doc, ensure_ascii=False, separators=(",", ":")))
        return
    if output == "text" and sys.stdout.isatty():
        click.echo("\x1b[H\x1b[2J", nl=False)  # redraw in place
    elif output == "yaml":
        click.echo("---")
    elif output == "text":
        click.echo(f"--- {stamp}")
    emit(result, output, top, meta, now=time.time())
    sys.stdout.flush()


def follow_loop(opts: SourceOptions, namespaces: list[str] | None, window: Any, output: str, top: int,
                meta: dict[str, Any]) -> int:  # fmt: skip
    from kubectl_meshdoctor import app
    from kubectl_meshdoctor.app_triage import (
        Session,
        entry_namespaces,
        flows_request,
        istio_answers,
        live_window,
        load_objects,
        touched,
    )
    from kubectl_meshdoctor.diagnosis.triage_groups import Grouper
    from kubectl_meshdoctor.errors import DataError
    from kubectl_meshdoctor.sources.hubble import RelayError
    from kubectl_meshdoctor.sources.live import LiveSource, relay_down_warning

    events: queue.Queue[tuple[str, Any]] = queue.Queue()
    with LiveSource(app.live_options(opts)) as live:
        since, until = live_window(window)
        request = flows_request(namespaces, since, until, follow=True)

        def pump() -> None:
            try:
                for flow in live.follow(request, lambda text: events.put(("warning", text))):
                    events.put(("flow", flow))
            except RelayError as err:
                events.put(("error", relay_down_warning(err)))
            except Exception as err:  # the stream died: say so and stop, never hang
                events.put(("error", f"Hubble flows not read: {err}"))
            events.put(("end", None))

        threading.Thread(target=pump, name="triage-follow", daemon=True).start()
        flows: list[Any] = []
        warnings: list[str] = []
        istio = istio_answers(live, namespaces, warnings)  # what Hubble cannot show, before any failure
        session = Session(istio, Grouper(None), False, "hubble", namespaces, warnings=warnings, loaded=set())
        shown: str | None = None
        code = 0
        pending = False
        entries: set[str] | None = None  # namespaces of Gateways/Ingresses, listed once Cilium's Envoy shows up
        try:
            while True:
                try:
                    kind, item = events.get(timeout=_QUIET)
                except queue.Empty:
                    kind, item = "quiet", None
                if kind == "flow":
                    flows.append(item)
                    pending = True
                    continue
                if kind == "warning":
                    session.warnings.append(item)
                    continue
                if kind == "error":
                    session.gaps.append(item)
                    continue
                loaded = session.loaded if session.loaded is not None else set()
                if pending or shown is None or kind == "end":
                    if entries is None:
                        entries = entry_namespaces(live, flows, session.warnings)
                    needed = touched(flows) | (entries or set())
                    if needed - loaded:
                        live.renew_deadline()
                        try:
                            session.model = load_objects(live, loaded | needed)
                            session.loaded = loaded | needed
                        except DataError as err:  # the API hiccups: say so, keep following, retry later
                            session.gaps.append(f"objects of {', '.join(sorted(needed - loaded))} not read: {err}")
                    session.grouper = Grouper(session.model)
                    for flow in flows:
                        session.grouper.add(flow)
                    pending = False
                    result = session.result()
                    code = result.exit_code
                    print_ = _fingerprint(result)
                    if print_ != shown:
                        shown = print_
                        _show(result, output, top, meta)
                if kind == "end":
                    return code
        except KeyboardInterrupt:
            return code
