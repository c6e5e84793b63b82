"""`matrix` on N-cluster input (issue 21): the same outputs as one cluster's matrix, each workload
written ``NS/NAME@CLUSTER``; JSON cells carry ``cluster: {source, destination}`` and the document
lists ``rows`` and ``columns`` with their cluster."""

from __future__ import annotations

from kubectl_meshdoctor import app
from kubectl_meshdoctor.app_multicluster_matrix import Member, matrix, matrix_what_if
from kubectl_meshdoctor.cli.matrix import cell_doc, show_matrix
from kubectl_meshdoctor.diagnosis.matrix import Cell


def _member(m: Member) -> dict[str, str]:
    w = m.workload
    return {"namespace": w.namespace, "name": w.name, "kind": w.kind, "cluster": m.cluster}


def run_mesh(
    opts: app.SourceOptions,
    namespaces: list[str] | None,
    selector: dict[str, str],
    method: str,
    path: str,
    no_flows: bool,
    output: str,
    what_if: tuple[tuple[str, ...], tuple[str, ...]] = ((), ()),
) -> int:
    before: dict[tuple[str, str], Cell] | None = None
    applied: list[str] = []
    if any(what_if):  # each change names its cluster (app_multicluster_whatif.py)
        result, before, applied = matrix_what_if(opts, namespaces, selector, method, path, what_if)
    else:
        result = matrix(opts, namespaces, selector, method, path, no_flows)
    clients = [m.shown() for m in result.clients]
    servers = [m.shown() for m in result.servers]
    document = lambda: {  # noqa: E731
        "rows": [_member(m) for m in result.clients],
        "columns": [_member(m) for m in result.servers],
        "cells": [cell_doc(c) for c in result.cells],
        "gaps": result.gaps,
        **({"warnings": result.warnings} if result.warnings else {}),
    }
    show_matrix(output, clients, servers, result.cells, result.gaps, document, before, applied, result.warnings)
    return result.exit_code
