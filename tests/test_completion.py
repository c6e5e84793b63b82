"""Shell completion: the engine, the bash/zsh/fish scripts (run in a real shell where
installed) and the cobra protocol of ``kubectl_complete-meshdoctor``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kubectl_meshdoctor.cli.complete_plugin import answer
from kubectl_meshdoctor.cli.completers import complete
from kubectl_meshdoctor.cli.main import cli
from kubectl_meshdoctor.sources import names

BIN = Path(sys.executable).parent
DEMO = "sidecar-s2-l7-policy"
DEMO_DIR = Path(__file__).resolve().parent.parent / "kubectl_meshdoctor" / "demos" / DEMO


def values(words: list[str], incomplete: str) -> list[str]:
    return [c.value for c in complete(words, incomplete).candidates]


def test_subcommands_with_help() -> None:
    result = complete([], "")
    got = {c.value: c.help for c in result.candidates}
    assert {"explain", "demo", "version", "completion"} <= set(got)
    assert got["explain"] and "SOURCE" in got["explain"]
    assert values([], "ex") == ["explain"]
    assert values(["--debug"], "ver") == ["version"]


def test_option_names_per_command() -> None:
    assert set(values([], "--")) >= {"--debug", "--help", "--version"}
    opts = values(["explain"], "--")
    for flag in ("--kubeconfig", "--context", "--namespace", "--output", "--request-timeout", "--demo", "--from"):
        assert flag in opts
    assert "--version" not in opts  # a root option is not valid after the subcommand
    assert "-n" in values(["explain"], "-")
    assert values(["explain"], "--out") == ["--output"]


def test_option_values() -> None:
    assert values(["explain", "-o"], "") == ["text", "json", "yaml", "markdown"]
    assert values(["explain"], "--output=y") == ["--output=yaml"]
    assert values(["explain", "--protocol"], "u") == ["udp"]
    demos = complete(["explain", "--demo"], "sidecar-s")
    assert DEMO in [c.value for c in demos.candidates] and all(c.help for c in demos.candidates)
    assert values(["explain", "--demo", DEMO, "-n"], "b") == ["blue"]
    assert values(["completion"], "") == ["bash", "zsh", "fish"]
    for opt in ("--kubeconfig", "--from"):
        assert complete(["explain", opt], "").files  # the shell completes file names


def test_contexts_from_kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text("contexts:\n- name: prod\n  context: {namespace: x}\n")
    b.write_text("contexts:\n- name: dev\n  context: {}\n- name: prod\n  context: {}\n")
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(a), str(b)]))
    assert values(["explain", "--context"], "") == ["dev", "prod"]
    assert values(["explain", "--kubeconfig", str(b), "--context"], "d") == ["dev"]


@pytest.mark.parametrize("source", [["--demo", DEMO], ["--from", str(DEMO_DIR)]])
def test_references_from_the_snapshot(source: list[str]) -> None:
    words = ["explain", *source]
    spaces = complete(words, "")
    assert [c.value for c in spaces.candidates] == ["blue/", "green/", "istio-system/", "kube-system/", "red/"]
    assert all(c.nospace for c in spaces.candidates)
    assert values(words, "r") == ["red/"]
    assert values(words, "red/") == ["red/httpbin", "red/netshoot"]
    assert values(words, "red/n") == ["red/netshoot"]
    assert values(words, "blue/s") == ["blue/svc/"]
    assert values(words, "blue/svc/") == ["blue/svc/httpbin"]
    assert values(words, "blue/deploy/h") == ["blue/deploy/httpbin"]
    pods = values(words, "blue/pod/")
    assert [p.rsplit("-", 2)[0] for p in pods] == ["blue/pod/httpbin", "blue/pod/netshoot"]
    assert values([*words, "red/netshoot"], "blue/h") == ["blue/httpbin"]  # DESTINATION too
    assert values([*words, "red/netshoot", "blue/httpbin"], "") == []  # no third argument
    assert values([*words, "-n", "blue"], "h") == ["httpbin"]  # NAME alone means NAME in -n


def test_bad_snapshot_completes_nothing(tmp_path: Path) -> None:
    assert values(["explain", "--from", str(tmp_path / "nope")], "") == []


def test_names_from_kubectl_rows() -> None:
    found = names.from_rows(
        [
            ("Deployment", "a", "web", None),
            ("Pod", "a", "web-1", "ReplicaSet"),
            ("Pod", "a", "solo", None),
            ("Service", "b", "api", None),
            ("Namespace", "", "c", None),
        ]
    )
    assert found.namespaces == ("a", "b", "c")
    assert found.workloads == {"a": ("solo", "web")}
    assert found.pods == {"a": ("solo", "web-1")}
    assert found.services == {"b": ("api",)}


def test_live_names_come_from_kubectl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --from/--demo the names come from `kubectl get` (a stand-in kubectl here)."""
    fake = tmp_path / "kubectl"
    log = tmp_path / "calls"
    fake.write_text(f"""#!/bin/sh
echo "$@" >> {log}
case "$2" in
  namespaces) printf 'red\\nblue\\n' ;;
  *) printf 'Deployment red netshoot <none>\\nPod red netshoot-1 ReplicaSet\\nService red web <none>\\n' ;;
esac
""")
    fake.chmod(0o755)
    monkeypatch.setenv("KUBECTL", str(fake))
    assert values(["explain", "--context", "dev"], "") == ["blue/", "red/"]
    assert values(["explain"], "red/") == ["red/netshoot"]
    assert values(["explain"], "red/svc/") == ["red/svc/web"]
    calls = log.read_text().splitlines()
    assert all("--context=dev" in c for c in calls[:1])
    assert any("-n red" in c for c in calls)
    monkeypatch.setenv("KUBECTL", str(tmp_path / "missing"))
    assert values(["explain"], "") == []  # no kubectl, no cluster: nothing, and no error


def test_cobra_protocol() -> None:
    assert answer(["explain", "--demo", DEMO, "r"]) == "red/\n:6\n"  # NoSpace | NoFileComp
    assert answer(["explain", "--demo", DEMO, "red/n"]) == "red/netshoot\n:4\n"
    assert answer(["explain", "--kubeconfig", ""]) == ":0\n"  # file names
    out = answer([""]).splitlines()
    assert out[-1] == ":4" and any(line.startswith("explain\t") for line in out)
    assert answer([]).splitlines()[-1] == ":4"


def test_complete_plugin_executable() -> None:
    exe = BIN / "kubectl_complete-meshdoctor"
    assert exe.is_file(), "pip install -e . puts kubectl_complete-meshdoctor beside python"
    done = subprocess.run(
        [str(exe), "explain", "--demo", DEMO, "red/"], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout == "red/httpbin\nred/netshoot\n:4\n"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_command_prints_a_script(shell: str) -> None:
    result = CliRunner().invoke(cli, ["completion", shell])
    assert result.exit_code == 0
    assert "kubectl-meshdoctor" in result.output and "_KUBECTL_MESHDOCTOR_COMPLETE" in result.output
    exe = shutil.which(shell)
    if exe is None:
        pytest.skip(f"{shell} is not installed")
    check = {"bash": [exe, "-n"], "zsh": [exe, "-n"], "fish": [exe, "--no-execute"]}[shell]
    done = subprocess.run(check, input=result.output, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr


def env_path() -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def test_bash_completes_through_the_script() -> None:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    script = CliRunner().invoke(cli, ["completion", "bash"]).output
    probe = (
        script
        + f"""
COMP_WORDS=(kubectl-meshdoctor explain --demo {DEMO} red/)
COMP_CWORD=4
_kubectl_meshdoctor_completion kubectl-meshdoctor
printf '%s\\n' "${{COMPREPLY[@]}}"
COMP_WORDS=(kubectl-meshdoctor explain --demo {DEMO} re)
COMPREPLY=()
_kubectl_meshdoctor_completion kubectl-meshdoctor 2>/dev/null  # compopt only works under <TAB>
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    )
    done = subprocess.run(
        [bash, "--norc", "-c", probe], capture_output=True, text=True, env=env_path(), timeout=60, check=False
    )
    assert done.stdout.splitlines() == ["red/httpbin", "red/netshoot", "red/"], done.stderr


def test_fish_completes_through_the_script() -> None:
    fish = shutil.which("fish")
    if fish is None:
        pytest.skip("fish is not installed")
    script = CliRunner().invoke(cli, ["completion", "fish"]).output
    probe = script + f"\ncomplete --do-complete 'kubectl-meshdoctor explain --demo {DEMO} red/n'\n"
    done = subprocess.run(
        [fish, "--no-config", "-c", probe], capture_output=True, text=True, env=env_path(), timeout=60, check=False
    )
    assert done.stdout.split() == ["red/netshoot"], done.stderr
