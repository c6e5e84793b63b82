"""click only: one module per command; parse -> app -> render -> exit code."""
