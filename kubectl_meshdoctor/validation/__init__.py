"""Input validity: each object checked against the schema the API server would enforce for it.

``Validator().validate(doc)`` returns the violations (field path, value, reason) of one object:
the structural OpenAPI v3 schema (types, enums, required fields, patterns, bounds) through
jsonschema-rs, then the ``x-kubernetes-validations`` CEL rules through the CEL library and the
``x-kubernetes-list-type`` uniqueness the API server adds. Schemas ship as package data
(``schemas/``) and are read and compiled on first use of each kind, cached on the Validator.
An object of a kind without a schema here has no violations (it is not checked).
"""

from __future__ import annotations

from kubectl_meshdoctor.validation.validator import Validator, Violation

__all__ = ["Validator", "Violation"]
