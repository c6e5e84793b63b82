"""``explain --watch``: re-evaluate live while the fix rolls out, print each change.

One LiveSource stays open (one API client, one port-forward, one Relay channel). Every
``--watch-interval`` the objects of the question's namespaces are re-listed and the pair's flows
of the sliding ``--since`` window re-read; a Relay follow stream on the pair wakes the loop early
when a new flow arrives. An answer is printed, with a timestamp, only when the verdict or a cause
(code and objects) differs from the last one printed. ``--until-ok`` exits 0 as soon as the call
works; Ctrl-C exits with the code of the last answer.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import click

from kubectl_meshdoctor.diagnosis.call import Query
from kubectl_meshdoctor.errors import DataError, UsageError
from kubectl_meshdoctor.findings.types import Diagnosis, Verdict

DEFAULT_WINDOW_S = 60.0  # old flows age out of a watch quickly: a fix shows within a minute


def answer_key(d: Diagnosis) -> tuple[str, frozenset[tuple[str, tuple[str, ...]]]]:
    """What must change for a new answer to be printed: the verdict or a cause (code + objects)."""
    causes = frozenset((c.code, tuple(sorted(r.key() for r in c.objects))) for c in d.causes)
    return d.verdict.value, causes


class Watcher:
    def __init__(self, opts: Any, query: Query, show: Callable[[Diagnosis, datetime], None], interval: float) -> None:
        from kubectl_meshdoctor import app

        if not app.is_live(opts):
            raise UsageError("--watch follows a live cluster; it cannot be combined with --from or --demo")
        if interval <= 0:
            raise UsageError("--watch-interval must be positive")
        if query.since_seconds is None and query.last is None:
            query = dataclasses.replace(query, since_seconds=DEFAULT_WINDOW_S)
        self.opts, self.query, self.show, self.interval = opts, query, show, interval
        self.wake = threading.Event()
        self.stop = threading.Event()
        self._following: list[Any] | None = None  # the whitelist the follow stream was opened with

    def run(self, until_ok: bool) -> int:
        from kubectl_meshdoctor import app
        from kubectl_meshdoctor.sources.live import LiveSource, namespaces_for

        last: tuple[str, Any] | None = None
        code = 3
        with LiveSource(dataclasses.replace(app.live_options(self.opts), progress=False)) as live:
            namespaces = namespaces_for([self.query.source, self.query.destination], self.query.namespace)
            first = True
            try:
                while True:
                    diagnosis: Diagnosis | None = None
                    err_text = ""
                    try:
                        diagnosis = self.evaluate(live, namespaces)
                    except (UsageError, DataError) as err:
                        if first:
                            raise
                        err_text = str(err)  # e.g. the workload was deleted meanwhile, or the API hiccups
                    first = False
                    if diagnosis is None:
                        key: tuple[str, Any] = ("error", err_text)
                        if key != last:
                            click.echo(f"[{_human(_now())}] error: {err_text}", err=True)
                            last = key
                    else:
                        code = app.exit_code(diagnosis)
                        key = answer_key(diagnosis)
                        if key != last:
                            self.show(diagnosis, _now())
                            last = key
                        if until_ok and diagnosis.verdict is Verdict.ALLOWED:
                            return 0
                    self.wake.wait(self.interval)
                    self.wake.clear()
            except KeyboardInterrupt:
                return code
            finally:
                self.stop.set()

    def evaluate(self, live: Any, namespaces: list[str] | None) -> Diagnosis:
        from kubectl_meshdoctor import app
        from kubectl_meshdoctor.app_flows import pair_whitelist
        from kubectl_meshdoctor.model.build import build_model
        from kubectl_meshdoctor.sources.hubble import RelayError, flows_request
        from kubectl_meshdoctor.sources.live import relay_down_warning

        raw = live.objects(namespaces)
        if not self.query.no_flows:
            whitelist = pair_whitelist(build_model(raw), self.query)
            try:
                batch = live.flows(flows_request(whitelist, self.query.since_seconds, self.query.last))
            except RelayError as err:
                raw.warnings.append(relay_down_warning(err))
            else:
                raw.flows, raw.flow_source = batch.flows, "hubble"
                raw.warnings.extend(batch.warnings)
                self._follow(live, whitelist)
        # not app.build_model: its gc.freeze() would pin every model of a long watch in memory
        return app.explain(build_model(raw), self.query)

    def _follow(self, live: Any, whitelist: list[Any]) -> None:
        """(Re)open the follow stream on the pair; each new flow wakes the loop."""
        if self._following == whitelist:
            return
        self._following = whitelist
        from kubectl_meshdoctor.sources.hubble import flows_request

        request = flows_request(whitelist, follow=True)

        def follow() -> None:
            try:
                for _ in live.follow(request, lambda _w: None):
                    if self.stop.is_set() or self._following != whitelist:
                        return
                    self.wake.set()
            except Exception:  # the channel closes when the watch ends; a broken stream only loses wake-ups
                return

        threading.Thread(target=follow, name="meshdoctor-follow", daemon=True).start()


def _now() -> datetime:
    return datetime.now().astimezone()


def _human(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S %Z")


def rfc3339(when: datetime) -> str:
    """``2026-12-06T12:13:05Z`` (RFC 3339, UTC, seconds): what JSON and YAML consumers parse."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def printer(output: str) -> Callable[[Diagnosis, datetime], None]:
    """How each new answer is shown: text with a timestamp line; json as one object per line."""

    def show(d: Diagnosis, when: datetime) -> None:
        if output == "text":
            import sys

            from kubectl_meshdoctor.render.text import print_to, render_diagnosis

            click.echo(f"── {_human(when)} ──")
            print_to(True, render_diagnosis(d))
            sys.stdout.flush()
        elif output == "markdown":
            from kubectl_meshdoctor.render.markdown import explain_markdown

            click.echo(f"<!-- {rfc3339(when)} -->\n" + explain_markdown(d))
        else:
            import json

            from kubectl_meshdoctor.render.document import diagnosis_dict, dump

            doc = {"time": rfc3339(when), **diagnosis_dict(d)}
            text = json.dumps(doc, ensure_ascii=False) + "\n" if output == "json" else "---\n" + dump(doc, "yaml")
            click.echo(text, nl=False)

    return show


def watch(opts: Any, query: Query, output: str, until_ok: bool, interval: float) -> int:
    return Watcher(opts, query, printer(output), interval).run(until_ok)
