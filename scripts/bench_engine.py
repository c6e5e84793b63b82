"""Child of scripts/bench: load a snapshot directory into the model, then explain the pair.

Prints one JSON object: ``load_s`` (read + build_model), ``engine_ms`` (the first explain on the
fresh model: what a user waits for), ``engine_warm_ms`` (median of the next runs), ``verdict``.

Usage: python scripts/bench_engine.py DIR [RUNS]
"""

from __future__ import annotations

import json
import statistics
import sys
import time

from kubectl_meshdoctor import app
from kubectl_meshdoctor.diagnosis.call import Query

QUERY = Query("ns-0000/client", "ns-0001/server", path="/api/x")


def main(argv: list[str]) -> int:
    root, runs = argv[0], int(argv[1]) if len(argv) > 1 else 5
    start = time.perf_counter()
    model = app.build_model(app.load_raw(app.SourceOptions(from_path=root)))
    load_s = time.perf_counter() - start
    times = []
    verdict = ""
    for _ in range(runs):
        t0 = time.perf_counter()
        diagnosis = app.explain(model, QUERY)
        times.append((time.perf_counter() - t0) * 1000)
        verdict = str(diagnosis.verdict)
    out = {"load_s": load_s, "engine_ms": times[0], "engine_warm_ms": statistics.median(times[1:] or times)}
    print(json.dumps({**out, "verdict": verdict, "pods": len(model.pods)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
