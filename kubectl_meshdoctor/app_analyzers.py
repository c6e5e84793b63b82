"""Run the `check` analyzers; at scale the slowest one (the pair witness search) runs in a forked
child (``forked.py``) while this process runs the others (issue 18 item 14).

Each analyzer is a pure function of the model, so where it runs changes nothing of what it returns:
the child sends its causes back pickled, and when it fails in any way this process runs that
analyzer itself (an error it raises is then raised here, as in a sequential run).

The analyzers make hundreds of thousands of small lists, tuples and indexes that live until they
return: the cyclic garbage collector would scan them again and again for garbage they do not make
(a third of the analyzers' time at 50,000 pods), so it is paused while they run and resumed after.
What they leave (the indexes kept on the model, the causes) is then frozen, as the model is
(collector.py): resumed as it was, the collector would scan all of it once more at its
next allocation, for nothing.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Sequence

from kubectl_meshdoctor import forked
from kubectl_meshdoctor.checks.base import Check
from kubectl_meshdoctor.collector import paused_then_frozen
from kubectl_meshdoctor.findings.types import Cause
from kubectl_meshdoctor.model.view import Model

AWAY = frozenset({"mesh.CallsThatBreak"})  # about a third of the analyzers' time at 50,000 pods
MIN_PODS = 10_000  # below this the fork costs more than it saves


def run_analyzers(
    model: Model, items: Sequence[Check], min_pods: int = MIN_PODS, when_busy: bool = False, forking: bool = True
) -> dict[str, list[Cause]]:
    """Each analyzer's causes, by name (``when_busy``: fork even on a busy machine, see forked.possible;
    ``forking=False``: all here, the caller splits the work itself)."""
    with paused_then_frozen():
        return _run(model, items, min_pods if forking else -1, when_busy)


def _run(model: Model, items: Sequence[Check], min_pods: int, when_busy: bool) -> dict[str, list[Cause]]:
    fork = min_pods >= 0 and len(model.pods) >= min_pods and forked.possible(when_busy)
    away = [i for i in items if i.name in AWAY] if fork else []
    children = {i.name: forked.start(_pickled(i, model)) for i in away}
    out: dict[str, list[Cause]] = {}
    answers: dict[str, bytes | None] = {}
    try:
        for item in items:
            if children.get(item.name) is None:
                out[item.name] = list(item.run(model))
    finally:  # the children are collected even when an analyzer here raises
        answers = {name: forked.result(child) for name, child in children.items() if child is not None}
    for item in away:
        if item.name in answers:
            data = answers[item.name]
            out[item.name] = pickle.loads(data) if data is not None else list(item.run(model))
    return out


def _pickled(item: Check, model: Model) -> Callable[[], bytes]:
    return lambda: pickle.dumps(list(item.run(model)), protocol=pickle.HIGHEST_PROTOCOL)
