"""Build one krew archive: a launcher plus the package and its dependencies, per Python.

Layout of ``kubectl-meshdoctor_vX.Y.Z_<os>_<arch>.tar.gz`` (see README, "Install as a
kubectl plugin"):

    kubectl-meshdoctor            launcher (the krew ``bin``), runs under python3
    kubectl_complete-meshdoctor   launcher for kubectl's plugin completion
    lib/common/                   files identical for every Python version (pure Python)
    lib/cp3XX/                    the rest, per CPython version (grpcio, pyyaml, ... wheels)

krew unpacks the archive itself, so the program stays a plain directory: C extensions
import directly (a zipapp would first extract them to a cache under $HOME) and the
start-up stays as fast as a pip install.
"""

from __future__ import annotations

import filecmp
import gzip
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterable, Sequence
from pathlib import Path

# pip --platform tags per krew (os, arch); pip widens each to the older compatible tags
PLATFORM_TAGS: dict[tuple[str, str], tuple[str, ...]] = {
    ("linux", "amd64"): ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"),
    ("linux", "arm64"): ("manylinux_2_28_aarch64", "manylinux_2_17_aarch64", "manylinux2014_aarch64"),
    ("darwin", "amd64"): ("macosx_11_0_x86_64",),
    ("darwin", "arm64"): ("macosx_11_0_arm64",),
}
DEFAULT_PYTHONS = ("3.11", "3.12", "3.13")

LAUNCHER = '''#!/usr/bin/env python3
"""{prog}: run the bundled meshdoctor with the libraries built for this Python."""
import os
import sys

SUPPORTED = {supported!r}


def _main():
    here = os.path.dirname(os.path.realpath(__file__))  # krew links ~/.krew/bin/... here
    version = "%d.%d" % sys.version_info[:2]
    if version not in SUPPORTED:
        import shutil

        for other in reversed(SUPPORTED):  # python3 is too old or too new: try python3.X
            exe = shutil.which("python" + other)
            if exe:
                os.execv(exe, [exe, os.path.realpath(__file__), *sys.argv[1:]])
        sys.stderr.write("error: {prog} needs Python %s; python3 is %s\\n" % (" or ".join(SUPPORTED), version))
        return 1
    lib = os.path.join(here, "lib")
    sys.path[0:1] = [os.path.join(lib, "cp" + version.replace(".", "")), os.path.join(lib, "common")]
    from {module} import main

    return main()


if __name__ == "__main__":
    sys.exit(_main())
'''
ENTRIES = {
    "kubectl-meshdoctor": "kubectl_meshdoctor.cli.main",
    "kubectl_complete-meshdoctor": "kubectl_meshdoctor.cli.complete_plugin",
}


def this_platform() -> tuple[str, str]:
    import platform

    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
    return ("darwin" if sys.platform == "darwin" else sys.platform, arch)


def archive_name(version: str, os_name: str, arch: str) -> str:
    return f"kubectl-meshdoctor_v{version}_{os_name}_{arch}.tar.gz"


def build_wheel(project: Path, out: Path) -> Path:
    """Our own wheel (pure Python, with the demos as package data).

    Without build isolation when this Python already has the build requirements (offline,
    fast); otherwise pip fetches them into an isolated build environment, as `pip install .` does.
    """
    out.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(project)]
    if _has_build_requirements():
        cmd.insert(-3, "--no-build-isolation")
    run_quiet(cmd, "building the kubectl-meshdoctor wheel")
    wheels = sorted(out.glob("kubectl_meshdoctor-*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"expected one kubectl_meshdoctor wheel in {out}, found {len(wheels)}")
    return wheels[0]


def _has_build_requirements() -> bool:
    """setuptools>=68 and wheel importable here (pyproject.toml [build-system] requires)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        major = int(version("setuptools").split(".")[0])
        version("wheel")
    except (PackageNotFoundError, ValueError):
        return False
    return major >= 68


def run_quiet(cmd: Sequence[str], what: str) -> None:
    """Run a pip step; on failure stop with one line naming the step and pip's last error line."""
    done = subprocess.run(list(cmd), capture_output=True, text=True)
    if done.returncode != 0:
        lines = [ln.strip() for ln in (done.stderr or done.stdout).splitlines() if ln.strip()]
        errors = [ln for ln in lines if ln.lower().startswith("error")] or lines
        raise SystemExit(f"error: {what} failed (exit {done.returncode}): {errors[-1] if errors else 'no output'}")


def install_from_pypi(wheel: Path, target: Path, os_name: str, arch: str, python: str) -> None:
    """The wheel and its dependencies, as binary wheels for that platform and Python."""
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--target",
        str(target),
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        python,
    ]
    for tag in PLATFORM_TAGS[(os_name, arch)]:
        cmd += ["--platform", tag]
    run_quiet([*cmd, str(wheel)], f"installing the {os_name}/{arch} wheels for Python {python} from the index")


def _requirements(dist_name: str, extras: Iterable[str] = ()) -> list[tuple[str, tuple[str, ...]]]:
    from importlib import metadata

    try:
        requires = metadata.distribution(dist_name).requires or []
    except metadata.PackageNotFoundError:
        raise SystemExit(
            f"error: --from-environment copies installed packages, but {dist_name} is not installed in "
            f"{sys.executable} (pip install . first, or drop --from-environment)"
        ) from None
    try:
        from packaging.requirements import Requirement
    except ImportError:  # a venv without packaging: pip's vendored copy is the same library
        try:
            from pip._vendor.packaging.requirements import Requirement
        except ImportError:
            raise SystemExit("error: --from-environment needs the packaging library (pip install packaging)") from None

    out: list[tuple[str, tuple[str, ...]]] = []
    for text in requires:
        req = Requirement(text)
        envs = [{"extra": e} for e in extras] or [{"extra": ""}]
        if req.marker is None or any(req.marker.evaluate(env) for env in envs):
            out.append((req.name, tuple(sorted(req.extras))))
    return out


def check_environment() -> None:
    """--from-environment copies this Python's packages: fail before building when they are not there."""
    _requirements("kubectl-meshdoctor")


def install_from_environment(wheel: Path, target: Path) -> None:
    """Offline: our wheel, plus the installed distributions it requires, copied from this Python."""
    from importlib import metadata

    run_quiet(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--no-compile",
            "--target",
            str(target),
            str(wheel),
        ],
        "installing the kubectl-meshdoctor wheel",
    )
    seen: set[str] = set()
    todo = _requirements("kubectl-meshdoctor")
    while todo:
        name, extras = todo.pop()
        key = name.lower().replace("_", "-")
        if key in seen:
            continue
        seen.add(key)
        dist = metadata.distribution(name)
        for file in dist.files or []:
            if ".." in file.parts or "__pycache__" in file.parts:
                continue  # console scripts outside site-packages; bytecode is rebuilt
            src = Path(str(dist.locate_file(file)))
            dest = target / file
            dest.parent.mkdir(parents=True, exist_ok=True)
            if src.is_file():
                shutil.copy2(src, dest)
        todo += _requirements(name, extras)


def share_common(lib: Path, tags: Sequence[str]) -> None:
    """Move top-level entries identical in every ``lib/<tag>`` to ``lib/common``."""
    common = lib / "common"
    common.mkdir(exist_ok=True)
    if len(tags) < 2:
        return
    first = lib / tags[0]
    for entry in sorted(first.iterdir()):
        others = [lib / t / entry.name for t in tags[1:]]
        if all(o.exists() and _same(entry, o) for o in others):
            shutil.move(str(entry), str(common / entry.name))
            for other in others:
                shutil.rmtree(other) if other.is_dir() else other.unlink()


def _same(a: Path, b: Path) -> bool:
    if a.is_file() or b.is_file():
        return a.is_file() and b.is_file() and filecmp.cmp(a, b, shallow=False)
    cmp = filecmp.dircmp(a, b)
    if cmp.left_only or cmp.right_only or cmp.funny_files:
        return False
    return all(_same(a / n, b / n) for n in cmp.common_files + cmp.common_dirs)


# What the plugin never imports, left out of the archive (measured: most of its size). The kubernetes
# client ships an asyncio copy of itself (kubernetes/aio, ~40 MB unpacked) with an aiohttp stack;
# meshdoctor uses the synchronous client only (tests/test_krew.py runs the bundle with -I -S).
PRUNED_PATHS = ("kubernetes/aio",)
PRUNED_DISTS = (
    "aiohttp",
    "aiohttp_retry",
    "aiohappyeyeballs",
    "aiosignal",
    "frozenlist",
    "multidict",
    "propcache",
    "yarl",
    "attrs",
)
PRUNED_TOP = (*PRUNED_DISTS, "attr")  # import names (attrs installs attr/ and attrs/)
# per-install files that differ between two builds (direct_url.json holds the temporary wheel's
# path; RECORD lists its hash) and that nothing reads at run time (importlib.metadata reads METADATA)
INSTALL_RECORDS = ("direct_url.json", "RECORD", "INSTALLER", "REQUESTED")


def prune(target: Path) -> None:
    """Drop what the plugin does not import, and the install records that make builds differ."""
    for rel in PRUNED_PATHS:
        if (target / rel).is_dir():
            shutil.rmtree(target / rel)
    for entry in sorted(target.iterdir()):
        if entry.suffix == ".dist-info":
            dist = entry.name.split("-", 1)[0].lower().replace("-", "_")
            if dist in PRUNED_DISTS:
                shutil.rmtree(entry)
                continue
            for name in INSTALL_RECORDS:
                (entry / name).unlink(missing_ok=True)
        elif entry.name in PRUNED_TOP and entry.is_dir():
            shutil.rmtree(entry)


def write_launchers(root: Path, pythons: Sequence[str]) -> None:
    for prog, module in ENTRIES.items():
        path = root / prog
        path.write_text(LAUNCHER.format(prog=prog, module=module, supported=tuple(pythons)), "utf-8")
        path.chmod(0o755)


def source_date_epoch() -> int:
    """Every archive entry's mtime: $SOURCE_DATE_EPOCH (reproducible-builds.org), which
    scripts/build-release sets to the commit's time; 1980-01-01 when unset."""
    return int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))


def _tarinfo(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    if "__pycache__" in info.name.split("/"):
        return None
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mtime = source_date_epoch()
    info.mode = 0o755 if info.isdir() or info.mode & 0o111 else 0o644
    return info


def write_archive(root: Path, archive: Path) -> str:
    """A reproducible .tar.gz of ``root``'s content (sorted, fixed owner and mtime); returns sha256."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root).as_posix()
            info = _tarinfo(tar.gettarinfo(str(path), arcname=rel))
            if info is None:
                continue
            if info.isfile():
                with path.open("rb") as handle:
                    tar.addfile(info, handle)
            else:
                tar.addfile(info)
    archive.parent.mkdir(parents=True, exist_ok=True)
    with archive.open("wb") as out, gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=6) as gz:
        gz.write(raw.getvalue())
    return hashlib.sha256(archive.read_bytes()).hexdigest()


def build_platform(
    project: Path,
    wheel: Path,
    work: Path,
    out: Path,
    version: str,
    os_name: str,
    arch: str,
    pythons: Sequence[str],
    from_environment: bool,
) -> tuple[Path, str]:
    """Build one archive; returns its path and sha256."""
    root = work / f"{os_name}_{arch}"
    if root.exists():
        shutil.rmtree(root)
    lib = root / "lib"
    tags = ["cp" + p.replace(".", "") for p in pythons]
    for python, tag in zip(pythons, tags, strict=True):
        print(f"  {os_name}/{arch} python {python}", file=sys.stderr)
        if from_environment:
            install_from_environment(wheel, lib / tag)
        else:
            install_from_pypi(wheel, lib / tag, os_name, arch, python)
        bin_dir = lib / tag / "bin"  # console scripts pip wrote for the target; the launchers replace them
        if bin_dir.is_dir():
            shutil.rmtree(bin_dir)
        prune(lib / tag)
    share_common(lib, tags)
    write_launchers(root, pythons)
    for extra in ("LICENSE", "deploy/rbac.yaml"):  # krew caveats point at deploy/rbac.yaml
        if (project / extra).is_file():
            (root / extra).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(project / extra, root / extra)
    archive = out / archive_name(version, os_name, arch)
    return archive, write_archive(root, archive)
