"""Use cases without click or rich: load a model from the chosen source, explain."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubectl_meshdoctor import fast_exit
from kubectl_meshdoctor.app_validate import build_trusting, build_validated
from kubectl_meshdoctor.collector import paused_then_frozen
from kubectl_meshdoctor.diagnosis.call import Query
from kubectl_meshdoctor.errors import DataError, MeshdoctorError, UsageError
from kubectl_meshdoctor.findings.types import Cause, Diagnosis, FixProof, Symptom, Verdict
from kubectl_meshdoctor.model.view import Model
from kubectl_meshdoctor.raw import RawSnapshot

if TYPE_CHECKING:
    from kubectl_meshdoctor.sources.live import LiveOptions, LiveSource


@dataclass(frozen=True, slots=True)
class SourceOptions:
    from_path: str | None = None
    demo_name: str | None = None
    kubeconfig: str | None = None
    context: str | None = None
    request_timeout: float = 15.0  # each API request (connect + read); 0: none
    timeout: float = 60.0  # the whole live read (objects, port-forward, flows); 0: none
    hubble_server: str | None = None
    hubble_tls: bool = False
    hubble_tls_ca: str | None = None
    hubble_tls_cert: str | None = None
    hubble_tls_key: str | None = None
    hubble_tls_server_name: str | None = None
    hubble_tls_insecure: bool = False
    progress: bool = False  # live: progress lines on stderr


def with_hubble(opts: SourceOptions, flags: Mapping[str, object]) -> SourceOptions:
    """Fill the ``hubble_*`` fields from the click flags of the same names (cli.options.hubble_options)."""
    import dataclasses

    known = {f.name for f in dataclasses.fields(SourceOptions) if f.name.startswith("hubble_")}
    values: dict[str, Any] = {k: v for k, v in flags.items() if k in known and v is not None}
    return dataclasses.replace(opts, **values)


def is_live(opts: SourceOptions) -> bool:
    return opts.from_path is None and opts.demo_name is None


def build_model(raw: RawSnapshot, trusting: bool = False) -> Model:
    """``trusting``: no object is validated here, because the caller has them validated elsewhere and
    builds again the ordinary way when any is invalid (app_check_split.py)."""
    with paused_then_frozen():  # loading: millions of small dicts
        # model.build.build_model, validating in a second process when that pays
        model = build_trusting(raw) if trusting else build_validated(raw)
    model.flow_files = list(raw.flow_files)  # offline flows, streamed for the question (issue 13)
    model.out_of_scope = raw.out_of_scope
    fast_exit.hold(raw, model)  # the CLI process then ends without freeing them one by one
    return model


def load_raw(opts: SourceOptions, query: Query | None = None) -> RawSnapshot:
    with paused_then_frozen():  # loading: millions of small dicts
        return _load_raw(opts, query)


def _load_raw(opts: SourceOptions, query: Query | None = None) -> RawSnapshot:
    if opts.from_path is not None and opts.demo_name is not None:
        raise UsageError("--from and --demo cannot be combined")
    refuse_mesh_input(opts)
    if opts.demo_name is not None:
        from kubectl_meshdoctor.sources.demo import read_demo

        return read_demo(opts.demo_name)
    if opts.from_path is not None:
        from kubectl_meshdoctor.sources.snapshot import read_snapshot

        # with a question, flows stay in the files until its pair is known (sources/pair_flows.py),
        # and only the namespaces it needs are built, as live reads them (issue 13)
        if query is None:
            return read_snapshot(opts.from_path)
        from kubectl_meshdoctor.diagnosis.northsouth_entry import may_be_north_south
        from kubectl_meshdoctor.sources.live import namespaces_for

        scope = namespaces_for([query.source, query.destination], query.namespace)
        if may_be_north_south(query.source):
            scope = None  # routes and backends behind a gateway may live in any namespace (issue 20)
        raw = read_snapshot(opts.from_path, lazy_flows=True, namespaces=scope)
        more = alias_namespaces(raw, scope)
        return read_snapshot(opts.from_path, lazy_flows=True, namespaces=[*(scope or []), *more]) if more else raw
    return read_live(opts, query)


def refuse_mesh_input(opts: SourceOptions) -> None:
    """N-cluster input (clusters/<name>/, issue 21) is read by explain, check and matrix only (app_multicluster*.py);
    any other reader would merge the clusters into one and answer about a cluster that does not exist."""
    from kubectl_meshdoctor.sources.multicluster import is_mc_demo, is_multicluster

    if is_multicluster(opts.from_path) or (opts.from_path is None and is_mc_demo(opts.demo_name)):
        what = f"--from {opts.from_path}" if opts.from_path else f"--demo {opts.demo_name}"
        raise UsageError(
            f"{what} holds several clusters (clusters/<name>/): only `explain` (without --watch), `check` and "
            "`matrix` read multi-cluster input yet; point --from at one clusters/<name>/ directory for the others"
        )


def alias_namespaces(raw: RawSnapshot, scope: list[str] | None) -> list[str]:
    """Namespaces the question also leads into: where an ExternalName Service in scope points (its
    CNAME leads there), and where a VirtualService of the scope routes or mirrors (each weighted
    destination is judged on what is there). Only namespaces that exist are added."""
    if scope is None:
        return []
    from kubectl_meshdoctor.model.external_name import target_namespaces
    from kubectl_meshdoctor.model.istio_routes import route_target_namespaces

    docs = [o.doc for o in raw.objects]
    existing = {
        str(d.get("metadata", {}).get("name")) for d in docs if d.get("kind") == "Namespace" and d.get("metadata")
    }
    routed = {ns for ns in route_target_namespaces(docs, scope) if ns in existing}
    return sorted(target_namespaces(docs, scope) | routed)


def load_raw_scoped(
    opts: SourceOptions, namespaces: list[str] | None, flows: bool, offline_flows: bool = True
) -> RawSnapshot:
    """matrix/check: offline as usual; live, what `snapshot -n` captures: only these namespaces (+ system
    ones) and, with ``flows``, the flows that start or end in them (filters sent to Relay)."""
    if not is_live(opts):
        refuse_mesh_input(opts)
        if opts.from_path is None or opts.demo_name is not None:
            return load_raw(opts)
        from kubectl_meshdoctor.sources.snapshot import materialize_flows, read_snapshot

        with paused_then_frozen():  # loading: millions of small dicts
            raw = read_snapshot(opts.from_path, lazy_flows=True)
            if raw.flow_files and offline_flows:  # only the flows of these namespaces are kept (issue 13)
                materialize_flows(raw, namespaces)
            raw.flow_files = []
        return raw
    from kubectl_meshdoctor.sources.live import capture

    with paused_then_frozen():  # loading: millions of small dicts
        return capture(live_options(opts), namespaces, None, None, with_flows=flows)


def live_options(opts: SourceOptions) -> LiveOptions:
    from kubectl_meshdoctor.sources.hubble import TLSOptions
    from kubectl_meshdoctor.sources.live import LiveOptions

    tls = TLSOptions(
        opts.hubble_tls,
        opts.hubble_tls_ca,
        opts.hubble_tls_cert,
        opts.hubble_tls_key,
        opts.hubble_tls_server_name,
        opts.hubble_tls_insecure,
    )
    return LiveOptions(
        opts.kubeconfig, opts.context, opts.request_timeout, opts.hubble_server, tls, opts.progress, opts.timeout
    )


def read_live(opts: SourceOptions, query: Query | None) -> RawSnapshot:
    """Live: the objects the question needs, then the resolved pair's flows from Relay.

    Relay unreachable is not fatal: the static answer stands, with a warning saying flows
    were not checked (contract §2); ``--require-flows`` turns that into exit 3 in the CLI.
    """
    from kubectl_meshdoctor.diagnosis.northsouth_entry import may_be_north_south
    from kubectl_meshdoctor.sources.live import LiveSource, namespaces_for

    north_south = query is not None and may_be_north_south(query.source)  # issue 20: every namespace
    with LiveSource(live_options(opts)) as live:
        namespaces = namespaces_for([query.source, query.destination], query.namespace) if query else None
        raw = live.objects(None if north_south else namespaces)
        more = alias_namespaces(raw, namespaces) if not north_south else []
        if more and namespaces is not None:
            raw = live.objects([*namespaces, *more])
        if query is not None and not query.no_flows:
            leg = _north_south_leg(raw, query) if north_south else query
            if leg is not None:
                attach_live_flows(raw, leg, live)
            elif north_south:
                _attach_cilium_leg(raw, query, live)
        return raw


def _north_south_leg(raw: RawSnapshot, query: Query) -> Query | None:
    """World → gateway: the flows of the gateway pod → backend leg (None: not north-south after all,
    or the gateway answers itself)."""
    from kubectl_meshdoctor.diagnosis.northsouth import first_leg
    from kubectl_meshdoctor.diagnosis.northsouth_entry import is_north_south

    model = build_model(raw)
    if not is_north_south(model, query.source, query.destination):
        return query
    return first_leg(model, query)


def _attach_cilium_leg(raw: RawSnapshot, query: Query, live: LiveSource) -> None:
    """World → Cilium's Gateway: the flows of the backend's pods (the leg from identity ingress)."""
    from kubectl_meshdoctor.app_flows import ingress_whitelist
    from kubectl_meshdoctor.diagnosis.cilium_envoy_flows import live_whitelist
    from kubectl_meshdoctor.diagnosis.ingress_entry import is_ingress_ref
    from kubectl_meshdoctor.diagnosis.northsouth_entry import is_north_south
    from kubectl_meshdoctor.sources.hubble import RelayError, flows_request
    from kubectl_meshdoctor.sources.live import add_flows, relay_down_warning

    model = build_model(raw)
    if not is_north_south(model, query.source, query.destination):
        return
    if is_ingress_ref(query.via or query.destination):  # a Kubernetes Ingress Cilium serves
        whitelist: list[Any] | None = ingress_whitelist(model, query) or None
    else:
        whitelist = live_whitelist(model, query)
    if whitelist is None:
        return
    try:
        batch = live.flows(flows_request(whitelist, query.since_seconds, query.last))
    except RelayError as err:
        raw.warnings.append(relay_down_warning(err))
        return
    add_flows(raw, batch)


def attach_live_flows(raw: RawSnapshot, query: Query, live: LiveSource, whitelist: list[Any] | None = None) -> None:
    """Resolve the call on the objects, ask Relay for that pair only (or ``whitelist``), and add the flows
    to ``raw``."""
    from kubectl_meshdoctor.app_flows import pair_whitelist
    from kubectl_meshdoctor.sources.hubble import RelayError, flows_request
    from kubectl_meshdoctor.sources.live import add_flows, relay_down_warning

    if whitelist is None:
        whitelist = pair_whitelist(build_model(raw), query)
    try:
        batch = live.flows(flows_request(whitelist, query.since_seconds, query.last))
    except RelayError as err:
        raw.warnings.append(relay_down_warning(err))
        return
    add_flows(raw, batch)


def load_model(opts: SourceOptions) -> Model:
    return build_model(load_raw(opts))


def default_namespace(opts: SourceOptions, namespace: str | None) -> str:
    """``-n``, else the kubeconfig context's namespace (read without the kubernetes client), else "default"."""
    if namespace:
        return namespace
    from kubectl_meshdoctor.sources.kubeconfig import context_namespace

    first = opts.context.split(",")[0].strip() if opts.context else None  # --context a,b (issue 21): the first's
    return context_namespace(opts.kubeconfig, first) or "default"


def scope_namespaces(opts: SourceOptions, namespace: str | None, all_namespaces: bool) -> list[str] | None:
    """matrix/check scope, as kubectl: ``-A`` every namespace; ``-n a,b`` those; neither: live, the
    context's namespace; offline (--from/--demo), every namespace of the snapshot (it was scoped
    when captured, and the kubeconfig says nothing about a file). None means every namespace."""
    if all_namespaces:
        return None
    if namespace:
        return [n.strip() for n in namespace.split(",") if n.strip()]
    return [default_namespace(opts, None)] if is_live(opts) else None


def explain(model: Model, query: Query) -> Diagnosis:
    """The diagnosis; offline flows not read yet are streamed for this pair first. Input without
    objects gets the evidence-only answer (diagnosis/flows_only.py), never a static verdict."""
    from kubectl_meshdoctor.app_flows import attach_for_explain
    from kubectl_meshdoctor.diagnosis.explain import explain as run_explain
    from kubectl_meshdoctor.diagnosis.northsouth_entry import is_north_south
    from kubectl_meshdoctor.sources.pair_flows import no_objects

    world = query.via is not None or is_north_south(model, query.source, query.destination)
    if world and not no_objects(model):  # world → a gateway (issue 20)
        from kubectl_meshdoctor.diagnosis.northsouth import first_leg

        leg = first_leg(model, query) if model.flow_files and not query.no_flows else None
        if leg is not None:
            attach_for_explain(model, leg)  # the flows of the gateway pod → backend leg
        elif model.flow_files and not query.no_flows:
            from kubectl_meshdoctor.app_flows import attach_ingress_leg
            from kubectl_meshdoctor.diagnosis.cilium_envoy_flows import attach_offline
            from kubectl_meshdoctor.diagnosis.ingress_entry import is_ingress_ref

            if is_ingress_ref(query.via or query.destination):
                attach_ingress_leg(model, query)  # Cilium's Envoy (identity ingress) → an Ingress's backend
            else:
                attach_offline(model, query)  # Cilium's Envoy (identity ingress) → a Gateway's backend
        return run_explain(model, query)
    if model.flow_files and not query.no_flows:
        attach_for_explain(model, query)
    if no_objects(model) and (model.flow_endpoints is not None or model.flow_source != "none"):
        from kubectl_meshdoctor.diagnosis.flows_only import explain_from_flows

        if model.flow_endpoints is None:
            raise DataError("the input has no Kubernetes objects and --no-flows leaves nothing to explain")
        return explain_from_flows(model, query)
    return _payload_decides(model, query, run_explain(model, query))


def _payload_decides(model: Model, query: Query, d: Diagnosis) -> Diagnosis:
    """On a port that declares no protocol, Istio sniffs the payload: plain TCP is the default
    question (issue 22), but `allowed` is earned only when an HTTP request on that port would pass
    too. Otherwise the payload decides, and the answer says so instead of a green it cannot stand
    behind (contract §7)."""
    from dataclasses import replace

    from kubectl_meshdoctor.diagnosis.explain import explain as run_explain

    if query.app_protocol is not None or query.http_asked or d.request.app_protocol != "tcp":
        return d
    alt = run_explain(model, replace(query, http_asked=True))
    if alt.request.app_protocol != "http" or (alt.verdict is Verdict.ALLOWED) == (d.verdict is Verdict.ALLOWED):
        return d  # the port declares its protocol, or HTTP fares the same
    if alt.verdict is Verdict.ALLOWED:  # plain TCP fails where an HTTP request passes: say so
        d.warnings.append(
            f"the payload decides: port {alt.destination.port} declares no protocol, so Istio sniffs it; this answer "
            f"is for plain TCP, while an HTTP request ({query.method} {query.path}) is allowed; ask with "
            "--app-protocol http|tcp, --method or --path"
        )
        return d
    share = f" for {alt.share:.3g}% of requests" if alt.share is not None else ""
    codes = ", ".join(dict.fromkeys(c.code for c in alt.causes)) or alt.symptom.value
    d.verdict, d.symptom = Verdict.UNKNOWN, Symptom.UNKNOWN
    d.gaps.append(
        f"the payload decides: port {alt.destination.port} declares no protocol, so Istio sniffs it; plain TCP "
        f"passes, but an HTTP request ({query.method} {query.path}) is {alt.verdict.value} ({alt.symptom.value}"
        f"{share}: {codes}); ask with --app-protocol http|tcp, --method or --path"
    )
    return d


def exit_code(diagnosis: Diagnosis) -> int:
    """Contract §6: 0 works, 1 fails, 3 not enough data to tell."""
    if diagnosis.verdict is Verdict.ALLOWED:
        return 0
    if diagnosis.verdict is Verdict.UNKNOWN:
        return 3
    return 1


def model_with_changes(raw: RawSnapshot, files: tuple[str, ...], deletes: tuple[str, ...]) -> tuple[Model, list[str]]:
    """The model, after the --what-if changes when there are any."""
    if files or deletes:
        return what_if(raw, files, deletes)
    return build_model(raw), []


def prove_fixes(opts: SourceOptions, raw: RawSnapshot, model: Model, query: Query, d: Diagnosis) -> list[FixProof]:
    """``propose_fixes`` on every namespace (offline and live): a fix's blast radius reaches calls from
    namespaces the question itself did not need. What could not be read is said in the proof."""
    if d.verdict is Verdict.ALLOWED or not _fix_docs(d):
        return []
    limited = ""
    if raw.out_of_scope and opts.from_path is not None and opts.demo_name is None:
        from kubectl_meshdoctor.sources.snapshot import read_snapshot

        raw = read_snapshot(opts.from_path, lazy_flows=True)
        raw.flow_files = []
        model = build_model(raw)
    elif is_live(opts):
        from kubectl_meshdoctor.sources.live import LiveSource, namespaces_for

        if namespaces_for([query.source, query.destination], query.namespace) is not None:
            quiet = dataclasses.replace(opts, progress=False)  # one status line per command
            try:
                with LiveSource(live_options(quiet)) as live:  # every namespace's objects, no flows
                    raw, model = _with_model(live.objects(None))
            except MeshdoctorError as err:  # the proof then covers the namespaces read, and says so
                limited = f"only the question's namespaces were compared: {err}"
    proofs = propose_fixes(raw, model, query, d)
    if raw.out_of_scope:
        limited = f"{raw.out_of_scope} objects of namespaces outside the question were not read: not compared"
    if limited:
        proofs = [dataclasses.replace(p, notes=(*p.notes, limited)) for p in proofs]
    return proofs


def _with_model(raw: RawSnapshot) -> tuple[RawSnapshot, Model]:
    return raw, build_model(raw)


def propose_fixes(raw: RawSnapshot, model: Model, query: Query, diagnosis: Diagnosis) -> list[FixProof]:
    """The fix proposals of a failing call with their proof (issue 17, diagnosis/fix_proof.py): the
    causes' YAML, and where it would let through what the user's policies refuse, the alternatives
    that keep it refused (diagnosis/fix_intent.py). The first that resolves the call without
    widening is the one proposed (``chosen``; --fix-yaml prints it)."""
    from kubectl_meshdoctor.diagnosis.fix_intent import alternatives, manifest_namespaces
    from kubectl_meshdoctor.diagnosis.fix_proof import prove
    from kubectl_meshdoctor.sources.whatif import apply_changes, changes_from_text

    if diagnosis.verdict is Verdict.ALLOWED:
        return []
    manifests = _fix_docs(diagnosis)
    if not manifests:
        return []
    manifests = _complete(raw, query, manifests)
    proofs: list[FixProof] = []
    candidates: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [("the fix", manifests, ())]
    for title, docs, notes in candidates:
        try:
            changed, applied = apply_changes(raw, changes_from_text("\n---\n".join(docs), "fix"))
        except MeshdoctorError:
            continue
        proof = prove(model, build_model(changed), query, title, docs, tuple(applied), manifest_namespaces(model, docs))
        proof = dataclasses.replace(proof, notes=(*proof.notes, *notes))
        if proof.widened and len(candidates) == 1:
            more, lost = alternatives(raw, model, query, proof)
            candidates.extend(more)
            proof = dataclasses.replace(proof, lost=tuple(lost))
        proofs.append(proof)
    best = next((p for p in proofs if p.resolves and not p.widened), None)  # proven, or none is proposed
    return [dataclasses.replace(p, chosen=p is best) for p in proofs]


def _fix_docs(d: Diagnosis) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c.params["fix_yaml"].strip() for c in d.causes if c.params.get("fix_yaml")))


def _complete(raw: RawSnapshot, query: Query, manifests: tuple[str, ...], rounds: int = 3) -> tuple[str, ...]:
    """A fix that clears one hop may reveal the next (egress fixed, then ingress): add the fixes the
    answer after it gives, until the call works or no new YAML comes."""
    from kubectl_meshdoctor.sources.whatif import apply_changes, changes_from_text

    static = dataclasses.replace(query, no_flows=True)
    for _ in range(rounds):
        try:
            changed, _ = apply_changes(raw, changes_from_text("\n---\n".join(manifests), "fix"))
            after = explain(build_model(changed), static)
        except MeshdoctorError:
            return manifests
        more = tuple(d for d in _fix_docs(after) if d not in manifests)
        if after.verdict is Verdict.ALLOWED or not more:
            return manifests
        manifests += more
    return manifests


def what_if(raw: RawSnapshot, files: tuple[str, ...], deletes: tuple[str, ...]) -> tuple[Model, list[str]]:
    """Build the model after applying --what-if manifests and --what-if-delete removals (in memory)."""
    from kubectl_meshdoctor.sources.whatif import apply_changes, read_changes

    changed, applied = apply_changes(raw, read_changes(files, deletes))
    return build_model(changed), applied


CLUSTER_CODES = frozenset(
    {"cilium-socketlb-bypass", "cilium-cni-exclusive", "istiod-hostnetwork-overlay", "cilium-policy-audit"}
)


@dataclass(frozen=True, slots=True)
class Finding:
    cause: Cause
    check: str  # the analyzer's name
    gaps: tuple[str, ...]  # gaps that hide inputs of that analyzer where the finding is
    cluster: str | None = None  # multi-cluster input (issue 21): the cluster it was found in (None: mesh-wide)


@dataclass(frozen=True, slots=True)
class CheckResult:
    findings: list[Finding]
    gaps: list[str]  # gaps that concern some analyzer's inputs in the checked namespaces

    @property
    def exit_code(self) -> int:
        """Contract §6: 1 when an error finding exists, else 3 when the check rests on gaps, else 0."""
        from kubectl_meshdoctor.findings import catalog

        if any(catalog.severity(f.cause).value == "error" for f in self.findings):
            return 1
        return 3 if self.gaps else 0


def check_namespaces(model: Model, namespaces: list[str] | None) -> None:
    """An unknown -n is a usage error with the closest names (never a silent "no problems")."""
    if namespaces is None:
        return
    known = set(model.namespaces) | set(model.pods_by_ns) | {s.namespace for s in model.services.values()}
    missing = [ns for ns in namespaces if ns not in known]
    if missing and known:
        from kubectl_meshdoctor.model.refs import closest

        hints = [h for ns in missing for h in closest(ns, sorted(known))]
        more = f"; did you mean {', '.join(dict.fromkeys(hints))}?" if hints else ""
        raise UsageError(f"namespace(s) not found: {', '.join(missing)}{more}")


def check(model: Model, namespaces: list[str] | None) -> CheckResult:
    """Run every mesh-wide check; keep findings about the given namespaces (None = all)."""
    from kubectl_meshdoctor.app_analyzers import run_analyzers
    from kubectl_meshdoctor.checks import ALL

    check_namespaces(model, namespaces)
    causes = run_analyzers(model, ALL)  # the slowest in a second process at scale (app_analyzers.py)
    return check_result(model, namespaces, causes)


def check_result(model: Model, namespaces: list[str] | None, causes: Mapping[str, list[Cause]]) -> CheckResult:
    """The findings of every analyzer's ``causes`` (by name) about the given namespaces (None = all)."""
    from kubectl_meshdoctor.checks import ALL
    from kubectl_meshdoctor.findings.types import Gap

    # invalid-object: every object the API server would reject, in scope (cluster-scoped ones always)
    invalid = model.invalid if namespaces is None else model.invalid_for(namespaces)
    findings: list[Finding] = [Finding(c, "model.InvalidObject", ()) for c in invalid]
    seen: set[tuple[object, ...]] = {(c.code, c.objects) for c in invalid}
    resting: list[str] = []
    scope: list[str | None] = list(namespaces) if namespaces is not None else []
    for item in ALL:
        # gaps hiding a kind this analyzer reads, in the namespaces checked (-A: anywhere)
        concerned = [
            g
            for g in model.gaps
            if isinstance(g, Gap) and g.concerns(item.inputs, scope if namespaces is not None else [g.namespace])
        ]
        resting.extend(concerned)
        for cause in causes[item.name]:
            in_scope = (
                namespaces is None
                or cause.code in CLUSTER_CODES
                or any(ref.namespace in namespaces or ref.namespace is None for ref in cause.objects)
            )
            key = (cause.code, cause.objects)
            if not in_scope or key in seen:
                continue
            seen.add(key)
            where = {ref.namespace for ref in cause.objects}
            mine = tuple(str(g) for g in concerned if g.namespace is None or g.namespace in where)
            findings.append(Finding(cause, item.name, mine))
    return CheckResult(merge_same(findings), list(dict.fromkeys(str(g) for g in resting)))


def merge_same(findings: list[Finding]) -> list[Finding]:
    """One finding per problem: two analyzers that report the same code with the same sentence (one
    naming more of the objects involved) give one finding naming all of them, where the first was."""
    import dataclasses

    from kubectl_meshdoctor.findings import catalog

    first: dict[tuple[str, str], int] = {}
    out: list[Finding] = []
    for f in findings:
        key = (f.cause.code, catalog.summary(f.cause))
        if key not in first:
            first[key] = len(out)
            out.append(f)
            continue
        i = first[key]
        kept = out[i]
        objects = tuple(dict.fromkeys([*kept.cause.objects, *f.cause.objects]))
        gaps = tuple(dict.fromkeys([*kept.gaps, *f.gaps]))
        out[i] = dataclasses.replace(kept, cause=dataclasses.replace(kept.cause, objects=objects), gaps=gaps)
    return out
