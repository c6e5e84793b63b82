"""Use cases without click or rich: load a model from the chosen source, explain."""

from __future__ import annotations

from dataclasses import dataclass

from kubectl_meshdoctor.diagnosis.call import Query
from kubectl_meshdoctor.errors import UsageError
from kubectl_meshdoctor.findings.types import Diagnosis, Verdict
from kubectl_meshdoctor.model.build import Model, build_model

__all__ = ["build_model"]
from kubectl_meshdoctor.sources.base import RawSnapshot


@dataclass(frozen=True, slots=True)
class SourceOptions:
    from_path: str | None = None
    demo_name: str | None = None
    kubeconfig: str | None = None
    context: str | None = None
    request_timeout: float = 30.0
    hubble_server: str | None = None
    hubble_tls: bool = False
    hubble_tls_ca: str | None = None
    hubble_tls_cert: str | None = None
    hubble_tls_key: str | None = None
    hubble_tls_server_name: str | None = None
    hubble_tls_insecure: bool = False


def load_raw(opts: SourceOptions) -> RawSnapshot:
    if opts.from_path is not None and opts.demo_name is not None:
        raise UsageError("--from and --demo cannot be combined")
    if opts.demo_name is not None:
        from kubectl_meshdoctor.sources.demo import read_demo

        return read_demo(opts.demo_name)
    if opts.from_path is not None:
        from kubectl_meshdoctor.sources.snapshot import read_snapshot

        return read_snapshot(opts.from_path)
    raise UsageError(
        "no input: live cluster mode is not available in this build; use --from PATH or --demo NAME "
        "(see `kubectl meshdoctor demo`)"
    )


def load_model(opts: SourceOptions) -> Model:
    return build_model(load_raw(opts))


def default_namespace(opts: SourceOptions, namespace: str | None) -> str:
    """``-n``, else the kubeconfig context's namespace (read without the kubernetes client), else "default"."""
    if namespace:
        return namespace
    from kubectl_meshdoctor.sources.kubeconfig import context_namespace

    return context_namespace(opts.kubeconfig, opts.context) or "default"


def explain(model: Model, query: Query) -> Diagnosis:
    from kubectl_meshdoctor.diagnosis.explain import explain as run_explain

    return run_explain(model, query)


def exit_code(diagnosis: Diagnosis) -> int:
    """Contract §6: 0 works, 1 fails, 3 not enough data to tell."""
    if diagnosis.verdict is Verdict.ALLOWED:
        return 0
    if diagnosis.verdict is Verdict.UNKNOWN:
        return 3
    return 1


def what_if(raw: RawSnapshot, files: tuple[str, ...], deletes: tuple[str, ...]) -> tuple[Model, list[str]]:
    """Build the model after applying --what-if manifests and --what-if-delete removals (in memory)."""
    from kubectl_meshdoctor.sources.whatif import apply_changes, read_changes

    changed, applied = apply_changes(raw, read_changes(files, deletes))
    return build_model(changed), applied
