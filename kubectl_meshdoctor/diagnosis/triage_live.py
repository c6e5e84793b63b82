"""The failures Relay streams for ``triage`` (live), held as grouping needs them (issue 19, at L).

Grouping needs the objects of the namespaces the failures touch, and those are known only once the
stream has ended; so each flow is checked as it arrives (``failure_check``: the request's filters on
its facts, read once) and tallied by call key (everything grouping reads of a flow but its time, node
and client port: sources of one key are in one group): how many, first and last seen, the nodes, and
its newest ``KEEP`` messages. A group keeps its newest ``KEEP`` flows, and each of those is among the
newest ``KEEP`` of its own key; counts, times and nodes add up; so ``replay`` gives every group
exactly what adding every message would, in the same order. A flow without a time (its group's first
seen then depends on the order: triage_groups.Grouper.add_facts) makes ``replay`` add the flows one
by one, from the key, time and node held for each.
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Sequence
from typing import Any

from kubectl_meshdoctor._proto import flow_pb2
from kubectl_meshdoctor.diagnosis.triage_envoy import is_envoy
from kubectl_meshdoctor.diagnosis.triage_groups import KEEP, Group, Grouper, call_key
from kubectl_meshdoctor.sources.flow_facts import Facts
from kubectl_meshdoctor.sources.triage_flows import failure_check

__all__ = ["LiveFailures"]


class _Call:
    """The failures of one call key: the first one's facts, the tallies, the newest messages."""

    __slots__ = ("count", "facts", "first_ns", "last_ns", "newest", "nodes", "place")

    def __init__(self, facts: Facts, place: int) -> None:
        self.facts = facts
        self.place = place  # in order of first arrival
        self.count = 0
        self.first_ns = 0
        self.last_ns = 0
        self.nodes: dict[str, None] = {}
        self.newest: deque[tuple[int, flow_pb2.Flow]] = deque(maxlen=KEEP)  # (arrival, message)


class LiveFailures:
    """Call with each flow Relay sent (HubbleClient.stream's ``keep``): True when it is a failure."""

    def __init__(self, namespaces: Sequence[str] | None) -> None:
        self._check = failure_check(namespaces)
        self._reset()

    def _reset(self) -> None:
        self._calls: dict[tuple[Any, ...], _Call] = {}
        self._order: list[_Call] = []  # by first arrival
        self._call_of = array("l")  # per failure, in arrival order: its call's place in _order
        self._time = array("q")  # its time (0: none)
        self._node_of = array("l")  # its node, a place in _nodes
        self._nodes: dict[str, int] = {}
        self.untimed = False  # a failure came without a time
        self.namespaces: set[str] = set()  # at either end, pods and Service frontends (app_triage.touched)
        self.envoy: list[flow_pb2.Flow] = []  # the first failure with Cilium's Envoy at an end, if any

    @property
    def count(self) -> int:
        """Failures read."""
        return len(self._call_of)

    def __call__(self, flow: flow_pb2.Flow) -> bool:
        f = self._check(flow)
        if f is None:
            return False
        call = self._calls.get(key := call_key(f))
        if call is None:
            call = self._calls[key] = _Call(f, len(self._order))
            self._order.append(call)
            for ns in (f.source[0], f.destination[0], f.destination_service[0], f.source_service[0]):
                if ns:
                    self.namespaces.add(ns)
        if not self.envoy and (is_envoy(flow.source) or is_envoy(flow.destination)):
            self.envoy.append(flow)
        at = len(self._call_of)
        when = f.time_ns or 0
        call.count += 1
        if not when:
            self.untimed = True
        elif not call.first_ns or when < call.first_ns:
            call.first_ns = when
        if when > call.last_ns:
            call.last_ns = when
        if f.node:
            call.nodes[f.node] = None
        call.newest.append((at, flow))
        self._call_of.append(call.place)
        self._time.append(when)
        self._node_of.append(self._nodes.setdefault(f.node, len(self._nodes)))
        return True

    def clear(self) -> None:
        """A stream that failed: nothing it read stands."""
        self._reset()

    def replay(self, grouper: Grouper) -> None:
        """Every failure into ``grouper``, as adding them in arrival order with their messages would."""
        kept: dict[int, list[tuple[int, flow_pb2.Flow]]] = {}
        groups: dict[int, Group] = {}
        if not self.untimed:
            for call in self._order:
                group = grouper.add_call(call.facts, call.count, call.first_ns, call.last_ns, call.nodes)
                groups[id(group)] = group
                kept.setdefault(id(group), []).extend(call.newest)
        else:
            nodes = list(self._nodes)
            held = {at: flow for call in self._order for at, flow in call.newest}
            for at, (n, when, node) in enumerate(zip(self._call_of, self._time, self._node_of, strict=True)):
                facts = self._order[n].facts._replace(time_ns=when or None, node=nodes[node])
                group = grouper.add_facts(facts)
                if at in held:
                    groups[id(group)] = group
                    kept.setdefault(id(group), []).append((at, held[at]))
        for ident, flows in kept.items():
            flows.sort(key=lambda item: item[0])
            groups[ident].kept.extend(flow for _, flow in flows[-KEEP:])
