"""Every command in the README's ```bash blocks runs as written (issue 14).

Offline commands run against the bundled demos; live ones (``kubectl meshdoctor`` without
``--demo``/``--from``) against the playground servers of tests/conftest.py. A non-zero exit must
be announced by the README: a trailing comment ``# ... exit N`` on the line, or "exits N" in the
paragraph just before the block. Commands that cannot run here are listed in SKIPS with the
reason, and every entry of SKIPS must still name a README command.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BIN = Path(sys.executable).parent

# command prefix -> why it is not run here
SKIPS = {
    "bash .ci/run": "it is this test suite",
    "pipx install .": "installs into the user's pipx home",
    "scripts/playground ": "serves until Ctrl-C; the test runs the same servers in-process (conftest)",
}
DEMOS = ROOT / "kubectl_meshdoctor" / "demos"
# paths the README's examples read, standing for the user's own files: made from a bundled demo
INPUTS = ("manifests/", "objects/", "hubble-export/", "events.log.gz")
FOLLOWS = ("--follow", "--watch")  # run for a few seconds; still running = working
_EXIT = re.compile(r"\bexit (\d)\b")
_EXITS = re.compile(r"\bexits (\d)\b")


@dataclass(slots=True)
class Command:
    line: int
    text: str
    allowed: set[int] = field(default_factory=lambda: {0})


def readme_commands(text: str) -> list[Command]:
    """Commands of the ```bash blocks: continuation lines joined, comments dropped."""
    out: list[Command] = []
    lines = text.splitlines()
    i = 0
    prose: list[str] = []  # the last paragraph before the block
    ended = False
    while i < len(lines):
        if lines[i].strip() != "```bash":
            if not lines[i].strip():
                ended = True
            elif ended:
                prose, ended = [lines[i]], False
            else:
                prose.append(lines[i])
            i += 1
            continue
        block_exits = {int(m) for m in _EXITS.findall(" ".join(prose))}
        i += 1
        pending, first = "", i
        while lines[i].strip() != "```":
            raw = lines[i]
            if not pending:
                first = i
            i += 1
            if raw.rstrip().endswith("\\"):
                pending += raw.rstrip()[:-1] + " "
                continue
            full, pending = pending + raw, ""
            command, _, comment = full.partition("  #")
            if command.strip().startswith("#") or not command.strip():
                continue
            allowed = {0} | block_exits | {int(m) for m in _EXIT.findall(comment)}
            out.append(Command(first + 1, command.strip(), allowed))
        i += 1
        prose, ended = [], False
    return out


def test_readme_parser_reads_exits_and_continuations() -> None:
    sample = "Try it; it exits 3 here:\n\n```bash\nfoo a \\\n    b  # note, exit 1\n# comment\nbar\n```\n"
    cmds = readme_commands(sample)
    assert [(c.text, c.allowed) for c in cmds] == [("foo a      b", {0, 1, 3}), ("bar", {0, 3})]


def _skip_reason(text: str) -> str | None:
    for prefix, reason in SKIPS.items():
        if text.startswith(prefix):
            return reason
    if text.startswith("source <(kubectl completion") and not _kubectl_has_plugins():
        return "kubectl with plugin completion is not installed"
    if text.startswith("kubectl plugin list") and not _kubectl_has_plugins():
        return "kubectl with plugin support is not installed"
    if text.startswith("hubble ") and shutil.which("hubble") is None:
        return "the hubble CLI is not installed"
    return None


def _kubectl_has_plugins() -> bool:
    if shutil.which("kubectl") is None:
        return False
    done = subprocess.run(["kubectl", "plugin", "list", "--help"], capture_output=True, timeout=30)
    return done.returncode == 0


def make_inputs(cwd: Path, demo: str = "sidecar-s0-baseline") -> None:
    """The user's files the examples name: manifests/ and objects/ (kubectl get -o yaml output),
    a Hubble exporter directory and a gzip-compressed exporter file."""
    import gzip

    source = DEMOS / demo
    for folder in ("manifests", "objects"):
        (cwd / folder).mkdir()
        for doc in source.glob("*.yaml"):
            shutil.copy(doc, cwd / folder / doc.name)
    flows = (source / "flows.jsonl").read_bytes()
    (cwd / "hubble-export").mkdir()
    (cwd / "hubble-export" / "events.log").write_bytes(flows)
    (cwd / "events.log.gz").write_bytes(gzip.compress(flows))


def _as_run(text: str, kubeconfig: Path, relay: str) -> str:
    """The README's words for things the test provides: the installed package, the playground."""
    text = text.removeprefix("python3 -m pip install . && ")  # installed in this venv already
    text = re.sub(r"\bkubectl meshdoctor\b", "kubectl-meshdoctor", text)
    text = text.replace("/tmp/pg.kubeconfig", str(kubeconfig))
    return text.replace("127.0.0.1:PORT", relay)


def test_every_readme_command_runs(playground, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    served = playground("sidecar-s2-l7-policy", relay_service=True)
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "KUBECONFIG": str(served.kubeconfig),
        "HUBBLE_SERVER": "",
        "NO_COLOR": "1",
    }
    make_inputs(tmp_path)
    commands = readme_commands(README.read_text("utf-8"))
    assert len(commands) >= 15, [c.text for c in commands]
    ran, skipped, failures = [], [], []
    for cmd in commands:
        reason = _skip_reason(cmd.text)
        if reason:
            skipped.append(cmd.text)
            continue
        text = _as_run(cmd.text, served.kubeconfig, served.relay.address)
        follows = any(flag in text.split() for flag in FOLLOWS)
        try:
            done = subprocess.run(
                ["bash", "-c", text],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=5 if follows else 90,
            )
        except subprocess.TimeoutExpired:
            if not follows:
                failures.append(f"README:{cmd.line}: {cmd.text}: timed out")
            ran.append(cmd.text)
            continue
        ran.append(cmd.text)
        if done.returncode not in cmd.allowed or "Traceback" in done.stderr:
            failures.append(
                f"README:{cmd.line}: {cmd.text}: exit {done.returncode} (announced {sorted(cmd.allowed)}): "
                f"{done.stderr.strip()[-300:]}"
            )
    assert not failures, "\n".join(failures)
    assert any("--demo" in c for c in ran) and any(c.startswith("kubectl meshdoctor explain") for c in ran)
    for prefix in SKIPS:  # no stale skip entries
        assert any(c.text.startswith(prefix) for c in commands), prefix
    for path in INPUTS:  # no stale inputs
        assert any(path in c.text for c in commands), path
    assert (tmp_path / "snap.tar.gz").is_file() and (tmp_path / "fix.yaml").read_text().startswith("apiVersion")


@pytest.mark.parametrize("flag", ["-n", "-A"])
def test_readme_option_claims_match_help(flag: str) -> None:
    """The README says matrix and check take -n and -A, and which -o values each command takes."""
    from click.testing import CliRunner

    from kubectl_meshdoctor.cli.main import cli

    for command in ("matrix", "check"):
        result = CliRunner().invoke(cli, [command, "--help"])
        assert flag in result.stdout
    text = README.read_text("utf-8")
    for command, values in {"explain": "text|json|yaml", "flows": "compact|json|jsonpb"}.items():
        result = CliRunner().invoke(cli, [command, "--help"])
        assert all(v in result.stdout for v in values.split("|")) and values in text


def test_readme_names_every_test_that_needs_the_shared_data() -> None:
    """The README says which tests skip without ../shared: the list must match the tests."""
    text = README.read_text("utf-8")
    start = text.index("The tests expect the shared data beside the checkout")
    paragraph = text[start : text.index("\n\n", start)]
    named = set(re.findall(r"`(test_\w+\.py)`", paragraph))
    uses = {
        p.name
        for p in (ROOT / "tests").glob("test_*.py")
        if p.resolve() != Path(__file__).resolve()
        and re.search(r'/ "shared"|from tests\.(test_)?\w+ import [^)]*SAMPLE', p.read_text("utf-8"))
    }
    assert named == uses


def test_readme_quotes_no_undated_startup_figure() -> None:
    """Start-up depends on the machine: the README gives targets, not figures of an undated run."""
    text = README.read_text("utf-8")
    assert not re.search(r"`(help_s|explain_demo_s|python_pass_s)` \d", text)
