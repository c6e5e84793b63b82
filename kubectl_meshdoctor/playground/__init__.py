"""Local stand-ins for a cluster: a Kubernetes-API HTTP server and a Hubble-Relay gRPC server.

Both serve one snapshot (contract §3 layout) on 127.0.0.1. ``scripts/playground`` runs them
for people; ``tests/conftest.py`` runs them for the live-mode tests, so tests and newcomers
exercise the same code with the real ``kubernetes`` client and real grpcio. Both servers
record what they received, so tests can assert on the wire (filters sent, verbs used).
"""
