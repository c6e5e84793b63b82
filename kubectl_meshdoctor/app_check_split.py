"""`check` on a large offline snapshot, on two processors at once (issue 18 item 14).

A process forked once a large snapshot is in memory pays for it in both processes: each page of the
objects either one then touches (Python writes reference counts even to read) is copied, hundreds
of megabytes at 85,000 objects. So the child is forked before anything is read, while both
processes are small: each reads the snapshot and builds the same model from it (trusting the
objects). The child runs the analyzers of ``app_analyzers.AWAY`` (the pair witness search), this
process the others; then each validates objects until the two meet, the child from the first
object up, this process from the last down (``two_ends.TwoEnds``), so both end together whichever
part was slower here and now. Nothing large crosses the pipe.

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
from collections.abc import Mapping

from kubectl_meshdoctor import app, forked
from kubectl_meshdoctor.app_analyzers import AWAY, run_analyzers
from kubectl_meshdoctor.app_validate import all_valid_taken
from kubectl_meshdoctor.findings.types import Cause
from kubectl_meshdoctor.raw import RawSnapshot
from kubectl_meshdoctor.two_ends import TwoEnds

MIN_BYTES = 16 << 20  # object files below this are read and checked faster in one process
CHUNK = 500  # objects validated per claim on the board (a few milliseconds): the two processes end that close
_VALID = b"1"


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
    before = _files(opts)
    board = TwoEnds(CHUNK)
    child = forked.start(lambda: _child_answer(opts, namespaces, board))
    if child is None:
        return app.check(app.build_model(_read(opts, namespaces)), namespaces)
    try:
        raw = _read(opts, namespaces)
        model = app.build_model(raw, trusting=True)
        app.check_namespaces(model, namespaces)
        from kubectl_meshdoctor.checks import ALL

        mine = run_analyzers(model, [i for i in ALL if i.name not in AWAY], forking=False)
        valid = all_valid_taken(raw.objects, board.take_high)  # from the last object down, the child from the first up
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
    if theirs is None or _files(opts) != before:
        return app.check(app.build_model(raw), namespaces)
    return app.check_result(model, namespaces, {**mine, **theirs})


def _read(opts: app.SourceOptions, namespaces: list[str] | None) -> RawSnapshot:
    return app.load_raw_scoped(opts, namespaces, flows=False, offline_flows=False)  # check reads no flows


def _child_answer(opts: app.SourceOptions, namespaces: list[str] | None, board: TwoEnds) -> bytes:
    """What the child computes: b"" when some object is invalid, else the causes of AWAY, pickled."""
    from kubectl_meshdoctor.checks import ALL

    raw = _read(opts, namespaces)
    model = app.build_model(raw, trusting=True)
    causes = run_analyzers(model, [i for i in ALL if i.name in AWAY], forking=False)
    if not all_valid_taken(raw.objects, board.take_low):
        return b""
    return _VALID + pickle.dumps(causes, protocol=pickle.HIGHEST_PROTOCOL)


def _decoded(answer: bytes | None) -> Mapping[str, list[Cause]] | None:
    if answer is None or not answer.startswith(_VALID):
        return None
    causes: dict[str, list[Cause]] = pickle.loads(answer[len(_VALID) :])
    return causes
