"""`check` on a large offline snapshot, on two processors at once (issue 18 item 14).

A process forked once a large snapshot is in memory pays for it in both processes: each page of the
objects either one then touches (Python writes reference counts even to read) is copied, hundreds
of megabytes at 85,000 objects. So the child is forked before anything is read, while both
processes are small: each reads the snapshot and builds the same model from it (trusting the
objects). Then each takes analyzers until the two meet, the child from one end of ``in_turn()``,
this process from the other, and then validates objects the same way, the child from the first
object up, this process from the last down (``two_ends.TwoEnds``): both end together, within one
chunk, whichever part was slower here and now. Nothing large crosses the pipe.

The answer is the ordinary one, byte for byte: each analyzer is a pure function of the model, the
two models are built by the same code from the same files, and the findings are merged in the
order of ``checks.ALL`` as always. When either process finds an object the API server would
reject, the child fails in any way, or a snapshot file changed while the two read it, this process
builds the model again the ordinary way from what it read (validating, so the invalid objects are
reported and left out as before) and runs every analyzer itself.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Mapping

from kubectl_meshdoctor import app, forked
from kubectl_meshdoctor.app_analyzers import run_analyzers
from kubectl_meshdoctor.app_validate import all_valid_taken
from kubectl_meshdoctor.checks import ALL
from kubectl_meshdoctor.checks.base import Check
from kubectl_meshdoctor.findings.types import Cause
from kubectl_meshdoctor.model.view import Model
from kubectl_meshdoctor.raw import RawSnapshot
from kubectl_meshdoctor.two_ends import TwoEnds

MIN_BYTES = 16 << 20  # object files below this are read and checked faster in one process
CHUNK = 500  # objects validated per claim on the board (a few milliseconds): the two processes end that close
_VALID = b"1"
# each analyzer's cost, alone on the bench's M cluster (millions of instructions, shared lookups
# counted in each); the others cost little
COST = {
    "mesh.CallsThatBreak": 245,
    "cilium.ServicePortRules": 104,
    "mesh.ProtocolDeclaration": 102,
    "cilium.DNSEgress": 59,
    "gateway.GammaWaypoint": 53,
    "policy.SelectsNothing": 51,
    "k8s.ServiceEndpoints": 49,
    "cilium.Config": 48,
    "mesh.AuthzNeedsMTLS": 31,
    "istio.Injection": 7,
}


def worth_splitting(opts: app.SourceOptions, min_bytes: int = MIN_BYTES, when_busy: bool = False) -> bool:
    """Does ``check`` take two processes here and now? Offline snapshots of ``min_bytes`` or more
    that can be read twice (not stdin), on a machine with a second processor idle
    (``forked.possible``; ``when_busy``: even on a busy one)."""
    if opts.from_path is None or opts.demo_name is not None:
        return False
    parts = opts.from_path.split("\0")
    if "-" in parts or sum(size for _path, size, _mtime in _files(opts)) < min_bytes:
        return False
    return forked.possible(when_busy)


def _files(opts: app.SourceOptions) -> list[tuple[str, int, int]]:
    """(path, bytes, modification time) of each file the snapshot is read from; unreadable ones are
    left out (the ordinary read then says why)."""
    out = []
    for part in (opts.from_path or "").split("\0"):
        paths = (
            [os.path.join(top, f) for top, _d, files in os.walk(part) for f in files] if os.path.isdir(part) else [part]
        )
        for path in paths:
            try:
                stat = os.stat(path)
            except OSError:
                continue
            out.append((path, stat.st_size, stat.st_mtime_ns))
    return sorted(out)


def check(opts: app.SourceOptions, namespaces: list[str] | None) -> app.CheckResult:
    """``app.check`` of the offline snapshot ``opts`` names, the work split with a forked child."""
    import kubectl_meshdoctor.diagnosis.explain  # noqa: F401 (some analyzers import it: once, before the fork)

    before = _files(opts)
    analyzers, objects = TwoEnds(1), TwoEnds(CHUNK)
    child = forked.start(lambda: _child_answer(opts, namespaces, analyzers, objects))
    if child is None:
        return app.check(app.build_model(_read(opts, namespaces)), namespaces)
    try:
        raw = _read(opts, namespaces)
        model = app.build_model(raw, trusting=True)
        app.check_namespaces(model, namespaces)
        mine = _analyzers_taken(model, analyzers.take_high)
        valid = all_valid_taken(raw.objects, objects.take_high)
    except BaseException:
        forked.stop(child)
        raise
    if valid:
        theirs = _decoded(forked.result(child))
    else:  # its answer is not needed any more
        forked.stop(child)
        theirs = None
    # an invalid object (or the child failed, or a file changed while the two read it): the
    # ordinary build of what this process read says which
    causes = {**mine, **theirs} if theirs is not None else {}
    if len(causes) != len(ALL) or _files(opts) != before:
        return app.check(app.build_model(raw), namespaces)
    return app.check_result(model, namespaces, causes)


def _read(opts: app.SourceOptions, namespaces: list[str] | None) -> RawSnapshot:
    return app.load_raw_scoped(opts, namespaces, flows=False, offline_flows=False)  # check reads no flows


def _child_answer(opts: app.SourceOptions, namespaces: list[str] | None, analyzers: TwoEnds, objects: TwoEnds) -> bytes:
    """What the child computes: b"" when some object is invalid, else the causes of the analyzers it
    took, pickled."""
    raw = _read(opts, namespaces)
    model = app.build_model(raw, trusting=True)
    causes = _analyzers_taken(model, analyzers.take_low)
    if not all_valid_taken(raw.objects, objects.take_low):
        return b""
    return _VALID + pickle.dumps(causes, protocol=pickle.HIGHEST_PROTOCOL)


def _analyzers_taken(model: Model, take: Callable[[int], range | None]) -> dict[str, list[Cause]]:
    items = in_turn()
    causes: dict[str, list[Cause]] = {}
    while (part := take(len(items))) is not None:
        causes.update(run_analyzers(model, [items[i] for i in part], forking=False))
    return causes


def in_turn() -> list[Check]:
    """``checks.ALL`` in the order the two processes take them, the child from the first, this
    process from the last: each takes the costliest left on its side, so the two are about even
    when they meet, and the validation that follows evens out the rest."""
    by_cost = sorted(ALL, key=lambda item: -COST.get(item.name, 0))
    return by_cost[0::2] + by_cost[1::2][::-1]


def _decoded(answer: bytes | None) -> Mapping[str, list[Cause]] | None:
    if answer is None or not answer.startswith(_VALID):
        return None
    causes: dict[str, list[Cause]] = pickle.loads(answer[len(_VALID) :])
    return causes
