"""Generated protobuf and gRPC modules for the Hubble API; do not edit.

Produced by ``scripts/gen-proto`` from ``proto/*.proto`` and committed, so users need
no protoc. ``tests/test_proto_current.py`` fails when these files are stale.
"""
