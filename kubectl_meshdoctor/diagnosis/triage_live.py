"""The failures Relay streams for ``triage`` (live), held as grouping needs them (issue 19, at L).

Grouping needs the objects of the namespaces the failures touch, and those are known only once the
stream has ended; so each flow is checked (``failure_check``: the request's filters on its facts,
read once) and held as its Facts while it arrives. Only the newest ``KEEP`` messages of each call
key (everything grouping reads of a flow but its time, node and client port) are held: a group keeps
its newest ``KEEP`` flows, and each of those is among the newest ``KEEP`` of its own key, so
``replay`` gives every group exactly the flows, counts and order that adding every message would.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

from kubectl_meshdoctor._proto import flow_pb2
from kubectl_meshdoctor.diagnosis.triage_envoy import is_envoy
from kubectl_meshdoctor.diagnosis.triage_groups import KEEP, Grouper, call_key
from kubectl_meshdoctor.sources.flow_facts import Facts
from kubectl_meshdoctor.sources.triage_flows import failure_check

__all__ = ["LiveFailures"]


class LiveFailures:
    """Call with each flow Relay sent (HubbleClient.stream's ``keep``): True when it is a failure."""

    def __init__(self, namespaces: Sequence[str] | None) -> None:
        self._check = failure_check(namespaces)
        self.facts: list[Facts] = []
        self._flows: list[flow_pb2.Flow | None] = []  # None: not among the newest KEEP of its key
        self._newest: dict[tuple[Any, ...], deque[int]] = {}
        self.namespaces: set[str] = set()  # at either end, pods and Service frontends (app_triage.touched)
        self.envoy: list[flow_pb2.Flow] = []  # the first failure with Cilium's Envoy at an end, if any

    def __call__(self, flow: flow_pb2.Flow) -> bool:
        f = self._check(flow)
        if f is None:
            return False
        at = len(self.facts)
        self.facts.append(f)
        self._flows.append(flow)
        newest = self._newest.get(key := call_key(f))
        if newest is None:
            newest = self._newest[key] = deque()
            for ns in (f.source[0], f.destination[0], f.destination_service[0], f.source_service[0]):
                if ns:
                    self.namespaces.add(ns)
        if not self.envoy and (is_envoy(flow.source) or is_envoy(flow.destination)):
            self.envoy.append(flow)
        newest.append(at)
        if len(newest) > KEEP:
            self._flows[newest.popleft()] = None
        return True

    def clear(self) -> None:
        """A stream that failed: nothing it read stands."""
        self.facts.clear()
        self._flows.clear()
        self._newest.clear()
        self.namespaces.clear()
        self.envoy.clear()

    def replay(self, grouper: Grouper) -> None:
        """Every failure into ``grouper``, in arrival order, with the messages its groups keep."""
        for f, flow in zip(self.facts, self._flows, strict=True):
            group = grouper.add_facts(f)
            if flow is not None:
                group.kept.append(flow)
