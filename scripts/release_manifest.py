"""Update plugin.yaml in place from a release build: spec.version, the URIs' version and
each built platform's sha256. Only those lines change, so comments and layout stay."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

_VERSION_LINE = re.compile(r"^(\s*version:\s*)v\d+\.\d+\.\d+\s*$")
_URI_LINE = re.compile(r"^\s*uri:\s*(\S+)\s*$")
_SHA_LINE = re.compile(r"^(\s*sha256:\s*).*$")
_SEMVER_IN_URI = re.compile(r"v\d+\.\d+\.\d+")


def update_manifest(path: Path, version: str, sha256: Mapping[str, str]) -> None:
    """``sha256`` maps archive file names to digests; every other platform keeps its line."""
    lines = path.read_text("utf-8").splitlines(keepends=True)
    pending: str | None = None  # the archive of the last uri line, waiting for its sha256 line
    found: set[str] = set()
    for i, line in enumerate(lines):
        if match := _VERSION_LINE.match(line):
            lines[i] = f"{match.group(1)}v{version}\n"
        elif match := _URI_LINE.match(line):
            uri = _SEMVER_IN_URI.sub(f"v{version}", match.group(1))
            lines[i] = line.replace(match.group(1), uri)
            pending = uri.rsplit("/", 1)[-1]
        elif (match := _SHA_LINE.match(line)) and pending is not None:
            if pending in sha256:
                lines[i] = f'{match.group(1)}"{sha256[pending]}"\n'
                found.add(pending)
            pending = None
    missing = sorted(set(sha256) - found)
    if missing:
        raise SystemExit(f"{path}: no platform whose uri names {', '.join(missing)}")
    path.write_text("".join(lines), "utf-8")
