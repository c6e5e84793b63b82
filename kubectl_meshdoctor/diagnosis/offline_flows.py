"""Reading the flows of one pair (or one leg) from the offline input into the model: one pass over
the files with a byte prefilter, the flows a selector picks kept (slimmed), then indexed for explain.
Shared by the pair of a call (app_flows.py) and the legs behind Cilium's Envoy (Gateways, Ingresses)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kubectl_meshdoctor.diagnosis.evidence import FlowIndex, PairSelector
from kubectl_meshdoctor.model.view import Model
from kubectl_meshdoctor.sources.flowfiles import FlowFile
from kubectl_meshdoctor.sources.flowscan import Prefilter, ScanResult, scan
from kubectl_meshdoctor.sources.pair_flows import slim


def adopt(model: Model, kept: list[Any], result: ScanResult) -> None:
    """The flows a scan kept become the model's flows and index; ``--since`` stays relative to the
    input's newest flow (when the scan tracked it), not to the newest flow kept."""
    index = FlowIndex(kept)
    if result.newest is not None:
        index.newest = max(index.newest, result.newest)
    model.flows = kept
    model.flow_index = index
    model.warnings.extend(result.warnings)


def read_selected(model: Model, files: Sequence[FlowFile], pair: PairSelector, pre: Prefilter, track: bool) -> None:
    """Keep every flow ``pair`` gives a direction to, and adopt them."""
    kept: list[Any] = []

    def keep(flow: Any) -> bool:
        if pair.direction(flow):
            kept.append(slim(flow))
        return False

    adopt(model, kept, scan(files, keep, pre, track))
