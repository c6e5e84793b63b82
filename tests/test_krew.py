"""The krew manifest (plugin.yaml) and the release archive scripts/build-release makes."""

from __future__ import annotations

import fnmatch
import hashlib
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_meshdoctor import __version__

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "plugin.yaml"
PLATFORMS = {("linux", "amd64"), ("linux", "arm64"), ("darwin", "amd64"), ("darwin", "arm64")}
SHA256 = re.compile(r"^[0-9a-f]{64}$")
SPEC_KEYS = {"version", "homepage", "shortDescription", "description", "caveats", "platforms"}
PLATFORM_KEYS = {"selector", "uri", "sha256", "bin", "files"}


def load_manifest(path: Path = MANIFEST) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text("utf-8"))
    assert isinstance(doc, dict)
    return doc


def platform_of(entry: dict[str, Any]) -> tuple[str, str]:
    labels = entry["selector"]["matchLabels"]
    return labels["os"], labels["arch"]


def test_manifest_schema() -> None:
    doc = load_manifest()
    assert set(doc) == {"apiVersion", "kind", "metadata", "spec"}
    assert doc["apiVersion"] == "krew.googlecontainertools.github.com/v1alpha2"
    assert doc["kind"] == "Plugin"
    assert doc["metadata"] == {"name": "meshdoctor"}
    spec = doc["spec"]
    assert set(spec) == SPEC_KEYS
    for key in SPEC_KEYS - {"platforms"}:
        assert isinstance(spec[key], str) and spec[key].strip(), key
    assert re.fullmatch(r"https://\S+", spec["homepage"])
    assert len(spec["shortDescription"]) <= 50 and "\n" not in spec["shortDescription"]
    assert "meshdoctor explain" in spec["description"]
    for platform in spec["platforms"]:
        assert set(platform) == PLATFORM_KEYS
        assert set(platform["selector"]) == {"matchLabels"}
        assert set(platform["selector"]["matchLabels"]) == {"os", "arch"}
        assert isinstance(platform["files"], list) and platform["files"]
        for rule in platform["files"]:
            assert set(rule) == {"from", "to"}


def test_manifest_values() -> None:
    spec = load_manifest()["spec"]
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]
    assert spec["version"] == f"v{__version__}" == f"v{pyproject}"
    assert re.fullmatch(r"v\d+\.\d+\.\d+", spec["version"])
    caveats = spec["caveats"]
    assert "RBAC" in caveats and "Hubble Relay" in caveats and "pods/portforward" in caveats
    seen = [platform_of(p) for p in spec["platforms"]]
    assert sorted(seen) == sorted(PLATFORMS) and len(seen) == len(set(seen))
    for platform in spec["platforms"]:
        os_name, arch = platform_of(platform)
        name = f"kubectl-meshdoctor_{spec['version']}_{os_name}_{arch}.tar.gz"
        assert platform["uri"].startswith("https://") and platform["uri"].endswith(f"/{spec['version']}/{name}")
        assert SHA256.match(platform["sha256"]), "scripts/build-release fills in real digests"
        assert platform["bin"] == "kubectl-meshdoctor"


def install_like_krew(archive: Path, platform: dict[str, Any], dest: Path) -> Path:
    """Extract, then copy what ``files`` selects (krew's from/to rules); return the bin path."""
    unpacked = dest / "unpacked"
    with tarfile.open(archive) as tar:
        tar.extractall(unpacked, filter="data")
    store = dest / "store"
    store.mkdir()
    for rule in platform["files"]:
        for path in sorted(unpacked.iterdir()):
            if fnmatch.fnmatch(path.name, rule["from"]):
                target = store / rule["to"] / path.name
                if path.is_dir():
                    shutil.copytree(path, target)
                else:
                    shutil.copy2(path, target)
    return store / str(platform["bin"])


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Build this platform's archive offline (from this Python's packages) into a scratch manifest."""
    work = tmp_path_factory.mktemp("release")
    manifest = work / "plugin.yaml"
    shutil.copy2(MANIFEST, manifest)
    out = work / "out"
    cmd = [
        sys.executable,
        str(ROOT / "scripts" / "build-release"),
        "--platform",
        "this",
        "--from-environment",
        "--out",
        str(out),
        "--manifest",
        str(manifest),
    ]
    subprocess.run(cmd, check=True, capture_output=True, timeout=600)
    archives = sorted(out.glob("*.tar.gz"))
    assert len(archives) == 1
    return archives[0], manifest


def this_platform() -> tuple[str, str]:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from release_bundle import this_platform as probe
    finally:
        sys.path.pop(0)
    found: tuple[str, str] = probe()
    return found


def test_release_archive(release: tuple[Path, Path], tmp_path: Path) -> None:
    archive, manifest = release
    here = this_platform()
    if here not in PLATFORMS:
        pytest.skip(f"krew has no platform entry for {here}")
    spec = load_manifest(manifest)["spec"]
    (platform,) = [p for p in spec["platforms"] if platform_of(p) == here]
    assert platform["uri"].endswith("/" + archive.name)
    assert platform["sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()
    others = {platform_of(p): p["sha256"] for p in load_manifest()["spec"]["platforms"]}
    for p in spec["platforms"]:  # other platforms' digests are left as they were
        if platform_of(p) != here:
            assert p["sha256"] == others[platform_of(p)]

    with tarfile.open(archive) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert platform["bin"] in members and members[platform["bin"]].mode & 0o111
    assert "kubectl_complete-meshdoctor" in members
    assert {"LICENSE", "deploy/rbac.yaml"} <= set(members)  # the caveats tell users to apply deploy/rbac.yaml
    tag = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    assert any(n.startswith((f"lib/{tag}/", "lib/common/")) for n in members)
    for needed in (
        "kubectl_meshdoctor/__init__.py",
        "kubectl_meshdoctor/demos/sidecar-s2-l7-policy/DESCRIPTION",
        "grpc/__init__.py",
        "kubernetes/__init__.py",
        "yaml/__init__.py",
    ):
        assert any(n.endswith("/" + needed) for n in members), needed
    assert all(m.uid == 0 and m.mtime == members[platform["bin"]].mtime for m in members.values())
    # reproducible: no per-install records (direct_url.json held the temporary wheel's path), and
    # what the plugin never imports (the kubernetes client's asyncio copy and aiohttp) is left out
    assert not [n for n in members if n.rsplit("/", 1)[-1] in ("direct_url.json", "RECORD", "INSTALLER")]
    assert not [n for n in members if "/kubernetes/aio/" in n or re.search(r"/(aiohttp|multidict|yarl)/", n)]
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            handle = tar.extractfile(member) if member.isfile() else None
            if handle is not None and not member.name.endswith(".so"):
                assert b"meshdoctor-release-" not in handle.read(), member.name  # no temporary build path

    program = install_like_krew(archive, platform, tmp_path)
    link = tmp_path / "bin" / "kubectl-meshdoctor"  # krew puts a symlink on the PATH
    link.parent.mkdir()
    link.symlink_to(program)
    # -I -S: no site-packages, so everything must come from the archive
    isolated = [sys.executable, "-I", "-S"]
    done = subprocess.run([*isolated, str(link), "version"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"kubectl-meshdoctor {__version__}"
    done = subprocess.run(
        [
            *isolated,
            str(link),
            "explain",
            "red/netshoot",
            "blue/httpbin",
            "--demo",
            "sidecar-s2-l7-policy",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1 and '"verdict": "broken"' in done.stdout, done.stderr
    lib = program.parent / "lib"
    probe = (
        f"import sys; sys.path[:0] = [{str(lib / tag)!r}, {str(lib / 'common')!r}]; "
        "import grpc, kubernetes.client, kubernetes.stream, kubernetes.config, yaml, google.protobuf, cel, "
        "jsonschema_rs, orjson; print(grpc.__file__)"
    )
    done = subprocess.run([*isolated, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.startswith(str(lib)), done.stderr


def test_two_builds_of_one_commit_are_identical(release: tuple[Path, Path], tmp_path: Path) -> None:
    """plugin.yaml's sha256 can be checked by anyone who builds the same commit."""
    archive, _ = release
    cmd = [sys.executable, str(ROOT / "scripts" / "build-release"), "--platform", "this", "--from-environment"]
    subprocess.run([*cmd, "--no-manifest", "--out", str(tmp_path)], check=True, capture_output=True, timeout=600)
    (again,) = sorted(tmp_path.glob("*.tar.gz"))
    assert hashlib.sha256(again.read_bytes()).hexdigest() == hashlib.sha256(archive.read_bytes()).hexdigest()
    commit = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%ct"], capture_output=True, text=True)
    if commit.returncode == 0:  # every entry carries the commit's time (SOURCE_DATE_EPOCH)
        with tarfile.open(again) as tar:
            assert {m.mtime for m in tar.getmembers()} == {int(commit.stdout)}


def test_archive_is_reproducible(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from release_bundle import write_archive
    finally:
        sys.path.pop(0)
    root = tmp_path / "root"
    (root / "lib").mkdir(parents=True)
    (root / "lib" / "a.py").write_text("x = 1\n")
    (root / "bin").write_text("#!/bin/sh\n")
    (root / "bin").chmod(0o755)
    first = write_archive(root, tmp_path / "one.tar.gz")
    (root / "lib" / "a.py").touch()
    assert write_archive(root, tmp_path / "two.tar.gz") == first


def test_manifest_update_keeps_layout(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from release_manifest import update_manifest
    finally:
        sys.path.pop(0)
    copy = tmp_path / "plugin.yaml"
    text = MANIFEST.read_text("utf-8").replace(f"v{__version__}", "v0.0.1")
    copy.write_text(text)
    update_manifest(copy, __version__, {f"kubectl-meshdoctor_v{__version__}_darwin_arm64.tar.gz": "ab" * 32})
    updated = copy.read_text("utf-8")
    assert "v0.0.1" not in updated and updated.count("\n") == text.count("\n")
    entry = {platform_of(p): p for p in load_manifest(copy)["spec"]["platforms"]}
    assert entry[("darwin", "arm64")]["sha256"] == "ab" * 32
    assert entry[("linux", "amd64")]["sha256"] == load_manifest()["spec"]["platforms"][0]["sha256"]
    with pytest.raises(SystemExit):
        update_manifest(copy, __version__, {"kubectl-meshdoctor_v9_plan9_mips.tar.gz": "cd" * 32})


def _scripts_module(name: str) -> Any:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        return __import__(name)
    finally:
        sys.path.pop(0)


def test_license_is_apache_2() -> None:
    text = (ROOT / "LICENSE").read_text("utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    for section in ("1. Definitions.", "4. Redistribution.", "9. Accepting Warranty or Additional Liability."):
        assert section in text, section
    assert "END OF TERMS AND CONDITIONS" in text
    # an SPDX expression (PEP 639): the TOML-table form is deprecated and setuptools stops building it in 2027
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    assert project["license"] == "Apache-2.0"
    assert not any(c.startswith("License ::") for c in project.get("classifiers", []))


def test_manifest_uris_follow_the_release_pattern() -> None:
    manifest = _scripts_module("release_manifest")
    bundle = _scripts_module("release_bundle")
    spec = load_manifest()["spec"]
    homepage = manifest.project_homepage(ROOT)
    assert spec["homepage"] == homepage and homepage.startswith("https://github.com/")
    version = spec["version"].removeprefix("v")
    for platform in spec["platforms"]:
        archive = bundle.archive_name(version, *platform_of(platform))
        assert platform["uri"] == f"{homepage}/releases/download/v{version}/{archive}"
    caveats = spec["caveats"]
    assert "deploy/rbac.yaml" in caveats and (ROOT / "deploy" / "rbac.yaml").is_file()
    assert f"{homepage}/blob/main/deploy/rbac.yaml" in caveats


def test_manifest_update_rewrites_uris_from_homepage(tmp_path: Path) -> None:
    manifest = _scripts_module("release_manifest")
    copy = tmp_path / "plugin.yaml"
    copy.write_text(MANIFEST.read_text("utf-8").replace("https://github.com/", "https://example.invalid/"))
    manifest.update_manifest(copy, "9.8.7", {}, "https://github.com/acme/meshdoctor")
    spec = load_manifest(copy)["spec"]
    assert spec["homepage"] == "https://github.com/acme/meshdoctor" and spec["version"] == "v9.8.7"
    for platform in spec["platforms"]:
        os_name, arch = platform_of(platform)
        assert platform["uri"] == (
            f"https://github.com/acme/meshdoctor/releases/download/v9.8.7/kubectl-meshdoctor_v9.8.7_{os_name}_{arch}.tar.gz"
        )


def _one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "error" in lines[0], done.stderr
    return lines[0]


def test_scripts_without_the_package_say_one_line(tmp_path: Path) -> None:
    """-S: a Python without site-packages stands for a venv where the package is missing."""
    env = {"PATH": "/usr/bin:/bin", "_BENCH_REEXEC": "1"}
    bench = [sys.executable, "-S", str(ROOT / "scripts" / "bench"), "--quick", "--out", str(tmp_path / "r.json")]
    done = subprocess.run(bench, capture_output=True, text=True, timeout=60, env=env)
    assert "kubectl-meshdoctor package" in _one_line_error(done)
    build = [sys.executable, "-S", str(ROOT / "scripts" / "build-release"), "--platform", "this"]
    done = subprocess.run(
        [*build, "--from-environment", "--no-manifest", "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "not installed" in _one_line_error(done)
    done = subprocess.run(
        [*build, "--manifest", str(tmp_path / "missing.yaml")], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "no manifest at" in done.stderr and "Traceback" not in done.stderr
