"""Text that survives narrow terminals, YAML with block scalars, the matrix legend (issue 14)."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import yaml

BIN = Path(sys.executable).parent / "kubectl-meshdoctor"
S2 = ["explain", "red/netshoot", "blue/httpbin", "--demo", "sidecar-s2-l7-policy"]
_ANSI = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]")


def run_on_pty(args: list[str], columns: int) -> str:
    """Run with stdout on a pseudo-terminal of ``columns`` columns; return the text without colours."""
    main, child = pty.openpty()
    env = {**os.environ, "COLUMNS": str(columns), "LINES": "50", "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen([str(BIN), *args], stdout=child, stderr=subprocess.DEVNULL, env=env)
    os.close(child)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(main)
    return _ANSI.sub("", b"".join(chunks).decode()).replace("\r\n", "\n")


def fix_yaml() -> list[str]:
    done = subprocess.run([str(BIN), *S2, "--fix-yaml"], capture_output=True, text=True, timeout=60)
    return [line for line in done.stdout.splitlines() if line.strip()]


def check_narrow(out: str, width: int) -> None:
    lines = out.splitlines()
    for yaml_line in fix_yaml():  # every fix YAML line whole, at the fix indent: pasteable
        assert " " * 9 + yaml_line in lines, yaml_line
    assert " " * 9 + "kubectl -n blue apply -f - <<'EOF'" in lines
    cause = lines.index(next(line for line in lines if line.startswith("  cause  cilium-l7-vs-istio-mtls")))
    summary = lines[cause + 1 : cause + 4]
    assert all(line.startswith(" " * 9) and line[9] != " " for line in summary), summary  # hanging indent
    verbatim = {" " * 9 + y for y in fix_yaml()} | {" " * 9 + "kubectl -n blue apply -f - <<'EOF'"}
    for line in lines:  # prose fits; only verbatim lines and unbreakable words may overflow
        if len(line) > width and line not in verbatim:
            assert " " not in line.strip(), line
    assert not any(line.startswith(("amespace", "k8s:")) for line in lines)


def test_forty_columns_on_a_terminal_keeps_fix_yaml_pasteable() -> None:
    out = run_on_pty(S2, 40)
    assert "✗ BROKEN" in out
    check_narrow(out, 40)
    assert "\n  Cilium L7 proxy  BREAK\n" in out  # hops stacked: no 4-column "by" column


def test_sixty_columns_piped_wraps_with_hanging_indent() -> None:
    env = {**os.environ, "COLUMNS": "60"}
    done = subprocess.run([str(BIN), *S2], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 1
    check_narrow(done.stdout, 60)


def test_wide_terminal_keeps_the_hop_table() -> None:
    out = run_on_pty(S2, 140)
    assert re.search(r"^  hop +decision +by$", out, re.M)
    assert re.search(r"^  Cilium L7 proxy +BREAK +CiliumNetworkPolicy blue/default", out, re.M)


def test_yaml_uses_block_scalars_for_multiline_strings() -> None:
    done = subprocess.run([str(BIN), *S2, "-o", "yaml"], capture_output=True, text=True, timeout=60)
    as_json = subprocess.run([str(BIN), *S2, "-o", "json"], capture_output=True, text=True, timeout=60)
    assert yaml.safe_load(done.stdout) == json.loads(as_json.stdout)  # the same document
    assert re.search(r"^  fix: \|-?$", done.stdout, re.M) and re.search(r"^  fixYaml: \|-?$", done.stdout, re.M)
    assert "\\n" not in done.stdout  # no escaped one-line strings


def test_matrix_has_a_legend_for_what_it_shows() -> None:
    args = ["matrix", "-n", "red,blue,green", "--demo", "sidecar-s2-l7-policy", "--path", "/ip"]
    done = subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=60)
    table, _, legend = done.stdout.partition("\n\n")
    assert "(proxied)" in table and "(fwd)" in table
    assert re.search(r"^  \(proxied\) +Hubble saw them redirected to Cilium's L7 proxy", legend, re.M)
    assert re.search(r"^  \(fwd\) +Hubble saw the packets FORWARDED", legend, re.M)
    assert re.search(r"^  503 +HTTP 503$", legend, re.M) and "(audit)" not in legend


def test_gateway_source_is_called_an_ingress_gateway() -> None:
    args = ["explain", "istio-system/istio-ingressgateway", "blue/httpbin", "--host", "www.example.com"]
    done = subprocess.run([str(BIN), *args, "--demo", "gateway-host-not-bound"], capture_output=True, text=True)
    assert "istio-system/istio-ingressgateway ingress gateway (Envoy)" in done.stdout
    assert "istio-ingressgateway sidecar" not in done.stdout and "client sidecar" not in done.stdout
    assert re.search(r"^  gateway routing +BREAK", done.stdout, re.M)


def test_narrow_matrix_never_truncates_cells() -> None:
    args = ["matrix", "-n", "red,blue,green", "--demo", "sidecar-s2-l7-policy", "--path", "/ip"]
    out = run_on_pty(args, 36)
    table = out.split("\n\n")[0].splitlines()
    assert "…" not in out and table[0].split() == ["client", "\\", "server", "blue/httpbin", "red/httpbin"]
    assert table[2].split() == ["blue/netshoot", "503", "(proxied)", "200", "(fwd)"]
    assert re.search(r"^ {12}\S", out, re.M)  # legend entries wrap under their text
