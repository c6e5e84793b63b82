"""scripts/bench-flows: the export generator and a small run's figures (timing not asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
sys.path.insert(0, str(SCRIPTS))

import bench_export  # noqa: E402


def test_export_has_the_size_and_the_pair(tmp_path: Path) -> None:
    objects, path, count, pair_count = bench_export.write_export(tmp_path, 4)
    lines = path.read_text().splitlines()
    assert len(lines) == count and 3_500_000 < path.stat().st_size < 4_500_000
    pair = [ln for ln in lines if '"pod_name":"client-' in ln and '"pod_name":"server-' in ln]
    assert len(pair) == pair_count == len(lines) // 20
    assert all(json.loads(ln)["flow"]["time"] == json.loads(ln)["time"] for ln in lines[:50])
    assert (objects / "pods.json").is_file() and not (objects / "flows.jsonl").exists()


def test_bench_flows_small_run_reports_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    proc = subprocess.run([sys.executable, str(SCRIPTS / "bench-flows"), "--mb", "3", "--runs", "1", "--out", str(out)],
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    figures = json.loads(out.read_text())
    for name in ("export_mb", "export_flows", "offline_flows_s", "offline_flows_peak_rss_mb", "offline_flows_mb_per_s",
                 "offline_flows_objects_s", "offline_explain_s", "offline_explain_peak_rss_mb"):  # fmt: skip
        assert name in figures and f"{name} " in proc.stdout, name
    assert ("hubble_ratio" in figures) or "no `hubble` CLI on PATH" in proc.stderr
