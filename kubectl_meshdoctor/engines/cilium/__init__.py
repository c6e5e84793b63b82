"""Cilium policy engine (semantics.md A1, A2 as Cilium enforces it)."""
