"""Update plugin.yaml in place from a release build: spec.version, spec.homepage, every
platform's uri (from the one release URL pattern below) and each built platform's sha256.
Only those lines change, so comments and layout stay."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path

# GitHub releases: a tag vX.Y.Z holds one archive per platform (release_bundle.archive_name).
RELEASE_URI = "{homepage}/releases/download/v{version}/{archive}"

_VERSION_LINE = re.compile(r"^(\s*version:\s*)v\d+\.\d+\.\d+\s*$")
_HOMEPAGE_LINE = re.compile(r"^(\s*homepage:\s*)\S+\s*$")
_URI_LINE = re.compile(r"^\s*uri:\s*(\S+)\s*$")
_SHA_LINE = re.compile(r"^(\s*sha256:\s*).*$")
_SEMVER = re.compile(r"v\d+\.\d+\.\d+")


def project_homepage(root: Path) -> str:
    """The release location: pyproject.toml's [project.urls] Homepage (a GitHub repository)."""
    urls = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))["project"].get("urls", {})
    homepage = urls.get("Homepage")
    if not isinstance(homepage, str) or not homepage.startswith("https://"):
        raise SystemExit("pyproject.toml has no https [project.urls] Homepage to publish releases under")
    return homepage.rstrip("/")


def release_uri(homepage: str, version: str, archive: str) -> str:
    return RELEASE_URI.format(homepage=homepage.rstrip("/"), version=version, archive=archive)


def update_manifest(path: Path, version: str, sha256: Mapping[str, str], homepage: str | None = None) -> None:
    """``sha256`` maps archive file names to digests; every other platform keeps its digest line.
    With ``homepage``, spec.homepage and every uri are rewritten from RELEASE_URI."""
    lines = path.read_text("utf-8").splitlines(keepends=True)
    pending: str | None = None  # the archive of the last uri line, waiting for its sha256 line
    found: set[str] = set()
    for i, line in enumerate(lines):
        if match := _VERSION_LINE.match(line):
            lines[i] = f"{match.group(1)}v{version}\n"
        elif (match := _HOMEPAGE_LINE.match(line)) and homepage is not None:
            lines[i] = f"{match.group(1)}{homepage}\n"
        elif match := _URI_LINE.match(line):
            archive = _SEMVER.sub(f"v{version}", match.group(1).rsplit("/", 1)[-1])
            uri = (
                release_uri(homepage, version, archive)
                if homepage is not None
                else _SEMVER.sub(f"v{version}", match.group(1))
            )
            lines[i] = line.replace(match.group(1), uri)
            pending = archive
        elif (match := _SHA_LINE.match(line)) and pending is not None:
            if pending in sha256:
                lines[i] = f'{match.group(1)}"{sha256[pending]}"\n'
                found.add(pending)
            pending = None
    missing = sorted(set(sha256) - found)
    if missing:
        raise SystemExit(f"{path}: no platform whose uri names {', '.join(missing)}")
    path.write_text("".join(lines), "utf-8")
