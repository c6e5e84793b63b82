"""A tiny kubeconfig reader that does not import the ``kubernetes`` package.

The kubernetes client costs about half a second to import; the default namespace and the
completion of ``--context`` only need three fields of the kubeconfig, so this module reads
them the way kubectl does:

- ``--kubeconfig PATH`` wins and the file must exist;
- else ``$KUBECONFIG``, a list joined with ``os.pathsep``: empty entries and missing files
  are skipped, and for each context name (and for ``current-context``) the first file that
  sets it wins;
- else ``~/.kube/config``, if it exists.

The context is ``--context`` or ``current-context``; its ``namespace`` is the default
namespace. Inside a pod with no kubeconfig, the service account's namespace file is used,
as client-go's in-cluster config does.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubectl_meshdoctor.errors import InputError, UsageError

IN_CLUSTER_NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


@dataclass(frozen=True, slots=True)
class Kubeconfig:
    """The merged view: context name -> its ``context`` mapping, and the current context."""

    paths: tuple[Path, ...] = ()
    contexts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    current_context: str | None = None

    def namespace(self, context: str | None = None) -> str | None:
        """The namespace of ``context`` (default: the current context), or None."""
        name = context or self.current_context
        if not name:
            return None
        if name not in self.contexts:
            if context:
                raise UsageError(f"context {context!r} not found in kubeconfig ({self._where()})")
            return None  # a dangling current-context: kubectl falls back to "default" too
        value = self.contexts[name].get("namespace")
        return value if isinstance(value, str) and value else None

    def _where(self) -> str:
        return os.pathsep.join(str(p) for p in self.paths) or "no kubeconfig file"


def kubeconfig_paths(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> list[Path]:
    """The files kubectl would read, in precedence order."""
    env = os.environ if environ is None else environ
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise UsageError(f"--kubeconfig {explicit}: no such file")
        return [path]
    listed = env.get("KUBECONFIG", "")
    if listed:
        return [Path(p) for p in listed.split(os.pathsep) if p and Path(p).is_file()]
    home = env.get("HOME")
    default = (Path(home) if home else Path.home()) / ".kube" / "config"
    return [default] if default.is_file() else []


def _read(path: Path) -> Mapping[str, Any]:
    import yaml

    from kubectl_meshdoctor.model import yamlcore

    try:
        doc = yamlcore.load(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(str(path), None, f"cannot read kubeconfig: {err}") from err
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InputError(str(path), line, f"invalid kubeconfig: {getattr(err, 'problem', err)}") from err
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise InputError(str(path), None, "invalid kubeconfig: not a mapping")
    return doc


def merge(paths: list[Path]) -> Kubeconfig:
    """kubectl's merge: the first file to define a context name or current-context wins."""
    contexts: dict[str, Mapping[str, Any]] = {}
    current: str | None = None
    for path in paths:
        doc = _read(path)
        if current is None and isinstance(doc.get("current-context"), str) and doc["current-context"]:
            current = doc["current-context"]
        for entry in doc.get("contexts") or []:
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                continue
            body = entry.get("context")
            contexts.setdefault(entry["name"], body if isinstance(body, dict) else {})
    return Kubeconfig(tuple(paths), contexts, current)


def load(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> Kubeconfig:
    return merge(kubeconfig_paths(explicit, environ))


def context_namespace(
    kubeconfig: str | None = None,
    context: str | None = None,
    environ: Mapping[str, str] | None = None,
    in_cluster_file: Path = IN_CLUSTER_NAMESPACE_FILE,
) -> str | None:
    """The namespace kubectl would use without ``-n``, or None (the caller says "default")."""
    config = load(kubeconfig, environ)
    if not config.paths and not context:
        try:
            value = in_cluster_file.read_text("utf-8").strip()
        except OSError:
            return None
        return value or None
    return config.namespace(context)


def context_names(kubeconfig: str | None = None, environ: Mapping[str, str] | None = None) -> list[str]:
    """All context names, sorted (for shell completion of ``--context``)."""
    return sorted(load(kubeconfig, environ).contexts)
