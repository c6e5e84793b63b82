"""Issue 14: the one-line errors a new user meets, worded so they say what to do."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli

S2 = ["--demo", "sidecar-s2-l7-policy"]


def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_source_ip_names_what_source_is() -> None:
    code, _, err = _run("explain", "10.0.0.5", "blue/httpbin", *S2)
    assert code == 2 and "SOURCE '10.0.0.5'" in err and "no pod" in err and "namespace 'default'" not in err


def test_source_ip_of_a_pod_is_that_pod() -> None:
    from kubectl_meshdoctor.sources.demo import read_demo

    raw = read_demo("sidecar-s2-l7-policy")
    ip = next(
        o.doc["status"]["podIP"]
        for o in raw.objects
        if o.doc.get("kind") == "Pod"
        and o.doc["metadata"]["namespace"] == "red"
        and o.doc["metadata"]["name"].startswith("netshoot-")
    )
    code, out, _ = _run("explain", ip, "blue/httpbin", "--path", "/ip", *S2, "-o", "json")
    assert code == 1 and '"namespace": "red"' in out


def test_missing_kubeconfig_says_it_like_kubectl(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "KUBECONFIG": ""}
    code, _, err = _run("explain", "red/netshoot", "blue/httpbin", env=env)
    assert code == 3 and err.count("\n") == 1
    assert "missing or incomplete configuration info" in err and "--kubeconfig" in err and "--demo" in err


def test_what_if_empty_file_says_it_is_empty() -> None:
    code, _, err = _run("explain", "red/netshoot", "blue/httpbin", *S2, "--what-if", "/dev/null")
    assert code == 2 and "no Kubernetes objects in the file" in err


def test_what_if_answer_does_not_claim_no_flows_was_asked(tmp_path: Path) -> None:
    fix = tmp_path / "fix.yaml"
    _, out, _ = _run("explain", "red/netshoot", "blue/httpbin", "--path", "/ip", *S2, "--fix-yaml")
    fix.write_text(out)
    code, out, _ = _run("explain", "red/netshoot", "blue/httpbin", "--path", "/ip", *S2, "--what-if", str(fix))
    assert code == 0 and "✓ ALLOWED" in out
    assert "--no-flows" not in out and "flows predate the what-if change" in out


def test_scope_help_of_matrix_and_check_says_what_no_n_means() -> None:
    for command in ("matrix", "check"):
        _, out, _ = _run(command, "--help")
        flat = " ".join(out.split())
        assert "default: the context's namespace; with --from/--demo: every namespace of the snapshot" in flat
