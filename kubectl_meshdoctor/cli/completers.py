"""The one completion engine behind ``completion bash|zsh|fish`` and ``kubectl_complete-meshdoctor``.

It reads the words typed so far against the click command tree (subcommands, their
options, which options take a value), then completes what the cursor is on:
subcommands, option names, option values (namespaces, contexts, demo names, choices,
file names) or workload references (``NS/NAME``, ``NS/pod/NAME``, ``NS/deploy/NAME``,
``NS/svc/NAME``). Names come from ``--demo``/``--from`` when given, else from the
cluster (``sources/names.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import click

from kubectl_meshdoctor.sources import names as names_source

SHELLS = ("bash", "zsh", "fish")
REF_KINDS = {"pod": "pods", "deploy": "deployments", "svc": "services"}
FILE_PARAMS = {"kubeconfig", "from_path", "what_if_files", "hubble_tls_ca", "hubble_tls_cert", "hubble_tls_key"}
# commands whose positional arguments are SOURCE and DESTINATION references
REF_COMMANDS = {"explain", "flows"}


@dataclass(frozen=True, slots=True)
class Candidate:
    value: str
    help: str | None = None
    nospace: bool = False  # a prefix to keep typing after ("red/"), so no space is added


@dataclass(frozen=True, slots=True)
class Result:
    candidates: tuple[Candidate, ...] = ()
    files: bool = False  # let the shell complete file names instead


@dataclass(slots=True)
class _Parsed:
    command: str | None = None
    params: dict[str, click.Parameter] = field(default_factory=dict)  # option string -> param
    values: dict[str, str] = field(default_factory=dict)  # param name -> last value given
    positionals: list[str] = field(default_factory=list)
    pending: click.Parameter | None = None  # the previous word is an option waiting for its value


def _takes_value(param: click.Parameter) -> bool:
    return isinstance(param, click.Option) and not param.is_flag and not param.count


def _option_map(command: click.Command) -> dict[str, click.Parameter]:
    out: dict[str, click.Parameter] = {}
    for param in command.params:
        if isinstance(param, click.Option):
            for opt in (*param.opts, *param.secondary_opts):
                out[opt] = param
    out.setdefault("--help", click.Option(["--help"], is_flag=True, help="Show this message and exit."))
    return out


def _root() -> click.Group:
    from kubectl_meshdoctor.cli.main import cli

    return cli


def _parse(words: Sequence[str]) -> _Parsed:
    root = _root()
    parsed = _Parsed(params=_option_map(root))
    only_positionals = False
    for word in words:
        if parsed.pending is not None:
            parsed.values[parsed.pending.name or ""] = word
            parsed.pending = None
        elif word == "--":
            only_positionals = True
        elif word.startswith("-") and len(word) > 1 and not only_positionals:
            name, eq, value = word.partition("=")
            param = parsed.params.get(name)
            if param is not None and _takes_value(param):
                if eq:
                    parsed.values[param.name or ""] = value
                else:
                    parsed.pending = param
        elif parsed.command is None:
            parsed.command = word
            command = root.get_command(click.Context(root), word)
            # options after the subcommand are its own (click rejects the root's there)
            parsed.params = _option_map(command) if command is not None else {}
        else:
            parsed.positionals.append(word)
    return parsed


def _filter(items: Sequence[Candidate], prefix: str) -> Result:
    return Result(tuple(c for c in items if c.value.startswith(prefix)))


def _names(parsed: _Parsed, namespace: str | None) -> names_source.Names:
    demo, from_path = parsed.values.get("demo_name"), parsed.values.get("from_path")
    try:
        if demo or from_path:
            return names_source.offline(from_path, demo)
    except Exception:  # a bad --from path: complete nothing rather than print an error mid-line
        return names_source.Names()
    return names_source.live(namespace, parsed.values.get("kubeconfig"), parsed.values.get("kube_context"))


def _complete_ref(parsed: _Parsed, incomplete: str) -> Result:
    parts = incomplete.split("/")
    if len(parts) == 1:
        given_ns = parsed.values.get("namespace")
        found = _names(parsed, given_ns)
        items = [Candidate(f"{ns}/", nospace=True) for ns in found.namespaces]
        if given_ns:  # NAME alone means NAME in -n
            items += [Candidate(name) for name in found.workloads.get(given_ns, ())]
        return _filter(items, incomplete)
    ns = parts[0]
    found = _names(parsed, ns)
    if len(parts) == 2:
        items = [Candidate(f"{ns}/{name}") for name in found.workloads.get(ns, ())]
        if parts[1]:
            items += [Candidate(f"{ns}/{kind}/", nospace=True) for kind in REF_KINDS]
        return _filter(items, incomplete)
    group = REF_KINDS.get(parts[1])
    if group is None or len(parts) > 3:
        return Result()
    names: dict[str, tuple[str, ...]] = dict(getattr(found, group))
    return _filter([Candidate(f"{ns}/{parts[1]}/{name}") for name in names.get(ns, ())], incomplete)


def _complete_value(parsed: _Parsed, param: click.Parameter, incomplete: str) -> Result:
    name = param.name or ""
    if name in FILE_PARAMS:
        return Result(files=True)
    if isinstance(param.type, click.Choice):
        return _filter([Candidate(str(c)) for c in param.type.choices], incomplete)
    if name == "namespace":
        found = _names(parsed, None)
        return _filter([Candidate(ns) for ns in found.namespaces], incomplete)
    if name == "kube_context":
        from kubectl_meshdoctor.sources.kubeconfig import context_names

        try:
            contexts = context_names(parsed.values.get("kubeconfig"))
        except Exception:
            return Result()
        return _filter([Candidate(c) for c in contexts], incomplete)
    if name == "demo_name":
        from kubectl_meshdoctor.sources.demo import list_demos

        return _filter([Candidate(d.name, d.description) for d in list_demos()], incomplete)
    return Result()


def _complete_option_name(parsed: _Parsed, incomplete: str) -> Result:
    name, eq, value = incomplete.partition("=")
    if eq:
        param = parsed.params.get(name)
        if param is None or not _takes_value(param):
            return Result()
        inner = _complete_value(parsed, param, value)
        return Result(tuple(Candidate(f"{name}={c.value}", c.help, c.nospace) for c in inner.candidates), inner.files)
    items: list[Candidate] = []
    for opt, param in sorted(parsed.params.items()):
        hidden = isinstance(param, click.Option) and param.hidden
        if not hidden and (opt.startswith("--") or incomplete in ("-", "")):
            items.append(Candidate(opt, getattr(param, "help", None)))
    return _filter(items, incomplete)


def complete(words: Sequence[str], incomplete: str) -> Result:
    """Candidates for ``incomplete``, the word under the cursor, after ``words``."""
    parsed = _parse(words)
    if parsed.pending is not None:
        return _complete_value(parsed, parsed.pending, incomplete)
    if incomplete.startswith("-"):
        return _complete_option_name(parsed, incomplete)
    if parsed.command is None:
        from kubectl_meshdoctor.cli.main import _COMMANDS

        return _filter([Candidate(n, spec[2]) for n, spec in sorted(_COMMANDS.items())], incomplete)
    positional: Callable[[_Parsed, str], Result] | None = None
    if parsed.command in REF_COMMANDS and len(parsed.positionals) < 2:
        positional = _complete_ref
    elif parsed.command == "completion" and not parsed.positionals:
        return _filter([Candidate(s) for s in SHELLS], incomplete)
    return positional(parsed, incomplete) if positional else Result()
