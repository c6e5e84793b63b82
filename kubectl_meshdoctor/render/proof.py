"""The proof of each fix proposal (issue 17), for every output: the call it resolves, its blast
radius (every other call whose verdict it changes; none is said), what it keeps refused, the rules
it cannot carry over, and which proposal is the one to apply."""

from __future__ import annotations

from typing import Any

from kubectl_meshdoctor.findings.types import CallChange, FixProof


def change_dict(c: CallChange) -> dict[str, Any]:
    out: dict[str, Any] = {
        "source": c.source,
        "destination": c.destination,
        "port": c.port,
        "protocol": c.protocol,
        "method": c.method,
        "path": c.path,
        "before": c.before.value,
        "after": c.after.value,
    }
    if c.refused_by:
        out["refusedBy"] = c.refused_by
    return out


def proof_dict(p: FixProof) -> dict[str, Any]:
    return {
        "title": p.title,
        "proposed": p.chosen,
        "manifests": list(p.manifests),
        "applied": list(p.applied),
        "resolves": {"before": p.before.value, "after": p.after.value, "afterSymptom": p.after_symptom.value},
        "blastRadius": {
            "namespaces": list(p.namespaces),
            "ports": list(p.ports),
            "compared": p.compared,
            "changes": [change_dict(c) for c in p.changes],
        },
        "intent": {"keptRefused": p.kept, "widened": [change_dict(c) for c in p.widened], "lost": list(p.lost)},
        "notes": list(p.notes),
    }


def _arrow(c: CallChange) -> str:
    return f"{c.label()} ({c.before.value} → {c.after.value})"


def proof_lines(p: FixProof) -> list[str]:
    """Plain sentences, one per line (text and markdown wrap them)."""
    state = (
        "proposed"
        if p.chosen
        else "not proposed: the call still fails after it"
        if not p.resolves
        else "not proposed: it lets through what the policies refuse"
        if p.widened
        else "not proposed: another proposal comes first"
    )
    lines = [f"{p.title} ({state}), applied in memory: {p.before.value} → {p.after.value}"]
    scope = f"{p.compared} other calls compared in {', '.join(p.namespaces)}" + (
        f", ports {', '.join(str(x) for x in p.ports)}" if p.ports else ""
    )
    if not p.changes:
        lines.append(f"blast radius: none — no other call changes verdict ({scope})")
    else:
        lines.append(f"blast radius ({scope}): also changes:")
        lines += [f"  {_arrow(c)}" for c in p.changes]
    if p.widened:
        lines.append("WIDENS: lets through requests the user's policies refuse:")
        lines += [f"  {_arrow(c)}, refused by {c.refused_by}" for c in p.widened]
    else:
        kept = f"the {p.kept} requests" if p.kept else "every request"
        lines.append(f"keeps refused: {kept} the policies refuse for another reason (method, path, port, peer)")
    lines += [f"loses: {rule}" for rule in p.lost]
    lines += [f"note: {n}" for n in p.notes]
    return lines
