"""kubectl conventions: kubeconfig (several KUBECONFIG paths, context, its namespace as the
default), the connection flags on every command, --debug, NO_COLOR / non-TTY plain output,
and help texts whose examples really run."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from kubectl_meshdoctor import app
from kubectl_meshdoctor.cli.main import cli
from kubectl_meshdoctor.cli.options import all_namespaces_option
from kubectl_meshdoctor.errors import InputError, UsageError
from kubectl_meshdoctor.sources import kubeconfig

DEMO = "sidecar-s2-l7-policy"
EXE = Path(sys.executable).parent / "kubectl-meshdoctor"
ANSI = re.compile(r"\x1b\[")


def write_config(path: Path, current: str | None, contexts: dict[str, str | None]) -> Path:
    lines = ["apiVersion: v1", "kind: Config"]
    if current is not None:
        lines.append(f"current-context: {current}")
    lines.append("contexts:")
    for name, ns in contexts.items():
        lines += [f"- name: {name}", "  context:", "    cluster: c", "    user: u"]
        if ns:
            lines.append(f"    namespace: {ns}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def configs(tmp_path: Path) -> tuple[Path, Path]:
    a = write_config(tmp_path / "a.yaml", "alpha", {"alpha": "red", "shared": "from-a"})
    b = write_config(tmp_path / "b.yaml", "beta", {"beta": "blue", "shared": "from-b", "nons": None})
    return a, b


def env_with(**values: str) -> dict[str, str]:
    return {"HOME": "/nonexistent-home", **values}


# --- the kubeconfig reader ---------------------------------------------------------------


def test_kubeconfig_list_first_file_wins(configs: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = configs
    missing = tmp_path / "missing.yaml"
    env = env_with(KUBECONFIG=os.pathsep.join([str(missing), "", str(a), str(b)]))
    merged = kubeconfig.load(None, env)
    assert merged.paths == (a, b)  # missing files and empty entries are skipped, as kubectl does
    assert merged.current_context == "alpha"
    assert merged.namespace() == "red"
    assert merged.namespace("shared") == "from-a"
    assert merged.namespace("beta") == "blue"  # contexts from the second file are there too
    assert merged.namespace("nons") is None
    assert kubeconfig.context_names(None, env) == ["alpha", "beta", "nons", "shared"]


def test_kubeconfig_current_context_from_a_later_file(tmp_path: Path, configs: tuple[Path, Path]) -> None:
    _, b = configs
    first = write_config(tmp_path / "first.yaml", None, {"x": "xx"})
    env = env_with(KUBECONFIG=os.pathsep.join([str(first), str(b)]))
    assert kubeconfig.context_namespace(None, None, env) == "blue"


def test_explicit_kubeconfig_wins_over_env(configs: tuple[Path, Path]) -> None:
    a, b = configs
    env = env_with(KUBECONFIG=str(a))
    assert kubeconfig.context_namespace(str(b), None, env) == "blue"
    assert kubeconfig.context_namespace(str(b), "shared", env) == "from-b"


def test_default_file_under_home(tmp_path: Path) -> None:
    (tmp_path / ".kube").mkdir()
    write_config(tmp_path / ".kube" / "config", "home", {"home": "green"})
    assert kubeconfig.context_namespace(None, None, {"HOME": str(tmp_path)}) == "green"


def test_errors_are_usage_errors(configs: tuple[Path, Path], tmp_path: Path) -> None:
    a, _ = configs
    with pytest.raises(UsageError, match="no such file"):
        kubeconfig.context_namespace(str(tmp_path / "nope"), None, env_with())
    with pytest.raises(UsageError, match="context 'nope' not found"):
        kubeconfig.context_namespace(str(a), "nope", env_with())
    bad = tmp_path / "bad.yaml"
    bad.write_text("contexts: [\n")
    with pytest.raises(InputError, match=r"bad\.yaml"):
        kubeconfig.context_namespace(str(bad), None, env_with())


def test_no_kubeconfig_uses_in_cluster_namespace(tmp_path: Path) -> None:
    sa = tmp_path / "namespace"
    assert kubeconfig.context_namespace(None, None, env_with(), sa) is None
    sa.write_text("team-a\n")
    assert kubeconfig.context_namespace(None, None, env_with(), sa) == "team-a"


def test_dangling_current_context_means_no_namespace(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "c.yaml", "gone", {"other": "x"})
    assert kubeconfig.context_namespace(str(cfg), None, env_with()) is None


def test_default_namespace(configs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = configs
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(a), str(b)]))
    assert app.default_namespace(app.SourceOptions(), "explicit") == "explicit"
    assert app.default_namespace(app.SourceOptions(), None) == "red"
    assert app.default_namespace(app.SourceOptions(context="beta"), None) == "blue"
    assert app.default_namespace(app.SourceOptions(kubeconfig=str(b), context="nons"), None) == "default"


# --- flags through the CLI ---------------------------------------------------------------


def explain_json(args: list[str], env: dict[str, str] | None = None) -> tuple[int, dict[str, object]]:
    result = CliRunner().invoke(cli, ["explain", *args, "--demo", DEMO, "-o", "json"], env=env)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def test_bare_name_uses_the_kubeconfig_namespace(configs: tuple[Path, Path]) -> None:
    a, b = configs
    kube = os.pathsep.join([str(a), str(b)])
    code, doc = explain_json(["netshoot", "blue/httpbin"], {"KUBECONFIG": kube})  # alpha -> red
    ref_code, ref = explain_json(["red/netshoot", "blue/httpbin"])
    assert (code, doc["source"], doc["verdict"]) == (ref_code, ref["source"], ref["verdict"])
    _, doc = explain_json(["netshoot", "httpbin", "--context", "beta"], {"KUBECONFIG": kube})
    assert doc["source"]["namespace"] == doc["destination"]["namespace"] == "blue"  # type: ignore[index]
    _, doc = explain_json(["-n", "red", "netshoot", "blue/httpbin", "--kubeconfig", str(b)])
    assert doc["source"]["namespace"] == "red"  # type: ignore[index]


def test_connection_flags_and_outputs_are_accepted() -> None:
    runner = CliRunner()
    for output in ("text", "json", "yaml"):
        result = runner.invoke(
            cli,
            [
                "explain",
                "red/netshoot",
                "blue/httpbin",
                "--demo",
                DEMO,
                "--request-timeout",
                "5s",
                "--namespace",
                "red",
                "-o",
                output,
            ],
        )
        assert result.exit_code == 1, result.output
    result = runner.invoke(cli, ["explain", "--help"])
    for flag in ("--kubeconfig", "--context", "-n, --namespace", "-o, --output", "--request-timeout", "--debug"):
        assert flag in result.output


def test_unknown_context_is_a_usage_error(configs: tuple[Path, Path]) -> None:
    a, _ = configs
    result = CliRunner().invoke(
        cli, ["explain", "netshoot", "blue/httpbin", "--demo", DEMO, "--kubeconfig", str(a), "--context", "nope"]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("error: context 'nope' not found")


def test_all_namespaces_flag() -> None:
    @click.command()
    @all_namespaces_option
    def probe(all_namespaces: bool) -> None:
        click.echo(f"all={all_namespaces}")

    assert CliRunner().invoke(probe, ["-A"]).output == "all=True\n"
    assert CliRunner().invoke(probe, []).output == "all=False\n"


# --- errors, --debug, colour ---------------------------------------------------------------


def run_exe(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **env}
    full.pop("MESHDOCTOR_DEBUG", None)
    return subprocess.run([str(EXE), *args], capture_output=True, text=True, env=full, timeout=60, check=False)


@pytest.mark.parametrize("debug_args", [["--debug", "explain"], ["explain", "--debug"]])
def test_debug_shows_the_traceback(debug_args: list[str]) -> None:
    plain = run_exe(["explain", "red/netshoot", "blue/httpbin", "--demo", "no-such-demo"])
    assert plain.returncode == 2
    assert plain.stderr.startswith("error: unknown demo") and "Traceback" not in plain.stderr
    assert len(plain.stderr.strip().splitlines()) == 1
    debug = run_exe([*debug_args, "red/netshoot", "blue/httpbin", "--demo", "no-such-demo"])
    assert "Traceback" in debug.stderr and "UsageError" in debug.stderr


def run_in_pty(args: list[str], **env: str) -> str:
    """Run the installed program on a pseudo-terminal; return what it printed."""
    pty = pytest.importorskip("pty")
    import select

    master, slave = pty.openpty()
    full = {key: value for key, value in os.environ.items() if key != "NO_COLOR"}
    full.update({"TERM": "xterm-256color", "COLUMNS": "160", **env})
    proc = subprocess.Popen([str(EXE), *args], stdin=slave, stdout=slave, stderr=slave, env=full)
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([master], [], [], 30)
        if not ready:
            break
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=30)
    os.close(master)
    return b"".join(chunks).decode("utf-8", "replace")


def test_plain_output_when_not_a_tty_or_no_color() -> None:
    args = ["explain", "red/netshoot", "blue/httpbin", "--demo", DEMO]
    piped = run_exe(args)
    assert "BROKEN" in piped.stdout and not ANSI.search(piped.stdout)
    coloured = run_in_pty(args)
    assert "BROKEN" in coloured and ANSI.search(coloured), "a terminal gets colours"
    plain = run_in_pty(args, NO_COLOR="1")
    assert "BROKEN" in plain and not ANSI.search(plain)


# --- help texts --------------------------------------------------------------------------


def help_examples(text: str) -> list[list[str]]:
    return [
        line.split()[2:]
        for line in text.splitlines()
        if line.strip().startswith("kubectl meshdoctor ") and "--demo" in line
    ]


def test_help_shows_real_examples_that_run() -> None:
    runner = CliRunner()
    root = runner.invoke(cli, ["--help"]).output
    explain = runner.invoke(cli, ["explain", "--help"]).output
    assert f"kubectl meshdoctor explain red/netshoot blue/httpbin --path /ip --demo {DEMO}" in root
    for flag in ("--debug", "--version"):
        assert flag in root
    examples = help_examples(root) + help_examples(explain)
    assert len(examples) >= 3
    for args in examples:
        result = runner.invoke(cli, [a.strip("'\"") for a in args])
        assert result.exit_code in (0, 1), (args, result.output)
        assert result.stdout.strip()
