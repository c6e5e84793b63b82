"""Work done in a forked child (forked.py). Validation while the model is built (app_validate.py): the model, its gaps
and what `check` says are those of the ordinary build, for valid input (the optimistic build is
kept) and for input with an object the API server would reject (the child says so and the ordinary
build names it). The pair witness search of `check` in a child (app_analyzers.py): the same causes.
Each comparison runs in a fresh interpreter: the fork is only taken in a process without other
threads or grpc, which a whole test session is not."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DEMOS = Path(__file__).resolve().parents[1] / "kubectl_meshdoctor" / "demos"
BAD_PA = """apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: typo, namespace: blue}
spec: {mtls: {mode: STRIKT}}
"""
PROBE = """
import json, sys
from kubectl_meshdoctor import app
from kubectl_meshdoctor.app_validate import all_valid, build_validated, worth_forking
from kubectl_meshdoctor.model.build import build_model
from kubectl_meshdoctor.render.check import check_document
from kubectl_meshdoctor.sources.snapshot import read_snapshot

def seen(model):
    doc = check_document(app.check(model, None))
    return [doc, [str(g) for g in model.gaps], model.warnings, [str(c) for c in model.invalid], sorted(model.pods)]

raw = read_snapshot(sys.argv[1])
forked = worth_forking(len(raw.objects), 0, when_busy=True)
parallel = build_validated(raw, min_objects=0, when_busy=True)
print(json.dumps({"forked": forked, "valid": all_valid(raw.objects), "same": seen(parallel) == seen(build_model(raw)),
                  "invalid": [c.objects[0].name for c in parallel.invalid],
                  "pas": sorted(p.ref.name for p in parallel.istio.peer_authns)}))
"""


def _probe(root: Path) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", PROBE, str(root)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report: dict[str, object] = json.loads(done.stdout)
    return report


def test_valid_input_keeps_the_optimistic_build() -> None:
    report = _probe(DEMOS / "ambient-w1-waypoint")
    assert report["forked"] and report["valid"] and report["same"]


def test_an_invalid_object_is_reported_and_left_out_as_before(tmp_path: Path) -> None:
    root = tmp_path / "snap"
    shutil.copytree(DEMOS / "sidecar-s0-baseline", root)
    (root / "zz-typo.yaml").write_text(BAD_PA)
    report = _probe(root)
    assert report["forked"] and not report["valid"] and report["same"]
    assert report["invalid"] == ["typo"] and "typo" not in report["pas"]  # type: ignore[operator]


ANALYZERS = """
import json, sys
from kubectl_meshdoctor import app, forked
from kubectl_meshdoctor.app_analyzers import AWAY, run_analyzers
from kubectl_meshdoctor.checks import ALL
from kubectl_meshdoctor.sources.snapshot import read_snapshot

model = app.build_model(read_snapshot(sys.argv[1]))
here = {item.name: list(item.run(model)) for item in ALL}
away = run_analyzers(model, ALL, min_pods=0, when_busy=True)
print(json.dumps({"forked": forked.possible(when_busy=True), "same": away == here,
                  "found": sorted(c.code for name in AWAY for c in away[name])}))
"""


def test_the_pair_search_in_a_child_finds_what_it_finds_here() -> None:
    """sidecar-s2: Cilium's L7 proxy on a port Istio's mTLS crosses, found by the witness search."""
    done = subprocess.run(
        [sys.executable, "-c", ANALYZERS, str(DEMOS / "sidecar-s2-l7-policy")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["forked"] and report["same"]
    assert "cilium-l7-vs-istio-mtls" in report["found"]


SPLIT = """
import json, sys
from kubectl_meshdoctor import app, app_check_split
from kubectl_meshdoctor.render.check import check_document

opts = app.SourceOptions(from_path=sys.argv[1])
raw = app.load_raw_scoped(opts, None, flows=False, offline_flows=False)
ordinary = app.check(app.build_model(raw), None)
split = check_document(app_check_split.check(opts, None))
print(json.dumps({"taken": app_check_split.worth_splitting(opts, 0, when_busy=True),
                  "same": split == check_document(ordinary),
                  "codes": sorted({f.cause.code for f in ordinary.findings})}))
"""


def _split(root: Path) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", SPLIT, str(root)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report: dict[str, object] = json.loads(done.stdout)
    return report


def test_check_split_across_two_processes_says_what_one_process_says() -> None:
    """app_check_split.py: both processes read the snapshot, the child validates and runs the pair search."""
    report = _split(DEMOS / "sidecar-s2-l7-policy")
    assert report["taken"] and report["same"]
    assert "cilium-l7-vs-istio-mtls" in report["codes"]  # type: ignore[operator]


@pytest.mark.parametrize("name", ["aa-typo.yaml", "zz-typo.yaml"])  # read first (the child validates it), last (here)
def test_check_split_with_an_invalid_object_reports_it_as_one_process_does(tmp_path: Path, name: str) -> None:
    root = tmp_path / "snap"
    shutil.copytree(DEMOS / "sidecar-s0-baseline", root)
    (root / name).write_text(BAD_PA)
    report = _split(root)
    assert report["same"] and "invalid-object" in report["codes"]  # type: ignore[operator]


UNKNOWN = """
import os, sys
from kubectl_meshdoctor import app, app_check_split
from kubectl_meshdoctor.errors import UsageError

try:
    app_check_split.check(app.SourceOptions(from_path=sys.argv[1]), ["nosuch"])
except UsageError as err:
    print(err)
try:
    os.waitpid(-1, os.WNOHANG)
    print("a child is left")
except ChildProcessError:
    print("no child left")
"""


def test_check_split_with_an_unknown_namespace_is_the_usual_usage_error_and_leaves_no_child() -> None:
    done = subprocess.run(
        [sys.executable, "-c", UNKNOWN, str(DEMOS / "sidecar-s0-baseline")], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["namespace(s) not found: nosuch", "no child left"]


def test_stdin_and_small_snapshots_are_checked_in_one_process(tmp_path: Path) -> None:
    from kubectl_meshdoctor import app
    from kubectl_meshdoctor.app_check_split import worth_splitting

    assert not worth_splitting(app.SourceOptions(from_path="-"), 0, when_busy=True)
    assert not worth_splitting(app.SourceOptions(from_path=str(DEMOS / "sidecar-s0-baseline")), when_busy=True)
    assert not worth_splitting(app.SourceOptions(demo_name="sidecar-s0-baseline"), 0, when_busy=True)


STREAMS = """
import os, sys, time
from kubectl_meshdoctor import forked

child = forked.start(lambda: " ".join(os.readlink(f"/proc/self/fd/{fd}") for fd in (0, 1, 2)).encode())
print(forked.result(child).decode(), flush=True)
for _ in range(200):  # the child is collected by a later call once it has ended
    forked._reap()
    if not forked._exiting:
        break
    time.sleep(0.01)
print("collected" if not forked._exiting else "still there")
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork and /proc: Linux")
def test_a_child_holds_no_copy_of_the_callers_output_and_is_collected_after_its_answer() -> None:
    """A reader of `check`'s output (`| jq`, a benchmark) waits for every copy of the pipe to close: the
    child's would stay open until its exit had handed back all its memory."""
    done = subprocess.run([sys.executable, "-c", STREAMS], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [" ".join([os.devnull] * 3), "collected"]


@pytest.mark.parametrize(
    ("cpus", "load", "running", "free"),
    [
        (2, 0.4, 3, True),  # an idle minute: a task that just woke does not count
        (2, 1.9, 1, True),  # a loop of runs: the minute's average still holds the run before, nothing else runs
        (2, 1.9, 2, False),  # another task is running now, and has been
        (4, 2.5, 2, True),
        (1, 0.0, 1, False),  # one processor: never
    ],
)
def test_a_second_processor_is_free_when_the_minute_was_quiet_or_nothing_else_runs_now(
    cpus: int, load: float, running: int, free: bool
) -> None:
    from kubectl_meshdoctor.forked import second_cpu_free

    assert second_cpu_free(cpus, load, running) is free


TWO_ENDS = """
import json, sys, time
from kubectl_meshdoctor import forked
from kubectl_meshdoctor.two_ends import TwoEnds

count, late = int(sys.argv[1]), float(sys.argv[2])
board = TwoEnds(7)

def below():
    taken = []
    while (part := board.take_low(count)) is not None:
        taken.extend(part)
        sum(range(2000))  # some work per chunk
    return json.dumps(taken).encode()

child = forked.start(below)
time.sleep(late)
mine = []
while (part := board.take_high(count)) is not None:
    mine.extend(part)
    sum(range(2000))
theirs = json.loads(forked.result(child))
print(json.dumps({"all": sorted(set(mine) | set(theirs)) == list(range(count)),
                  "twice": len(mine) + len(theirs) - len(set(mine) | set(theirs)), "mine": len(mine),
                  "theirs": len(theirs), "first_here": mine[:7], "first_there": theirs[:7]}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork: Linux")
@pytest.mark.parametrize("late", [0.0, 0.3])
def test_two_processes_taking_chunks_from_both_ends_leave_no_object_out(late: float) -> None:
    """`check` at scale: the child validates from the first object up, this process from the last down,
    until they meet; each object is validated (at most a chunk twice, where they meet)."""
    done = subprocess.run(
        [sys.executable, "-c", TWO_ENDS, "20000", str(late)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["all"] and report["twice"] <= 7
    assert report["first_here"] == list(range(19993, 20000)) or report["mine"] == 0
    assert report["first_there"] == list(range(7))
    if late:  # the process that starts late finds most of the work done by the other
        assert report["theirs"] > report["mine"]


def test_the_split_check_takes_every_analyzer_once_the_costliest_first_at_either_end() -> None:
    from kubectl_meshdoctor.app_check_split import COST, in_turn
    from kubectl_meshdoctor.checks import ALL

    order = [item.name for item in in_turn()]
    assert sorted(order) == sorted(item.name for item in ALL)
    costliest = sorted(COST, key=lambda name: -COST[name])[:2]
    assert {order[0], order[-1]} == set(costliest)
    assert set(COST) <= set(order)  # a renamed analyzer would silently lose its place


CHANGED = """
import json, os, sys, time
from pathlib import Path
from kubectl_meshdoctor import app, app_check_split
from kubectl_meshdoctor.render.check import check_document

root = Path(sys.argv[1])
policies, changed = root / "policies.yaml", root.parent / "changed"
here, read = os.getpid(), app_check_split._read

def read_while_a_writer_changes_the_file(opts, namespaces):
    # a writer (kubectl get > file, a GitOps sync) empties policies.yaml after the child read it; this
    # process reads only then (fault injection: the two processes must read different snapshots)
    if os.getpid() == here:
        for _ in range(2000):
            if changed.exists():
                break
            time.sleep(0.01)
        return read(opts, namespaces)
    raw = read(opts, namespaces)
    policies.write_text("")
    changed.touch()
    return raw

app_check_split._read = read_while_a_writer_changes_the_file
opts = app.SourceOptions(from_path=str(root))
split = check_document(app_check_split.check(opts, None))
after = app.check(app.build_model(app.load_raw_scoped(opts, None, flows=False, offline_flows=False)), None)
print(json.dumps({"changed": changed.exists(), "same": split == check_document(after),
                  "codes": sorted({f["code"] for f in split["findings"]})}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork: Linux")
def test_a_file_changed_between_the_two_reads_gives_the_answer_of_what_this_process_read(tmp_path: Path) -> None:
    """sidecar-s2 with its policies emptied after the child read them: the child's findings (the L7
    policy Istio's mTLS crosses) belong to a snapshot this process never saw, so they are dropped and
    the answer is the ordinary one of the snapshot as it now is."""
    root = tmp_path / "snap"
    shutil.copytree(DEMOS / "sidecar-s2-l7-policy", root)
    done = subprocess.run([sys.executable, "-c", CHANGED, str(root)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["changed"] and report["same"]
    assert "cilium-l7-vs-istio-mtls" not in report["codes"]
