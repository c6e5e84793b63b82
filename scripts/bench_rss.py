"""Child of scripts/bench: run a command, then write its wall time, exit code and peak RSS as JSON.

The bench process holds the playground's million flows; a command forked straight from it
would report that memory as its own maximum RSS (the pages it had between fork and exec).
Forked from this small process instead, ``wait4`` gives the command's own peak.

Usage: python scripts/bench_rss.py OUT.json COMMAND [ARGS...]   (the command's stdout passes through)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def main(argv: list[str]) -> int:
    out, cmd = argv[0], argv[1:]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    with open(out, "w", encoding="utf-8") as fh:
        cpu = usage.ru_utime + usage.ru_stime
        json.dump({"seconds": wall, "rss_mb": usage.ru_maxrss / 1024, "code": code, "cpu_s": cpu}, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
