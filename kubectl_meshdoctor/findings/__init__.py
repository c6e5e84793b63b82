"""Findings: typed results (types.py) and the one catalog of stable cause codes."""
